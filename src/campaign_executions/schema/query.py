"""The Query root: one execution, a campaign's executions, a campaign's analytics."""

import uuid
from typing import Annotated

import strawberry

from campaign_executions.resolvers import analytics, execution

from .connection import CampaignExecutionConnection
from .context import GraphQLContext
from .inputs import CampaignExecutionFilterInput, CampaignExecutionOrderInput
from .permission import CanReadAnalytics
from .types import CampaignExecution, CampaignStepSummary

DEFAULT_PAGE_SIZE = 20

Info = strawberry.Info[GraphQLContext, None]
CampaignId = Annotated[uuid.UUID, strawberry.argument(description="The campaign's id.")]
ExecutionId = Annotated[
    uuid.UUID, strawberry.argument(name="id", description="The execution's id.")
]


async def get_campaign_execution(
    info: Info, execution_id: ExecutionId
) -> CampaignExecution | None:
    """One execution by id, or None."""
    return await execution.find_execution(info.context, execution_id)


async def list_campaign_executions(  # noqa: PLR0913 - the field's GraphQL arguments
    info: Info,
    campaign_id: CampaignId,
    first: Annotated[
        int | None,
        strawberry.argument(description="Page size, 1 to the maximum; 20 if null."),
    ] = DEFAULT_PAGE_SIZE,
    after: Annotated[
        str | None,
        strawberry.argument(description="Start after this cursor (an endCursor)."),
    ] = None,
    filter_by: Annotated[
        CampaignExecutionFilterInput | None,
        strawberry.argument(name="filter", description="Which executions to list."),
    ] = None,
    order_by: Annotated[
        CampaignExecutionOrderInput | None,
        strawberry.argument(description="Sort order; scheduledFor DESC if null."),
    ] = None,
) -> CampaignExecutionConnection:
    """A keyset page of a campaign's executions."""
    arguments = execution.PageArguments(
        campaign_id=campaign_id,
        first=DEFAULT_PAGE_SIZE if first is None else first,
        after=after,
        filter_by=filter_by,
        order_by=order_by,
    )
    return await execution.list_execution_page(info.context, arguments)


async def get_campaign_analytics(
    info: Info, campaign_id: CampaignId
) -> list[CampaignStepSummary]:
    """The per-step summary of a campaign."""
    return await analytics.summarize_campaign(info.context, campaign_id)


@strawberry.type(description="Campaign run history and delivery analytics.")
class Query:
    """Every field needs the NotificationCampaigns.Analytics permission."""

    campaign_execution: CampaignExecution | None = strawberry.field(
        resolver=get_campaign_execution,
        description="One execution by id; null if there is none.",
        permission_classes=[CanReadAnalytics],
    )
    campaign_executions: CampaignExecutionConnection = strawberry.field(
        resolver=list_campaign_executions,
        description="A campaign's executions as a keyset-paged cursor connection.",
        permission_classes=[CanReadAnalytics],
    )
    campaign_analytics: list[CampaignStepSummary] = strawberry.field(
        resolver=get_campaign_analytics,
        description="Per-step totals and delivery rate over all of a campaign's runs.",
        permission_classes=[CanReadAnalytics],
    )
