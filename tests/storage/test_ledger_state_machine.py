"""A Hypothesis state machine over claim, record, resolve, crash, rescue, cancel, finish.

Hypothesis drives a RuleBasedStateMachine synchronously, while pytest-asyncio
owns a session-wide event loop that must never be replaced or closed under it.
So the machine gets an event loop of its own, running forever in a thread of
its own, with its own engine created and disposed on that loop; each rule
hands its coroutine over with run_coroutine_threadsafe and waits for the
answer. Nothing crosses loops, and the session loop is left untouched.
"""

import asyncio
import threading
import uuid
from collections.abc import Coroutine, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, func, select

from campaign_executions.domain import Channel, ExecutionStatus
from campaign_executions.errors import (
    AppError,
    ConflictError,
    ExecutionStoppedError,
    LeaseLostError,
)
from campaign_executions.storage.claim import (
    claim_due_execution,
    finish_execution,
    hold_execution,
)
from campaign_executions.storage.engine import Database
from campaign_executions.storage.execution import cancel_execution
from campaign_executions.storage.ledger import (
    DispatchResult,
    ledger_totals,
    record_dispatches,
    resolve_dispatches,
)
from campaign_executions.storage.models import (
    CampaignModel,
    ExecutionModel,
    RecipientModel,
    StepExecutionModel,
)
from campaign_executions.storage.step import start_step
from tests.factories import BASE_TIME, execution

T = TypeVar("T")

