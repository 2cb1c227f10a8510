import logging
import uuid

import httpx
import pytest

from campaign_executions.domain import ExecutionStatus
from campaign_executions.storage.engine import Database
from campaign_executions.storage.execution import get_execution
from tests.factories import execution, store
from tests.rest.helpers import BASE, assert_clean_failure


@pytest.mark.parametrize("status", [ExecutionStatus.PENDING, ExecutionStatus.RUNNING])
async def test_cancel_moves_live_execution_to_cancelled(
    database: Database,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    status: ExecutionStatus,
) -> None:
    row = execution(campaign_id=uuid.uuid4(), status=status)
    await store(database, row)

    with caplog.at_level(logging.INFO, logger="campaign_executions.rest"):
        response = await client.put(f"{BASE}/Cancel/{row.id}", headers=auth_headers)

    assert response.status_code == 200
    assert response.json() == {"succeeded": True, "message": None, "data": str(row.id)}
    async with database.read() as session:
        stored = await get_execution(session, execution_id=row.id)
    assert stored is not None
    assert stored.status == ExecutionStatus.CANCELLED
    assert stored.completed_at is not None
    [record] = [r for r in caplog.records if r.getMessage() == "execution_cancelled"]
    assert getattr(record, "execution_id", None) == str(row.id)


async def test_cancel_of_cancelled_execution_answers_success_again(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    row = execution(campaign_id=uuid.uuid4(), status=ExecutionStatus.RUNNING)
    await store(database, row)

    first = await client.put(f"{BASE}/Cancel/{row.id}", headers=auth_headers)
    again = await client.put(f"{BASE}/Cancel/{row.id}", headers=auth_headers)

    assert first.status_code == again.status_code == 200
    assert again.json()["data"] == str(row.id)


@pytest.mark.parametrize(
    "status",
    [ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.SKIPPED],
)
async def test_cancel_of_ended_execution_is_a_409_envelope(
    database: Database,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    status: ExecutionStatus,
) -> None:
    row = execution(campaign_id=uuid.uuid4(), status=status)
    await store(database, row)

    response = await client.put(f"{BASE}/Cancel/{row.id}", headers=auth_headers)

    body = assert_clean_failure(response, 409)
    assert "cannot be cancelled" in body["message"]
    async with database.read() as session:
        stored = await get_execution(session, execution_id=row.id)
    assert stored is not None
    assert stored.status == status


async def test_cancel_of_unknown_execution_is_a_404_envelope(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    response = await client.put(f"{BASE}/Cancel/{uuid.uuid4()}", headers=auth_headers)

    assert_clean_failure(response, 404)
