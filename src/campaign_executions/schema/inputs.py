"""Input types: the connection's filter and order."""

from datetime import datetime

import strawberry

from .enums import ExecutionOrderField, ExecutionStatus, OrderDirection


@strawberry.input(
    name="CampaignExecutionFilter",
    description="Conditions an execution must all meet; omitted ones do not apply.",
)
class CampaignExecutionFilterInput:
    """Which executions of the campaign to list."""

    statuses: list[ExecutionStatus] | None = strawberry.field(
        default=None,
        description="Any of these statuses; an empty list matches nothing.",
    )
    scheduled_from: datetime | None = strawberry.field(
        default=None, description="Scheduled at or after this moment (inclusive)."
    )
    scheduled_to: datetime | None = strawberry.field(
        default=None, description="Scheduled before this moment (exclusive)."
    )
    search: str | None = strawberry.field(
        default=None,
        description=(
            "Case-insensitive text in correlationId or errorMessage, a status "
            "name, or the start of an execution id; blank text is ignored."
        ),
    )


@strawberry.input(
    name="CampaignExecutionOrder",
    description="The order of a connection; ties are broken by id.",
)
class CampaignExecutionOrderInput:
    """Sort field and direction."""

    field: ExecutionOrderField = strawberry.field(
        default=ExecutionOrderField.SCHEDULED_FOR, description="The field to sort by."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="Ascending or descending."
    )
