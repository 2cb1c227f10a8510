import logging
import uuid
from collections.abc import Callable, Iterable

import httpx
import pytest

from campaign_executions.auth.permission import Permission
from campaign_executions.domain import ExecutionStatus
from campaign_executions.rest import datatable
from campaign_executions.rest import execution as execution_routes
from campaign_executions.rest.envelope import GENERIC_FAILURE
from campaign_executions.storage.engine import Database
from tests.factories import execution, store
from tests.rest.helpers import BASE, assert_clean_failure, grid_body, post_grid

SUCCEEDED_ID = uuid.UUID("00000000-0000-4000-8000-000000000002")

# (method, path, caller's permissions or None for no token, expected status)
FAILURES = {
    "bad-guid": ("GET", "GetDetails/not-a-guid", Permission, 400),
    "no-token": ("GET", f"GetDetails/{SUCCEEDED_ID}", None, 401),
    "forbidden": ("PUT", f"Cancel/{SUCCEEDED_ID}", [Permission.ANALYTICS], 403),
    "not-found": ("GET", f"GetDetails/{uuid.uuid4()}", Permission, 404),
    "conflict": ("PUT", f"Cancel/{SUCCEEDED_ID}", Permission, 409),
    "wrong-verb": ("DELETE", f"GetDetails/{SUCCEEDED_ID}", Permission, 405),
    "unknown-route": ("GET", "GetEverything/all", Permission, 404),
    "unknown-deeper-route": (
        "POST",
        f"GetDetails/{SUCCEEDED_ID}/more",
        Permission,
        404,
    ),
}


@pytest.mark.parametrize("case", FAILURES.values(), ids=FAILURES.keys())
async def test_every_error_status_is_a_clean_envelope(
    database: Database,
    client: httpx.AsyncClient,
    make_token: Callable[..., str],
    case: tuple[str, str, Iterable[Permission] | None, int],
) -> None:
    method, path, permissions, status = case
    row = execution(
        id=SUCCEEDED_ID, campaign_id=uuid.uuid4(), status=ExecutionStatus.SUCCEEDED
    )
    await store(database, row)
    headers: dict[str, str] = {}
    if permissions is not None:
        headers["Authorization"] = f"Bearer {make_token(*permissions)}"

    response = await client.request(method, f"{BASE}/{path}", headers=headers)

    body = assert_clean_failure(response, status)
    assert list(body) == ["succeeded", "message", "data"]
    assert response.headers["content-type"] == "application/json"


async def test_wrong_verb_names_the_allowed_one(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    response = await client.get(f"{BASE}/Cancel/{uuid.uuid4()}", headers=auth_headers)

    body = assert_clean_failure(response, 405)
    assert response.headers["allow"] == "PUT"
    assert "use PUT" in body["message"]


async def test_wrong_verb_on_the_grid_route_also_reads_as_a_dt_result(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    response = await client.get(
        f"{BASE}/GetDataTable/{uuid.uuid4()}", headers=auth_headers
    )

    body = assert_clean_failure(response, 405)
    assert body["error"] == body["message"]
    assert (body["draw"], body["recordsTotal"], body["recordsFiltered"]) == (0, 0, 0)


async def test_unexpected_error_is_logged_once_and_hidden(
    database: Database,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom SELECT secret")

    monkeypatch.setattr(execution_routes, "get_execution", explode)

    with caplog.at_level(logging.ERROR):
        response = await client.get(
            f"{BASE}/GetDetails/{uuid.uuid4()}", headers=auth_headers
        )

    body = assert_clean_failure(response, 500)
    assert body["message"] == GENERIC_FAILURE
    for secret in ("boom", "secret", "RuntimeError"):
        assert secret not in response.text
    [record] = caplog.records
    assert record.getMessage() == "rest_request_failed"
    assert getattr(record, "error_type", None) == "RuntimeError"


async def test_unexpected_grid_error_is_hidden_in_both_shapes(
    database: Database,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom SELECT secret")

    monkeypatch.setattr(datatable, "count_executions", explode)

    response = await post_grid(client, uuid.uuid4(), grid_body(draw=3), auth_headers)

    body = assert_clean_failure(response, 500)
    assert body["error"] == body["message"] == GENERIC_FAILURE
    assert body["draw"] == 3
    assert "boom" not in response.text


@pytest.mark.parametrize(
    "guid",
    [
        "\uff14a5b6c70-0000-0000-0000-000000000001",
        "urn:uuid:4a5b6c70-0000-0000-0000-000000000001",
        "4a5b6c70-0000-0000-0000-00000000000",
    ],
)
async def test_non_standard_guid_forms_are_a_400(
    client: httpx.AsyncClient, auth_headers: dict[str, str], guid: str
):
    response = await client.get(f"{BASE}/GetDetails/{guid}", headers=auth_headers)

    assert_clean_failure(response, 400)
