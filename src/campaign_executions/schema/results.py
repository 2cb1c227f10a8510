"""The cancel mutation's result union: cancelled, not found, not cancellable.

Cancelling needs NotificationCampaigns.Cancel; reading the execution a result
carries needs NotificationCampaigns.Analytics as well, like every other field
that reads campaign data. A caller holding only Cancel still learns the outcome
(the member's type and message) but not the execution's figures.
"""

import uuid
from typing import Annotated

import strawberry

from .permission import CanReadAnalytics
from .types import CampaignExecution

_NEEDS_ANALYTICS = (
    " Null, with a FORBIDDEN error, without NotificationCampaigns.Analytics."
)


@strawberry.type(description="The execution is (now or already) Cancelled.")
class CampaignExecutionCancelled:
    """A successful cancel."""

    execution: CampaignExecution | None = strawberry.field(
        description="The execution after the cancel." + _NEEDS_ANALYTICS,
        permission_classes=[CanReadAnalytics],
    )


@strawberry.type(description="No execution has the given id.")
class CampaignExecutionNotFound:
    """A cancel of an unknown id."""

    id: uuid.UUID = strawberry.field(description="The id that was asked for.")
    message: str = strawberry.field(description="What went wrong, for a person.")


@strawberry.type(description="The execution already ended and cannot be cancelled.")
class CampaignExecutionNotCancellable:
    """A cancel of a Succeeded, Failed or Skipped execution."""

    execution: CampaignExecution | None = strawberry.field(
        description="The execution, unchanged." + _NEEDS_ANALYTICS,
        permission_classes=[CanReadAnalytics],
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
