"""The Mutation root: cancel an execution."""

import uuid
from typing import Annotated

import strawberry

from campaign_executions.resolvers import execution

from .context import GraphQLContext
from .permission import CanCancel
from .results import CancelCampaignExecutionResult


async def cancel_campaign_execution(
    info: strawberry.Info[GraphQLContext, None],
    execution_id: Annotated[
        uuid.UUID, strawberry.argument(name="id", description="The execution's id.")
    ],
) -> CancelCampaignExecutionResult:
    """Cancel one execution; the union tells the outcomes apart."""
    return await execution.cancel_execution(info.context, execution_id)


@strawberry.type(description="Commands on campaign executions.")
class Mutation:
    """Every field needs the NotificationCampaigns.Cancel permission."""

    cancel_campaign_execution: CancelCampaignExecutionResult = strawberry.mutation(
        resolver=cancel_campaign_execution,
        description=(
            "Cancel a Pending or Running execution. Cancelling a Cancelled one "
            "answers Cancelled again; other states answer NotCancellable."
        ),
        permission_classes=[CanCancel],
    )
