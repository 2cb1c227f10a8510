import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from campaign_executions.config import Settings
from campaign_executions.domain import ExecutionStatus
from campaign_executions.storage.engine import Database
from tests.factories import BASE_TIME, execution, spread, step, store
from tests.graphql.conftest import Post
from tests.graphql.helpers import LEAKS, PAGE, Body, codes, messages


def page_of(body: Body) -> Body:
    assert "errors" not in body, body["errors"]
    page: Body = body["data"]["campaignExecutions"]
    return page


def ids_of(page: Body) -> list[str]:
    return [edge["node"]["id"] for edge in page["edges"]]


async def test_walk_over_equal_times_yields_every_id_once(
    database: Database, graphql: Post
) -> None:
    campaign_id = uuid.uuid4()
    rows = [execution(campaign_id=campaign_id) for _ in range(250)]
    await store(database, *rows)

    seen: list[str] = []
    variables = {"campaignId": str(campaign_id), "first": 13}
    pages = 0
    while True:
        page = page_of(await graphql(PAGE, variables))
        pages += 1
        seen += ids_of(page)
        assert page["totalCount"] == 250
        if not page["pageInfo"]["hasNextPage"]:
            break
        variables["after"] = page["pageInfo"]["endCursor"]

    assert len(seen) == 250
    assert set(seen) == {str(row.id) for row in rows}
    assert pages == 20


async def test_page_uses_default_order_and_default_size(
    database: Database, graphql: Post
) -> None:
    campaign_id = uuid.uuid4()
    rows = spread(25, campaign_id=campaign_id)
    await store(database, *rows)

    page = page_of(await graphql(PAGE, {"campaignId": str(campaign_id)}))

    newest_first = [str(row.id) for row in reversed(rows)]
    assert ids_of(page) == newest_first[:20]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]


async def test_empty_page_has_no_end_cursor(graphql: Post) -> None:
    page = page_of(await graphql(PAGE, {"campaignId": str(uuid.uuid4())}))

    assert page == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }


async def test_walk_keeps_fractional_seconds_in_cursors(
    database: Database, graphql: Post
) -> None:
    campaign_id = uuid.uuid4()
    rows = [
        execution(
            campaign_id=campaign_id,
            scheduled_for=BASE_TIME + timedelta(microseconds=index * 7),
        )
        for index in range(6)
    ]
    await store(database, *rows)

    seen: list[str] = []
    variables: dict[str, object] = {"campaignId": str(campaign_id), "first": 1}
    for _ in range(6):
        page = page_of(await graphql(PAGE, variables))
        seen += ids_of(page)
        variables["after"] = page["pageInfo"]["endCursor"]

    assert seen == [str(row.id) for row in reversed(rows)]


