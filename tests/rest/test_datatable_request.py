import uuid
from typing import Any

import httpx
import pytest

from campaign_executions.domain import ExecutionField
from campaign_executions.storage.engine import Database
from tests.factories import execution, spread, store
from tests.rest.helpers import (
    BASE,
    FIXTURE_NAMES,
    FORM_HEADERS,
    column_index,
    form_content,
    grid_body,
    load_fixture,
    post_grid,
)

SCHEDULED = column_index(ExecutionField.SCHEDULED_FOR)


async def _send(
    client: httpx.AsyncClient,
    campaign_id: uuid.UUID,
    body: dict[str, Any],
    headers: dict[str, str],
    encoding: str,
) -> httpx.Response:
    url = f"{BASE}/GetDataTable/{campaign_id}?_=1712345"
    if encoding == "json":
        return await client.post(url, json=body, headers=headers)
    return await client.post(
        url, content=form_content(body), headers=headers | FORM_HEADERS
    )


@pytest.mark.parametrize("encoding", ["json", "form"])
@pytest.mark.parametrize("name", FIXTURE_NAMES)
async def test_get_data_table_accepts_each_datatables_first_draw(
    database: Database,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    name: str,
    encoding: str,
) -> None:
    campaign_id = uuid.uuid4()
    rows = [execution(campaign_id=campaign_id) for _ in range(12)]
    await store(database, *rows, execution(campaign_id=uuid.uuid4()))

    response = await _send(
        client, campaign_id, load_fixture(name), auth_headers, encoding
    )

    assert response.status_code == 200, response.text
    page = response.json()
    assert list(page) == ["draw", "recordsTotal", "recordsFiltered", "data"]
    assert page["draw"] == 1
    assert page["recordsTotal"] == page["recordsFiltered"] == 12
    # The fixtures order by column 0, the id, ascending.
    assert [row["id"] for row in page["data"]] == sorted(str(r.id) for r in rows)[:10]


@pytest.mark.parametrize("encoding", ["json", "form"])
async def test_get_data_table_reads_numbers_as_strings_and_any_case_direction(
    database: Database,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    encoding: str,
) -> None:
    campaign_id = uuid.uuid4()
    rows = spread(6, campaign_id=campaign_id)
    await store(database, *rows)
    body = grid_body(
        draw="2",
        start="1",
        length="2",
        order=[{"column": str(SCHEDULED), "dir": "ASC", "name": "scheduledFor"}],
    )

    response = await _send(client, campaign_id, body, auth_headers, encoding)

    page = response.json()
    assert page["draw"] == 2
    assert [row["id"] for row in page["data"]] == [str(rows[1].id), str(rows[2].id)]


@pytest.mark.parametrize("direction", ["Desc", "DESC", "desc"])
async def test_get_data_table_direction_ignores_case(
    database: Database,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    direction: str,
) -> None:
    campaign_id = uuid.uuid4()
    rows = spread(3, campaign_id=campaign_id)
    await store(database, *rows)
    body = grid_body(order=[{"column": SCHEDULED, "dir": direction}])

    response = await post_grid(client, campaign_id, body, auth_headers)

    assert [row["id"] for row in response.json()["data"]] == [
        str(row.id) for row in reversed(rows)
    ]


async def test_get_data_table_without_columns_uses_the_default_order(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    campaign_id = uuid.uuid4()
    rows = spread(5, campaign_id=campaign_id)
    await store(database, *rows)
    body = {"draw": 3, "start": 0, "length": 3, "search": {"value": ""}}

    response = await post_grid(client, campaign_id, body, auth_headers)

    page = response.json()
    assert page["draw"] == 3
    assert [row["id"] for row in page["data"]] == [
        str(row.id) for row in reversed(rows[2:])
    ]


async def test_get_data_table_form_booleans_are_read_as_booleans(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    campaign_id = uuid.uuid4()
    await store(database, *spread(2, campaign_id=campaign_id))
    body = grid_body(order=[{"column": SCHEDULED, "dir": "asc"}])
    body["columns"][SCHEDULED]["orderable"] = False

    response = await client.post(
        f"{BASE}/GetDataTable/{campaign_id}",
        content=form_content(body),
        headers=auth_headers | FORM_HEADERS,
    )

    assert response.status_code == 400
    assert "orderable=false" in response.json()["error"]


async def test_get_data_table_success_has_no_error_key(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    campaign_id = uuid.uuid4()
    await store(database, *spread(1, campaign_id=campaign_id))

    response = await post_grid(client, campaign_id, grid_body(), auth_headers)

    assert response.status_code == 200
    assert "error" not in response.json()
    assert "succeeded" not in response.json()


@pytest.mark.parametrize("data", [3, "", None, "actions"])
async def test_get_data_table_orders_by_column_name_when_data_names_no_field(
    database: Database,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    data: object,
) -> None:
    campaign_id = uuid.uuid4()
    rows = spread(3, campaign_id=campaign_id)
    await store(database, *rows)
    column = {"data": data, "name": "scheduledFor", "orderable": True}
    body = {"columns": [column], "order": [{"column": 0, "dir": "asc"}]}

    response = await post_grid(client, campaign_id, body, auth_headers)

    assert [row["id"] for row in response.json()["data"]] == [str(r.id) for r in rows]
