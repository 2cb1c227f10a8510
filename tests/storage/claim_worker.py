"""A claiming process for the multi-process claim test.

Run as `python -m tests.storage.claim_worker URL NOW CLAIM_LOG`. The process
builds its own engine, prints "ready", waits for a line on stdin, then claims
due executions until none is left, with a new token per claim. After each
claim commits it appends "<execution id> <token>" to CLAIM_LOG, a file that
every process appends to. It prints "done" at the end.
"""

import asyncio
import sys
import uuid
from datetime import datetime, timedelta
from typing import TextIO

from campaign_executions.storage.claim import claim_due_execution
from campaign_executions.storage.engine import Database

LEASE = timedelta(minutes=10)


async def claim_until_none(database: Database, now: datetime, log: TextIO) -> None:
    """Claim until nothing is due, logging each claim once it committed."""
    while True:
        token = uuid.uuid4()
        async with database.write() as session:
            execution = await claim_due_execution(
                session, token=token, now=now, lease=LEASE
            )
        if execution is None:
            return
        # One short write to a file opened for appending: lines never interleave.
        log.write(f"{execution.id} {token}\n")
        log.flush()


async def main(url: str, now: datetime, log: TextIO) -> None:
    database = Database.from_url(url)
    try:
        # Connect before reporting ready, so that the start is as close as it can be.
        await database.ping()
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        await claim_until_none(database, now, log)
    finally:
        await database.dispose()


if __name__ == "__main__":
    with open(sys.argv[3], "a", encoding="utf-8") as claim_log:
        asyncio.run(main(sys.argv[1], datetime.fromisoformat(sys.argv[2]), claim_log))
    sys.stdout.write("done\n")
