"""Scalar handling: DateTime travels as ISO 8601 UTC with a `Z`, never naive."""

from datetime import UTC, datetime

import strawberry
from strawberry.types.scalar import ScalarDefinition

from campaign_executions.domain import format_utc
from campaign_executions.errors import InvalidInputError

_EXAMPLE = "2026-07-10T06:00:00Z"


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
    return moment.astimezone(UTC)


DATETIME = strawberry.scalar(
    name="DateTime",
    description=(
        "A moment in time as ISO 8601. Output is always UTC with a Z suffix; "
        "input must carry Z or an explicit offset."
    ),
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {datetime: DATETIME}
