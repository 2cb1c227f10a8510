import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from campaign_executions.domain import Channel, ExecutionStatus
from campaign_executions.storage.engine import Database
from campaign_executions.storage.execution import (
    cancel_execution,
    get_execution,
    list_step_executions,
)
from campaign_executions.storage.ledger import ledger_totals
from campaign_executions.storage.watch import find_stopped
from campaign_executions.worker.runner import SEND_CHUNK, Worker, WorkerOptions
from campaign_executions.worker.sender import Message, Sender, SendResult
from campaign_executions.worker.simulated import SimulatedSender
from tests.factories import campaign, execution, store, store_campaign

OPTIONS = WorkerOptions(batch_size=25, idle_poll=0.01)
TWO_STEPS = ((Channel.EMAIL, "all"), (Channel.SMS, "failedPrevious"))


def _senders(sender: Sender) -> dict[Channel, Sender]:
    return dict.fromkeys(Channel, sender)


async def _due_run(database: Database, campaign_id: uuid.UUID) -> uuid.UUID:
    row = execution(
        campaign_id=campaign_id,
        status=ExecutionStatus.PENDING,
        scheduled_for=datetime.now(UTC) - timedelta(seconds=1),
    )
    await store(database, row)
    return row.id


async def _load(database: Database, execution_id: uuid.UUID):
    async with database.read() as session:
        row = await get_execution(session, execution_id=execution_id)
        totals = await ledger_totals(session, execution_id=execution_id)
    assert row is not None
    return row, totals


async def test_run_sends_each_step_to_its_audience_and_totals_match_ledger(
    database: Database,
):
    model, people = campaign(steps=TWO_STEPS, recipients=120)
    await store_campaign(database, model, people)
    run_id = await _due_run(database, model.id)
    sender = SimulatedSender(success_rate=0.8, latency_ms=0, seed=3)

    assert await Worker(database, _senders(sender), OPTIONS).run_once() is True

    row, (dispatched, succeeded, failed) = await _load(database, run_id)
    async with database.read() as session:
        steps = (await list_step_executions(session, execution_ids=[run_id]))[run_id]
    first, second = steps
    assert row.status == ExecutionStatus.SUCCEEDED
    assert row.completed_at is not None
    assert row.total_recipients == 120
    assert (row.total_dispatched, row.total_succeeded, row.total_failed) == (
        dispatched,
        succeeded,
        failed,
    )
    assert first.total_dispatched == 120
    assert 0 < first.total_failed < 120
    assert second.total_dispatched == first.total_failed
    assert dispatched == first.total_dispatched + second.total_dispatched
    assert set(sender.send_counts.values()) == {1}


@pytest.mark.parametrize(
    ("active", "recipients", "reason"),
    [(False, 5, "inactive"), (True, 0, "no recipients")],
)
async def test_run_with_nothing_to_send_is_skipped(
    database: Database, active: bool, recipients: int, reason: str
):
    model, people = campaign(recipients=recipients, active=active)
    await store_campaign(database, model, people)
    run_id = await _due_run(database, model.id)
    sender = SimulatedSender(success_rate=1, latency_ms=0, seed=1)

    await Worker(database, _senders(sender), OPTIONS).run_once()

    row, totals = await _load(database, run_id)
    assert row.status == ExecutionStatus.SKIPPED
    assert reason in (row.error_message or "")
    assert totals == (0, 0, 0)


async def test_run_of_unknown_campaign_is_skipped(database: Database):
    run_id = await _due_run(database, uuid.uuid4())
    sender = SimulatedSender(success_rate=1, latency_ms=0, seed=1)

    await Worker(database, _senders(sender), OPTIONS).run_once()

    row, _ = await _load(database, run_id)
    assert row.status == ExecutionStatus.SKIPPED


async def test_no_due_execution_means_no_work(database: Database):
    sender = SimulatedSender(success_rate=1, latency_ms=0, seed=1)

    assert await Worker(database, _senders(sender), OPTIONS).run_once() is False


