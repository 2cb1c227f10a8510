"""How a worker learns that executions it holds were cancelled.

Polling works on every backend; PostgreSQL also announces each cancel with
NOTIFY, so a listening worker hears of it at once.
"""

import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_executions.domain import ExecutionStatus

from .engine import Database
from .models import ExecutionModel

logger = logging.getLogger(__name__)

CANCEL_CHANNEL = "campaign_execution_cancelled"


async def find_stopped(
    session: AsyncSession, *, execution_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these executions are no longer Running."""
    if not execution_ids:
        return set()
    query = select(ExecutionModel.id).where(
        ExecutionModel.id.in_(list(execution_ids)),
        ExecutionModel.status != ExecutionStatus.RUNNING,
    )
    return set(await session.scalars(query))


@asynccontextmanager
async def listen_for_cancels(
    database: Database, on_cancel: Callable[[uuid.UUID], None]
) -> AsyncIterator[bool]:
    """Call `on_cancel` for each cancel announced while the block runs.

    Yields whether listening is possible: False on SQLite, where callers rely
    on polling alone.
    """
    if database.dialect != "postgresql":
        yield False
        return

    def deliver(_connection: Any, _pid: int, _channel: str, payload: str) -> None:  # noqa: ANN401
        try:
            on_cancel(uuid.UUID(payload))
        except ValueError:
            logger.warning("cancel_payload_ignored", extra={"payload": payload[:64]})

    async with database.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        if driver is None:
            raise RuntimeError("the PostgreSQL connection has no asyncpg driver")
        await driver.add_listener(CANCEL_CHANNEL, deliver)
        try:
            yield True
        finally:
            await driver.remove_listener(CANCEL_CHANNEL, deliver)
