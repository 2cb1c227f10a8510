import asyncio
import collections
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from campaign_executions.domain import Channel, ExecutionStatus
from campaign_executions.errors import (
    ExecutionStoppedError,
    LeaseLostError,
    NotFoundError,
)
from campaign_executions.storage.claim import (
    claim_due_execution,
    count_recipients,
    finish_execution,
    load_campaign,
    renew_lease,
    schedule_execution,
    set_total_recipients,
)
from campaign_executions.storage.engine import Database
from campaign_executions.storage.execution import cancel_execution, get_execution
from campaign_executions.storage.models import (
    CampaignModel,
    CampaignStepModel,
    ExecutionModel,
    RecipientModel,
)
from tests.factories import BASE_TIME, execution, store

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LEASE = timedelta(seconds=30)
NOW = BASE_TIME + timedelta(hours=1)
PENDING = ExecutionStatus.PENDING
RUNNING = ExecutionStatus.RUNNING


def pending(**fields: Any) -> ExecutionModel:
    return execution(campaign_id=uuid.uuid4(), status=PENDING, **fields)


async def claim(database: Database, *, token=None, now=NOW, lease=LEASE):
    async with database.write() as session:
        return await claim_due_execution(
            session, token=token or uuid.uuid4(), now=now, lease=lease
        )


async def load(database: Database, execution_id: uuid.UUID) -> ExecutionModel:
    async with database.read() as session:
        row = await get_execution(session, execution_id=execution_id)
    assert row is not None
    return row


async def test_claim_takes_the_earliest_due_execution_and_sets_the_lease(
    database: Database,
):
    later = pending(scheduled_for=NOW - timedelta(minutes=1))
    earliest = pending(scheduled_for=NOW - timedelta(minutes=5))
    await store(database, later, earliest)
    token = uuid.uuid4()

    claimed = await claim(database, token=token)

    assert claimed is not None
    assert claimed.id == earliest.id
    stored = await load(database, earliest.id)
    assert stored.status == RUNNING
    assert stored.worker_token == token
    assert stored.lease_expires_at == NOW + LEASE
    assert stored.started_at == NOW
    assert (await load(database, later.id)).status == PENDING


async def test_claim_takes_an_expired_lease_and_keeps_the_first_start(
    database: Database,
):
    started = NOW - timedelta(minutes=20)
    abandoned = execution(
        campaign_id=uuid.uuid4(),
        status=RUNNING,
        started_at=started,
        worker_token=uuid.uuid4(),
        lease_expires_at=NOW - timedelta(seconds=1),
    )
    await store(database, abandoned)
    token = uuid.uuid4()

    claimed = await claim(database, token=token)

    assert claimed is not None
    assert claimed.id == abandoned.id
    assert claimed.worker_token == token
    assert claimed.started_at == started
    assert claimed.lease_expires_at == NOW + LEASE


async def test_claim_leaves_executions_that_are_not_due(database: Database):
    await store(
        database,
        pending(scheduled_for=NOW + timedelta(seconds=1)),
        # A live lease, and a Running row without any lease (imported history).
        execution(
            campaign_id=uuid.uuid4(),
            status=RUNNING,
            worker_token=uuid.uuid4(),
            lease_expires_at=NOW + timedelta(seconds=1),
        ),
        execution(campaign_id=uuid.uuid4(), status=RUNNING),
        execution(campaign_id=uuid.uuid4(), status=ExecutionStatus.CANCELLED),
        execution(campaign_id=uuid.uuid4(), status=ExecutionStatus.SUCCEEDED),
    )

    assert await claim(database) is None


async def test_claim_scheduled_exactly_now_is_due(database: Database):
    due = pending(scheduled_for=NOW)
    await store(database, due)

    claimed = await claim(database)

    assert claimed is not None
    assert claimed.id == due.id


async def test_claim_with_a_live_lease_is_not_taken_twice(database: Database):
    await store(database, pending(scheduled_for=NOW - timedelta(minutes=1)))

    first = await claim(database)
    second = await claim(database, now=NOW + LEASE - timedelta(seconds=1))

    assert first is not None
    assert second is None