async def test_offset_time_comes_back_in_utc_and_sorts_among_utc(
    database: Database, graphql: Post
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

    variables = {
        "campaignId": str(campaign_id),
        "orderBy": {"field": "SCHEDULED_FOR", "direction": "ASC"},
    }
    page = page_of(await graphql(PAGE, variables))

    assert [edge["node"]["scheduledFor"] for edge in page["edges"]] == [
        "2026-07-10T07:00:00Z",
        "2026-07-10T08:00:00Z",
        "2026-07-10T09:00:00Z",
    ]
    assert ids_of(page) == [str(first.id), str(early.id), str(later.id)]


async def test_filter_by_statuses(database: Database, graphql: Post) -> None:
    campaign_id = uuid.uuid4()
    statuses = [
        ExecutionStatus.PENDING,
        ExecutionStatus.RUNNING,
        ExecutionStatus.FAILED,
        ExecutionStatus.SUCCEEDED,
    ]
    rows = [execution(campaign_id=campaign_id, status=s) for s in statuses]
    await store(database, *rows)

    variables = {
        "campaignId": str(campaign_id),
        "filter": {"statuses": ["RUNNING", "FAILED"]},
    }
    page = page_of(await graphql(PAGE, variables))

    assert set(ids_of(page)) == {str(rows[1].id), str(rows[2].id)}
    assert {edge["node"]["status"] for edge in page["edges"]} == {"RUNNING", "FAILED"}
    assert page["totalCount"] == 2


async def test_filter_by_an_empty_status_list_matches_nothing(
    database: Database, graphql: Post
) -> None:
    campaign_id = uuid.uuid4()
    await store(database, *spread(2, campaign_id=campaign_id))

    variables = {"campaignId": str(campaign_id), "filter": {"statuses": []}}
    page = page_of(await graphql(PAGE, variables))

    assert (page["edges"], page["totalCount"]) == ([], 0)


async def test_filter_by_time_range_includes_from_and_excludes_to(
    database: Database, graphql: Post
) -> None:
    campaign_id = uuid.uuid4()
    rows = spread(5, campaign_id=campaign_id)
    await store(database, *rows)

    variables = {
        "campaignId": str(campaign_id),
        "filter": {
            "scheduledFrom": "2026-07-10T07:00:00Z",
            "scheduledTo": "2026-07-10T11:00:00+02:00",
        },
    }
    page = page_of(await graphql(PAGE, variables))

    # 07:00Z is in; 09:00Z (= 11:00+02:00) is the exclusive end.
    assert ids_of(page) == [str(rows[2].id), str(rows[1].id)]
    assert page["totalCount"] == 2


async def test_filter_by_search_matches_like_the_grid(
    database: Database, graphql: Post
) -> None:
    campaign_id = uuid.uuid4()
    tagged = execution(campaign_id=campaign_id, correlation_id="Black-Friday_run")
    failing = execution(
        campaign_id=campaign_id,
        status=ExecutionStatus.FAILED,
        error_message="SMTP relay refused",
    )
    running = execution(campaign_id=campaign_id, status=ExecutionStatus.RUNNING)
    await store(database, tagged, failing, running)

    async def found(text: str) -> set[str]:
        variables = {"campaignId": str(campaign_id), "filter": {"search": text}}
        return set(ids_of(page_of(await graphql(PAGE, variables))))

    assert await found("friday") == {str(tagged.id)}
    assert await found("smtp RELAY") == {str(failing.id)}
    assert await found("running") == {str(running.id)}
    assert await found(str(failing.id)[:8]) >= {str(failing.id)}
    assert await found("   ") == {str(tagged.id), str(failing.id), str(running.id)}


async def test_filters_combine_and_count_with_the_page(
    database: Database, graphql: Post
) -> None:
    campaign_id = uuid.uuid4()
    rows = spread(6, campaign_id=campaign_id, status=ExecutionStatus.FAILED)
    await store(database, *rows, execution(campaign_id=campaign_id))

    variables = {
        "campaignId": str(campaign_id),
        "first": 2,
        "filter": {"statuses": ["FAILED"], "scheduledFrom": "2026-07-10T08:00:00Z"},
    }
    page = page_of(await graphql(PAGE, variables))

    assert ids_of(page) == [str(rows[5].id), str(rows[4].id)]
    assert page["totalCount"] == 4


@pytest.mark.parametrize(("direction", "reverse"), [("ASC", False), ("DESC", True)])
async def test_order_by_a_counter_in_both_directions(
    database: Database, graphql: Post, direction: str, reverse: bool
) -> None:
    campaign_id = uuid.uuid4()
    sizes = [30, 10, 50, 20, 40]
    rows = [
        execution(campaign_id=campaign_id, steps=[step(1, totals=(n, n, 0))])
        for n in sizes
    ]
    await store(database, *rows)

    seen: list[int] = []
    variables: dict[str, object] = {
        "campaignId": str(campaign_id),
        "first": 2,
        "orderBy": {"field": "TOTAL_DISPATCHED", "direction": direction},
    }
    for _ in range(3):
        page = page_of(await graphql(PAGE, variables))
        seen += [edge["node"]["totalDispatched"] for edge in page["edges"]]
        variables["after"] = page["pageInfo"]["endCursor"]

    assert seen == sorted(sizes, reverse=reverse)


def _cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        "%%%%",
        base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),
        base64.urlsafe_b64encode(b"{not json").decode(),
        _cursor([1, 2, 3]),
        _cursor({"field": "scheduledFor", "descending": True}),
        _cursor(
            {
                "field": "scheduledFor",
                "descending": True,
                "value": 12,
                "id": str(uuid.uuid4()),
            }
        ),
        _cursor(
            {
                "field": "scheduledFor",
                "descending": True,
                "value": "2026-07-10T06:00:00",
                "id": str(uuid.uuid4()),
            }
        ),
        _cursor(
            {
                "field": "scheduledFor",
                "descending": True,
                "value": "2026-07-10T06:00:00Z",
                "id": "nope",
            }
        ),
    ],
)
async def test_malformed_cursor_is_a_clean_bad_user_input(
    graphql: Post, cursor: str
) -> None:
    variables = {"campaignId": str(uuid.uuid4()), "after": cursor}

    body = await graphql(PAGE, variables)

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "cursor" in messages(body)
    assert not any(leak in messages(body) for leak in LEAKS)


