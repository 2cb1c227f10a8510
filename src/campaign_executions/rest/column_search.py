"""A grid column's own search text, read as a typed condition on its field.

Each kind of field takes its own form of text: status codes or names, an id
prefix, a substring, an exact count, or a UTC date prefix. Text that does not
fit the field is refused with a message that names the column.
"""

import re
from datetime import UTC, datetime, timedelta

from campaign_executions.domain import ExecutionField, ExecutionStatus
from campaign_executions.errors import InvalidInputError
from campaign_executions.storage.filters import (
    COUNT_FIELDS,
    ID_FIELDS,
    TEXT_FIELDS,
    TIME_FIELDS,
    Condition,
    CountEquals,
    IdPrefix,
    StatusIn,
    TextContains,
    TimeRange,
    statuses_named_like,
    uuid_prefix_digits,
)

# Counters are 32-bit integers in storage; larger numbers cannot match.
MAX_COUNT = 2**31 - 1

_DIGITS = re.compile(r"[0-9]{1,10}")
_DATE_PREFIX = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_STATUS_NAMES = ", ".join(s.name.lower() for s in ExecutionStatus)
_STATUS_CODES = {int(s): s for s in ExecutionStatus}


def column_condition(field: ExecutionField, text: str, *, column: str) -> Condition:
    """The condition that `text`, searched in `column`, sets on `field`."""
    if field == ExecutionField.STATUS:
        return _statuses(text, column)
    if field in ID_FIELDS:
        return _id_prefix(field, text, column)
    if field in COUNT_FIELDS:
        return _count(field, text, column)
    if field in TIME_FIELDS:
        return _period(field, text, column)
    if field in TEXT_FIELDS:
        return TextContains(field, text)
    raise InvalidInputError(f"Column {column} cannot be searched.")


def _unfit(column: str, expected: str) -> InvalidInputError:
    return InvalidInputError(f"Column {column}: the search must be {expected}.")


def _statuses(text: str, column: str) -> StatusIn:
    statuses: set[ExecutionStatus] = set()
    for token in filter(None, (part.strip() for part in text.split(","))):
        matched = _status_code(token) or statuses_named_like(token)
        if not matched:
            raise _unfit(
                column,
                f"status codes 0-5 or names ({_STATUS_NAMES}), comma-separated",
            )
        statuses |= matched
    if not statuses:
        raise _unfit(column, "one or more status codes or names")
    return StatusIn(frozenset(statuses))


def _status_code(token: str) -> frozenset[ExecutionStatus]:
    if _DIGITS.fullmatch(token) and int(token) in _STATUS_CODES:
        return frozenset({_STATUS_CODES[int(token)]})
    return frozenset()


def _id_prefix(field: ExecutionField, text: str, column: str) -> IdPrefix:
    digits = uuid_prefix_digits(text)
    if digits is None:
        raise _unfit(column, "the start of a GUID (hex digits and dashes)")
    return IdPrefix(field, digits)


def _count(field: ExecutionField, text: str, column: str) -> CountEquals:
    value = text.strip()
    if not _DIGITS.fullmatch(value) or int(value) > MAX_COUNT:
        raise _unfit(column, f"a whole number from 0 to {MAX_COUNT}")
    return CountEquals(field, int(value))


def _period(field: ExecutionField, text: str, column: str) -> TimeRange:
    expected = "a UTC date prefix: YYYY, YYYY-MM or YYYY-MM-DD"
    match = _DATE_PREFIX.fullmatch(text.strip())
    if match is None:
        raise _unfit(column, expected)
    year, month, day = (int(group) if group else None for group in match.groups())
    try:
        start = datetime(year or 0, month or 1, day or 1, tzinfo=UTC)
    except ValueError:
        raise _unfit(column, expected) from None
    return TimeRange(field, start, _period_end(start, month=month, day=day))


def _period_end(
    start: datetime, *, month: int | None, day: int | None
) -> datetime | None:
    """The first moment after the period that starts at `start`; None past 9999."""
    try:
        if day is not None:
            return start + timedelta(days=1)
        if month is not None:
            carry, next_month = divmod(start.month, 12)
            return start.replace(year=start.year + carry, month=next_month + 1)
        return start.replace(year=start.year + 1)
    except (ValueError, OverflowError):
        return None
