"""Queries and commands on executions: lookup, grid pages, keyset pages, cancel."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import UnaryExpression

from campaign_executions.domain import (
    CANCELLABLE_STATUSES,
    ExecutionField,
    ExecutionStatus,
)
from campaign_executions.errors import ConflictError, NotFoundError

from .filters import COLUMNS, NULLABLE_FIELDS, Condition, to_sql
from .models import ExecutionModel, StepExecutionModel
from .watch import CANCEL_CHANNEL

KeysetValue = datetime | int | uuid.UUID


@dataclass(frozen=True)
class OrderTerm:
    """Order by one field; nulls sort as the lowest values on every backend."""

    field: ExecutionField
    descending: bool = False


DEFAULT_ORDER = (OrderTerm(ExecutionField.SCHEDULED_FOR, descending=True),)


@dataclass(frozen=True)
class ExecutionQuery:
    """Which executions: one campaign's, meeting every condition."""

    campaign_id: uuid.UUID
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Keyset:
    """The position after which a keyset page starts: the last row's key."""

    value: KeysetValue
    id: uuid.UUID


async def get_execution(
    session: AsyncSession, *, execution_id: uuid.UUID
) -> ExecutionModel | None:
    """The execution with this id, or None."""
    return await session.get(ExecutionModel, execution_id)


async def count_executions(session: AsyncSession, *, query: ExecutionQuery) -> int:
    """How many executions the query matches."""
    statement = select(func.count()).select_from(ExecutionModel)
    statement = statement.where(_matching(query))
    return (await session.execute(statement)).scalar_one()


async def list_executions(
    session: AsyncSession,
    *,
    query: ExecutionQuery,
    order: Sequence[OrderTerm] = DEFAULT_ORDER,
    offset: int = 0,
    limit: int | None = None,
) -> list[ExecutionModel]:
    """One offset page of the matching executions, ordered with an id tie-break."""
    statement = _ordered(select(ExecutionModel), order or DEFAULT_ORDER)
    statement = statement.where(_matching(query)).offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return list((await session.scalars(statement)).all())


async def list_executions_after(
    session: AsyncSession,
    *,
    query: ExecutionQuery,
    order: OrderTerm = DEFAULT_ORDER[0],
    after: Keyset | None = None,
    limit: int,
) -> list[ExecutionModel]:
    """A keyset page: up to `limit` executions that sort after `after`.

    Keyset paging needs a field that is never null; nullable fields are refused.
    """
    if order.field in NULLABLE_FIELDS:
        raise ValueError(f"{order.field} may be null and cannot drive keyset paging")
    statement = _ordered(select(ExecutionModel), (order,))
    statement = statement.where(_matching(query))
    if after is not None:
        statement = statement.where(_beyond(order, after))
    return list((await session.scalars(statement.limit(limit))).all())


def keyset_of(execution: ExecutionModel, order: OrderTerm) -> Keyset:
    """The key of `execution` under `order`, for the next page's `after`."""
    attribute = COLUMNS[order.field].key
    return Keyset(value=getattr(execution, attribute), id=execution.id)


async def list_step_executions(
    session: AsyncSession, *, execution_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[StepExecutionModel]]:
    """The step executions of many executions in one query, by execution id."""
    steps: dict[uuid.UUID, list[StepExecutionModel]] = defaultdict(list)
    if not execution_ids:
        return steps
    query = (
        select(StepExecutionModel)
        .where(StepExecutionModel.execution_id.in_(set(execution_ids)))
        .order_by(StepExecutionModel.execution_id, StepExecutionModel.step_number)
    )
    for step in await session.scalars(query):
        steps[step.execution_id].append(step)
    return steps


async def cancel_execution(
    session: AsyncSession, *, execution_id: uuid.UUID, now: datetime
) -> ExecutionModel:
    """Move a Pending or Running execution to Cancelled; a Cancelled one stays so.

    On PostgreSQL a cancel also sends NOTIFY on CANCEL_CHANNEL with the id, in
    the same transaction, so listening workers stop at once. Raises
    NotFoundError for an unknown id and ConflictError for an execution that
    already ended otherwise.
    """
    cancelled = await session.execute(
        update(ExecutionModel)
        .where(
            ExecutionModel.id == execution_id,
            ExecutionModel.status.in_([int(s) for s in CANCELLABLE_STATUSES]),
        )
        .values(status=ExecutionStatus.CANCELLED, completed_at=now, updated_at=now)
        .returning(ExecutionModel.id)
        .execution_options(synchronize_session=False)
    )
    changed = cancelled.scalar_one_or_none() is not None
    if changed:
        await _announce_cancel(session, execution_id=execution_id)
    execution = await session.get(ExecutionModel, execution_id, populate_existing=True)
    if execution is None:
        raise NotFoundError(f"No campaign execution has the id {execution_id}.")
    if not changed and execution.status != ExecutionStatus.CANCELLED:
        status = ExecutionStatus(execution.status).name.title()
        raise ConflictError(
            f"Execution {execution_id} is {status} and cannot be cancelled; "
            "only Pending or Running executions can be."
        )
    return execution


async def _announce_cancel(session: AsyncSession, *, execution_id: uuid.UUID) -> None:
    """NOTIFY listening workers on PostgreSQL; delivered only if the cancel commits."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_notify(CANCEL_CHANNEL, str(execution_id))))


def _matching(query: ExecutionQuery) -> ColumnElement[bool]:
    return and_(
        ExecutionModel.campaign_id == query.campaign_id,
        *map(to_sql, query.conditions),
    )


def _ordered(
    query: Select[ExecutionModel], order: Sequence[OrderTerm]
) -> Select[ExecutionModel]:
    id_descending = order[-1].descending
    tie_break = ExecutionModel.id.desc() if id_descending else ExecutionModel.id.asc()
    return query.order_by(*map(_sort_key, order), tie_break)


def _sort_key(term: OrderTerm) -> UnaryExpression[object]:
    column = COLUMNS[term.field]
    if term.field not in NULLABLE_FIELDS:
        return column.desc() if term.descending else column.asc()
    # SQLite and PostgreSQL disagree on where nulls go; pin "nulls are lowest".
    if term.descending:
        return column.desc().nulls_last()
    return column.asc().nulls_first()


def _beyond(order: OrderTerm, after: Keyset) -> ColumnElement[bool]:
    column = COLUMNS[order.field]
    if order.descending:
        return or_(
            column < after.value,
            and_(column == after.value, ExecutionModel.id < after.id),
        )
    return or_(
        column > after.value,
        and_(column == after.value, ExecutionModel.id > after.id),
    )