WORKERS = 3
RECIPIENTS = 6
LEASE = timedelta(seconds=30)
PENDING = "pending"
WORKER_ENDS = (
    ExecutionStatus.SUCCEEDED,
    ExecutionStatus.FAILED,
    ExecutionStatus.SKIPPED,
)
MACHINE_SETTINGS = settings(
    max_examples=50,
    stateful_step_count=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

workers = st.integers(min_value=0, max_value=WORKERS - 1)


class LoopThread:
    """An event loop running in its own thread; coroutines are handed to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[object, object, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)

    def close(self) -> None:
        self.run(self.loop.shutdown_asyncgens())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


class _ProbeRollbackError(Exception):
    """Leaves a probing transaction without committing it."""


class LedgerMachine(RuleBasedStateMachine):
    """Three workers and a cancel button against one execution of six recipients."""

    def __init__(self, loop: LoopThread, database: Database) -> None:
        super().__init__()
        self.loop = loop
        self.database = database
        self.now = BASE_TIME + timedelta(minutes=1)
        self.campaign_id = uuid.uuid4()
        self.recipients = sorted(
            (uuid.uuid4(), f"{n}@x.test") for n in range(RECIPIENTS)
        )
        self.execution_id = loop.run(self._seed())
        # The model: what the database must say after every step.
        self.status = ExecutionStatus.PENDING
        self.holder: uuid.UUID | None = None
        self.lease_until: datetime | None = None
        self.final: ExecutionStatus | None = None
        self.step_id: uuid.UUID | None = None
        self.outcomes: dict[uuid.UUID, str] = {}
        self.dispatch_ids: dict[uuid.UUID, int] = {}
        self.attempts: dict[uuid.UUID, int] = {}
        self.delivered: list[DispatchResult] = []
        # What each worker believes: its token (None when idle) and tickets.
        self.tokens: list[uuid.UUID | None] = [None] * WORKERS
        self.tickets: list[dict[int, uuid.UUID]] = [{} for _ in range(WORKERS)]
        self.started: set[uuid.UUID | None] = set()

    async def _seed(self) -> uuid.UUID:
        row = execution(
            campaign_id=self.campaign_id,
            status=ExecutionStatus.PENDING,
            scheduled_for=BASE_TIME,
        )
        async with self.database.write() as session:
            session.add(CampaignModel(id=self.campaign_id, name="m", is_active=True))
            await session.flush()
            session.add_all(
                RecipientModel(id=rid, campaign_id=self.campaign_id, address=address)
                for rid, address in self.recipients
            )
            session.add(row)
        return row.id

    def teardown(self) -> None:
        self.loop.run(self._remove())

    async def _remove(self) -> None:
        async with self.database.write() as session:
            await session.execute(
                delete(ExecutionModel).where(ExecutionModel.id == self.execution_id)
            )
            await session.execute(
                delete(CampaignModel).where(CampaignModel.id == self.campaign_id)
            )

    # Expectations.

    def refusal(self, worker: int, *, running: bool) -> type[AppError] | None:
        """The error a fenced write by `worker` must raise, if any."""
        token = self.tokens[worker]
        if token is None or token != self.holder:
            return LeaseLostError
        if running and self.status != ExecutionStatus.RUNNING:
            return ExecutionStoppedError
        return None

    def attempt(
        self, coroutine: Coroutine[object, object, T], expected: type[AppError] | None
    ) -> T | None:
        """Run a storage call: its answer, or None once it raised `expected`."""
        if expected is None:
            return self.loop.run(coroutine)
        with pytest.raises(expected) as raised:
            self.loop.run(coroutine)
        assert type(raised.value) is expected
        return None

    def due(self) -> bool:
        if self.status == ExecutionStatus.PENDING:
            return True
        expired = self.lease_until is not None and self.lease_until < self.now
        return self.status == ExecutionStatus.RUNNING and expired

    # Rules.

    # When due; when no worker holds anything; and after the run ended, when
    # a claim must find nothing however long ago the last lease ran out.
    @precondition(
        lambda self: (
            None in self.tokens
            and (self.due() or self.final is not None or not any(self.tokens))
        )
    )
    @rule(data=st.data())
    def claim(self, data: st.DataObject) -> None:
        self._claim(data.draw(st.sampled_from(self._idle())))

    @rule(seconds=st.integers(min_value=1, max_value=40))
    def wait(self, seconds: int) -> None:
        """Time passes; a lease not renewed runs out after LEASE."""
        self.now += timedelta(seconds=seconds)

    def _claim(self, worker: int) -> None:
        token = uuid.uuid4()
        claimed = self.loop.run(self._claim_as(token))
        if not self.due():
            assert claimed is None
            return
        assert claimed == self.execution_id
        self.status = ExecutionStatus.RUNNING
        self.holder, self.lease_until = token, self.now + LEASE
        self.tokens[worker], self.tickets[worker] = token, {}
        if self.step_id is not None:
            # A rescuer resumes from the ledger: the whole audience again.
            self._record(worker, self.recipients)

    async def _claim_as(self, token: uuid.UUID) -> uuid.UUID | None:
        async with self.database.write() as session:
            row = await claim_due_execution(
                session, token=token, now=self.now, lease=LEASE
            )
        return None if row is None else row.id

    @precondition(lambda self: any(self.tokens))
    @rule(
        data=st.data(),
        picks=st.lists(st.integers(0, RECIPIENTS - 1), min_size=1, max_size=8),
    )
    def record(self, data: st.DataObject, picks: list[int]) -> None:
        """A worker starts the step (once per claim), records a batch, and may
        send it at once, as the worker loop does."""
        worker = data.draw(st.sampled_from(self._busy()))
        self._record(worker, [self.recipients[pick] for pick in picks])
        send_now: bool = data.draw(st.booleans())
        if send_now and self.tickets[worker]:
            self._send(data, worker)

    def _record(self, worker: int, batch: list[tuple[uuid.UUID, str]]) -> None:
        expected = self.refusal(worker, running=True)
        if self.tokens[worker] not in self.started and not self._start(worker):
            return
        tickets = self.attempt(self._record_as(worker, batch), expected)
        if tickets is None:
            return
        assert [(t.recipient_id, t.attempts) for t in tickets] == self._hand_out(batch)
        for ticket in tickets:
            known = self.dispatch_ids.setdefault(
                ticket.recipient_id, ticket.dispatch_id
            )
            assert known == ticket.dispatch_id
            self.tickets[worker][ticket.dispatch_id] = ticket.recipient_id

    def _start(self, worker: int) -> bool:
        """Start (or, after a rescue, find) step 1; whether that was allowed."""
        expected = self.refusal(worker, running=True)
        step_id = self.attempt(self._start_as(worker), expected)
        if step_id is None:
            return False
        assert self.step_id in (None, step_id)
        self.step_id = step_id
        self.started.add(self.tokens[worker])
        return True

    def _hand_out(
        self, batch: Sequence[tuple[uuid.UUID, str]]
    ) -> list[tuple[uuid.UUID, int]]:
        """The tickets a record of `batch` must return, updating the model."""
        handed: list[tuple[uuid.UUID, int]] = []
        for recipient_id in dict.fromkeys(rid for rid, _ in batch):
            if self.outcomes.setdefault(recipient_id, PENDING) != PENDING:
                continue
            self.attempts[recipient_id] = self.attempts.get(recipient_id, 0) + 1
            handed.append((recipient_id, self.attempts[recipient_id]))
        return handed

    async def _start_as(self, worker: int) -> uuid.UUID:
        token = self.tokens[worker]
        assert token is not None
        async with self.database.write() as session:
            step = await start_step(
                session,
                execution_id=self.execution_id,
                token=token,
                step_number=1,
                channel=Channel.PUSH,
                now=self.now,
            )
        return step.id

    async def _record_as(self, worker: int, batch: Sequence[tuple[uuid.UUID, str]]):
        token, step_id = self.tokens[worker], self.step_id
        assert token is not None
        assert step_id is not None
        async with self.database.write() as session:
            return await record_dispatches(
                session,
                execution_id=self.execution_id,
                token=token,
                step_execution_id=step_id,
                recipients=batch,
                now=self.now,
            )

    @precondition(lambda self: any(self.tickets))
    @rule(data=st.data())
    def resolve(self, data: st.DataObject) -> None:
        """Results come back, late or not, for some of a worker's tickets."""
        worker = data.draw(
            st.sampled_from([w for w, t in enumerate(self.tickets) if t])
        )
        self._send(data, worker)

    def _send(self, data: st.DataObject, worker: int) -> None:
        ids = data.draw(
            st.lists(st.sampled_from(sorted(self.tickets[worker])), min_size=1)
        )
        results = [DispatchResult(i, data.draw(st.booleans()), "e") for i in ids]
        self._resolve(worker, results)

    @precondition(lambda self: bool(self.delivered) and any(self.tokens))
    @rule(data=st.data())
    def duplicate_result(self, data: st.DataObject) -> None:
        worker = data.draw(st.sampled_from(self._busy()))
        self._resolve(
            worker, data.draw(st.lists(st.sampled_from(self.delivered), min_size=1))
        )

    def _resolve(self, worker: int, results: list[DispatchResult]) -> None:
        expected = self.refusal(worker, running=False)
        assert self.step_id is not None
        count = self.attempt(self._resolve_as(worker, results), expected)
        self.delivered += results
        if count is None:
            return
        settled = 0
        by_id = {dispatch_id: rid for rid, dispatch_id in self.dispatch_ids.items()}
        for result in {r.dispatch_id: r for r in reversed(results)}.values():
            recipient_id = by_id[result.dispatch_id]
            if self.outcomes[recipient_id] == PENDING:
                self.outcomes[recipient_id] = (
                    "succeeded" if result.succeeded else "failed"
                )
                settled += 1
        assert count == settled

    async def _resolve_as(self, worker: int, results: list[DispatchResult]) -> int:
        token, step_id = self.tokens[worker], self.step_id
        assert token is not None
        assert step_id is not None
        async with self.database.write() as session:
            return await resolve_dispatches(
                session,
                execution_id=self.execution_id,
                token=token,
                step_execution_id=step_id,
                results=results,
                now=self.now,
            )

    @precondition(lambda self: any(self.tokens))
    @rule(data=st.data())
    def crash(self, data: st.DataObject) -> None:
        """A worker dies: it forgets its claim and tickets; its lease runs out."""
        worker = data.draw(st.sampled_from(self._busy()))
        self.tokens[worker], self.tickets[worker] = None, {}
        if self.lease_until is not None:
            self.now = max(self.now, self.lease_until + timedelta(seconds=1))

    @precondition(
        lambda self: None in self.tokens and self.status == ExecutionStatus.RUNNING
    )
    @rule(data=st.data())
    def rescue(self, data: st.DataObject) -> None:
        """An idle worker tries to take the run over; it can once the lease ran out."""
        worker = data.draw(st.sampled_from(self._idle()))
        self._claim(worker)
        assert self.lease_until is not None
        self.now = max(self.now, self.lease_until + timedelta(seconds=1))
        if self.tokens[worker] is None:
            self._claim(worker)
        assert self.tokens[worker] == self.holder

    # Only once something was recorded, so that most runs get far enough to
    # have dispatches in flight when the cancel comes; and once cancelled,
    # cancelling again is the REST tests' business.
    @precondition(
        lambda self: (
            self.step_id is not None and self.status != ExecutionStatus.CANCELLED
        )
    )
    @rule()
    def cancel(self) -> None:
        expected = None
        if self.status not in (
            ExecutionStatus.PENDING,
            ExecutionStatus.RUNNING,
            ExecutionStatus.CANCELLED,
        ):
            expected = ConflictError
        cancelling = self._in_write(
            lambda session: cancel_execution(
                session, execution_id=self.execution_id, now=self.now
            )
        )
        if self.attempt(cancelling, expected) is None:
            return
        self.status = self.final = ExecutionStatus.CANCELLED
        # Once the cancel has answered, no worker may start a new dispatch,
        # and no worker may end the run otherwise.
        for worker in self._busy():
            self._record(worker, self.recipients[:2])
            self._finish(worker, ExecutionStatus.SUCCEEDED)

    @precondition(lambda self: any(self.tokens) and bool(self.delivered))
    @rule(data=st.data(), status=st.sampled_from(WORKER_ENDS))
    def finish(self, data: st.DataObject, status: ExecutionStatus) -> None:
        self._finish(data.draw(st.sampled_from(self._busy())), status)

    def _finish(self, worker: int, status: ExecutionStatus) -> None:
        token = self.tokens[worker]
        assert token is not None
        finishing = self._in_write(
            lambda session: finish_execution(
                session,
                execution_id=self.execution_id,
                token=token,
                status=status,
                now=self.now,
            )
        )
        if self.attempt(finishing, self.refusal(worker, running=True)) is not None:
            self.status, self.final = status, status
            self.holder, self.lease_until = None, None

    def _busy(self) -> list[int]:
        return [worker for worker, token in enumerate(self.tokens) if token]

    def _idle(self) -> list[int]:
        return [worker for worker, token in enumerate(self.tokens) if not token]

    async def _in_write(self, call) -> bool:
        async with self.database.write() as session:
            await call(session)
        return True

    # Invariants.

    @invariant()
    def totals_equal_the_ledger(self) -> None:
        stored, steps, ledger = self.loop.run(self._totals())
        expected = (
            len(self.outcomes),
            sum(o == "succeeded" for o in self.outcomes.values()),
            sum(o == "failed" for o in self.outcomes.values()),
        )
        assert stored == steps == ledger == expected

    async def _totals(self) -> tuple[tuple[int, ...], ...]:
        step_sums = select(
            func.coalesce(func.sum(StepExecutionModel.total_dispatched), 0),
            func.coalesce(func.sum(StepExecutionModel.total_succeeded), 0),
            func.coalesce(func.sum(StepExecutionModel.total_failed), 0),
        ).where(StepExecutionModel.execution_id == self.execution_id)
        async with self.database.read() as session:
            row = await session.get(ExecutionModel, self.execution_id)
            steps = tuple((await session.execute(step_sums)).one())
            ledger = await ledger_totals(session, execution_id=self.execution_id)
        assert row is not None
        stored = (row.total_dispatched, row.total_succeeded, row.total_failed)
        return stored, steps, ledger

    @invariant()
    def at_most_one_live_token(self) -> None:
        stored = self.loop.run(self._stored())
        assert (stored.worker_token, stored.lease_expires_at) == (
            self.holder,
            self.lease_until,
        )
        believers = {token for token in self.tokens if token is not None}
        live = [token for token in believers if self.loop.run(self._accepts(token))]
        assert live == ([self.holder] if self.holder in believers else [])

    async def _stored(self) -> ExecutionModel:
        async with self.database.read() as session:
            row = await session.get(ExecutionModel, self.execution_id)
        assert row is not None
        return row

    async def _accepts(self, token: uuid.UUID) -> bool:
        """Whether a fenced write with `token` goes through; rolled back either way."""
        try:
            async with self.database.write() as session:
                await hold_execution(
                    session,
                    execution_id=self.execution_id,
                    token=token,
                    now=self.now,
                    running=False,
                )
                raise _ProbeRollbackError
        except _ProbeRollbackError:
            return True
        except LeaseLostError:
            return False

    @invariant()
    def final_status_never_changes(self) -> None:
        stored = self.loop.run(self._stored())
        assert stored.status == self.status
        if self.final is not None:
            assert stored.status == self.final


async def _open(database_url: str) -> Database:
    return Database.from_url(database_url)


def test_ledger_state_machine_keeps_its_invariants(
    database: Database, database_url: str
):
    """`database` migrates the schema; the machine uses its own engine and loop."""
    loop = LoopThread()
    try:
        machine_database = loop.run(_open(database_url))
        try:

            class BoundLedgerMachine(LedgerMachine):
                def __init__(self) -> None:
                    super().__init__(loop, machine_database)

            run_state_machine_as_test(BoundLedgerMachine, settings=MACHINE_SETTINGS)
        finally:
            loop.run(machine_database.dispose())
    finally:
        loop.close()
