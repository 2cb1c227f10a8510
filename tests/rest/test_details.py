import uuid
from datetime import datetime
from typing import Any

import httpx

from campaign_executions.domain import ExecutionStatus
from campaign_executions.storage.engine import Database
from tests.factories import SEED_DETAILS, execution, store
from tests.rest.helpers import BASE, assert_clean_failure


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


async def test_get_details_returns_the_seed_object_exactly(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    seed: dict[str, Any] = dict(SEED_DETAILS)
    await store(
        database,
        execution(
            id=uuid.UUID(seed["id"]),
            campaign_id=uuid.UUID(seed["campaignId"]),
            status=ExecutionStatus(seed["status"]),
            scheduled_for=datetime.fromisoformat(seed["scheduledFor"]),
            started_at=_moment(seed["startedAt"]),
            completed_at=_moment(seed["completedAt"]),
            total_recipients=seed["totalRecipients"],
            total_dispatched=seed["totalDispatched"],
            total_succeeded=seed["totalSucceeded"],
            total_failed=seed["totalFailed"],
            correlation_id=seed["correlationId"],
            error_message=seed["errorMessage"],
        ),
    )

    response = await client.get(f"{BASE}/GetDetails/{seed['id']}", headers=auth_headers)

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["succeeded", "message", "data"]
    assert body["succeeded"] is True
    assert body["message"] is None
    assert list(body["data"].items()) == list(seed.items())


async def test_get_details_of_unknown_execution_is_a_404_envelope(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    await store(database, execution(campaign_id=uuid.uuid4()))

    response = await client.get(
        f"{BASE}/GetDetails/{uuid.uuid4()}", headers=auth_headers
    )

    body = assert_clean_failure(response, 404)
    assert "No campaign execution" in body["message"]


async def test_get_details_sends_fractions_only_where_stored(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    row = execution(
        campaign_id=uuid.uuid4(),
        scheduled_for=datetime.fromisoformat("2026-07-10T06:00:00.250+00:00"),
        started_at=datetime.fromisoformat("2026-07-10T09:30:00+03:00"),
    )
    await store(database, row)

    response = await client.get(f"{BASE}/GetDetails/{row.id}", headers=auth_headers)

    data = response.json()["data"]
    assert data["scheduledFor"] == "2026-07-10T06:00:00.250000Z"
    assert data["startedAt"] == "2026-07-10T06:30:00Z"
    assert data["id"] == str(row.id)
