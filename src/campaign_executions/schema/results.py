"""The cancel mutation's result union: cancelled, not found, not cancellable."""

import uuid
from typing import Annotated

import strawberry

from .types import CampaignExecution


@strawberry.type(description="The execution is (now or already) Cancelled.")
class CampaignExecutionCancelled:
    """A successful cancel."""

    execution: CampaignExecution = strawberry.field(
        description="The execution after the cancel."
    )


@strawberry.type(description="No execution has the given id.")
class CampaignExecutionNotFound:
    """A cancel of an unknown id."""

    id: uuid.UUID = strawberry.field(description="The id that was asked for.")
    message: str = strawberry.field(description="What went wrong, for a person.")


@strawberry.type(description="The execution already ended and cannot be cancelled.")
class CampaignExecutionNotCancellable:
    """A cancel of a Succeeded, Failed or Skipped execution."""

    execution: CampaignExecution = strawberry.field(
        description="The execution, unchanged."
    )
    message: str = strawberry.field(description="Why it cannot be cancelled.")


CancelCampaignExecutionResult = Annotated[
    CampaignExecutionCancelled
    | CampaignExecutionNotFound
    | CampaignExecutionNotCancellable,
    strawberry.union(
        "CancelCampaignExecutionResult",
        description="What a cancel did: cancelled, not found or not cancellable.",
    ),
]
