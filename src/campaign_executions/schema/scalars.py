"""Scalar handling: DateTime as ISO 8601 UTC with a `Z`, UUID in standard forms."""

import uuid
from datetime import UTC, datetime

import strawberry
from strawberry.types.scalar import ScalarDefinition

from campaign_executions.domain import format_utc, parse_guid
from campaign_executions.errors import InvalidInputError

_EXAMPLE = "2026-07-10T06:00:00Z"
UUID_EXAMPLE = "4a5b6c70-0000-0000-0000-000000000001"


def to_utc(moment: datetime) -> datetime:
    """An aware datetime in UTC; ValueError when UTC would leave years 1 to 9999."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the moment is out of range in UTC") from None


def serialize_datetime(value: object) -> str:
    """An aware datetime as ISO 8601 in UTC with a `Z`."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        # Storage never hands out naive datetimes; reaching this is a bug.
        raise TypeError("DateTime fields must hold aware datetimes")
    return format_utc(value)


def parse_datetime(value: object) -> datetime:
    """A client's ISO 8601 text as an aware UTC datetime; naive text is refused."""
    if not isinstance(value, str):
        raise InvalidInputError(
            f"A DateTime must be an ISO 8601 string such as {_EXAMPLE}."
        )
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInputError(
            f"A DateTime must be ISO 8601 such as {_EXAMPLE}; got {value}."
        ) from None
    if moment.utcoffset() is None:
        raise InvalidInputError(
            f"A DateTime needs Z or a UTC offset such as +02:00 ({_EXAMPLE}); "
            f"{value} has none."
        )
    try:
        return to_utc(moment)
    except ValueError:
        raise InvalidInputError(
            f"A DateTime must fall within the years 1 to 9999 once converted to "
            f"UTC; {value} does not."
        ) from None


def parse_uuid(value: object) -> uuid.UUID:
    """A client's UUID text in a standard form (dashed, bare, or in braces)."""
    refusal = InvalidInputError(
        f"The value is not a valid UUID; send one like {UUID_EXAMPLE}."
    )
    if not isinstance(value, str):
        raise refusal
    try:
        return parse_guid(value)
    except ValueError:
        raise refusal from None


DATETIME = strawberry.scalar(
    name="DateTime",
    description=(
        "A moment in time as ISO 8601. Output is always UTC with a Z suffix; "
        "input must carry Z or an explicit offset."
    ),
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)

UUID = strawberry.scalar(
    name="UUID",
    description=(
        f"A UUID as 32 hexadecimal digits, dashed 8-4-4-4-12 ({UUID_EXAMPLE}) "
        "or bare, optionally in braces. Output is always the dashed lower-case form."
    ),
    serialize=str,
    parse_value=parse_uuid,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {datetime: DATETIME, uuid.UUID: UUID}
