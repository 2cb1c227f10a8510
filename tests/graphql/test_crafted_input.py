import base64
import json
import uuid
from typing import Any

import pytest

from campaign_executions.domain import ExecutionStatus
from campaign_executions.storage.engine import Database
from tests.factories import execution, spread, step, store
from tests.graphql.conftest import Post
from tests.graphql.helpers import LEAKS, PAGE, codes, messages

MAX_INT32 = 2**31 - 1

ORDER_OF = {
    "scheduledFor": "SCHEDULED_FOR",
    "status": "STATUS",
    "totalDispatched": "TOTAL_DISPATCHED",
}


def cursor_variables(field: str, direction: str, value: object) -> dict[str, Any]:
    """Variables for PAGE with a hand-made cursor holding `value` for `field`."""
    payload = {
        "field": field,
        "descending": direction == "DESC",
        "value": value,
        "id": str(uuid.uuid4()),
    }
    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
    return {
        "campaignId": str(uuid.uuid4()),
        "after": cursor,
        "orderBy": {"field": ORDER_OF[field], "direction": direction},
    }


@pytest.mark.parametrize(
    ("field", "direction", "value"),
    [
        ("scheduledFor", "DESC", "9999-12-31T23:59:59-05:00"),
        ("scheduledFor", "ASC", "0001-01-01T00:00:00+05:00"),
        ("status", "DESC", 2**70),
        ("status", "ASC", 2**40),
        ("totalDispatched", "DESC", 2**40),
        ("totalDispatched", "ASC", MAX_INT32 + 1),
        ("totalDispatched", "DESC", -1),
        ("totalDispatched", "DESC", True),
    ],
)
async def test_cursor_value_out_of_range_is_bad_user_input(
    graphql: Post, field: str, direction: str, value: object
) -> None:
    body = await graphql(PAGE, cursor_variables(field, direction, value))

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "cursor in 'after'" in messages(body)
    assert not any(leak in messages(body) for leak in LEAKS)


@pytest.mark.parametrize(
    ("field", "direction", "value"),
    [
        ("scheduledFor", "DESC", "9999-12-31T23:59:59Z"),
        ("scheduledFor", "DESC", "9999-12-31T23:59:59+05:00"),
        ("scheduledFor", "ASC", "0001-01-01T00:00:00Z"),
        ("scheduledFor", "ASC", "0001-01-01T00:00:00-05:00"),
        ("totalDispatched", "DESC", MAX_INT32),
        ("status", "ASC", 0),
    ],
)
async def test_cursor_value_at_the_edge_of_the_range_pages_on(
    database: Database, graphql: Post, field: str, direction: str, value: object
) -> None:
    variables = cursor_variables(field, direction, value)
    campaign_id = uuid.UUID(variables["campaignId"])
    rows = spread(3, campaign_id=campaign_id, steps=[step(1, totals=(5, 5, 0))])
    running = execution(campaign_id=campaign_id, status=ExecutionStatus.RUNNING)
    await store(database, *rows, running)

    body = await graphql(PAGE, variables)

    assert "errors" not in body, body["errors"]
    # Every stored key sorts after these edge values.
    assert len(body["data"]["campaignExecutions"]["edges"]) == 4


FILTERED = """
query($c: UUID!, $from: DateTime, $to: DateTime) {
  campaignExecutions(campaignId: $c, filter: {scheduledFrom: $from, scheduledTo: $to}) {
    totalCount
  }
}
"""


@pytest.mark.parametrize(
    ("bound", "moment"),
    [
        ("from", "0001-01-01T00:00:00+05:00"),
        ("to", "9999-12-31T23:59:59-05:00"),
    ],
)
async def test_filter_time_beyond_utc_range_is_bad_user_input(
    graphql: Post, bound: str, moment: str
) -> None:
    body = await graphql(FILTERED, {"c": str(uuid.uuid4()), bound: moment})

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "within the years 1 to 9999 once converted to UTC" in messages(body)


async def test_filter_time_literal_beyond_utc_range_is_bad_user_input(
    graphql: Post,
) -> None:
    query = (
        f'{{ campaignExecutions(campaignId: "{uuid.uuid4()}", '
        'filter: {scheduledFrom: "0001-01-01T00:00:00+05:00"}) { totalCount } }'
    )

    body = await graphql(query)

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "within the years 1 to 9999 once converted to UTC" in messages(body)


async def test_filter_time_at_the_utc_edges_is_accepted(graphql: Post) -> None:
    variables = {
        "c": str(uuid.uuid4()),
        "from": "0001-01-01T00:00:00Z",
        "to": "9999-12-31T23:59:59Z",
    }

    body = await graphql(FILTERED, variables)

    assert body == {"data": {"campaignExecutions": {"totalCount": 0}}}


async def test_first_beyond_int32_as_literal_is_bad_user_input(graphql: Post) -> None:
    query = (
        f'{{ campaignExecutions(campaignId: "{uuid.uuid4()}", first: 2147483648) '
        "{ totalCount } }"
    )

    body = await graphql(query)

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "2147483648" in messages(body)


async def test_first_beyond_int32_as_variable_is_bad_user_input(graphql: Post) -> None:
    variables = {"campaignId": str(uuid.uuid4()), "first": 2**31}

    body = await graphql(PAGE, variables)

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "2147483648" in messages(body)
