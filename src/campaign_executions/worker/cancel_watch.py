"""Tell the worker about cancels: polling everywhere, LISTEN on PostgreSQL."""

import asyncio
import logging

from campaign_executions.storage.engine import Database
from campaign_executions.storage.watch import find_stopped, listen_for_cancels

from .runner import Worker

logger = logging.getLogger(__name__)


async def watch_cancels(
    worker: Worker, database: Database, stop: asyncio.Event, *, poll_seconds: float
) -> None:
    """Until `stop` is set, stop the worker's runs whose execution was cancelled."""
    async with listen_for_cancels(database, worker.notice_stop) as listening:
        logger.info("cancel_watch_started", extra={"listening": listening})
        while not stop.is_set():
            await _poll_once(worker, database)
            try:
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
            except TimeoutError:
                continue


async def _poll_once(worker: Worker, database: Database) -> None:
    active = list(worker.active)
    if not active:
        return
    async with database.read() as session:
        stopped = await find_stopped(session, execution_ids=active)
    for execution_id in stopped:
        worker.notice_stop(execution_id)