@contextmanager
def captured_updates(database: Database) -> Iterator[list[tuple[str, Any]]]:
    """The UPDATE statements the engine sends while the block runs."""
    seen: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("UPDATE"):
            seen.append((statement, parameters))

    event.listen(database.engine.sync_engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", capture)


async def test_claim_search_uses_the_status_schedule_index(database: Database):
    await store(database, *(pending() for _ in range(20)))
    with captured_updates(database) as updates:
        await claim(database)
    [(statement, parameters)] = updates

    async with database.engine.connect() as connection:
        if database.dialect == "postgresql":
            # Tiny tables make a sequential scan cheapest; ask whether the
            # index can serve the search at all.
            await connection.exec_driver_sql("SET enable_seqscan = off")
            explain = "EXPLAIN "
        else:
            explain = "EXPLAIN QUERY PLAN "
        plan = await connection.exec_driver_sql(explain + statement, parameters)
        text = " ".join(str(part) for row in plan for part in row)

    assert "ix_executions_status_scheduled" in text


async def test_claim_on_postgres_locks_with_skip_locked(database: Database):
    if database.dialect != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers")
    await store(database, pending(scheduled_for=NOW - timedelta(minutes=2)))
    with captured_updates(database) as updates:
        await claim(database)

    [(statement, _parameters)] = updates
    assert "FOR UPDATE SKIP LOCKED" in statement


async def test_claim_on_postgres_passes_over_a_row_another_claim_holds(
    database: Database,
):
    if database.dialect != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers")
    first = pending(scheduled_for=NOW - timedelta(minutes=2))
    second = pending(scheduled_for=NOW - timedelta(minutes=1))
    await store(database, first, second)

    async with database.write() as holding:
        held = await claim_due_execution(
            holding, token=uuid.uuid4(), now=NOW, lease=LEASE
        )
        # The first claim's transaction is still open: its row stays locked.
        other = await asyncio.wait_for(claim(database), timeout=5)

    assert held is not None
    assert held.id == first.id
    assert other is not None
    assert other.id == second.id


def _worker_command(database_url: str, claim_log: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tests.storage.claim_worker",
        database_url,
        NOW.isoformat(),
        str(claim_log),
    ]


async def _run_claim_processes(
    database_url: str, claim_log: Path, count: int
) -> list[tuple[str, str]]:
    """Start `count` claiming processes together; the (execution, token) they log."""
    processes = [
        await asyncio.create_subprocess_exec(
            *_worker_command(database_url, claim_log),
            cwd=PROJECT_ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(count)
    ]
    for process in processes:
        assert process.stdout is not None
        assert await asyncio.wait_for(process.stdout.readline(), 60) == b"ready\n"
    outputs = await asyncio.wait_for(
        asyncio.gather(*(p.communicate(b"go\n") for p in processes)), 120
    )
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr.decode()
        assert stdout == b"done\n", stderr.decode()
    text = await asyncio.to_thread(claim_log.read_text, encoding="utf-8")
    lines = text.splitlines()
    return [(line.split()[0], line.split()[1]) for line in lines]


async def test_four_processes_claim_every_due_execution_exactly_once(
    database: Database, database_url: str, tmp_path: Path
):
    due = [pending(scheduled_for=NOW - timedelta(seconds=i % 50)) for i in range(500)]
    due += [
        execution(
            campaign_id=uuid.uuid4(),
            status=RUNNING,
            worker_token=uuid.uuid4(),
            lease_expires_at=NOW - timedelta(seconds=5),
        )
        for _ in range(20)
    ]
    not_due = [pending(scheduled_for=NOW + timedelta(minutes=1)) for _ in range(10)]
    not_due.append(execution(campaign_id=uuid.uuid4(), status=RUNNING))
    await store(database, *due, *not_due)

    claims = await _run_claim_processes(database_url, tmp_path / "claims.log", 4)

    times_claimed = collections.Counter(execution_id for execution_id, _ in claims)
    assert {str(row.id) for row in due} == set(times_claimed)
    claimed_more_than_once = sorted(n for n in times_claimed.values() if n > 1)
    assert claimed_more_than_once == []
    async with database.read() as session:
        rows = await session.execute(
            select(ExecutionModel.id, ExecutionModel.worker_token).where(
                ExecutionModel.id.in_([row.id for row in due])
            )
        )
        tokens = {str(row.id): str(row.worker_token) for row in rows}
    assert tokens == dict(claims)
    assert await claim(database) is None


async def test_renew_lease_extends_the_holders_lease(database: Database):
    await store(database, pending())
    token = uuid.uuid4()
    claimed = await claim(database, token=token)
    assert claimed is not None
    later = NOW + timedelta(seconds=20)

    async with database.write() as session:
        await renew_lease(
            session, execution_id=claimed.id, token=token, now=later, lease=LEASE
        )

    assert (await load(database, claimed.id)).lease_expires_at == later + LEASE
    assert await claim(database, now=NOW + LEASE + timedelta(seconds=1)) is None


async def test_renew_lease_of_a_cancelled_execution_is_stopped(database: Database):
    await store(database, pending())
    token = uuid.uuid4()
    claimed = await claim(database, token=token)
    assert claimed is not None
    async with database.write() as session:
        await cancel_execution(session, execution_id=claimed.id, now=NOW)

    with pytest.raises(ExecutionStoppedError, match="cancelled or ended"):
        async with database.write() as session:
            await renew_lease(
                session, execution_id=claimed.id, token=token, now=NOW, lease=LEASE
            )

    stored = await load(database, claimed.id)
    assert stored.status == ExecutionStatus.CANCELLED
    assert stored.lease_expires_at == NOW + LEASE


async def test_renew_lease_with_a_foreign_token_is_lost(database: Database):
    await store(database, pending())
    claimed = await claim(database)
    assert claimed is not None

    with pytest.raises(LeaseLostError, match="no longer holds the execution"):
        async with database.write() as session:
            await renew_lease(
                session,
                execution_id=claimed.id,
                token=uuid.uuid4(),
                now=NOW,
                lease=timedelta(hours=1),
            )

    assert (await load(database, claimed.id)).lease_expires_at == NOW + LEASE


async def test_renew_lease_of_an_unknown_execution_is_not_found(database: Database):
    with pytest.raises(NotFoundError):
        async with database.write() as session:
            await renew_lease(
                session,
                execution_id=uuid.uuid4(),
                token=uuid.uuid4(),
                now=NOW,
                lease=LEASE,
            )


async def test_finish_execution_ends_the_run_and_releases_the_claim(
    database: Database,
):
    await store(database, pending())
    token = uuid.uuid4()
    claimed = await claim(database, token=token)
    assert claimed is not None
    done = NOW + timedelta(minutes=3)

    async with database.write() as session:
        await finish_execution(
            session,
            execution_id=claimed.id,
            token=token,
            status=ExecutionStatus.FAILED,
            now=done,
            error_message="The channel refused every message.",
        )

    stored = await load(database, claimed.id)
    assert stored.status == ExecutionStatus.FAILED
    assert stored.completed_at == done
    assert stored.error_message == "The channel refused every message."
    assert stored.worker_token is None
    assert stored.lease_expires_at is None
    assert await claim(database, now=done + timedelta(days=1)) is None


async def test_finish_execution_never_overwrites_cancelled(database: Database):
    await store(database, pending())
    token = uuid.uuid4()
    claimed = await claim(database, token=token)
    assert claimed is not None
    async with database.write() as session:
        await cancel_execution(session, execution_id=claimed.id, now=NOW)

    with pytest.raises(ExecutionStoppedError):
        async with database.write() as session:
            await finish_execution(
                session,
                execution_id=claimed.id,
                token=token,
                status=ExecutionStatus.SUCCEEDED,
                now=NOW + timedelta(minutes=1),
            )

    stored = await load(database, claimed.id)
    assert stored.status == ExecutionStatus.CANCELLED
    assert stored.completed_at == NOW


async def test_finish_execution_twice_is_refused(database: Database):
    await store(database, pending())
    token = uuid.uuid4()
    claimed = await claim(database, token=token)
    assert claimed is not None
    ends = [ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED]
    async with database.write() as session:
        await finish_execution(
            session, execution_id=claimed.id, token=token, status=ends[0], now=NOW
        )

    with pytest.raises(LeaseLostError):
        async with database.write() as session:
            await finish_execution(
                session, execution_id=claimed.id, token=token, status=ends[1], now=NOW
            )

    assert (await load(database, claimed.id)).status == ends[0]


@pytest.mark.parametrize(
    "status",
    [ExecutionStatus.PENDING, ExecutionStatus.RUNNING, ExecutionStatus.CANCELLED],
)
async def test_finish_execution_refuses_a_status_a_worker_cannot_end_with(
    database: Database, status: ExecutionStatus
):
    with pytest.raises(ValueError, match=status.name):
        async with database.write() as session:
            await finish_execution(
                session,
                execution_id=uuid.uuid4(),
                token=uuid.uuid4(),
                status=status,
                now=NOW,
            )


async def test_set_total_recipients_is_fenced_on_the_token(database: Database):
    await store(database, pending())
    token = uuid.uuid4()
    claimed = await claim(database, token=token)
    assert claimed is not None

    async with database.write() as session:
        await set_total_recipients(
            session, execution_id=claimed.id, token=token, total=42
        )
    with pytest.raises(LeaseLostError):
        async with database.write() as session:
            await set_total_recipients(
                session, execution_id=claimed.id, token=uuid.uuid4(), total=7
            )

    assert (await load(database, claimed.id)).total_recipients == 42


async def test_schedule_execution_adds_a_pending_run_that_claims_find(
    database: Database,
):
    campaign_id = uuid.uuid4()
    async with database.write() as session:
        scheduled = await schedule_execution(
            session,
            campaign_id=campaign_id,
            scheduled_for=NOW,
            correlation_id="demo-42",
        )

    stored = await load(database, scheduled.id)
    assert stored.status == PENDING
    assert stored.campaign_id == campaign_id
    assert stored.correlation_id == "demo-42"
    assert stored.total_dispatched == 0
    claimed = await claim(database)
    assert claimed is not None
    assert claimed.id == scheduled.id


async def test_load_campaign_brings_its_steps_in_order(database: Database):
    campaign = CampaignModel(name="Welcome", is_active=True)
    campaign_id = campaign.id = uuid.uuid4()
    async with database.write() as session:
        session.add(campaign)
        await session.flush()
        session.add_all(
            [
                CampaignStepModel(
                    campaign_id=campaign_id, step_number=2, channel=Channel.SMS
                ),
                CampaignStepModel(
                    campaign_id=campaign_id, step_number=1, channel=Channel.EMAIL
                ),
                *(
                    RecipientModel(campaign_id=campaign_id, address=f"r{n}@x.test")
                    for n in range(3)
                ),
            ]
        )

    async with database.read() as session:
        loaded = await load_campaign(session, campaign_id=campaign_id)
        recipients = await count_recipients(session, campaign_id=campaign_id)
        unknown = await load_campaign(session, campaign_id=uuid.uuid4())

    assert loaded is not None
    assert [(s.step_number, s.channel) for s in loaded.steps] == [
        (1, Channel.EMAIL),
        (2, Channel.SMS),
    ]
    assert recipients == 3
    assert unknown is None


async def test_count_recipients_counts_only_the_campaigns_own(database: Database):
    ids = [uuid.uuid4(), uuid.uuid4()]
    async with database.write() as session:
        session.add_all(CampaignModel(id=i, name="c", is_active=True) for i in ids)
        await session.flush()
        session.add_all(
            RecipientModel(campaign_id=ids[n % 2], address="a@x.test") for n in range(5)
        )

    async with database.read() as session:
        counts = [await count_recipients(session, campaign_id=i) for i in ids]
        total = await session.scalar(select(func.count(RecipientModel.id)))

    assert counts == [3, 2]
    assert total == 5
