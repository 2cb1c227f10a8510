import asyncio
import uuid

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import InvalidRequestError

from campaign_executions.storage.engine import Database
from campaign_executions.storage.execution import get_execution
from campaign_executions.storage.models import ExecutionModel
from tests.factories import execution, step, store


async def test_ids_come_back_as_standard_uuids(database: Database):
    row = execution(campaign_id=uuid.uuid4())
    await store(database, row)

    async with database.read() as session:
        loaded = await get_execution(session, execution_id=row.id)

    assert loaded is not None
    assert type(loaded.id) is uuid.UUID
    assert type(loaded.campaign_id) is uuid.UUID


async def test_relationships_never_load_lazily(database: Database):
    row = execution(campaign_id=uuid.uuid4(), steps=[step(1)])
    await store(database, row)

    async with database.read() as session:
        loaded = await session.get(ExecutionModel, row.id, populate_existing=True)
        assert loaded is not None
        with pytest.raises(InvalidRequestError, match="lazy='raise'"):
            _ = loaded.steps


async def test_concurrent_read_then_write_transactions_all_commit(database: Database):
    """Deferred BEGIN on SQLite fails such transactions with SQLITE_BUSY at once."""
    row = execution(campaign_id=uuid.uuid4())
    await store(database, row)

    async def bump() -> None:
        async with database.write() as session:
            current = await session.scalar(
                select(ExecutionModel.total_dispatched).where(
                    ExecutionModel.id == row.id
                )
            )
            await asyncio.sleep(0.001)
            await session.execute(
                update(ExecutionModel)
                .where(ExecutionModel.id == row.id)
                .values(total_dispatched=(current or 0) + 1)
            )

    await asyncio.gather(*(bump() for _ in range(20)))

    async with database.read() as session:
        total = await session.scalar(
            select(func.max(ExecutionModel.total_dispatched)).where(
                ExecutionModel.id == row.id
            )
        )
    if database.dialect == "sqlite":
        # Writers are serialised by BEGIN IMMEDIATE: no update is lost.
        assert total == 20
    else:
        assert total is not None
        assert total >= 1


async def test_postgres_sessions_force_custom_plans(database: Database):
    if database.dialect != "postgresql":
        pytest.skip("plan_cache_mode is a PostgreSQL setting")

    async with database.read() as session:
        mode = await session.scalar(text("SHOW plan_cache_mode"))

    assert mode == "force_custom_plan"
