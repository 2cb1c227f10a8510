import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from campaign_executions.domain import ExecutionField, ExecutionStatus
from campaign_executions.errors import ConflictError, InvalidInputError, NotFoundError
from campaign_executions.storage.engine import Database
from campaign_executions.storage.execution import (
    ExecutionQuery,
    Keyset,
    OrderTerm,
    cancel_execution,
    count_executions,
    get_execution,
    keyset_of,
    list_executions,
    list_executions_after,
)
from campaign_executions.storage.filters import search_condition
from tests.factories import BASE_TIME, execution, spread, store


async def test_offset_scheduled_for_is_returned_in_utc_and_sorts_among_utc(
    database: Database,
):
    campaign_id = uuid.uuid4()
    plus_two = timezone(timedelta(hours=2))
    early = execution(
        campaign_id=campaign_id,
        scheduled_for=datetime(2026, 7, 10, 10, 0, tzinfo=plus_two),
    )
    between = execution(
        campaign_id=campaign_id, scheduled_for=datetime(2026, 7, 10, 9, 0, tzinfo=UTC)
    )
    first = execution(
        campaign_id=campaign_id, scheduled_for=datetime(2026, 7, 10, 7, 0, tzinfo=UTC)
    )
    await store(database, early, between, first)

    async with database.read() as session:
        loaded = await get_execution(session, execution_id=early.id)
        rows = await list_executions(
            session,
            query=ExecutionQuery(campaign_id),
            order=[OrderTerm(ExecutionField.SCHEDULED_FOR)],
        )

    assert loaded is not None
    assert loaded.scheduled_for == datetime(2026, 7, 10, 8, 0, tzinfo=UTC)
    assert loaded.scheduled_for.utcoffset() == timedelta(0)
    assert [row.id for row in rows] == [first.id, early.id, between.id]


async def test_naive_datetime_is_refused(database: Database):
    naive = execution(
        campaign_id=uuid.uuid4(),
        scheduled_for=datetime(2026, 7, 10, 10, 0),  # noqa: DTZ001
    )
    with pytest.raises(Exception, match="naive"):
        await store(database, naive)


async def test_keyset_walk_over_equal_times_yields_every_id_once(database: Database):
    campaign_id = uuid.uuid4()
    rows = [execution(campaign_id=campaign_id) for _ in range(250)]
    await store(database, *rows)
    order = OrderTerm(ExecutionField.SCHEDULED_FOR, descending=True)

    seen: list[uuid.UUID] = []
    after: Keyset | None = None
    async with database.read() as session:
        while True:
            page = await list_executions_after(
                session,
                query=ExecutionQuery(campaign_id),
                order=order,
                after=after,
                limit=13,
            )
            if not page:
                break
            seen += [row.id for row in page]
            after = keyset_of(page[-1], order)

    assert len(seen) == 250
    assert set(seen) == {row.id for row in rows}


async def test_search_matches_text_status_name_and_id_prefix(database: Database):
    campaign_id = uuid.uuid4()
    tagged = execution(campaign_id=campaign_id, correlation_id="Black-Friday_%x")
    failing = execution(
        campaign_id=campaign_id,
        status=ExecutionStatus.FAILED,
        error_message="SMTP relay refused",
    )
    running = execution(campaign_id=campaign_id, status=ExecutionStatus.RUNNING)
    await store(database, tagged, failing, running)

    async def ids_for(text: str) -> set[uuid.UUID]:
        query = ExecutionQuery(campaign_id, (search_condition(text),))
        async with database.read() as session:
            return {row.id for row in await list_executions(session, query=query)}

    assert await ids_for("friday_%") == {tagged.id}
    assert await ids_for("smtp") == {failing.id}
    assert await ids_for("RUNNING") == {running.id}
    assert await ids_for(str(running.id)[:8]) >= {running.id}
    assert await ids_for("_") == {tagged.id}


async def test_count_is_scoped_to_the_campaign(database: Database):
    campaign_id = uuid.uuid4()
    await store(database, *spread(3, campaign_id=campaign_id))
    await store(database, *spread(2, campaign_id=uuid.uuid4()))

    async with database.read() as session:
        count = await count_executions(session, query=ExecutionQuery(campaign_id))

    assert count == 3


@pytest.mark.parametrize("status", [ExecutionStatus.PENDING, ExecutionStatus.RUNNING])
async def test_cancel_moves_live_execution_to_cancelled(
    database: Database, status: ExecutionStatus
):
    row = execution(campaign_id=uuid.uuid4(), status=status)
    await store(database, row)
    now = BASE_TIME + timedelta(days=1)

    async with database.write() as session:
        cancelled = await cancel_execution(session, execution_id=row.id, now=now)

    assert cancelled.status == ExecutionStatus.CANCELLED
    assert cancelled.completed_at == now


async def test_cancel_twice_answers_success_and_keeps_first_completion(
    database: Database,
):
    row = execution(campaign_id=uuid.uuid4(), status=ExecutionStatus.RUNNING)
    await store(database, row)
    first = BASE_TIME + timedelta(days=1)

    async with database.write() as session:
        await cancel_execution(session, execution_id=row.id, now=first)
    async with database.write() as session:
        again = await cancel_execution(
            session, execution_id=row.id, now=first + timedelta(hours=1)
        )

    assert again.status == ExecutionStatus.CANCELLED
    assert again.completed_at == first


@pytest.mark.parametrize(
    "status",
    [ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.SKIPPED],
)
async def test_cancel_of_ended_execution_conflicts(
    database: Database, status: ExecutionStatus
):
    row = execution(campaign_id=uuid.uuid4(), status=status)
    await store(database, row)

    with pytest.raises(ConflictError, match="cannot be cancelled"):
        async with database.write() as session:
            await cancel_execution(session, execution_id=row.id, now=BASE_TIME)


async def test_cancel_of_unknown_execution_is_not_found(database: Database):
    with pytest.raises(NotFoundError):
        async with database.write() as session:
            await cancel_execution(session, execution_id=uuid.uuid4(), now=BASE_TIME)


async def test_search_folds_case_beyond_ascii(database: Database):
    campaign_id = uuid.uuid4()
    accented = execution(
        campaign_id=campaign_id,
        correlation_id="ÉCOLE-launch",
        error_message="Échec: quota dépassé",
    )
    await store(database, accented, execution(campaign_id=campaign_id))

    async with database.read() as session:
        for text in ("école", "ÉCHEC", "DÉPASSÉ"):
            query = ExecutionQuery(campaign_id, (search_condition(text),))
            rows = await list_executions(session, query=query)
            assert [row.id for row in rows] == [accented.id], text


async def test_search_text_with_nul_is_refused(database: Database):
    query = ExecutionQuery(uuid.uuid4(), (search_condition("a\x00b"),))

    with pytest.raises(InvalidInputError, match="NUL"):
        async with database.read() as session:
            await list_executions(session, query=query)
