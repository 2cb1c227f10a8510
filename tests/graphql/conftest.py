"""Fixtures for the GraphQL tests: a poster for /graphql and clients with limits."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from campaign_executions.app import create_app
from campaign_executions.config import Settings
from campaign_executions.storage.engine import Database

Body = dict[str, Any]
Post = Callable[..., Awaitable[Body]]


async def post_graphql(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Body:
    """POST one operation to /graphql; GraphQL answers 200 even with errors."""
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers=headers or {},
    )
    assert response.status_code == 200, response.text
    body: Body = response.json()
    return body


@pytest.fixture
def graphql(client: httpx.AsyncClient, auth_headers: dict[str, str]) -> Post:
    """Post as a caller holding every permission, unless `headers` says otherwise."""

    async def post(
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Body:
        chosen = auth_headers if headers is None else headers
        return await post_graphql(client, query, variables, chosen)

    return post


@pytest.fixture
async def client_with(
    settings: Settings, database: Database
) -> AsyncIterator[Callable[..., Awaitable[httpx.AsyncClient]]]:
    """Build clients on apps whose settings differ from the default ones."""
    async with AsyncExitStack() as stack:

        async def build(**overrides: Any) -> httpx.AsyncClient:
            app = create_app(settings.model_copy(update=overrides), database=database)
            transport = httpx.ASGITransport(app=app)
            http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            return await stack.enter_async_context(http)

        yield build
