"""The ASGI GraphQL view: builds the typed context of each request."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from campaign_executions.auth.permission import Principal
from campaign_executions.errors import AuthenticationError
from campaign_executions.resolvers import loaders
from campaign_executions.services import Services

from .context import GraphQLContext


class CampaignGraphQL(GraphQL[GraphQLContext, None]):
    """Strawberry's ASGI view with our context, GraphiQL switch and protocols."""

    def __init__(self, schema: BaseSchema, services: Services) -> None:
        settings = services.settings
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            # The legacy graphql-ws protocol has had an authentication bypass.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=settings.cors_origins,
        )
        self.services = services

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> GraphQLContext:
        """The caller (or why their token failed), services and fresh loaders."""
        principal: Principal | None = None
        failure: AuthenticationError | None = None
        try:
            principal = self.services.authenticate(request)
        except AuthenticationError as error:
            failure = error
        return GraphQLContext(
            request=request,
            response=response,
            services=self.services,
            principal=principal,
            authentication_error=failure,
            loaders=loaders.create_loaders(self.services.database),
        )
