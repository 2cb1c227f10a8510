import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import cast

import httpx
import pytest
from strawberry.extensions.validation_cache import DEFAULT_MAXSIZE, _get_validate_cache

from campaign_executions.config import Settings
from campaign_executions.domain import Channel
from campaign_executions.storage import analytics
from campaign_executions.storage.engine import Database
from tests.factories import execution, spread, step, store
from tests.graphql.conftest import Post, post_graphql
from tests.graphql.helpers import codes, messages

ClientWith = Callable[..., Awaitable[httpx.AsyncClient]]

DEEP = """
query($campaignId: UUID!) {
  campaignExecutions(campaignId: $campaignId) {
    edges { node { steps { stepNumber } } }
  }
}
"""


async def test_query_deeper_than_the_limit_is_refused(
    client_with: ClientWith, auth_headers: dict[str, str]
) -> None:
    http = await client_with(max_query_depth=3)
    variables = {"campaignId": str(uuid.uuid4())}

    body = await post_graphql(http, DEEP, variables, auth_headers)

    assert body["data"] is None
    assert "exceeds maximum operation depth of 3" in messages(body)


async def test_query_within_the_depth_limit_runs(
    client_with: ClientWith, auth_headers: dict[str, str]
) -> None:
    http = await client_with(max_query_depth=4)
    variables = {"campaignId": str(uuid.uuid4())}

    body = await post_graphql(http, DEEP, variables, auth_headers)

    assert body == {"data": {"campaignExecutions": {"edges": []}}}


def aliased(count: int) -> str:
    fields = " ".join(
        f"a{i}: campaignExecution(id: $id) {{ id }}" for i in range(count)
    )
    return f"query($id: UUID!) {{ {fields} }}"


async def test_too_many_aliases_are_refused(graphql: Post, settings: Settings) -> None:
    variables = {"id": str(uuid.uuid4())}

    refused = await graphql(aliased(settings.max_aliases + 1), variables)
    allowed = await graphql(aliased(settings.max_aliases), variables)

    assert refused["data"] is None
    assert messages(refused) == (
        f"{settings.max_aliases + 1} aliases found. Allowed: {settings.max_aliases}"
    )
    assert "errors" not in allowed


async def test_too_many_tokens_are_refused(graphql: Post, settings: Settings) -> None:
    too_long = "{ " + "__typename " * settings.max_tokens + "}"
    fits = "{ __typename }"

    refused = await graphql(too_long)
    allowed = await graphql(fits)

    assert refused["data"] is None
    assert messages(refused).startswith(
        f"Syntax Error: Document contains more than {settings.max_tokens} tokens."
    )
    assert allowed["data"]["__typename"] == "Query"


TYPOS = {
    "field": '{ campaignExecutoin(id: "4a5b6c70-0000-0000-0000-000000000001") { id } }',
    "subfield": "query($c: UUID!) { campaignAnalytics(campaignId: $c) { stepNumbr } }",
    "argument": "query($c: UUID!) { campaignExecutions(campaignId: $c, frist: 2) "
    "{ totalCount } }",
    "enum value": "query($c: UUID!) { campaignExecutions(campaignId: $c, "
    "filter: {statuses: [RUNING]}) { totalCount } }",
    "input field": "query($c: UUID!) { campaignExecutions(campaignId: $c, "
    "orderBy: {feild: STATUS}) { totalCount } }",
}


@pytest.mark.parametrize("typo", TYPOS)
async def test_typo_gets_no_suggestion(graphql: Post, typo: str) -> None:
    body = await graphql(TYPOS[typo], {"c": str(uuid.uuid4())})

    assert body["data"] is None
    assert body["errors"]
    assert "Did you mean" not in messages(body)
    assert "?" not in messages(body)


async def test_typo_in_a_variable_gets_no_suggestion(graphql: Post) -> None:
    query = (
        "query($c: UUID!, $f: CampaignExecutionFilter) "
        "{ campaignExecutions(campaignId: $c, filter: $f) { totalCount } }"
    )
    variables = {"c": str(uuid.uuid4()), "f": {"statuses": ["RUNING"]}}

    body = await graphql(query, variables)

    assert "RUNING" in messages(body)
    assert "Did you mean" not in messages(body)


