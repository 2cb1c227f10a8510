import uuid

import httpx
import pytest

from campaign_executions.storage.engine import Database
from tests.factories import SEED_DETAILS, execution, store
from tests.rest.helpers import BASE

ORIGIN = "https://runs.example.test"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/notificationcampaignexecution/getdetails/{id}",
        "/API/V1/NOTIFICATIONCAMPAIGNEXECUTION/GETDETAILS/{id}",
        "/api/v1/NotificationCampaignExecution/GetDetails/{id}/",
    ],
    ids=["lower", "upper", "trailing-slash"],
)
async def test_paths_match_without_regard_to_case(
    database: Database,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    path: str,
) -> None:
    row = execution(campaign_id=uuid.uuid4())
    await store(database, row)

    response = await client.get(path.format(id=row.id), headers=auth_headers)

    assert response.status_code == 200
    assert response.json()["data"]["id"] == str(row.id)


@pytest.mark.parametrize(
    ("origin", "allowed"), [(ORIGIN, True), ("https://evil.test", False)]
)
async def test_cors_preflight_allows_only_the_configured_origin(
    client: httpx.AsyncClient, origin: str, allowed: bool
) -> None:
    response = await client.options(
        f"{BASE}/GetDataTable/{uuid.uuid4()}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )

    assert (response.status_code == 200) is allowed
    assert (response.headers.get("access-control-allow-origin") == origin) is allowed


async def test_openapi_document_lists_the_four_routes_without_a_token(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{BASE}/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert sorted(document["paths"]) == sorted(
        f"{BASE}/{route}"
        for route in (
            "GetDataTable/{campaignId}",
            "GetDetails/{id}",
            "GetAnalytics/{campaignId}",
            "Cancel/{id}",
        )
    )
    verbs = [verb for item in document["paths"].values() for verb in item]
    assert sorted(verbs) == ["get", "get", "post", "put"]
    schemas = document["components"]["schemas"]
    assert list(schemas["ExecutionDto"]["properties"]) == list(SEED_DETAILS)
    assert {"draw", "start", "length", "order", "columns"} <= set(
        schemas["DtParameters"]["properties"]
    )
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    cancel = document["paths"][f"{BASE}/Cancel/{{id}}"]["put"]
    assert {"400", "401", "403", "404", "409"} <= set(cancel["responses"])
