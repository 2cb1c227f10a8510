"""A running worker: senders, the claim loop and the cancel watch, wired together."""

import asyncio
import logging
from datetime import timedelta

from campaign_executions.config import Settings
from campaign_executions.storage.engine import Database

from .cancel_watch import watch_cancels
from .runner import Worker, WorkerOptions
from .senders import build_senders, close_senders

logger = logging.getLogger(__name__)


def options_from(settings: Settings) -> WorkerOptions:
    """The worker's pacing as the settings give it."""
    return WorkerOptions(
        lease=timedelta(seconds=settings.worker_lease_seconds),
        heartbeat=timedelta(seconds=settings.worker_heartbeat_seconds),
        idle_poll=settings.worker_idle_poll_seconds,
        batch_size=settings.worker_batch_size,
    )


async def run_worker(
    settings: Settings, database: Database, stop: asyncio.Event, *, concurrency: int
) -> None:
    """Run a worker until `stop` is set; in-flight batches finish first."""
    senders = build_senders(settings)
    worker = Worker(database, senders, options_from(settings))
    logger.info("worker_started", extra={"concurrency": concurrency})
    try:
        await asyncio.gather(
            worker.run(stop, concurrency=concurrency),
            watch_cancels(
                worker, database, stop, poll_seconds=settings.cancel_poll_seconds
            ),
        )
    finally:
        await close_senders(senders)
        logger.info("worker_stopped")
