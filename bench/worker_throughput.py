"""Dispatch outcomes recorded per second by worker processes, totals verified.

Usage (from the repository root, in the project's virtualenv):

    python bench/worker_throughput.py --backend postgresql --workers 1
    python bench/worker_throughput.py --backend sqlite --workers 2

It creates a throwaway database (a temporary SQLite file, or a PostgreSQL
database on 127.0.0.1:5432 that it drops afterwards), one campaign with
--recipients recipients and one email step, and --executions due runs of it;
starts --workers `campaign-executions worker` processes with the simulated
sender at zero latency; waits until every run has ended; and reports outcomes
per second between the first claim and the last completion, after checking
that every execution's totals equal its dispatch ledger.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import func, select

from campaign_executions.domain import Channel, ExecutionStatus
from campaign_executions.storage.engine import Database
from campaign_executions.storage.ledger import ledger_totals
from campaign_executions.storage.migrate import upgrade_schema
from campaign_executions.storage.models import (
    CampaignModel,
    CampaignStepModel,
    ExecutionModel,
    RecipientModel,
)

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


async def _create_postgres() -> tuple[str, str]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return name, f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def _drop_postgres(name: str) -> None:
    admin = await asyncpg.connect(ADMIN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def _seed(database: Database, *, recipients: int, executions: int) -> None:
    campaign = CampaignModel(id=uuid.uuid4(), name="bench", is_active=True)
    campaign.steps = [
        CampaignStepModel(step_number=1, channel=int(Channel.EMAIL), audience="all")
    ]
    due = datetime.now(UTC) - timedelta(seconds=1)
    async with database.write() as session:
        session.add(campaign)
        await session.flush()
        session.add_all(
            RecipientModel(campaign_id=campaign.id, address=f"r{n}@bench.test")
            for n in range(recipients)
        )
        session.add_all(
            ExecutionModel(campaign_id=campaign.id, status=0, scheduled_for=due)
            for _ in range(executions)
        )


async def _wait_until_done(database: Database, executions: int) -> None:
    while True:
        async with database.read() as session:
            ended = await session.scalar(
                select(func.count()).where(ExecutionModel.status >= 2)
            )
        if ended == executions:
            return
        await asyncio.sleep(0.2)


async def _measure(database: Database) -> tuple[int, float]:
    async with database.read() as session:
        rows = list(await session.scalars(select(ExecutionModel)))
        for row in rows:
            totals = await ledger_totals(session, execution_id=row.id)
            recorded = (row.total_dispatched, row.total_succeeded, row.total_failed)
            if recorded != totals:
                raise SystemExit(f"totals {recorded} differ from ledger {totals}")
            if row.status != ExecutionStatus.SUCCEEDED:
                raise SystemExit(f"execution ended {row.status}: {row.error_message}")
    outcomes = sum(row.total_succeeded + row.total_failed for row in rows)
    first = min(row.started_at for row in rows if row.started_at)
    last = max(row.completed_at for row in rows if row.completed_at)
    return outcomes, (last - first).total_seconds()


def _start_workers(url: str, count: int, batch: int) -> list[subprocess.Popen[bytes]]:
    env = os.environ | {
        "CAMPAIGN_EXECUTIONS_DATABASE_URL": url,
        "CAMPAIGN_EXECUTIONS_WORKER_BATCH_SIZE": str(batch),
        "CAMPAIGN_EXECUTIONS_WORKER_IDLE_POLL_SECONDS": "0.05",
        "CAMPAIGN_EXECUTIONS_SIMULATED_LATENCY_MS": "0",
        "CAMPAIGN_EXECUTIONS_SIMULATED_SEED": "1",
        "CAMPAIGN_EXECUTIONS_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "campaign_executions", "worker"]
    return [subprocess.Popen(command, env=env) for _ in range(count)]


async def run(arguments: argparse.Namespace) -> None:
    pg_name = None
    if arguments.backend == "postgresql":
        pg_name, url = await _create_postgres()
    else:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    database = Database.from_url(url)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        await upgrade_schema(database.engine)
        await _seed(
            database, recipients=arguments.recipients, executions=arguments.executions
        )
        started = time.perf_counter()
        workers = _start_workers(url, arguments.workers, arguments.batch)
        await _wait_until_done(database, arguments.executions)
        wall = time.perf_counter() - started
        outcomes, busy = await _measure(database)
        print(
            f"{arguments.backend} workers={arguments.workers} batch={arguments.batch} "
            f"outcomes={outcomes} busy={busy:.2f}s rate={outcomes / busy:,.0f}/s "
            f"(wall {wall:.2f}s incl. process start) totals=ledger"
        )
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)
        await database.dispose()
        if pg_name:
            await _drop_postgres(pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--executions", type=int, default=6)
    parser.add_argument("--batch", type=int, default=1000)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
