import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_executions.domain import Audience, Channel, ExecutionStatus
from campaign_executions.errors import (
    ExecutionStoppedError,
    LeaseLostError,
    NotFoundError,
)
from campaign_executions.storage.claim import (
    claim_due_execution,
    finish_execution,
    renew_lease,
    set_total_recipients,
)
from campaign_executions.storage.engine import Database
from campaign_executions.storage.execution import cancel_execution
from campaign_executions.storage.ledger import (
    DispatchResult,
    DispatchTicket,
    ledger_totals,
    record_dispatches,
    resolve_dispatches,
)
from campaign_executions.storage.models import (
    Base,
    CampaignModel,
    DispatchModel,
    ExecutionModel,
    RecipientModel,
    StepExecutionModel,
)
from campaign_executions.storage.step import audience, finish_step, start_step
from campaign_executions.storage.watch import CANCEL_CHANNEL
from tests.factories import BASE_TIME, execution

LEASE = timedelta(seconds=30)
NOW = BASE_TIME + timedelta(hours=1)
AFTER_LEASE = NOW + LEASE + timedelta(seconds=1)

Call = Callable[[AsyncSession], Awaitable[object]]


@dataclass
class Run:
    """A claimed execution of a campaign, and its recipients in id order."""

    campaign_id: uuid.UUID
    execution_id: uuid.UUID
    token: uuid.UUID
    recipients: list[tuple[uuid.UUID, str]]


async def claimed_run(database: Database, *, recipients: int = 10) -> Run:
    campaign = CampaignModel(id=uuid.uuid4(), name="Spring sale", is_active=True)
    people = [
        RecipientModel(id=uuid.uuid4(), campaign_id=campaign.id, address=f"{n}@x.test")
        for n in range(recipients)
    ]
    row = execution(campaign_id=campaign.id, status=ExecutionStatus.PENDING)
    async with database.write() as session:
        session.add(campaign)
        await session.flush()
        session.add_all([*people, row])
    token = uuid.uuid4()
    async with database.write() as session:
        claimed = await claim_due_execution(session, token=token, now=NOW, lease=LEASE)
    assert claimed is not None
    assert claimed.id == row.id
    ordered = sorted((person.id, person.address) for person in people)
    return Run(campaign.id, row.id, token, ordered)


async def start(database: Database, run: Run, step_number: int = 1) -> uuid.UUID:
    async with database.write() as session:
        step = await start_step(
            session,
            execution_id=run.execution_id,
            token=run.token,
            step_number=step_number,
            channel=Channel.EMAIL,
            now=NOW,
        )
    return step.id


async def record(
    database: Database,
    run: Run,
    step_id: uuid.UUID,
    recipients: Sequence[tuple[uuid.UUID, str]],
) -> list[DispatchTicket]:
    async with database.write() as session:
        return await record_dispatches(
            session,
            execution_id=run.execution_id,
            token=run.token,
            step_execution_id=step_id,
            recipients=recipients,
            now=NOW,
        )


async def resolve(
    database: Database,
    run: Run,
    step_id: uuid.UUID,
    results: Sequence[DispatchResult],
) -> int:
    async with database.write() as session:
        return await resolve_dispatches(
            session,
            execution_id=run.execution_id,
            token=run.token,
            step_execution_id=step_id,
            results=results,
            now=NOW,
        )


async def cancel(database: Database, run: Run) -> None:
    async with database.write() as session:
        await cancel_execution(session, execution_id=run.execution_id, now=NOW)


Row = dict[str, object]


@dataclass(frozen=True)
class Snapshot:
    execution: Row
    steps: list[Row]
    dispatches: list[Row]


async def snapshot(database: Database, execution_id: uuid.UUID) -> Snapshot:
    """Every stored fact about the execution that a worker's write could change."""
    steps = select(StepExecutionModel).where(
        StepExecutionModel.execution_id == execution_id
    )
    dispatches = (
        select(DispatchModel)
        .join(StepExecutionModel)
        .where(StepExecutionModel.execution_id == execution_id)
        .order_by(DispatchModel.id)
    )
    async with database.read() as session:
        row = await session.get(ExecutionModel, execution_id)
        step_rows = (await session.scalars(steps.order_by("step_number"))).all()
        dispatch_rows = (await session.scalars(dispatches)).all()
    assert row is not None
    return Snapshot(
        execution=_columns(row),
        steps=[_columns(step) for step in step_rows],
        dispatches=[_columns(dispatch) for dispatch in dispatch_rows],
    )


