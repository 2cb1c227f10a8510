import uuid

import pytest

from campaign_executions.config import Settings
from campaign_executions.storage.engine import Database
from tests.factories import execution, store
from tests.graphql.conftest import Post
from tests.graphql.helpers import codes, messages

UUID_ADVICE = "is not a valid UUID; send one like 4a5b6c70-0000-0000-0000-000000000001"
BY_ID = "query($id: UUID!) { campaignExecution(id: $id) { id } }"


@pytest.mark.parametrize(
    "query",
    [
        "{",
        "query {",
        "{ campaignExecution(id: ) { id } }",
        '{ campaignExecution(id: "unterminated) { id } }',
    ],
)
async def test_syntax_error_is_parse_failed(graphql: Post, query: str) -> None:
    body = await graphql(query)

    assert body["data"] is None
    assert messages(body).startswith("Syntax Error:")
    assert codes(body) == ["GRAPHQL_PARSE_FAILED"]


async def test_too_many_tokens_is_parse_failed(
    graphql: Post, settings: Settings
) -> None:
    body = await graphql("{ " + "__typename " * settings.max_tokens + "}")

    assert codes(body) == ["GRAPHQL_PARSE_FAILED"]


UNKNOWN_NAMES = {
    "field": '{ campaignExecutoin(id: "4a5b6c70-0000-0000-0000-000000000001") { id } }',
    "argument": "query($c: UUID!) { campaignExecutions(campaignId: $c, frist: 2) "
    "{ totalCount } }",
    "enum value": "query($c: UUID!) { campaignExecutions(campaignId: $c, "
    "filter: {statuses: [RUNING]}) { totalCount } }",
    "input field": "query($c: UUID!) { campaignExecutions(campaignId: $c, "
    "orderBy: {feild: STATUS}) { totalCount } }",
    "variable": "{ campaignExecution(id: $nowhere) { id } }",
}


@pytest.mark.parametrize("name", UNKNOWN_NAMES)
async def test_unknown_name_is_validation_failed(graphql: Post, name: str) -> None:
    body = await graphql(UNKNOWN_NAMES[name], {"c": str(uuid.uuid4())})

    assert body["data"] is None
    assert body["errors"]
    assert set(codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}


async def test_validation_aborted_after_too_many_errors_is_validation_failed(
    graphql: Post,
) -> None:
    query = "{ " + " ".join(f"missing{i}" for i in range(150)) + " }"

    body = await graphql(query)

    assert body["errors"][-1]["message"].endswith("Validation aborted.")
    assert set(codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}


async def test_validation_aborted_by_nested_fragments_is_validation_failed(
    graphql: Post,
) -> None:
    fragments = ["fragment F0 on Query { __typename }"] + [
        f"fragment F{i} on Query {{ ...F{i - 1} }}" for i in range(1, 220)
    ]
    query = "{ ...F219 }\n" + "\n".join(fragments)

    body = await graphql(query)

    assert messages(body) == "Validation aborted."
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


BAD_UUIDS = [
    "not-a-uuid",
    "4a5b6c70-0000-0000-0000-00000000000g",
    "4a5b6c7000-00-0000-0000-000000000001",
    "\uff14a5b6c70-0000-0000-0000-000000000001",  # a fullwidth digit 4
    "urn:uuid:4a5b6c70-0000-0000-0000-000000000001",
    "{4a5b6c70-0000-0000-0000-000000000001",
    " 4a5b6c70-0000-0000-0000-000000000001",
    "",
]


@pytest.mark.parametrize("value", BAD_UUIDS)
async def test_bad_uuid_variable_is_bad_user_input(graphql: Post, value: str) -> None:
    body = await graphql(BY_ID, {"id": value})

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert UUID_ADVICE in messages(body)
    assert "hexadecimal" not in messages(body)


@pytest.mark.parametrize("value", BAD_UUIDS)
async def test_bad_uuid_literal_is_bad_user_input(graphql: Post, value: str) -> None:
    literal = value.replace("\\", "\\\\").replace('"', '\\"')
    query = f'{{ campaignExecution(id: "{literal}") {{ id }} }}'

    body = await graphql(query)

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert UUID_ADVICE in messages(body)
    assert "hexadecimal" not in messages(body)


async def test_uuid_of_another_json_type_is_bad_user_input(graphql: Post) -> None:
    body = await graphql(BY_ID, {"id": 42})

    assert codes(body) == ["BAD_USER_INPUT"]
    assert UUID_ADVICE in messages(body)


@pytest.mark.parametrize(
    "written",
    [
        "{id}",
        "{{{id}}}",
        "{hex}",
        "{{{hex}}}",
        "{upper}",
    ],
)
async def test_uuid_in_a_standard_form_finds_the_execution(
    database: Database, graphql: Post, written: str
) -> None:
    row = execution(campaign_id=uuid.uuid4())
    await store(database, row)
    text = written.format(id=row.id, hex=row.id.hex, upper=str(row.id).upper())

    by_variable = await graphql(BY_ID, {"id": text})
    by_literal = await graphql(f'{{ campaignExecution(id: "{text}") {{ id }} }}')

    expected = {"data": {"campaignExecution": {"id": str(row.id)}}}
    assert by_variable == expected
    assert by_literal == expected


async def test_variable_that_cannot_be_coerced_is_bad_user_input(
    graphql: Post,
) -> None:
    query = (
        "query($c: UUID!, $f: CampaignExecutionFilter) "
        "{ campaignExecutions(campaignId: $c, filter: $f) { totalCount } }"
    )
    variables = {"c": str(uuid.uuid4()), "f": {"statuses": ["RUNING"]}}

    body = await graphql(query, variables)

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
