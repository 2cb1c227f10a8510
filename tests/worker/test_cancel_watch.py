import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from campaign_executions.domain import Channel, ExecutionStatus
from campaign_executions.storage.engine import Database
from campaign_executions.storage.execution import cancel_execution
from campaign_executions.storage.watch import listen_for_cancels
from campaign_executions.worker.cancel_watch import watch_cancels
from campaign_executions.worker.runner import Run, Worker
from campaign_executions.worker.simulated import SimulatedSender
from tests.factories import execution, store


async def _cancel(database: Database, execution_id: uuid.UUID) -> None:
    async with database.write() as session:
        await cancel_execution(
            session, execution_id=execution_id, now=datetime.now(UTC)
        )


async def test_postgres_announces_each_cancel_to_listeners(database: Database):
    if database.dialect != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    row = execution(campaign_id=uuid.uuid4(), status=ExecutionStatus.RUNNING)
    await store(database, row)
    heard: asyncio.Queue[uuid.UUID] = asyncio.Queue()

    async with listen_for_cancels(database, heard.put_nowait) as listening:
        await _cancel(database, row.id)
        announced = await asyncio.wait_for(heard.get(), timeout=10)

    assert listening is True
    assert announced == row.id


async def _watched_stop(database: Database, *, poll_seconds: float) -> bool:
    row = execution(campaign_id=uuid.uuid4(), status=ExecutionStatus.RUNNING)
    await store(database, row)
    sender = SimulatedSender(success_rate=1, latency_ms=0, seed=1)
    worker = Worker(database, dict.fromkeys(Channel, sender))
    run = Run(execution=row, token=uuid.uuid4(), stopped=asyncio.Event())
    worker.active[row.id] = run
    stop = asyncio.Event()
    watch = asyncio.create_task(
        watch_cancels(worker, database, stop, poll_seconds=poll_seconds)
    )
    await asyncio.sleep(0.2)
    await _cancel(database, row.id)
    try:
        await asyncio.wait_for(run.stopped.wait(), timeout=5)
    finally:
        stop.set()
        await watch
    return run.stopped.is_set()


async def test_polling_notices_a_cancel_on_every_backend(database: Database):
    assert await _watched_stop(database, poll_seconds=0.05)


async def test_postgres_notices_a_cancel_without_polling(database: Database):
    if database.dialect != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")

    # Polling every minute: only the NOTIFY can stop the run within the wait.
    assert await _watched_stop(database, poll_seconds=60)