def _columns(model: Base) -> Row:
    columns = type(model).__table__.columns
    return {column.key: getattr(model, column.key) for column in columns}


async def assert_totals_match_ledger(
    database: Database, execution_id: uuid.UUID
) -> tuple[int, int, int]:
    """Execution totals = step totals summed = the ledger; per step as well."""
    per_step = (
        select(
            StepExecutionModel.total_dispatched,
            StepExecutionModel.total_succeeded,
            StepExecutionModel.total_failed,
            func.count(DispatchModel.id),
            func.count(DispatchModel.id).filter(DispatchModel.outcome == "succeeded"),
            func.count(DispatchModel.id).filter(DispatchModel.outcome == "failed"),
        )
        .outerjoin(DispatchModel)
        .where(StepExecutionModel.execution_id == execution_id)
        .group_by(StepExecutionModel.id)
    )
    async with database.read() as session:
        row = await session.get(ExecutionModel, execution_id)
        ledger = await ledger_totals(session, execution_id=execution_id)
        steps = (await session.execute(per_step)).all()
    assert row is not None
    stored = (row.total_dispatched, row.total_succeeded, row.total_failed)
    assert stored == ledger
    for step in steps:
        assert tuple(step[:3]) == tuple(step[3:])
    assert tuple(sum(step[i] for step in steps) for i in range(3)) == ledger
    return ledger


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    """The SQL the engine sends while the block runs, one entry per execute."""
    seen: list[str] = []

    def capture(_conn, _cursor, statement, _parameters, _context, _many):
        seen.append(" ".join(statement.split()))

    event.listen(database.engine.sync_engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", capture)


async def refused(database: Database, error: type[Exception], call: Call) -> None:
    """Expect `error` from `call`, then commit whatever the call wrote anyway."""
    async with database.write() as session:
        with pytest.raises(error):
            await call(session)


async def test_record_dispatches_records_each_new_recipient_and_counts_it(
    database: Database,
):
    run = await claimed_run(database, recipients=5)
    step_id = await start(database, run)

    tickets = await record(database, run, step_id, run.recipients)

    assert [(t.recipient_id, t.address, t.attempts) for t in tickets] == [
        (recipient_id, address, 1) for recipient_id, address in run.recipients
    ]
    assert len({ticket.dispatch_id for ticket in tickets}) == 5
    assert await assert_totals_match_ledger(database, run.execution_id) == (5, 0, 0)


async def test_record_dispatches_again_hands_back_pending_tickets_only(
    database: Database,
):
    run = await claimed_run(database, recipients=4)
    step_id = await start(database, run)
    first = await record(database, run, step_id, run.recipients)
    await resolve(database, run, step_id, [DispatchResult(first[0].dispatch_id, True)])

    again = await record(database, run, step_id, [*run.recipients, run.recipients[1]])

    assert [(t.dispatch_id, t.attempts) for t in again] == [
        (ticket.dispatch_id, 2) for ticket in first[1:]
    ]
    assert await assert_totals_match_ledger(database, run.execution_id) == (4, 1, 0)


async def test_record_dispatches_writes_one_insert_per_batch(database: Database):
    run = await claimed_run(database, recipients=1_201)
    step_id = await start(database, run)

    with statements(database) as sent:
        tickets = await record(database, run, step_id, run.recipients)

    inserts = [s for s in sent if s.startswith("INSERT INTO dispatches")]
    assert len(inserts) == 3
    assert len(sent) < 12
    assert len(tickets) == 1_201
    assert await assert_totals_match_ledger(database, run.execution_id) == (1_201, 0, 0)


async def test_record_dispatches_for_another_executions_step_is_refused(
    database: Database,
):
    run = await claimed_run(database, recipients=2)
    other = await claimed_run(database, recipients=2)
    foreign_step = await start(database, other)
    before = await snapshot(database, other.execution_id)

    with pytest.raises(NotFoundError, match="has no step execution"):
        await record(database, run, foreign_step, run.recipients)

    assert await snapshot(database, other.execution_id) == before


async def test_resolve_dispatches_counts_each_dispatch_once(database: Database):
    run = await claimed_run(database, recipients=3)
    step_id = await start(database, run)
    a, b, c = await record(database, run, step_id, run.recipients)

    first = await resolve(
        database,
        run,
        step_id,
        [
            DispatchResult(a.dispatch_id, True),
            DispatchResult(b.dispatch_id, False, "mailbox full"),
            DispatchResult(a.dispatch_id, False, "late duplicate"),
        ],
    )
    second = await resolve(
        database,
        run,
        step_id,
        [DispatchResult(a.dispatch_id, False), DispatchResult(c.dispatch_id, True)],
    )

    assert (first, second) == (2, 1)
    assert await assert_totals_match_ledger(database, run.execution_id) == (3, 2, 1)
    dispatches = (await snapshot(database, run.execution_id)).dispatches
    assert [(d["outcome"], d["error"]) for d in dispatches] == [
        ("succeeded", None),
        ("failed", "mailbox full"),
        ("succeeded", None),
    ]


async def test_resolve_dispatches_ignores_ids_of_another_step(database: Database):
    run = await claimed_run(database, recipients=2)
    first_step = await start(database, run, 1)
    second_step = await start(database, run, 2)
    tickets = await record(database, run, first_step, run.recipients)

    resolved = await resolve(
        database,
        run,
        second_step,
        [DispatchResult(t.dispatch_id, True) for t in tickets],
    )

    assert resolved == 0
    assert await assert_totals_match_ledger(database, run.execution_id) == (2, 0, 0)


async def test_resolve_dispatches_keeps_every_error_with_few_statements(
    database: Database,
):
    run = await claimed_run(database, recipients=1_000)
    step_id = await start(database, run)
    tickets = await record(database, run, step_id, run.recipients)
    results = [
        DispatchResult(t.dispatch_id, n % 3 == 0, None if n % 3 == 0 else f"bounce {n}")
        for n, t in enumerate(tickets)
    ]

    with statements(database) as sent:
        resolved = await resolve(database, run, step_id, results)

    assert resolved == 1_000
    settles = [s for s in sent if s.startswith("UPDATE dispatches")]
    assert len(settles) == 4
    async with database.read() as session:
        errors = dict(
            (await session.execute(select(DispatchModel.id, DispatchModel.error))).all()
        )
    assert errors == {result.dispatch_id: result.error for result in results}
    assert await assert_totals_match_ledger(database, run.execution_id) == (
        1_000,
        334,
        666,
    )


async def test_start_step_returns_the_existing_step_after_a_crash(database: Database):
    run = await claimed_run(database)
    first = await start(database, run, 1)

    again = await start(database, run, 1)
    second = await start(database, run, 2)

    assert again == first
    assert second != first
    steps = (await snapshot(database, run.execution_id)).steps
    assert [(s["step_number"], s["status"], s["started_at"]) for s in steps] == [
        (1, ExecutionStatus.RUNNING, NOW),
        (2, ExecutionStatus.RUNNING, NOW),
    ]


async def test_start_step_after_cancel_is_stopped(database: Database):
    run = await claimed_run(database)
    await cancel(database, run)
    before = await snapshot(database, run.execution_id)

    await refused(database, ExecutionStoppedError, _start_call(run))

    assert await snapshot(database, run.execution_id) == before


async def test_finish_step_ends_a_step_once(database: Database):
    run = await claimed_run(database)
    step_id = await start(database, run)

    for status, now in [
        (ExecutionStatus.SUCCEEDED, NOW),
        (ExecutionStatus.FAILED, NOW + timedelta(minutes=1)),
    ]:
        async with database.write() as session:
            await finish_step(
                session,
                execution_id=run.execution_id,
                token=run.token,
                step_execution_id=step_id,
                status=status,
                now=now,
            )

    [step] = (await snapshot(database, run.execution_id)).steps
    assert (step["status"], step["completed_at"]) == (ExecutionStatus.SUCCEEDED, NOW)


async def test_finish_step_of_another_executions_step_is_not_found(
    database: Database,
):
    run = await claimed_run(database)
    other = await claimed_run(database)
    foreign_step = await start(database, other)

    with pytest.raises(NotFoundError):
        async with database.write() as session:
            await finish_step(
                session,
                execution_id=run.execution_id,
                token=run.token,
                step_execution_id=foreign_step,
                status=ExecutionStatus.SUCCEEDED,
                now=NOW,
            )


async def _audience(database: Database, run: Run, rule: Audience, previous, after=None):
    async with database.read() as session:
        return await audience(
            session,
            campaign_id=run.campaign_id,
            rule=rule,
            previous_step_execution_id=previous,
            after=after,
            limit=1_000,
        )


async def test_audience_pages_every_recipient_in_id_order(database: Database):
    run = await claimed_run(database, recipients=25)
    await claimed_run(database, recipients=5)

    pages: list[list[tuple[uuid.UUID, str]]] = []
    after: uuid.UUID | None = None
    while True:
        async with database.read() as session:
            page = await audience(
                session,
                campaign_id=run.campaign_id,
                rule=Audience.ALL,
                previous_step_execution_id=None,
                after=after,
                limit=10,
            )
        if not page:
            break
        pages.append(page)
        after = page[-1][0]

    assert [len(page) for page in pages] == [10, 10, 5]
    assert [row for page in pages for row in page] == run.recipients


async def test_audience_follows_the_previous_steps_outcomes(database: Database):
    run = await claimed_run(database, recipients=6)
    step_id = await start(database, run)
    tickets = await record(database, run, step_id, run.recipients[:5])
    await resolve(
        database,
        run,
        step_id,
        [DispatchResult(t.dispatch_id, n % 2 == 0) for n, t in enumerate(tickets[:4])],
    )

    succeeded = await _audience(database, run, Audience.SUCCEEDED_PREVIOUS, step_id)
    failed = await _audience(database, run, Audience.FAILED_PREVIOUS, step_id)
    after_first = await _audience(
        database, run, Audience.SUCCEEDED_PREVIOUS, step_id, run.recipients[0][0]
    )
    no_previous = await _audience(database, run, Audience.FAILED_PREVIOUS, None)

    assert succeeded == [run.recipients[0], run.recipients[2]]
    assert failed == [run.recipients[1], run.recipients[3]]
    assert after_first == [run.recipients[2]]
    assert no_previous == []


async def test_lease_taken_over_leaves_the_old_token_writing_nothing(
    database: Database,
):
    run = await claimed_run(database, recipients=6)
    step_id = await start(database, run)
    tickets = await record(database, run, step_id, run.recipients[:4])
    await resolve(
        database, run, step_id, [DispatchResult(tickets[0].dispatch_id, True)]
    )
    new_token = uuid.uuid4()
    async with database.write() as session:
        rescued = await claim_due_execution(
            session, token=new_token, now=AFTER_LEASE, lease=LEASE
        )
    assert rescued is not None
    assert rescued.id == run.execution_id
    before = await snapshot(database, run.execution_id)

    for call in _old_holders_writes(run, step_id, tickets):
        await refused(database, LeaseLostError, call)

    assert await snapshot(database, run.execution_id) == before
    assert await assert_totals_match_ledger(database, run.execution_id) == (4, 1, 0)


def _start_call(run: Run, step_number: int = 1) -> Call:
    return lambda session: start_step(
        session,
        execution_id=run.execution_id,
        token=run.token,
        step_number=step_number,
        channel=Channel.SMS,
        now=AFTER_LEASE,
    )


def _record_call(run: Run, step_id: uuid.UUID, recipients) -> Call:
    return lambda session: record_dispatches(
        session,
        execution_id=run.execution_id,
        token=run.token,
        step_execution_id=step_id,
        recipients=recipients,
        now=AFTER_LEASE,
    )


def _resolve_call(run: Run, step_id: uuid.UUID, results) -> Call:
    return lambda session: resolve_dispatches(
        session,
        execution_id=run.execution_id,
        token=run.token,
        step_execution_id=step_id,
        results=results,
        now=AFTER_LEASE,
    )


def _finish_call(run: Run) -> Call:
    return lambda session: finish_execution(
        session,
        execution_id=run.execution_id,
        token=run.token,
        status=ExecutionStatus.SUCCEEDED,
        now=AFTER_LEASE,
    )


def _old_holders_writes(
    run: Run, step_id: uuid.UUID, tickets: list[DispatchTicket]
) -> list[Call]:
    results = [DispatchResult(t.dispatch_id, False, "late") for t in tickets]
    return [
        _record_call(run, step_id, run.recipients),
        _resolve_call(run, step_id, results),
        _finish_call(run),
        _start_call(run, 2),
        lambda session: renew_lease(
            session,
            execution_id=run.execution_id,
            token=run.token,
            now=AFTER_LEASE,
            lease=LEASE,
        ),
        lambda session: set_total_recipients(
            session, execution_id=run.execution_id, token=run.token, total=99
        ),
        lambda session: finish_step(
            session,
            execution_id=run.execution_id,
            token=run.token,
            step_execution_id=step_id,
            status=ExecutionStatus.FAILED,
            now=AFTER_LEASE,
        ),
    ]


async def test_concurrent_resolutions_keep_totals_exact(database: Database):
    run = await claimed_run(database, recipients=5_000)
    steps = [await start(database, run, 1), await start(database, run, 2)]
    tickets = {
        step_id: await record(database, run, step_id, run.recipients)
        for step_id in steps
    }
    rng = random.Random(7)
    batches = [
        (step_id, [DispatchResult(t.dispatch_id, rng.random() < 0.8) for t in chunk])
        for step_id in steps
        for chunk in (tickets[step_id][i : i + 50] for i in range(0, 5_000, 50))
    ]
    assert len(batches) == 200

    resolved = await asyncio.gather(
        *(resolve(database, run, step_id, batch) for step_id, batch in batches)
    )

    assert resolved == [50] * 200
    wins = sum(r.succeeded for _, batch in batches for r in batch)
    assert await assert_totals_match_ledger(database, run.execution_id) == (
        10_000,
        wins,
        10_000 - wins,
    )


async def test_repeated_out_of_order_results_count_each_dispatch_once(
    database: Database,
):
    run = await claimed_run(database, recipients=10_000)
    step_id = await start(database, run)
    tickets = await record(database, run, step_id, run.recipients)
    rng = random.Random(11)
    results = [
        DispatchResult(t.dispatch_id, rng.random() < 0.7, "bounced")
        for t in tickets
        for _ in range(rng.randint(1, 3))
    ]
    rng.shuffle(results)
    batches = [results[i : i + 400] for i in range(0, len(results), 400)]

    resolved = await asyncio.gather(
        *(resolve(database, run, step_id, batch) for batch in batches)
    )

    assert len(results) > 15_000
    assert sum(resolved) == 10_000
    dispatched, succeeded, failed = await assert_totals_match_ledger(
        database, run.execution_id
    )
    assert dispatched == len({recipient_id for recipient_id, _ in run.recipients})
    assert succeeded + failed == sum(resolved)
    assert 0 < succeeded < 10_000


async def test_cancel_stops_new_dispatches_while_in_flight_ones_still_count(
    database: Database,
):
    run = await claimed_run(database, recipients=6)
    step_id = await start(database, run)
    in_flight = await record(database, run, step_id, run.recipients[:3])
    await cancel(database, run)
    before = await snapshot(database, run.execution_id)

    await refused(
        database, ExecutionStoppedError, _record_call(run, step_id, run.recipients)
    )
    assert await snapshot(database, run.execution_id) == before

    results = [DispatchResult(t.dispatch_id, True) for t in in_flight]
    assert await resolve(database, run, step_id, results) == 3
    await refused(database, ExecutionStoppedError, _finish_call(run))

    after = await snapshot(database, run.execution_id)
    assert after.execution["status"] == ExecutionStatus.CANCELLED
    assert await assert_totals_match_ledger(database, run.execution_id) == (3, 3, 0)


async def test_cancel_waits_for_a_batch_being_recorded(database: Database):
    run = await claimed_run(database, recipients=4)
    step_id = await start(database, run)
    await record(database, run, step_id, run.recipients[:2])

    # A resumed batch: nothing new to insert, so only the fence touches the row.
    async with database.write() as session:
        tickets = await record_dispatches(
            session,
            execution_id=run.execution_id,
            token=run.token,
            step_execution_id=step_id,
            recipients=run.recipients[:2],
            now=NOW,
        )
        cancelling = asyncio.create_task(cancel(database, run))
        await asyncio.sleep(0.3)
        # The batch holds the execution's row: the cancel cannot answer yet.
        assert not cancelling.done()
    await asyncio.wait_for(cancelling, timeout=10)
    assert [t.attempts for t in tickets] == [2, 2]

    await refused(
        database, ExecutionStoppedError, _record_call(run, step_id, run.recipients)
    )
    assert await assert_totals_match_ledger(database, run.execution_id) == (2, 0, 0)


async def test_cancel_on_postgres_notifies_listeners_when_it_commits(
    database: Database,
):
    if database.dialect != "postgresql":
        pytest.skip("NOTIFY is PostgreSQL's; SQLite workers poll")
    run = await claimed_run(database)
    heard: asyncio.Queue[str] = asyncio.Queue()

    async with database.engine.connect() as listening:
        driver = (await listening.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.add_listener(
            CANCEL_CHANNEL, lambda *args: heard.put_nowait(args[3])
        )
        async with database.write() as session:
            await cancel_execution(session, execution_id=run.execution_id, now=NOW)
            await asyncio.sleep(0.2)
            assert heard.empty()
        payload = await asyncio.wait_for(heard.get(), timeout=5)
        # Cancelling a Cancelled execution again announces nothing.
        await cancel(database, run)
        await asyncio.sleep(0.2)

    assert payload == str(run.execution_id)
    assert heard.empty()


async def test_resumed_run_gets_pending_tickets_back_without_new_rows(
    database: Database,
):
    run = await claimed_run(database, recipients=5)
    step_id = await start(database, run)
    first = await record(database, run, step_id, run.recipients)
    await resolve(
        database, run, step_id, [DispatchResult(t.dispatch_id, True) for t in first[:2]]
    )
    # The worker dies here: its last batch is recorded, never resolved.
    rescuer = Run(run.campaign_id, run.execution_id, uuid.uuid4(), run.recipients)
    async with database.write() as session:
        claimed = await claim_due_execution(
            session, token=rescuer.token, now=AFTER_LEASE, lease=LEASE
        )
    assert claimed is not None

    assert await start(database, rescuer) == step_id
    resumed = await record(database, rescuer, step_id, run.recipients)

    assert [(t.dispatch_id, t.attempts) for t in resumed] == [
        (t.dispatch_id, 2) for t in first[2:]
    ]
    assert await assert_totals_match_ledger(database, run.execution_id) == (5, 2, 0)
    results = [DispatchResult(t.dispatch_id, False, "timeout") for t in resumed]
    assert await resolve(database, rescuer, step_id, results) == 3
    assert await assert_totals_match_ledger(database, run.execution_id) == (5, 2, 3)


async def test_batch_interrupted_before_commit_records_nothing(database: Database):
    run = await claimed_run(database, recipients=3)
    step_id = await start(database, run)
    before = await snapshot(database, run.execution_id)

    async def die_mid_batch() -> None:
        async with database.write() as session:
            await _record_call(run, step_id, run.recipients)(session)
            raise RuntimeError("worker died")

    with pytest.raises(RuntimeError, match="worker died"):
        await die_mid_batch()

    assert await snapshot(database, run.execution_id) == before
    tickets = await record(database, run, step_id, run.recipients)
    assert [t.attempts for t in tickets] == [1, 1, 1]
