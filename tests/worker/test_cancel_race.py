"""Cancel racing claim and run: once a cancel has answered, no dispatch starts."""

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from campaign_executions.domain import Channel, ExecutionStatus
from campaign_executions.errors import ConflictError
from campaign_executions.storage.engine import Database
from campaign_executions.storage.execution import cancel_execution
from campaign_executions.storage.ledger import ledger_totals
from campaign_executions.storage.models import (
    DispatchModel,
    ExecutionModel,
    StepExecutionModel,
)
from campaign_executions.worker.runner import Worker, WorkerOptions
from campaign_executions.worker.simulated import SimulatedSender
from tests.factories import campaign, execution, store, store_campaign

ROUNDS = 150
OPTIONS = WorkerOptions(batch_size=4, idle_poll=0.001)


async def _dispatch_rows(database: Database, execution_id: uuid.UUID) -> int:
    async with database.read() as session:
        count = await session.scalar(
            select(func.count(DispatchModel.id))
            .join(StepExecutionModel)
            .where(StepExecutionModel.execution_id == execution_id)
        )
    return count or 0


async def _cancel_after(database: Database, execution_id: uuid.UUID, delay: float):
    """Cancel after `delay`; the dispatch rows counted once it answered, or None."""
    await asyncio.sleep(delay)
    try:
        async with database.write() as session:
            await cancel_execution(
                session, execution_id=execution_id, now=datetime.now(UTC)
            )
    except ConflictError:
        return None
    return await _dispatch_rows(database, execution_id)


async def _check_agreement(database: Database, execution_id: uuid.UUID) -> None:
    async with database.read() as session:
        row = await session.get(ExecutionModel, execution_id, populate_existing=True)
        totals = await ledger_totals(session, execution_id=execution_id)
        steps = list(
            await session.scalars(
                select(StepExecutionModel).where(
                    StepExecutionModel.execution_id == execution_id
                )
            )
        )
    assert row is not None
    assert (row.total_dispatched, row.total_succeeded, row.total_failed) == totals
    assert sum(s.total_dispatched for s in steps) == totals[0]
    assert sum(s.total_succeeded + s.total_failed for s in steps) == (
        totals[1] + totals[2]
    )


async def _store_due(database: Database, campaign_id: uuid.UUID) -> ExecutionModel:
    row = execution(
        campaign_id=campaign_id,
        status=ExecutionStatus.PENDING,
        scheduled_for=datetime.now(UTC) - timedelta(seconds=1),
    )
    await store(database, row)
    return row


async def _run_due(database: Database, worker: Worker, campaign_id: uuid.UUID):
    await _store_due(database, campaign_id)
    assert await worker.run_once()


async def test_cancel_racing_claim_and_run_never_lets_a_dispatch_start_after(
    database: Database,
):
    rng = random.Random(2026)
    model, people = campaign(
        steps=((Channel.EMAIL, "all"), (Channel.PUSH, "all")), recipients=24
    )
    await store_campaign(database, model, people)
    sender = SimulatedSender(success_rate=0.9, latency_ms=1, seed=9)
    worker = Worker(database, dict.fromkeys(Channel, sender), OPTIONS)
    # Cancels land anywhere from before the claim to after the end of a run.
    started = asyncio.get_running_loop().time()
    await _run_due(database, worker, model.id)
    run_seconds = asyncio.get_running_loop().time() - started
    cancelled = 0

    for _ in range(ROUNDS):
        row = await _store_due(database, model.id)
        rows_at_cancel, _ = await asyncio.gather(
            _cancel_after(database, row.id, rng.uniform(0, run_seconds * 1.3)),
            worker.run_once(),
        )

        final = await _dispatch_rows(database, row.id)
        async with database.read() as session:
            stored = await session.get(ExecutionModel, row.id, populate_existing=True)
        assert stored is not None
        if rows_at_cancel is not None:
            cancelled += 1
            assert final == rows_at_cancel
            assert stored.status == ExecutionStatus.CANCELLED
        await _check_agreement(database, row.id)

    # The race must really have been run both ways.
    assert 0 < cancelled < ROUNDS