class CancellingSender:
    """Cancels the execution while its first batch is in flight."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.batches = 0

    async def send_batch(self, messages: Sequence[Message]) -> list[SendResult]:
        self.batches += 1
        if self.batches == 1:
            async with self.database.write() as session:
                await cancel_execution(
                    session,
                    execution_id=messages[0].execution_id,
                    now=datetime.now(UTC),
                )
        return [SendResult(succeeded=True) for _ in messages]

    async def aclose(self) -> None:
        return None


async def test_cancel_mid_run_stops_new_dispatches_and_counts_in_flight(
    database: Database,
):
    model, people = campaign(recipients=100)
    await store_campaign(database, model, people)
    run_id = await _due_run(database, model.id)
    sender = CancellingSender(database)

    await Worker(database, _senders(sender), OPTIONS).run_once()

    row, totals = await _load(database, run_id)
    async with database.read() as session:
        (step,) = (await list_step_executions(session, execution_ids=[run_id]))[run_id]
    assert row.status == ExecutionStatus.CANCELLED
    assert step.status == ExecutionStatus.CANCELLED
    assert step.completed_at is not None
    assert sender.batches == 1
    assert totals == (25, 25, 0)
    assert (row.total_dispatched, row.total_succeeded) == (25, 25)


class BrokenSender:
    async def send_batch(self, messages: Sequence[Message]) -> list[SendResult]:
        raise RuntimeError("channel exploded with SELECT secret")

    async def aclose(self) -> None:
        return None


async def test_fault_fails_the_run_with_a_reason_and_no_internals(database: Database):
    model, people = campaign(recipients=10)
    await store_campaign(database, model, people)
    run_id = await _due_run(database, model.id)

    await Worker(database, _senders(BrokenSender()), OPTIONS).run_once()

    row, _ = await _load(database, run_id)
    assert row.status == ExecutionStatus.FAILED
    assert row.error_message is not None
    assert "RuntimeError" in row.error_message
    assert "SELECT" not in row.error_message


async def test_find_stopped_reports_cancelled_runs(database: Database):
    running = execution(campaign_id=uuid.uuid4(), status=ExecutionStatus.RUNNING)
    cancelled = execution(campaign_id=uuid.uuid4(), status=ExecutionStatus.CANCELLED)
    await store(database, running, cancelled)

    async with database.read() as session:
        stopped = await find_stopped(session, execution_ids=[running.id, cancelled.id])

    assert stopped == {cancelled.id}


class StoppingSender:
    """Asks the worker to stop while its first batch is in flight."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.batches = 0

    async def send_batch(self, messages: Sequence[Message]) -> list[SendResult]:
        self.batches += 1
        self.stop.set()
        return [SendResult(succeeded=True) for _ in messages]

    async def aclose(self) -> None:
        return None


async def test_stopping_worker_hands_its_run_back_for_another_to_finish(
    database: Database,
):
    model, people = campaign(recipients=100)
    await store_campaign(database, model, people)
    run_id = await _due_run(database, model.id)
    stop = asyncio.Event()
    stopping = StoppingSender(stop)

    await Worker(database, _senders(stopping), OPTIONS).run(stop)
    handed_back, _ = await _load(database, run_id)
    successor = SimulatedSender(success_rate=1, latency_ms=0, seed=1)
    assert await Worker(database, _senders(successor), OPTIONS).run_once()

    row, totals = await _load(database, run_id)
    assert stopping.batches == 1
    assert handed_back.status == ExecutionStatus.RUNNING
    assert (handed_back.total_dispatched, handed_back.total_succeeded) == (25, 25)
    assert row.status == ExecutionStatus.SUCCEEDED
    assert totals == (100, 100, 0)
    assert len(successor.send_counts) == 75


class NotifyingCancelSender:
    """Cancels during its first chunk and tells the worker, as NOTIFY would."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.worker: Worker | None = None
        self.sent = 0

    async def send_batch(self, messages: Sequence[Message]) -> list[SendResult]:
        if self.sent == 0:
            execution_id = messages[0].execution_id
            async with self.database.write() as session:
                await cancel_execution(
                    session, execution_id=execution_id, now=datetime.now(UTC)
                )
            assert self.worker is not None
            self.worker.notice_stop(execution_id)
        self.sent += len(messages)
        return [SendResult(succeeded=True) for _ in messages]

    async def aclose(self) -> None:
        return None


async def test_cancel_mid_batch_sends_no_further_chunk_and_withdraws_the_rest(
    database: Database,
):
    model, people = campaign(recipients=300)
    await store_campaign(database, model, people)
    run_id = await _due_run(database, model.id)
    sender = NotifyingCancelSender(database)
    worker = Worker(database, _senders(sender), WorkerOptions(batch_size=300))
    sender.worker = worker

    await worker.run_once()

    row, totals = await _load(database, run_id)
    async with database.read() as session:
        (step,) = (await list_step_executions(session, execution_ids=[run_id]))[run_id]
    assert sender.sent == SEND_CHUNK
    assert totals == (SEND_CHUNK, SEND_CHUNK, 0)
    assert (row.total_dispatched, row.total_succeeded) == (SEND_CHUNK, SEND_CHUNK)
    assert row.status == ExecutionStatus.CANCELLED
    assert step.status == ExecutionStatus.CANCELLED
    assert step.total_dispatched == SEND_CHUNK
