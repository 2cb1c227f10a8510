import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from campaign_executions.app import create_app
from campaign_executions.config import Settings
from campaign_executions.domain import ExecutionField
from campaign_executions.storage.engine import Database
from campaign_executions.storage.execution import ExecutionQuery, count_executions
from tests.factories import spread, store
from tests.rest.helpers import (
    BASE,
    assert_clean_failure,
    grid_body,
    post_grid,
    search_column,
)

SMALL_PAGE = 5


def _with_column(field: str, **changes: Any) -> dict[str, Any]:
    body = grid_body(order=[{"column": 0, "dir": "asc"}])
    body["columns"][0] |= {"data": field} | changes
    return body


def _searching(field: ExecutionField, text: str) -> dict[str, Any]:
    body = grid_body()
    search_column(body, field, text)
    return body


REFUSED: dict[str, tuple[object, str]] = {
    "not-whitelisted": (_with_column("workerToken"), "cannot order rows"),
    "not-orderable": (_with_column("id", orderable=False), "orderable=false"),
    "column-out-of-range": (
        grid_body(order=[{"column": 12, "dir": "asc"}]),
        "lists 12 columns",
    ),
    "negative-column": (grid_body(order=[{"column": -1, "dir": "asc"}]), "column -1"),
    "bad-direction": (grid_body(order=[{"column": 0, "dir": "up"}]), "order[0].dir"),
    "global-regex": (
        grid_body(search={"value": "run.*", "regex": True}),
        "regular-expression search is not supported; send regex=false",
    ),
    "column-regex": (
        grid_body(
            columns=[
                {"data": "status", "search": {"value": "^1$", "regex": "true"}},
            ]
        ),
        "regular-expression search is not supported; send regex=false",
    ),
    "length-over-max": (grid_body(length=1001), "length must be"),
    "length-below-all": (grid_body(length=-2), "length must be"),
    "negative-start": (grid_body(start=-1), "start must be"),
    "start-beyond-int32": (grid_body(start=2**31), "start"),
    "status-search": (_searching(ExecutionField.STATUS, "1,sideways"), "(status)"),
    "count-search": (_searching(ExecutionField.TOTAL_FAILED, "many"), "(totalFailed)"),
    "date-search": (_searching(ExecutionField.SCHEDULED_FOR, "2026-13"), "YYYY-MM"),
    "id-search": (_searching(ExecutionField.ID, "xyz"), "(id)"),
    "columns-not-a-list": (grid_body(columns={"a": 1}), "columns"),
    "body-not-an-object": ([1, 2], "body"),
}


@pytest.mark.parametrize(("body", "expected"), REFUSED.values(), ids=REFUSED.keys())
async def test_get_data_table_refuses_bad_requests_with_400_and_error(
    database: Database,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    body: object,
    expected: str,
) -> None:
    campaign_id = uuid.uuid4()
    await store(database, *spread(3, campaign_id=campaign_id))

    response = await post_grid(client, campaign_id, body, auth_headers)

    page = assert_clean_failure(response, 400)
    assert expected in page["error"]
    assert page["error"] == page["message"]
    assert page["recordsTotal"] == page["recordsFiltered"] == 0
    assert page["draw"] == (body.get("draw", 0) if isinstance(body, dict) else 0)


async def test_get_data_table_builds_no_sql_from_an_injected_column(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    campaign_id = uuid.uuid4()
    await store(database, *spread(3, campaign_id=campaign_id))
    body = _with_column("id; DROP TABLE executions")
    search_column(body, ExecutionField.CORRELATION_ID, "'; DELETE FROM executions; --")

    response = await post_grid(client, campaign_id, body, auth_headers)

    assert_clean_failure(response, 400)
    assert "DROP" not in response.text
    async with database.read() as session:
        count = await count_executions(session, query=ExecutionQuery(campaign_id))
    assert count == 3


async def test_get_data_table_search_text_is_matched_not_run(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    campaign_id = uuid.uuid4()
    await store(database, *spread(3, campaign_id=campaign_id))
    body = grid_body(search={"value": "x' OR '1'='1", "regex": False})

    response = await post_grid(client, campaign_id, body, auth_headers)

    page = response.json()
    assert response.status_code == 200
    assert (page["recordsTotal"], page["recordsFiltered"]) == (3, 0)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ("{not json", "application/json"),
        ("", "application/json"),
        ("columns[0]=a&columns[0][data]=id", "application/x-www-form-urlencoded"),
        (
            "columns[0][data]=id&columns[2][data]=status",
            "application/x-www-form-urlencoded",
        ),
    ],
    ids=["broken-json", "empty", "form-conflict", "form-gap"],
)
async def test_get_data_table_refuses_unreadable_bodies(
    database: Database,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    content: str,
    content_type: str,
) -> None:
    response = await client.post(
        f"{BASE}/GetDataTable/{uuid.uuid4()}",
        content=content,
        headers=auth_headers | {"Content-Type": content_type},
    )

    page = assert_clean_failure(response, 400)
    assert page["error"] == page["message"]


