import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest

from campaign_executions.auth.permission import Permission
from campaign_executions.domain import ExecutionStatus
from campaign_executions.storage.engine import Database
from campaign_executions.storage.execution import get_execution
from tests.factories import execution, store
from tests.graphql.conftest import Post
from tests.graphql.helpers import Body, bearer, codes, foreign_token, unsigned_token

CAMPAIGN_ID = uuid.UUID("3c4d5e60-0000-0000-0000-0000000000aa")
EXECUTION_ID = uuid.UUID("4a5b6c70-0000-0000-0000-0000000000aa")
VARIABLES = {"id": str(EXECUTION_ID), "campaignId": str(CAMPAIGN_ID)}

OPERATIONS = {
    "campaignExecution": (
        "query($id: UUID!) { campaignExecution(id: $id) { id } }",
        Permission.ANALYTICS,
    ),
    "campaignExecutions": (
        "query($campaignId: UUID!) { campaignExecutions(campaignId: $campaignId) "
        "{ totalCount edges { node { id } } } }",
        Permission.ANALYTICS,
    ),
    "campaignAnalytics": (
        "query($campaignId: UUID!) { campaignAnalytics(campaignId: $campaignId) "
        "{ stepNumber } }",
        Permission.ANALYTICS,
    ),
    "cancelCampaignExecution": (
        "mutation($id: UUID!) { cancelCampaignExecution(id: $id) { __typename } }",
        Permission.CANCEL,
    ),
}

OTHER = {
    Permission.ANALYTICS: Permission.CANCEL,
    Permission.CANCEL: Permission.ANALYTICS,
}

TokenKind = Callable[[Callable[..., str], Permission], dict[str, str]]
REFUSED: dict[str, tuple[TokenKind, str]] = {
    "no token": (lambda _make, _p: {}, "UNAUTHENTICATED"),
    "not bearer": (lambda make, p: {"Authorization": make(p)}, "UNAUTHENTICATED"),
    "expired": (
        lambda make, p: bearer(make(p, ttl=timedelta(minutes=-5))),
        "UNAUTHENTICATED",
    ),
    "other secret": (lambda _make, p: bearer(foreign_token(p)), "UNAUTHENTICATED"),
    "alg none": (lambda _make, p: bearer(unsigned_token(p)), "UNAUTHENTICATED"),
    "lacks permission": (lambda make, p: bearer(make(OTHER[p])), "FORBIDDEN"),
}


@pytest.fixture
async def stored(database: Database) -> None:
    row = execution(
        id=EXECUTION_ID, campaign_id=CAMPAIGN_ID, status=ExecutionStatus.RUNNING
    )
    await store(database, row)


def field_is_null(body: Body, field: str) -> bool:
    return body["data"] is None or body["data"][field] is None


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize("field", OPERATIONS)
@pytest.mark.parametrize("kind", REFUSED)
async def test_refused_caller_gets_an_error_and_no_data(
    database: Database,
    graphql: Post,
    make_token: Callable[..., str],
    field: str,
    kind: str,
) -> None:
    query, permission = OPERATIONS[field]
    headers_for, code = REFUSED[kind]

    body = await graphql(query, VARIABLES, headers=headers_for(make_token, permission))

    assert codes(body) == [code]
    assert field_is_null(body, field)
    assert body["errors"][0]["path"] == [field]
    async with database.read() as session:
        row = await get_execution(session, execution_id=EXECUTION_ID)
    assert row is not None
    assert row.status == ExecutionStatus.RUNNING


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize("field", OPERATIONS)
async def test_caller_with_the_permission_gets_data(
    graphql: Post, make_token: Callable[..., str], field: str
) -> None:
    query, permission = OPERATIONS[field]

    body = await graphql(query, VARIABLES, headers=bearer(make_token(permission)))

    assert "errors" not in body
    assert body["data"][field] is not None


async def test_expired_token_error_says_so(
    graphql: Post, make_token: Callable[..., str]
) -> None:
    query, _ = OPERATIONS["campaignAnalytics"]
    token = make_token(Permission.ANALYTICS, ttl=timedelta(minutes=-5))

    body = await graphql(query, VARIABLES, headers=bearer(token))

    assert body["errors"][0]["message"] == "The bearer token has expired."


ALIASED = """
query($id: UUID!) {
  mine: campaignExecution(id: $id) { id }
  yours: campaignExecution(id: $id) { id }
}
"""

FRAGMENTED = """
query($id: UUID!) { ...Reads ... on Query { inline: campaignExecution(id: $id) { id } } }
fragment Reads on Query { campaignExecution(id: $id) { ...Fields } }
fragment Fields on CampaignExecution { id status }
"""


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    ("query", "fields"),
    [(ALIASED, ["mine", "yours"]), (FRAGMENTED, ["campaignExecution", "inline"])],
)
async def test_aliases_and_fragments_do_not_bypass_the_check(
    graphql: Post, make_token: Callable[..., str], query: str, fields: list[str]
) -> None:
    refused = await graphql(query, VARIABLES, headers={})
    forbidden = await graphql(
        query, VARIABLES, headers=bearer(make_token(Permission.CANCEL))
    )
    allowed = await graphql(
        query, VARIABLES, headers=bearer(make_token(Permission.ANALYTICS))
    )

    assert refused["data"] == dict.fromkeys(fields)
    assert codes(refused) == ["UNAUTHENTICATED"] * len(fields)
    assert forbidden["data"] == dict.fromkeys(fields)
    assert codes(forbidden) == ["FORBIDDEN"] * len(fields)
    assert "errors" not in allowed
    assert [allowed["data"][f]["id"] for f in fields] == [str(EXECUTION_ID)] * 2


async def test_bad_token_still_allows_unprotected_fields(graphql: Post) -> None:
    body = await graphql("{ __typename }", headers=bearer("garbage"))

    assert body == {"data": {"__typename": "Query"}}
