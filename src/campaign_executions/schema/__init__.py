"""The GraphQL schema: types, queries, mutation and subscription."""

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp

from campaign_executions.services import Services


def create_graphql_app(services: Services) -> ASGIApp:
    """The GraphQL endpoint for these services."""
    return PlainTextResponse("not yet")
