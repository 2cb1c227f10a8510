"""Withdrawing recorded dispatches that a stopped run never handed to a channel."""

import uuid

import pytest

from campaign_executions.errors import LeaseLostError
from campaign_executions.storage.engine import Database
from campaign_executions.storage.execution import get_execution
from campaign_executions.storage.ledger import (
    DispatchResult,
    ledger_totals,
    withdraw_dispatches,
)
from tests.storage.test_ledger import NOW, cancel, claimed_run, record, resolve, start


async def _withdraw(database: Database, run, step_id, ids, *, token=None) -> int:
    async with database.write() as session:
        return await withdraw_dispatches(
            session,
            execution_id=run.execution_id,
            token=token or run.token,
            step_execution_id=step_id,
            dispatch_ids=ids,
            now=NOW,
        )


async def _totals(database: Database, execution_id: uuid.UUID):
    async with database.read() as session:
        row = await get_execution(session, execution_id=execution_id)
        ledger = await ledger_totals(session, execution_id=execution_id)
    assert row is not None
    return (row.total_dispatched, row.total_succeeded, row.total_failed), ledger


async def test_withdraw_removes_only_pending_rows_and_lowers_dispatched(
    database: Database,
):
    run = await claimed_run(database, recipients=10)
    step_id = await start(database, run)
    tickets = await record(database, run, step_id, run.recipients)
    await resolve(
        database,
        run,
        step_id,
        [DispatchResult(t.dispatch_id, True) for t in tickets[:4]],
    )
    await cancel(database, run)

    withdrawn = await _withdraw(
        database, run, step_id, [t.dispatch_id for t in tickets]
    )

    recorded, ledger = await _totals(database, run.execution_id)
    assert withdrawn == 6
    assert recorded == ledger == (4, 4, 0)


async def test_withdraw_by_a_stale_token_changes_nothing(database: Database):
    run = await claimed_run(database, recipients=5)
    step_id = await start(database, run)
    tickets = await record(database, run, step_id, run.recipients)

    with pytest.raises(LeaseLostError):
        await _withdraw(
            database, run, step_id, [t.dispatch_id for t in tickets], token=uuid.uuid4()
        )

    recorded, ledger = await _totals(database, run.execution_id)
    assert recorded == ledger == (5, 0, 0)
