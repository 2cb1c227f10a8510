"""The grid's server-side protocol: checked DtParameters in, a DtResult out.

`length` reads: -1 for every row (refused when more rows match than the
configured page maximum), 0 for no rows (the counts are still answered), 1 up
to the maximum for a page; anything else, and a negative `start`, is refused.

Errors on this route answer one body that both readers understand: the
envelope (`succeeded`, `message`, `data`) united with a DtResult carrying
`error`, so the grid shows the message and envelope clients see a failure.
Its `draw` is the request's when the body can be read, else 0.
"""

import uuid
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from typing_extensions import TypedDict

from campaign_executions.domain import ExecutionField
from campaign_executions.errors import AppError, InvalidInputError
from campaign_executions.storage.engine import Database
from campaign_executions.storage.execution import (
    ExecutionQuery,
    OrderTerm,
    count_executions,
    list_executions,
)
from campaign_executions.storage.filters import Condition, search_condition

from .column_search import column_condition
from .dto import ExecutionDto, execution_dto
from .envelope import failure_body
from .grid_request import DtColumn, DtOrder, DtParameters, DtSearch, Int32, read_body

ALL_ROWS = -1
REGEX_REFUSED = "regular-expression search is not supported; send regex=false"
_FIELDS = ", ".join(ExecutionField)
_FIELD_NAMES = frozenset(str(field) for field in ExecutionField)
_INT32 = TypeAdapter(Int32)


class DtResult(TypedDict):
    """DtResult<NotificationCampaignExecutionDto>, not wrapped in the envelope."""

    draw: int
    recordsTotal: int
    recordsFiltered: int
    data: list[ExecutionDto]


@dataclass(frozen=True)
class GridPlan:
    """What a valid request asks storage for; `limit` None means every row."""

    draw: int
    conditions: tuple[Condition, ...]
    order: tuple[OrderTerm, ...]
    offset: int
    limit: int | None


def plan_grid(params: DtParameters, *, max_page_size: int) -> GridPlan:
    """Check the request and turn it into typed storage arguments."""
    if params.start < 0:
        raise InvalidInputError("start must be 0 or more.")
    return GridPlan(
        draw=params.draw,
        conditions=_conditions(params),
        order=tuple(_order_term(params.columns, entry) for entry in params.order),
        offset=params.start,
        limit=_limit(params.length, max_page_size),
    )


def _limit(length: int, max_page_size: int) -> int | None:
    """None (every row) for -1; 0 gives no rows; below -1 or over the max is a 400."""
    if length == ALL_ROWS:
        return None
    if length < 0 or length > max_page_size:
        raise InvalidInputError(
            f"length must be -1 (all rows) or from 0 to {max_page_size}."
        )
    return length


def _order_term(columns: list[DtColumn], entry: DtOrder) -> OrderTerm:
    if not 0 <= entry.column < len(columns):
        raise InvalidInputError(
            f"order refers to column {entry.column}, but the request lists "
            f"{len(columns)} columns."
        )
    column = columns[entry.column]
    if not column.orderable:
        raise InvalidInputError(
            f"Column {entry.column} is marked orderable=false and cannot order rows."
        )
    field = _field_of(column)
    if field is None:
        raise InvalidInputError(
            f"Column {entry.column} cannot order rows: its data (or name) must be "
            f"one of {_FIELDS}."
        )
    return OrderTerm(field, descending=entry.dir == "desc")


def _field_of(column: DtColumn) -> ExecutionField | None:
    """The field the column's `data` names, else the one its `name` names."""
    for key in (column.data, column.name):
        if key in _FIELD_NAMES:
            return ExecutionField(key)
    return None


def _conditions(params: DtParameters) -> tuple[Condition, ...]:
    conditions: list[Condition] = []
    text = _search_text(params.search, place="The global search")
    if text:
        conditions.append(search_condition(text))
    for index, column in enumerate(params.columns):
        condition = _column_search(index, column)
        if condition is not None:
            conditions.append(condition)
    return tuple(conditions)


def _column_search(index: int, column: DtColumn) -> Condition | None:
    if not column.searchable:
        return None
    text = _search_text(column.search, place=f"Column {index}'s search")
    if not text:
        return None
    field = _field_of(column)
    if field is None:
        raise InvalidInputError(
            f"Column {index} cannot be searched: its data (or name) must be one "
            f"of {_FIELDS}."
        )
    return column_condition(field, text, column=f"{index} ({field})")


def _search_text(search: DtSearch, *, place: str) -> str:
    text = (search.value or "").strip()
    if text and search.regex:
        raise InvalidInputError(f"{place}: {REGEX_REFUSED}.")
    return text


async def fetch_grid_page(
    database: Database, *, campaign_id: uuid.UUID, plan: GridPlan, max_page_size: int
) -> DtResult:
    """The counts and the page of rows that `plan` asks for."""
    matching = ExecutionQuery(campaign_id, plan.conditions)
    async with database.read() as session:
        total = await count_executions(session, query=ExecutionQuery(campaign_id))
        filtered = total
        if plan.conditions:
            filtered = await count_executions(session, query=matching)
        _check_all_rows_fit(plan, filtered, max_page_size)
        rows = []
        if plan.limit != 0:
            rows = await list_executions(
                session,
                query=matching,
                order=plan.order,
                offset=plan.offset,
                limit=plan.limit,
            )
    return {
        "draw": plan.draw,
        "recordsTotal": total,
        "recordsFiltered": filtered,
        "data": [execution_dto(row) for row in rows],
    }


def _check_all_rows_fit(plan: GridPlan, filtered: int, max_page_size: int) -> None:
    if plan.limit is None and filtered > max_page_size:
        raise InvalidInputError(
            f"length -1 asks for all {filtered} matching rows, more than the "
            f"{max_page_size} a page may hold; page through them instead."
        )


async def respond_grid_failure(request: Request, status: int, message: str) -> Response:
    """The envelope and a DtResult with `error`, in one body."""
    body = failure_body(message) | {
        "draw": await _draw_of(request),
        "recordsTotal": 0,
        "recordsFiltered": 0,
        "error": message,
    }
    return JSONResponse(body, status_code=status)


async def _draw_of(request: Request) -> int:
    """The request's draw when its body can be read, else 0."""
    try:
        raw = await read_body(request)
    # RuntimeError: a refused oversized body left its stream half read.
    except (AppError, ClientDisconnect, RuntimeError):
        return 0
    try:
        return _INT32.validate_python(
            raw.get("draw") if isinstance(raw, dict) else None
        )
    except ValidationError:
        return 0