async def test_unexpected_error_is_masked_and_logged(
    graphql: Post,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom SELECT secret")

    monkeypatch.setattr(analytics, "summarize_campaign_steps", explode)
    query = "query($c: UUID!) { campaignAnalytics(campaignId: $c) { stepNumber } }"

    with caplog.at_level(logging.ERROR, logger="campaign_executions"):
        body = await graphql(query, {"c": str(uuid.uuid4())})

    assert body["data"] is None
    assert body["errors"][0]["message"] == "Unexpected error."
    assert codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert "boom" not in str(body)
    assert "SELECT" not in str(body)
    [record] = [
        r for r in caplog.records if r.getMessage() == "graphql_unexpected_error"
    ]
    assert record.exc_info is not None


async def test_permission_error_is_not_masked(
    graphql: Post, make_token: Callable[..., str]
) -> None:
    query = "query($c: UUID!) { campaignAnalytics(campaignId: $c) { stepNumber } }"
    headers = {"Authorization": f"Bearer {make_token()}"}

    body = await graphql(query, {"c": str(uuid.uuid4())}, headers=headers)

    assert codes(body) == ["FORBIDDEN"]
    assert "NotificationCampaigns.Analytics" in messages(body)


async def test_siblings_resolve_concurrently_on_separate_sessions(
    database: Database, graphql: Post
) -> None:
    campaign_id = uuid.uuid4()
    rows = spread(4, campaign_id=campaign_id, steps=())
    rows[0].steps = [step(1, channel=Channel.SMS, totals=(3, 2, 1))]
    await store(database, *rows)
    lookups = " ".join(
        f'e{i}: campaignExecution(id: "{row.id}") {{ id steps {{ stepNumber }} }}'
        for i, row in enumerate(rows)
    )
    query = f"""
    query($c: UUID!) {{
      {lookups}
      campaignExecutions(campaignId: $c, first: 3) {{
        totalCount edges {{ node {{ id steps {{ channel }} }} }}
      }}
      campaignAnalytics(campaignId: $c) {{ channel deliveryRate }}
    }}
    """

    body = await graphql(query, {"c": str(campaign_id)})

    assert "errors" not in body, body["errors"]
    data = body["data"]
    assert [data[f"e{i}"]["id"] for i in range(4)] == [str(r.id) for r in rows]
    assert data["campaignExecutions"]["totalCount"] == 4
    assert data["campaignAnalytics"] == [{"channel": "SMS", "deliveryRate": 66.67}]


async def test_repeated_query_is_validated_from_the_cache(graphql: Post) -> None:
    cache = cast(
        "functools._lru_cache_wrapper[object]", _get_validate_cache(DEFAULT_MAXSIZE)
    )
    query = f"query Cached{uuid.uuid4().hex} {{ __typename }}"

    await graphql(query)
    hits = cache.cache_info().hits
    await graphql(query)

    assert cache.cache_info().hits == hits + 1


async def test_graphiql_page_follows_the_setting(client_with: ClientWith) -> None:
    shown = await client_with(graphiql=True)
    hidden = await client_with(graphiql=False)
    html = {"Accept": "text/html"}

    assert "GraphiQL" in (await shown.get("/graphql", headers=html)).text
    assert (await hidden.get("/graphql", headers=html)).status_code == 404


@pytest.mark.parametrize("stored_steps", [0, 2])
async def test_execution_steps_are_empty_or_listed(
    database: Database, graphql: Post, stored_steps: int
) -> None:
    run = execution(
        campaign_id=uuid.uuid4(),
        steps=[step(n + 1) for n in range(stored_steps)],
    )
    await store(database, run)
    query = "query($id: UUID!) { campaignExecution(id: $id) { steps { stepNumber } } }"

    body = await graphql(query, {"id": str(run.id)})

    steps = body["data"]["campaignExecution"]["steps"]
    assert [s["stepNumber"] for s in steps] == list(range(1, stored_steps + 1))
