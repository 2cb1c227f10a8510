"""The dispatch ledger: one dispatch per recipient and step, and the live totals.

A dispatch is recorded before it is sent and resolved once; the step's and the
execution's totals move by `total = total + n` in the same transaction.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Table,
    case,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from campaign_executions.domain import DispatchOutcome

from .claim import hold_execution
from .models import DispatchModel, ExecutionModel, StepExecutionModel
from .step import step_not_found

# Rows per statement: well under both backends' bound-parameter limits.
BATCH_SIZE = 500

_PAIR = ("step_execution_id", "recipient_id")
DISPATCHES = cast(Table, DispatchModel.__table__)


@dataclass(frozen=True)
class DispatchTicket:
    """A recorded, still pending dispatch that the worker may send."""

    dispatch_id: int
    recipient_id: uuid.UUID
    address: str
    attempts: int


@dataclass(frozen=True)
class DispatchResult:
    """What the channel answered for one ticket."""

    dispatch_id: int
    succeeded: bool
    error: str | None = None


async def record_dispatches(  # noqa: PLR0913 - the fence's pair plus the batch
    session: AsyncSession,
    *,
    execution_id: uuid.UUID,
    token: uuid.UUID,
    step_execution_id: uuid.UUID,
    recipients: Sequence[tuple[uuid.UUID, str]],
    now: datetime,
) -> list[DispatchTicket]:
    """Record a pending dispatch per new recipient; tickets for all still pending.

    Rows that exist already are not recorded again: a recipient left pending
    by a crashed holder gets its ticket back (attempts + 1), a resolved one
    gets none. Raises ExecutionStoppedError once the execution was cancelled
    or ended, LeaseLostError once another worker holds it; then nothing is
    written.
    """
    # The fence locks the execution row, so a cancel waits for this batch or
    # this batch sees the cancel: never both.
    await hold_execution(session, execution_id=execution_id, token=token, now=now)
    addresses: dict[uuid.UUID, str] = {}
    for recipient_id, address in recipients:
        addresses.setdefault(recipient_id, address)

    ids = list(addresses)
    inserted = 0
    tickets: list[DispatchTicket] = []
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start : start + BATCH_SIZE]
        fresh = await _insert_missing(session, step_execution_id, chunk, now)
        inserted += len(fresh)
        tickets += [
            DispatchTicket(dispatch_id, recipient_id, addresses[recipient_id], 1)
            for dispatch_id, recipient_id in fresh
        ]
        # Only recipients recorded before (by a holder that crashed) need a look.
        recorded_before = set(chunk) - {recipient_id for _, recipient_id in fresh}
        if recorded_before:
            tickets += await _hand_out(
                session, step_execution_id, list(recorded_before), addresses
            )
    if inserted:
        await _add_totals(
            session,
            execution_id=execution_id,
            step_execution_id=step_execution_id,
            increments={"total_dispatched": inserted},
        )

    position = {recipient_id: index for index, recipient_id in enumerate(ids)}
    return sorted(tickets, key=lambda ticket: position[ticket.recipient_id])


async def resolve_dispatches(  # noqa: PLR0913 - the fence's pair plus the batch
    session: AsyncSession,
    *,
    execution_id: uuid.UUID,
    token: uuid.UUID,
    step_execution_id: uuid.UUID,
    results: Sequence[DispatchResult],
    now: datetime,
) -> int:
    """Settle pending dispatches and count them; how many were settled now.

    Repeated ids, resolved ones and ids of other step executions change
    nothing. Only the token is checked, not the status: dispatches in flight
    when a cancel answered still resolve and count. Raises LeaseLostError,
    before any write, once another worker holds the execution.
    """
    await hold_execution(
        session, execution_id=execution_id, token=token, now=now, running=False
    )
    chosen: dict[int, DispatchResult] = {}
    for result in results:
        chosen.setdefault(result.dispatch_id, result)

    ordered = list(chosen.values())
    succeeded = failed = 0
    for start in range(0, len(ordered), BATCH_SIZE):
        batch = ordered[start : start + BATCH_SIZE]
        wins = [result for result in batch if result.succeeded]
        losses = [result for result in batch if not result.succeeded]
        succeeded += await _settle(session, step_execution_id, wins, now)
        failed += await _settle(session, step_execution_id, losses, now)
    if succeeded or failed:
        await _add_totals(
            session,
            execution_id=execution_id,
            step_execution_id=step_execution_id,
            increments={"total_succeeded": succeeded, "total_failed": failed},
        )
    return succeeded + failed


async def withdraw_dispatches(  # noqa: PLR0913 - the fence's pair plus the batch
    session: AsyncSession,
    *,
    execution_id: uuid.UUID,
    token: uuid.UUID,
    step_execution_id: uuid.UUID,
    dispatch_ids: Sequence[int],
    now: datetime,
) -> int:
    """Remove recorded dispatches that were never handed to a channel.

    A run stopped mid-batch (cancel, shutdown) did not send these, so they
    leave the ledger and `total_dispatched` drops by as many, in place.
    Only still pending rows are removed; how many were.
    """
    await hold_execution(
        session, execution_id=execution_id, token=token, now=now, running=False
    )
    withdrawn = 0
    for start in range(0, len(dispatch_ids), BATCH_SIZE):
        chunk = list(dispatch_ids[start : start + BATCH_SIZE])
        statement = (
            delete(DispatchModel)
            .where(
                DispatchModel.id.in_(chunk),
                DispatchModel.step_execution_id == step_execution_id,
                DispatchModel.outcome == str(DispatchOutcome.PENDING),
            )
            .returning(DispatchModel.id)
            .execution_options(synchronize_session=False)
        )
        withdrawn += len((await session.execute(statement)).all())
    if withdrawn:
        await _add_totals(
            session,
            execution_id=execution_id,
            step_execution_id=step_execution_id,
            increments={"total_dispatched": -withdrawn},
        )
    return withdrawn


async def ledger_totals(
    session: AsyncSession, *, execution_id: uuid.UUID
) -> tuple[int, int, int]:
    """(dispatched, succeeded, failed) counted from the execution's dispatch rows."""
    query = (
        select(
            func.count(DispatchModel.id),
            _count(DispatchOutcome.SUCCEEDED),
            _count(DispatchOutcome.FAILED),
        )
        .join(StepExecutionModel)
        .where(StepExecutionModel.execution_id == execution_id)
    )
    dispatched, succeeded, failed = (await session.execute(query)).one()
    return int(dispatched), int(succeeded), int(failed)


