import uuid
from datetime import UTC, datetime

import httpx
import pytest

from campaign_executions.domain import ExecutionField, ExecutionStatus
from campaign_executions.storage.engine import Database
from campaign_executions.storage.models import ExecutionModel
from tests.factories import execution, store
from tests.rest.helpers import column_index, grid_body, post_grid, search_column


async def _campaign(database: Database) -> tuple[uuid.UUID, dict[str, ExecutionModel]]:
    campaign_id = uuid.uuid4()
    rows = {
        "friday": execution(
            campaign_id=campaign_id,
            correlation_id="Black-Friday-2026",
            scheduled_for=datetime(2026, 11, 27, 8, tzinfo=UTC),
            total_recipients=40,
        ),
        "failed": execution(
            campaign_id=campaign_id,
            status=ExecutionStatus.FAILED,
            error_message="SMTP relay refused",
            scheduled_for=datetime(2026, 7, 10, 23, 59, tzinfo=UTC),
            total_recipients=7,
        ),
        "running": execution(
            campaign_id=campaign_id,
            status=ExecutionStatus.RUNNING,
            scheduled_for=datetime(2026, 7, 11, tzinfo=UTC),
            total_recipients=7,
        ),
        "pending": execution(
            campaign_id=campaign_id,
            status=ExecutionStatus.PENDING,
            scheduled_for=datetime(2025, 12, 31, 23, tzinfo=UTC),
            correlation_id="weekly-digest",
        ),
    }
    await store(database, *rows.values(), execution(campaign_id=uuid.uuid4()))
    return campaign_id, rows


async def _found(
    client: httpx.AsyncClient,
    campaign_id: uuid.UUID,
    body: dict[str, object],
    headers: dict[str, str],
) -> tuple[set[str], int, int]:
    response = await post_grid(client, campaign_id, body, headers)
    assert response.status_code == 200, response.text
    page = response.json()
    ids = {row["id"] for row in page["data"]}
    assert len(ids) == page["recordsFiltered"]
    return ids, page["recordsFiltered"], page["recordsTotal"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("friday", {"friday"}), ("smtp RELAY", {"failed"}), ("running", {"running"})],
)
async def test_get_data_table_global_search_counts_filtered_of_total(
    database: Database,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    text: str,
    expected: set[str],
) -> None:
    campaign_id, rows = await _campaign(database)
    body = grid_body(search={"value": text, "regex": False})

    ids, filtered, total = await _found(client, campaign_id, body, auth_headers)

    assert ids == {str(rows[name].id) for name in expected}
    assert (filtered, total) == (len(expected), 4)


async def test_get_data_table_global_search_matches_an_id_prefix(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    campaign_id, rows = await _campaign(database)
    wanted = str(rows["pending"].id)
    body = grid_body(search={"value": wanted[:13], "regex": False})

    ids, _, total = await _found(client, campaign_id, body, auth_headers)

    assert ids == {wanted}
    assert total == 4


@pytest.mark.parametrize(
    "case",
    [
        (ExecutionField.STATUS, "1,failed", {"running", "failed"}),
        (ExecutionField.STATUS, " Pend ", {"pending"}),
        (ExecutionField.CORRELATION_ID, "friday", {"friday"}),
        (ExecutionField.ERROR_MESSAGE, "relay", {"failed"}),
        (ExecutionField.TOTAL_RECIPIENTS, "7", {"failed", "running"}),
        (ExecutionField.SCHEDULED_FOR, "2026", {"friday", "failed", "running"}),
        (ExecutionField.SCHEDULED_FOR, "2026-07", {"failed", "running"}),
        (ExecutionField.SCHEDULED_FOR, "2026-07-10", {"failed"}),
        (ExecutionField.SCHEDULED_FOR, "2025-12", {"pending"}),
        (ExecutionField.STARTED_AT, "2026", set()),
    ],
    ids=lambda case: f"{case[0]}={case[1].strip()}",
)
async def test_get_data_table_column_search_applies_to_its_column(
    database: Database,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    case: tuple[ExecutionField, str, set[str]],
) -> None:
    field, text, expected = case
    campaign_id, rows = await _campaign(database)
    body = grid_body()
    search_column(body, field, text)

    ids, filtered, total = await _found(client, campaign_id, body, auth_headers)

    assert ids == {str(rows[name].id) for name in expected}
    assert (filtered, total) == (len(expected), 4)


async def test_get_data_table_column_search_matches_an_id_prefix(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    campaign_id, rows = await _campaign(database)
    wanted = rows["running"].id
    body = grid_body()
    search_column(body, ExecutionField.ID, wanted.hex[:9])
    search_column(body, ExecutionField.CAMPAIGN_ID, str(campaign_id)[:8])

    ids, _, _ = await _found(client, campaign_id, body, auth_headers)

    assert ids == {str(wanted)}


async def test_get_data_table_global_and_column_searches_combine(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    campaign_id, rows = await _campaign(database)
    body = grid_body(search={"value": "ing", "regex": False})
    search_column(body, ExecutionField.TOTAL_RECIPIENTS, "7")

    ids, filtered, total = await _found(client, campaign_id, body, auth_headers)

    assert ids == {str(rows["running"].id)}
    assert (filtered, total) == (1, 4)


async def test_get_data_table_ignores_search_of_unsearchable_column(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    campaign_id, _ = await _campaign(database)
    body = grid_body()
    status = column_index(ExecutionField.STATUS)
    body["columns"][status]["searchable"] = False
    search_column(body, ExecutionField.STATUS, "not a status")

    _, filtered, total = await _found(client, campaign_id, body, auth_headers)

    assert filtered == total == 4
