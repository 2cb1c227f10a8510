import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from campaign_executions.domain import ExecutionField, ExecutionStatus
from campaign_executions.storage.engine import Database
from tests.factories import execution, spread, store
from tests.rest.helpers import column_index, grid_body, post_grid

SCHEDULED = column_index(ExecutionField.SCHEDULED_FOR)
STATUS = column_index(ExecutionField.STATUS)


def _order(*terms: tuple[ExecutionField, str]) -> list[dict[str, Any]]:
    return [{"column": column_index(field), "dir": way} for field, way in terms]


@pytest.mark.parametrize(
    "order",
    [
        [],
        _order((ExecutionField.SCHEDULED_FOR, "asc")),
        _order((ExecutionField.STATUS, "desc"), (ExecutionField.SCHEDULED_FOR, "asc")),
    ],
    ids=["default", "scheduled-asc", "status-desc-then-scheduled"],
)
async def test_get_data_table_pages_of_13_over_equal_times_yield_every_id_once(
    database: Database,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    order: list[dict[str, Any]],
) -> None:
    campaign_id = uuid.uuid4()
    statuses = [ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED]
    rows = [
        execution(campaign_id=campaign_id, status=statuses[index % 2])
        for index in range(250)
    ]
    await store(database, *rows)

    seen: list[str] = []
    for start in range(0, 260, 13):
        body = grid_body(draw=start + 1, start=start, length=13, order=order)
        response = await post_grid(client, campaign_id, body, auth_headers)
        page = response.json()
        assert page["draw"] == start + 1
        assert page["recordsTotal"] == page["recordsFiltered"] == 250
        seen += [row["id"] for row in page["data"]]

    assert len(seen) == 250
    assert set(seen) == {str(row.id) for row in rows}


async def test_get_data_table_default_order_is_newest_scheduled_first(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    campaign_id = uuid.uuid4()
    rows = spread(4, campaign_id=campaign_id)
    await store(database, *rows)

    response = await post_grid(client, campaign_id, grid_body(order=[]), auth_headers)

    assert [row["id"] for row in response.json()["data"]] == [
        str(row.id) for row in reversed(rows)
    ]


@pytest.mark.parametrize("way", ["asc", "desc"])
async def test_get_data_table_orders_offset_times_among_utc_times(
    database: Database,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    way: str,
) -> None:
    campaign_id = uuid.uuid4()
    plus_two = timezone(timedelta(hours=2))
    early = execution(
        campaign_id=campaign_id,
        scheduled_for=datetime(2026, 7, 10, 10, 0, tzinfo=plus_two),
    )
    later = execution(
        campaign_id=campaign_id, scheduled_for=datetime(2026, 7, 10, 9, 0, tzinfo=UTC)
    )
    first = execution(
        campaign_id=campaign_id, scheduled_for=datetime(2026, 7, 10, 7, 0, tzinfo=UTC)
    )
    await store(database, early, later, first)
    body = grid_body(order=[{"column": SCHEDULED, "dir": way}])

    response = await post_grid(client, campaign_id, body, auth_headers)

    data = response.json()["data"]
    expected = [first, early, later] if way == "asc" else [later, early, first]
    assert [row["id"] for row in data] == [str(row.id) for row in expected]
    assert [row["scheduledFor"] for row in data if row["id"] == str(early.id)] == [
        "2026-07-10T08:00:00Z"
    ]


async def test_get_data_table_applies_order_entries_in_turn(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    campaign_id = uuid.uuid4()
    rows = [
        execution(
            campaign_id=campaign_id,
            status=status,
            scheduled_for=datetime(2026, 7, day, tzinfo=UTC),
        )
        for status, day in [
            (ExecutionStatus.FAILED, 1),
            (ExecutionStatus.PENDING, 2),
            (ExecutionStatus.FAILED, 3),
            (ExecutionStatus.PENDING, 4),
        ]
    ]
    await store(database, *rows)
    order = [{"column": STATUS, "dir": "desc"}, {"column": SCHEDULED, "dir": "asc"}]

    response = await post_grid(
        client, campaign_id, grid_body(order=order), auth_headers
    )

    expected = [rows[0], rows[2], rows[1], rows[3]]
    assert [row["id"] for row in response.json()["data"]] == [
        str(row.id) for row in expected
    ]


@pytest.mark.parametrize(("length", "count"), [(-1, 12), (0, 0), (5, 5)])
async def test_get_data_table_length_all_none_or_a_page(
    database: Database,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    length: int,
    count: int,
) -> None:
    campaign_id = uuid.uuid4()
    await store(database, *spread(12, campaign_id=campaign_id))

    response = await post_grid(
        client, campaign_id, grid_body(length=length), auth_headers
    )

    page = response.json()
    assert response.status_code == 200
    assert len(page["data"]) == count
    assert page["recordsTotal"] == page["recordsFiltered"] == 12


async def test_get_data_table_of_unknown_campaign_is_empty_not_an_error(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    await store(database, *spread(3, campaign_id=uuid.uuid4()))

    response = await post_grid(client, uuid.uuid4(), grid_body(draw=7), auth_headers)

    assert response.status_code == 200
    assert response.json() == {
        "draw": 7,
        "recordsTotal": 0,
        "recordsFiltered": 0,
        "data": [],
    }