async def test_get_data_table_refuses_a_bad_campaign_guid(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    response = await post_grid(client, "not-a-guid", grid_body(draw=4), auth_headers)

    page = assert_clean_failure(response, 400)
    assert "is not a valid GUID" in page["error"]
    assert page["draw"] == 4


@pytest.fixture
async def small_page_client(
    settings: Settings, database: Database
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings.model_copy(update={"max_page_size": SMALL_PAGE}), database=database
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http


@pytest.mark.parametrize(
    ("stored", "status"), [(SMALL_PAGE, 200), (SMALL_PAGE + 1, 400)]
)
async def test_get_data_table_all_rows_only_up_to_the_page_maximum(
    database: Database,
    small_page_client: httpx.AsyncClient,
    make_token: Callable[..., str],
    stored: int,
    status: int,
) -> None:
    campaign_id = uuid.uuid4()
    await store(database, *spread(stored, campaign_id=campaign_id))
    headers = {
        "Authorization": f"Bearer {make_token('NotificationCampaigns.Analytics')}"
    }

    response = await post_grid(
        small_page_client, campaign_id, grid_body(draw=9, length=-1), headers
    )

    assert response.status_code == status
    page = response.json()
    assert page["draw"] == 9
    if status == 200:
        assert len(page["data"]) == stored
    else:
        assert f"all {stored} matching rows" in page["error"]


async def test_get_data_table_page_over_the_configured_maximum_is_refused(
    database: Database,
    small_page_client: httpx.AsyncClient,
    make_token: Callable[..., str],
) -> None:
    headers = {
        "Authorization": f"Bearer {make_token('NotificationCampaigns.Analytics')}"
    }

    response = await post_grid(
        small_page_client, uuid.uuid4(), grid_body(length=SMALL_PAGE + 1), headers
    )

    page = assert_clean_failure(response, 400)
    assert f"from 0 to {SMALL_PAGE}" in page["error"]


async def test_oversized_body_is_refused_before_parsing(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
):
    body = grid_body(search={"value": "x" * 300_000, "regex": False})

    response = await post_grid(client, uuid.uuid4(), body, auth_headers)

    assert "larger than 256 KiB" in assert_clean_failure(response, 400)["error"]


async def test_oversized_streamed_body_without_length_is_refused(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
):
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"draw": 1, "search": {"value": "'
        for _ in range(40):
            yield b"y" * 8192
        yield b'"}}'

    response = await client.post(
        f"{BASE}/GetDataTable/{uuid.uuid4()}",
        content=chunks(),
        headers=auth_headers | {"Content-Type": "application/json"},
    )

    assert "larger than 256 KiB" in assert_clean_failure(response, 400)["error"]


async def test_form_body_with_too_many_fields_is_refused(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
):
    fields = "&".join(f"columns[{i}][data]=id" for i in range(2500))

    response = await client.post(
        f"{BASE}/GetDataTable/{uuid.uuid4()}",
        content=fields,
        headers=auth_headers | {"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert "at most 2000" in assert_clean_failure(response, 400)["error"]


async def test_too_many_order_entries_are_refused(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
):
    body = grid_body(order=[{"column": 0, "dir": "asc"}] * 2100)

    response = await post_grid(client, uuid.uuid4(), body, auth_headers)

    assert "order" in assert_clean_failure(response, 400)["error"]
