"""Vocabulary shared by every part: statuses, channels, audiences, rates."""

import enum
import re
import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal


class ExecutionStatus(enum.IntEnum):
    """CampaignExecutionStatus, with the platform's numeric codes."""

    PENDING = 0
    RUNNING = 1
    SUCCEEDED = 2
    FAILED = 3
    SKIPPED = 4
    CANCELLED = 5


CANCELLABLE_STATUSES = frozenset({ExecutionStatus.PENDING, ExecutionStatus.RUNNING})
FINAL_STATUSES = frozenset(
    {
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.FAILED,
        ExecutionStatus.SKIPPED,
        ExecutionStatus.CANCELLED,
    }
)


class Channel(enum.IntEnum):
    """Delivery channels, with the codes the wire carries."""

    EMAIL = 1
    SMS = 2
    PUSH = 3
    IN_APP = 4
    WHATSAPP = 5
    WEBHOOK = 6


class Audience(enum.StrEnum):
    """Which recipients a step sends to."""

    ALL = "all"
    SUCCEEDED_PREVIOUS = "succeededPrevious"
    FAILED_PREVIOUS = "failedPrevious"


class DispatchOutcome(enum.StrEnum):
    """Where one recipient's message for one step stands."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


_CENT = Decimal("0.01")


def delivery_rate(succeeded: int, dispatched: int) -> Decimal:
    """Succeeded / dispatched x 100, rounded half-to-even to 2 places; 0 if none."""
    if dispatched <= 0:
        return Decimal("0.00")
    exact = Decimal(succeeded) * 100 / Decimal(dispatched)
    return exact.quantize(_CENT, rounding=ROUND_HALF_EVEN)


class ExecutionField(enum.StrEnum):
    """An execution's fields by their wire names, for ordering and filtering."""

    ID = "id"
    CAMPAIGN_ID = "campaignId"
    STATUS = "status"
    SCHEDULED_FOR = "scheduledFor"
    STARTED_AT = "startedAt"
    COMPLETED_AT = "completedAt"
    TOTAL_RECIPIENTS = "totalRecipients"
    TOTAL_DISPATCHED = "totalDispatched"
    TOTAL_SUCCEEDED = "totalSucceeded"
    TOTAL_FAILED = "totalFailed"
    CORRELATION_ID = "correlationId"
    ERROR_MESSAGE = "errorMessage"


def format_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, and a fraction only when one is stored."""
    text = moment.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


# The standard text forms: 32 ASCII hex digits, bare or dashed 8-4-4-4-12, either
# one optionally in braces. Python's uuid.UUID also takes dashes anywhere,
# "urn:uuid:" and non-ASCII digits, which no client of ours should send.
_GUID = re.compile(
    r"(?P<brace>\{)?"
    r"(?:[0-9a-fA-F]{32}"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"(?(brace)\})"
)


def parse_guid(text: str) -> uuid.UUID:
    """The UUID a client wrote in a standard form; ValueError for anything else."""
    if _GUID.fullmatch(text) is None:
        raise ValueError("not a UUID in a standard form")
    return uuid.UUID(text.strip("{}"))
