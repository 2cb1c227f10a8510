"""Worker processes that die or freeze mid-run: another resumes, nothing counts twice.

These start `python -m campaign_executions worker` as real processes on the
test database, then SIGKILL or SIGSTOP them.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaign_executions.domain import ExecutionStatus
from campaign_executions.storage.engine import Database
from campaign_executions.storage.ledger import ledger_totals
from campaign_executions.storage.models import (
    DispatchModel,
    ExecutionModel,
    StepExecutionModel,
)
from tests.factories import campaign, execution, store, store_campaign

RECIPIENTS = 300
LEASE_SECONDS = 2.0


class WorkerProcess:
    """One worker process whose JSON log lines are kept in a file."""

    def __init__(self, database_url: str, log_path: Path) -> None:
        env = os.environ | {
            "CAMPAIGN_EXECUTIONS_DATABASE_URL": database_url,
            "CAMPAIGN_EXECUTIONS_WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
            "CAMPAIGN_EXECUTIONS_WORKER_HEARTBEAT_SECONDS": "0.4",
            "CAMPAIGN_EXECUTIONS_WORKER_IDLE_POLL_SECONDS": "0.2",
            "CAMPAIGN_EXECUTIONS_WORKER_BATCH_SIZE": "10",
            "CAMPAIGN_EXECUTIONS_SIMULATED_LATENCY_MS": "60",
            "CAMPAIGN_EXECUTIONS_SIMULATED_SEED": "5",
            "CAMPAIGN_EXECUTIONS_LOG_FORMAT": "json",
            "CAMPAIGN_EXECUTIONS_LOG_LEVEL": "DEBUG",
        }
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "campaign_executions", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )

    def events(self, *, since: int = 0) -> list[dict[str, object]]:
        """The log events written after byte `since`."""
        with self.log_path.open("rb") as log:
            log.seek(since)
            lines = log.read().decode("utf-8", "replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def signal(self, number: int) -> None:
        self.process.send_signal(number)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture
async def workers(
    database_url: str, tmp_path: Path
) -> AsyncIterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        worker = WorkerProcess(database_url, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker

    yield start  # type: ignore[misc]
    for worker in started:
        worker.signal(signal.SIGCONT)
        worker.close()


async def _due_run(database: Database) -> uuid.UUID:
    model, people = campaign(recipients=RECIPIENTS)
    await store_campaign(database, model, people)
    row = execution(
        campaign_id=model.id,
        status=ExecutionStatus.PENDING,
        scheduled_for=datetime.now(UTC) - timedelta(seconds=1),
    )
    await store(database, row)
    return row.id


async def _wait_for(check, *, seconds: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the worker")
        await asyncio.sleep(0.05)


async def _row(database: Database, execution_id: uuid.UUID) -> ExecutionModel:
    async with database.read() as session:
        row = await session.get(ExecutionModel, execution_id, populate_existing=True)
    assert row is not None
    return row


async def _assert_ledger_consistent(database: Database, execution_id: uuid.UUID):
    row = await _row(database, execution_id)
    async with database.read() as session:
        totals = await ledger_totals(session, execution_id=execution_id)
        per_recipient = await session.scalar(
            select(func.count(func.distinct(DispatchModel.recipient_id)))
            .join(StepExecutionModel)
            .where(StepExecutionModel.execution_id == execution_id)
        )
    assert row.status == ExecutionStatus.SUCCEEDED
    assert (row.total_dispatched, row.total_succeeded, row.total_failed) == totals
    assert totals[0] == RECIPIENTS
    assert totals[1] + totals[2] == RECIPIENTS
    assert per_recipient == RECIPIENTS


async def test_killed_worker_is_resumed_by_another_without_double_counting(
    database: Database, workers
):
    execution_id = await _due_run(database)
    first = workers()

    async def dispatching() -> bool:
        return (await _row(database, execution_id)).total_dispatched >= 50

    await _wait_for(dispatching)
    first.signal(signal.SIGKILL)
    first.close()
    workers()

    async def finished() -> bool:
        return (await _row(database, execution_id)).status != ExecutionStatus.RUNNING

    await _wait_for(finished)
    await _assert_ledger_consistent(database, execution_id)


async def test_frozen_worker_past_its_lease_gets_no_write_accepted(
    database: Database, workers
):
    execution_id = await _due_run(database)
    stale = workers()

    async def dispatching() -> bool:
        return (await _row(database, execution_id)).total_dispatched >= 50

    await _wait_for(dispatching)
    stale_token = (await _row(database, execution_id)).worker_token
    stale.signal(signal.SIGSTOP)
    workers()

    async def taken_over() -> bool:
        row = await _row(database, execution_id)
        return row.worker_token not in (None, stale_token) and (
            row.total_dispatched >= 100
        )

    await _wait_for(taken_over)
    resumed_at = stale.log_size()
    stale.signal(signal.SIGCONT)

    async def finished() -> bool:
        return (await _row(database, execution_id)).status != ExecutionStatus.RUNNING

    await _wait_for(finished)
    await asyncio.sleep(1.0)
    after = [e for e in stale.events(since=resumed_at) if e.get("execution_id")]
    accepted = [
        e for e in after if e["event"] == "batch_resolved" and e.get("resolved")
    ]
    assert accepted == []
    assert any(e["event"] in {"lease_lost", "execution_stopped"} for e in after)
    assert not any(e["event"] == "execution_finished" for e in after)
    await _assert_ledger_consistent(database, execution_id)