@pytest.mark.parametrize(
    "other_order",
    [
        {"field": "SCHEDULED_FOR", "direction": "ASC"},
        {"field": "TOTAL_FAILED", "direction": "DESC"},
        {"field": "STATUS", "direction": "ASC"},
    ],
)
async def test_cursor_from_another_ordering_is_refused(
    database: Database, graphql: Post, other_order: dict[str, str]
) -> None:
    campaign_id = uuid.uuid4()
    await store(database, *spread(3, campaign_id=campaign_id))
    variables: dict[str, object] = {"campaignId": str(campaign_id), "first": 1}
    first_page = page_of(await graphql(PAGE, variables))

    variables |= {"after": first_page["pageInfo"]["endCursor"], "orderBy": other_order}
    body = await graphql(PAGE, variables)

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "orderBy" in messages(body)


@pytest.mark.parametrize("first", [0, -1, 1001])
async def test_first_out_of_bounds_is_bad_user_input(
    graphql: Post, settings: Settings, first: int
) -> None:
    assert settings.max_page_size == 1000
    variables = {"campaignId": str(uuid.uuid4()), "first": first}

    body = await graphql(PAGE, variables)

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert messages(body) == f"'first' must be between 1 and 1000; it was {first}."


async def test_first_at_the_maximum_and_null_are_accepted(graphql: Post) -> None:
    for first in (1000, 1, None):
        variables = {"campaignId": str(uuid.uuid4()), "first": first}
        assert "errors" not in await graphql(PAGE, variables)


async def test_naive_datetime_in_filter_is_refused(graphql: Post) -> None:
    variables = {
        "campaignId": str(uuid.uuid4()),
        "filter": {"scheduledFrom": "2026-07-10T06:00:00"},
    }

    body = await graphql(PAGE, variables)

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "needs Z or a UTC offset" in messages(body)


def recorded_statements(database: Database) -> tuple[list[str], Callable[[], None]]:
    """Statements the engine runs from now on, and how to stop recording."""
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    return statements, lambda: event.remove(engine, "before_cursor_execute", record)


async def test_total_count_is_counted_only_when_asked(
    database: Database, graphql: Post
) -> None:
    campaign_id = uuid.uuid4()
    await store(database, *spread(3, campaign_id=campaign_id))
    without = (
        "query($c: UUID!) { campaignExecutions(campaignId: $c) { edges { cursor } } }"
    )
    statements, stop = recorded_statements(database)
    try:
        await graphql(without, {"c": str(campaign_id)})
        uncounted = list(statements)
        body = await graphql(PAGE, {"campaignId": str(campaign_id)})
    finally:
        stop()

    assert not [s for s in uncounted if "count(" in s.lower()]
    assert len([s for s in statements if "count(" in s.lower()]) == 1
    assert page_of(body)["totalCount"] == 3


STEPS_PAGE = """
query($campaignId: UUID!) {
  campaignExecutions(campaignId: $campaignId, first: 20) {
    edges { node { id steps { stepNumber totalDispatched } } }
  }
}
"""


async def test_steps_of_a_page_load_in_one_query(
    database: Database, graphql: Post
) -> None:
    campaign_id = uuid.uuid4()
    rows = [
        execution(
            campaign_id=campaign_id,
            steps=[step(1, totals=(n, n, 0)), step(2, totals=(n + 1, 0, n + 1))],
        )
        for n in range(20)
    ]
    await store(database, *rows)
    statements, stop = recorded_statements(database)
    try:
        body = await graphql(STEPS_PAGE, {"campaignId": str(campaign_id)})
    finally:
        stop()

    edges = page_of(body)["edges"]
    assert len(edges) == 20
    assert all(len(edge["node"]["steps"]) == 2 for edge in edges)
    step_queries = [s for s in statements if "FROM step_executions" in s]
    assert len(step_queries) == 1