async def _insert_missing(
    session: AsyncSession,
    step_execution_id: uuid.UUID,
    recipient_ids: Sequence[uuid.UUID],
    now: datetime,
) -> list[tuple[int, uuid.UUID]]:
    """INSERT the pairs not yet recorded, as a first attempt; (id, recipient) of each.

    The statement is the same for every batch, so it is compiled once and
    the driver sends the rows as multi-row VALUES (insertmanyvalues).
    """
    pending = {
        "step_execution_id": step_execution_id,
        "outcome": str(DispatchOutcome.PENDING),
        "attempts": 1,
        "created_at": now,
    }
    rows = [{**pending, "recipient_id": recipient_id} for recipient_id in recipient_ids]
    statement = _insert_ignoring_recorded(session.get_bind().dialect.name)
    result = await session.execute(statement, rows)
    return [(row.id, row.recipient_id) for row in result]


def _insert_ignoring_recorded(
    dialect: str,
) -> ReturningInsert[tuple[int, uuid.UUID]]:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(DISPATCHES)
        .on_conflict_do_nothing(index_elements=_PAIR)
        .returning(DISPATCHES.c.id, DISPATCHES.c.recipient_id)
    )


async def _hand_out(
    session: AsyncSession,
    step_execution_id: uuid.UUID,
    recipient_ids: Sequence[uuid.UUID],
    addresses: Mapping[uuid.UUID, str],
) -> list[DispatchTicket]:
    """Count one more attempt on each still pending dispatch and ticket it."""
    statement = (
        update(DispatchModel)
        .where(
            DispatchModel.step_execution_id == step_execution_id,
            DispatchModel.recipient_id.in_(recipient_ids),
            DispatchModel.outcome == str(DispatchOutcome.PENDING),
        )
        .values(attempts=DispatchModel.attempts + 1)
        .returning(DispatchModel.id, DispatchModel.recipient_id, DispatchModel.attempts)
        .execution_options(synchronize_session=False)
    )
    return [
        DispatchTicket(
            row.id, row.recipient_id, addresses[row.recipient_id], row.attempts
        )
        for row in await session.execute(statement)
    ]


async def _settle(
    session: AsyncSession,
    step_execution_id: uuid.UUID,
    results: Sequence[DispatchResult],
    now: datetime,
) -> int:
    """Resolve the pending ones among `results`, all of one outcome; how many."""
    if not results:
        return 0
    if results[0].succeeded:
        outcome, error = DispatchOutcome.SUCCEEDED, None
    else:
        outcome = DispatchOutcome.FAILED
        error = _errors_by_id({result.dispatch_id: result.error for result in results})
    statement = (
        update(DispatchModel)
        .where(
            DispatchModel.id.in_([result.dispatch_id for result in results]),
            DispatchModel.step_execution_id == step_execution_id,
            DispatchModel.outcome == str(DispatchOutcome.PENDING),
        )
        .values(outcome=str(outcome), error=error, resolved_at=now)
        .returning(DispatchModel.id)
        .execution_options(synchronize_session=False)
    )
    return len((await session.execute(statement)).all())


def _errors_by_id(
    errors: Mapping[int, str | None],
) -> ColumnElement[str | None] | str | None:
    """One error for the whole UPDATE, or a CASE on the id when they differ."""
    distinct = set(errors.values())
    if len(distinct) <= 1:
        return distinct.pop() if distinct else None
    return case(errors, value=DispatchModel.id)


async def _add_totals(
    session: AsyncSession,
    *,
    execution_id: uuid.UUID,
    step_execution_id: uuid.UUID,
    increments: Mapping[str, int],
) -> None:
    """Add to the step execution's and the execution's totals, in place."""
    step = (
        update(StepExecutionModel)
        .where(
            StepExecutionModel.id == step_execution_id,
            StepExecutionModel.execution_id == execution_id,
        )
        .values(_plus(StepExecutionModel, increments))
        .returning(StepExecutionModel.id)
        .execution_options(synchronize_session=False)
    )
    if (await session.execute(step)).first() is None:
        raise step_not_found(execution_id, step_execution_id)
    execution = (
        update(ExecutionModel)
        .where(ExecutionModel.id == execution_id)
        .values(_plus(ExecutionModel, increments))
        .execution_options(synchronize_session=False)
    )
    await session.execute(execution)


def _plus(
    model: type[ExecutionModel] | type[StepExecutionModel],
    increments: Mapping[str, int],
) -> dict[str, ColumnElement[int]]:
    """`total = total + n` for each named total: never a value read earlier."""
    return {name: getattr(model, name) + n for name, n in increments.items()}


def _count(outcome: DispatchOutcome) -> ColumnElement[int]:
    return func.count(DispatchModel.id).filter(DispatchModel.outcome == str(outcome))
