"""Typed conditions on executions, built by callers and turned into SQL here.

Callers describe what to match; only this module decides how, so no client
text ever becomes SQL.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, false, or_, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction

from campaign_executions.domain import ExecutionField, ExecutionStatus
from campaign_executions.errors import InvalidInputError

from .models import ExecutionModel

_HEX_DIGITS = frozenset("0123456789abcdef")

COLUMNS = {
    ExecutionField.ID: ExecutionModel.id,
    ExecutionField.CAMPAIGN_ID: ExecutionModel.campaign_id,
    ExecutionField.STATUS: ExecutionModel.status,
    ExecutionField.SCHEDULED_FOR: ExecutionModel.scheduled_for,
    ExecutionField.STARTED_AT: ExecutionModel.started_at,
    ExecutionField.COMPLETED_AT: ExecutionModel.completed_at,
    ExecutionField.TOTAL_RECIPIENTS: ExecutionModel.total_recipients,
    ExecutionField.TOTAL_DISPATCHED: ExecutionModel.total_dispatched,
    ExecutionField.TOTAL_SUCCEEDED: ExecutionModel.total_succeeded,
    ExecutionField.TOTAL_FAILED: ExecutionModel.total_failed,
    ExecutionField.CORRELATION_ID: ExecutionModel.correlation_id,
    ExecutionField.ERROR_MESSAGE: ExecutionModel.error_message,
}

ID_FIELDS = frozenset({ExecutionField.ID, ExecutionField.CAMPAIGN_ID})
TEXT_FIELDS = frozenset({ExecutionField.CORRELATION_ID, ExecutionField.ERROR_MESSAGE})
TIME_FIELDS = frozenset(
    {
        ExecutionField.SCHEDULED_FOR,
        ExecutionField.STARTED_AT,
        ExecutionField.COMPLETED_AT,
    }
)
COUNT_FIELDS = frozenset(
    {
        ExecutionField.TOTAL_RECIPIENTS,
        ExecutionField.TOTAL_DISPATCHED,
        ExecutionField.TOTAL_SUCCEEDED,
        ExecutionField.TOTAL_FAILED,
    }
)
NULLABLE_FIELDS = TEXT_FIELDS | {ExecutionField.STARTED_AT, ExecutionField.COMPLETED_AT}


@dataclass(frozen=True)
class TextContains:
    """Case-insensitive substring of a text field."""

    field: ExecutionField
    text: str


@dataclass(frozen=True)
class IdPrefix:
    """A UUID field whose hex digits start with `digits` (dashes ignored)."""

    field: ExecutionField
    digits: str


@dataclass(frozen=True)
class StatusIn:
    """The status is one of these."""

    statuses: frozenset[ExecutionStatus]


@dataclass(frozen=True)
class CountEquals:
    """A counter field equals this number."""

    field: ExecutionField
    value: int


@dataclass(frozen=True)
class TimeRange:
    """A time field within [start, end); either end may be open."""

    field: ExecutionField
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class AnyOf:
    """At least one of these conditions holds; none at all matches nothing."""

    conditions: tuple["Condition", ...]


Condition = TextContains | IdPrefix | StatusIn | CountEquals | TimeRange | AnyOf


def uuid_prefix_digits(text: str) -> str | None:
    """The hex digits of `text` if it can start a UUID, else None."""
    digits = text.strip().lower().replace("-", "")
    if not digits or len(digits) > 32 or not set(digits) <= _HEX_DIGITS:
        return None
    return digits


def statuses_named_like(text: str) -> frozenset[ExecutionStatus]:
    """Statuses whose name contains `text`, ignoring case."""
    needle = text.strip().lower()
    return frozenset(s for s in ExecutionStatus if needle and needle in s.name.lower())


def search_condition(text: str) -> Condition:
    """The grid's global search: text in correlationId or errorMessage, a status
    name, or the start of an execution id."""
    options: list[Condition] = [TextContains(field, text) for field in TEXT_FIELDS]
    statuses = statuses_named_like(text)
    if statuses:
        options.append(StatusIn(statuses))
    digits = uuid_prefix_digits(text)
    if digits:
        options.append(IdPrefix(ExecutionField.ID, digits))
    return AnyOf(tuple(options))


class unicode_lower(GenericFunction[str]):  # noqa: N801 - SQL function names are lower case
    """lower() that folds every script: SQLite's own folds only ASCII, so the
    engine registers a Python function of this name there."""

    type = String()
    inherit_cache = True


@compiles(unicode_lower)
def _lower_elsewhere(element: unicode_lower, compiler: SQLCompiler, **kw: Any) -> str:  # noqa: ANN401
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(unicode_lower, "sqlite")
def _lower_on_sqlite(element: unicode_lower, compiler: SQLCompiler, **kw: Any) -> str:  # noqa: ANN401
    return f"unicode_lower({compiler.process(element.clauses, **kw)})"


def _contains_ignoring_case(
    column: InstrumentedAttribute[Any], text: str
) -> ColumnElement[bool]:
    """Case-insensitive substring match that also folds non-ASCII letters."""
    if "\x00" in text:
        raise InvalidInputError("Search text cannot contain NUL characters.")
    return unicode_lower(column).contains(text.lower(), autoescape=True)


def to_sql(condition: Condition) -> ColumnElement[bool]:
    """The SQL expression for one condition; values are always bound."""
    match condition:
        case TextContains(field, text):
            return _contains_ignoring_case(COLUMNS[field], text)
        case IdPrefix(field, digits):
            low = uuid.UUID(digits.ljust(32, "0"))
            high = uuid.UUID(digits.ljust(32, "f"))
            return COLUMNS[field].between(low, high)
        case StatusIn(statuses):
            return ExecutionModel.status.in_(sorted(int(s) for s in statuses))
        case CountEquals(field, value):
            return COLUMNS[field] == value
        case TimeRange(field, start, end):
            column = COLUMNS[field]
            bounds = [column >= start] if start else []
            bounds += [column < end] if end else []
            return and_(true(), *bounds)
        case AnyOf(conditions):
            return or_(false(), *map(to_sql, conditions))
    raise TypeError(f"unknown condition {condition!r}")
