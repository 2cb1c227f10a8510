import uuid

import httpx
import pytest

from campaign_executions.auth.permission import Permission
from campaign_executions.domain import ExecutionStatus
from campaign_executions.storage.engine import Database
from campaign_executions.storage.execution import get_execution
from tests.factories import execution, store
from tests.rest.conftest import TokenFor
from tests.rest.helpers import BASE, assert_clean_failure, grid_body

# (method, route, the permission it needs)
ROUTES = [
    ("POST", "GetDataTable/{campaign}", Permission.ANALYTICS),
    ("GET", "GetDetails/{execution}", Permission.ANALYTICS),
    ("GET", "GetAnalytics/{campaign}", Permission.ANALYTICS),
    ("PUT", "Cancel/{execution}", Permission.CANCEL),
]
# (caller, expected status)
CALLERS = [
    ("no-token", 401),
    ("expired", 401),
    ("other-secret", 401),
    ("alg-none", 401),
    ("lacks-permission", 403),
    ("holds-permission", 200),
]


@pytest.mark.parametrize("caller", CALLERS, ids=[c for c, _ in CALLERS])
@pytest.mark.parametrize("route", ROUTES, ids=[r.split("/")[0] for _, r, _ in ROUTES])
async def test_routes_answer_by_token_and_permission(
    database: Database,
    client: httpx.AsyncClient,
    headers_for: TokenFor,
    route: tuple[str, str, Permission],
    caller: tuple[str, int],
) -> None:
    method, template, needed = route
    kind, status = caller
    row = execution(campaign_id=uuid.uuid4(), status=ExecutionStatus.RUNNING)
    await store(database, row)
    path = template.format(campaign=row.campaign_id, execution=row.id)
    body = grid_body(draw=5) if method == "POST" else None

    response = await client.request(
        method,
        f"{BASE}/{path}",
        json=body,
        headers=headers_for(kind, needed),
    )

    if status == 200:
        assert response.status_code == 200, response.text
        return
    answer = assert_clean_failure(response, status)
    if method == "POST":
        assert answer["error"] == answer["message"]
        assert answer["draw"] == 5
    async with database.read() as session:
        stored = await get_execution(session, execution_id=row.id)
    assert stored is not None
    assert stored.status == ExecutionStatus.RUNNING


async def test_authorization_header_without_bearer_scheme_is_401(
    database: Database, client: httpx.AsyncClient
) -> None:
    response = await client.get(
        f"{BASE}/GetAnalytics/{uuid.uuid4()}", headers={"Authorization": "Basic eDp5"}
    )

    assert_clean_failure(response, 401)
