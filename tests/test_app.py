from collections.abc import AsyncIterator

import httpx

from campaign_executions.app import create_app
from campaign_executions.config import Settings
from campaign_executions.storage.engine import Database


async def test_healthz_and_readyz_answer_when_the_database_does(
    client: httpx.AsyncClient,
):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ok"}


async def test_readyz_is_503_when_the_database_is_unreachable(tmp_path):
    missing = tmp_path / "no-such-dir" / "db.sqlite"
    database = Database.from_url(f"sqlite+aiosqlite:///{missing}")
    app = create_app(Settings(jwt_secret="x" * 32), database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/readyz")
    await database.dispose()

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient):
    await client.get("/healthz")

    text = (await client.get("/metrics")).text

    assert "campaign_executions_http_requests_total" in text
    assert 'route="/healthz"' in text


async def test_metrics_label_rest_routes_by_template(
    client: httpx.AsyncClient, auth_headers
):
    await client.get(
        "/api/v1/NotificationCampaignExecution/GetDetails/"
        "4a5b6c70-0000-0000-0000-000000000001",
        headers=auth_headers,
    )

    text = (await client.get("/metrics")).text

    assert 'route="/GetDetails/{id}"' in text


async def test_oversized_graphql_body_is_refused_with_413(client: httpx.AsyncClient):
    padding = "x" * (1024 * 1024 + 10)

    response = await client.post(
        "/graphql", json={"query": "{ __typename }", "padding": padding}
    )

    assert response.status_code == 413
    assert "larger than 1024 KiB" in response.json()["message"]


async def test_oversized_streamed_body_is_refused_with_413(client: httpx.AsyncClient):
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(200):
            yield b"x" * 8192

    response = await client.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413


async def test_readyz_is_503_until_the_schema_is_migrated(tmp_path):
    database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    app = create_app(Settings(jwt_secret="x" * 32), database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/readyz")
    await database.dispose()

    assert response.status_code == 503
    assert "migrate" in response.json()["status"]
