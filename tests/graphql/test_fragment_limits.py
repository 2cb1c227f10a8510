import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest
from graphql import get_introspection_query

from campaign_executions.config import Settings
from tests.graphql.conftest import Post, post_graphql
from tests.graphql.helpers import codes, messages

ClientWith = Callable[..., Awaitable[httpx.AsyncClient]]

VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def doubling_fragments(levels: int, selection: str = "id") -> str:
    """F0 selects `selection`; every later fragment spreads the one before twice."""
    fragments = [f"fragment F0 on CampaignExecution {{ {selection} }}"]
    fragments += [
        f"fragment F{i} on CampaignExecution {{ ...F{i - 1} ...F{i - 1} }}"
        for i in range(1, levels)
    ]
    return "\n".join(fragments)


def fragment_bomb(levels: int, selection: str = "id") -> str:
    """The tester's anonymous request: one lookup spreading the last fragment."""
    lookup = f'campaignExecution(id: "{uuid.uuid4()}")'
    return (
        f"{{ {lookup} {{ ...F{levels - 1} }} }}\n"
        f"{doubling_fragments(levels, selection)}"
    )


@pytest.mark.parametrize("levels", [22, 30])
async def test_fragment_bomb_is_refused_for_its_expanded_size(
    graphql: Post, settings: Settings, levels: int
) -> None:
    expanded = 2 ** (levels - 1) + 1  # the doubled ids and the lookup itself

    body = await graphql(fragment_bomb(levels))

    assert body["data"] is None
    assert codes(body) == [VALIDATION_FAILED]
    assert messages(body).startswith(
        f"{expanded} fields found once fragments are expanded. "
        f"Allowed: {settings.max_fields}"
    )


@pytest.mark.parametrize("levels", [22, 30])
async def test_alias_bomb_counts_every_spread_alias(
    graphql: Post, settings: Settings, levels: int
) -> None:
    body = await graphql(fragment_bomb(levels, selection="a: id"))

    assert body["data"] is None
    assert codes(body) == [VALIDATION_FAILED, VALIDATION_FAILED]
    alias_error, fields_error = (error["message"] for error in body["errors"])
    assert alias_error == (
        f"{2 ** (levels - 1)} aliases found. Allowed: {settings.max_aliases}"
    )
    assert fields_error.startswith(f"{2 ** (levels - 1) + 1} fields found")


SPREAD_TWICE = """
query($id: UUID!) { campaignExecution(id: $id) { ...F2 } }
fragment F0 on CampaignExecution { id status }
fragment F1 on CampaignExecution { ...F0 ...F0 }
fragment F2 on CampaignExecution { ...F1 ...F1 }
"""


async def test_field_limit_counts_spread_fields_and_allows_up_to_it(
    client_with: ClientWith, auth_headers: dict[str, str]
) -> None:
    variables = {"id": str(uuid.uuid4())}
    fits = await client_with(max_fields=9)  # the lookup and 4 x (id, status)
    too_small = await client_with(max_fields=8)

    allowed = await post_graphql(fits, SPREAD_TWICE, variables, auth_headers)
    refused = await post_graphql(too_small, SPREAD_TWICE, variables, auth_headers)

    assert allowed == {"data": {"campaignExecution": None}}
    assert refused["data"] is None
    assert codes(refused) == [VALIDATION_FAILED]
    assert messages(refused).startswith(
        "9 fields found once fragments are expanded. Allowed: 8"
    )


DEEP_BY_FRAGMENTS = """
query Deep($campaignId: UUID!) {
  campaignExecutions(campaignId: $campaignId) { ...Edges }
}
fragment Edges on CampaignExecutionConnection { edges { ...Node } }
fragment Node on CampaignExecutionEdge { node { ...Steps } }
fragment Steps on CampaignExecution { id steps { stepNumber } }
"""


@pytest.mark.parametrize(("max_depth", "refused"), [(3, True), (4, False)])
async def test_depth_counts_levels_inside_fragments(
    client_with: ClientWith,
    auth_headers: dict[str, str],
    max_depth: int,
    refused: bool,
) -> None:
    http = await client_with(max_query_depth=max_depth)
    variables = {"campaignId": str(uuid.uuid4())}

    body = await post_graphql(http, DEEP_BY_FRAGMENTS, variables, auth_headers)

    if refused:
        assert body["data"] is None
        assert codes(body) == [VALIDATION_FAILED]
        assert "'Deep' nests fields 4 levels deep" in messages(body)
        assert "exceeds maximum operation depth of 3" in messages(body)
    else:
        assert body == {"data": {"campaignExecutions": {"edges": []}}}


@pytest.mark.parametrize(
    "cycle",
    [
        "fragment A on CampaignExecution { id ...A }",
        "fragment A on CampaignExecution { id ...B } "
        "fragment B on CampaignExecution { status ...A }",
    ],
)
async def test_fragment_cycle_is_refused(graphql: Post, cycle: str) -> None:
    query = f'{{ campaignExecution(id: "{uuid.uuid4()}") {{ ...A }} }} {cycle}'

    body = await graphql(query)

    assert body["data"] is None
    assert set(codes(body)) == {VALIDATION_FAILED}
    assert "Cannot spread fragment 'A' within itself" in messages(body)


async def test_introspection_is_outside_the_depth_count(
    client_with: ClientWith, auth_headers: dict[str, str]
) -> None:
    http = await client_with(max_query_depth=1)
    query = get_introspection_query(descriptions=True, input_value_deprecation=True)

    body = await post_graphql(http, query, None, auth_headers)

    assert "errors" not in body, body["errors"]
    names = {kind["name"] for kind in body["data"]["__schema"]["types"]}
    assert {"Query", "Mutation", "CampaignExecution"} <= names


async def test_fragment_bomb_inside_introspection_is_refused(graphql: Post) -> None:
    fragments = ["fragment T0 on __Type { name }"] + [
        f"fragment T{i} on __Type {{ ...T{i - 1} ...T{i - 1} }}" for i in range(1, 22)
    ]
    query = "{ __schema { types { ...T21 } } }\n" + "\n".join(fragments)

    body = await graphql(query)

    assert body["data"] is None
    assert codes(body) == [VALIDATION_FAILED]
    assert messages(body).startswith(f"{2**21 + 2} fields found")
