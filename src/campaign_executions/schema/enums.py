"""GraphQL enums: statuses and channels by name, and the connection's ordering."""

import enum

import strawberry

from campaign_executions.domain import Channel, ExecutionField, ExecutionStatus

# The domain enums themselves become GraphQL enums; import them from here so
# that the registration has happened wherever they are used in a type.
strawberry.enum(
    ExecutionStatus,
    name="CampaignExecutionStatus",
    description=(
        "Where an execution (or one of its steps) stands. Enums travel by name; "
        "the numeric code is in the statusCode field."
    ),
)

strawberry.enum(
    Channel,
    name="Channel",
    description=(
        "The channel a step sends through. Enums travel by name; the numeric "
        "code is in the channelCode field."
    ),
)


@strawberry.enum(
    name="CampaignExecutionOrderField",
    description="Fields a connection can be ordered by; each one is never null.",
)
class ExecutionOrderField(enum.Enum):
    """Non-null execution fields, so that keyset cursors stay well defined."""

    SCHEDULED_FOR = ExecutionField.SCHEDULED_FOR
    STATUS = ExecutionField.STATUS
    TOTAL_RECIPIENTS = ExecutionField.TOTAL_RECIPIENTS
    TOTAL_DISPATCHED = ExecutionField.TOTAL_DISPATCHED
    TOTAL_SUCCEEDED = ExecutionField.TOTAL_SUCCEEDED
    TOTAL_FAILED = ExecutionField.TOTAL_FAILED


@strawberry.enum(name="OrderDirection", description="Ascending or descending order.")
class OrderDirection(enum.Enum):
    """Sort direction."""

    ASC = "asc"
    DESC = "desc"


__all__ = ["Channel", "ExecutionOrderField", "ExecutionStatus", "OrderDirection"]
