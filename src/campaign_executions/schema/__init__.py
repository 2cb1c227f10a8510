"""The GraphQL schema: types, queries, mutation, typed context and extensions."""

import re

from graphql import GraphQLError
from starlette.types import ASGIApp
from strawberry import Schema
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from campaign_executions.config import Settings
from campaign_executions.services import Services

from .extensions import log_unexpected, schema_extensions
from .mutation import Mutation
from .query import Query
from .scalars import SCALAR_OVERRIDES
from .view import CampaignGraphQL

_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class CampaignSchema(Schema):
    """The schema, hiding every name suggestion and logging only our faults."""

    @staticmethod
    def remove_field_suggestion(error: GraphQLError) -> None:
        """Strip "Did you mean" hints of fields, arguments, input fields and enums.

        Strawberry strips only those of fields; the others reveal the schema too.
        """
        error.message = _SUGGESTION.sub("", error.message)

    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,
    ) -> None:
        """Client errors (bad input, no permission) are answers, not incidents."""
        log_unexpected(errors)


def create_schema(settings: Settings) -> Schema:
    """The service's schema with the limits the settings name."""
    return CampaignSchema(
        query=Query,
        mutation=Mutation,
        extensions=schema_extensions(settings),
        config=StrawberryConfig(disable_field_suggestions=True),
        scalar_overrides=SCALAR_OVERRIDES,
    )


def create_graphql_app(services: Services) -> ASGIApp:
    """The GraphQL endpoint for these services."""
    return CampaignGraphQL(create_schema(services.settings), services)
