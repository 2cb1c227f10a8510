"""The ASGI application: GraphQL, the REST shim, health and metrics in one app."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from .auth.token import TokenVerifier
from .body_limit import BodyLimitMiddleware
from .config import Settings
from .metrics import MetricsMiddleware, metrics_endpoint
from .rest import rest_routes
from .schema import create_graphql_app
from .services import Services, services_of
from .storage.engine import Database
from .storage.migrate import schema_is_current

logger = logging.getLogger(__name__)


def create_app(settings: Settings, database: Database | None = None) -> Starlette:
    """The service's app; it owns (and disposes) the database unless given one."""
    owns_database = database is None
    services = Services(
        settings=settings,
        database=database or Database.from_url(settings.database_url),
        verifier=TokenVerifier(settings),
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        if owns_database:
            await services.database.dispose()

    graphql_app = create_graphql_app(services)
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            *rest_routes(),
            # Routes, not a Mount: a Mount answers POST /graphql with a 307 to
            # /graphql/, which GraphQL clients do not follow.
            Route("/graphql", graphql_app),
            WebSocketRoute("/graphql", graphql_app),
        ],
        middleware=[
            Middleware(MetricsMiddleware),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes),
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "PUT", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=600,
            ),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    return app


async def healthz(_request: Request) -> Response:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Readiness: the database answers and its schema is up to date."""
    # Any failure at all means "not ready"; the log says which.
    try:
        current = await schema_is_current(services_of(request).database.engine)
    except Exception:
        logger.warning("database_unreachable", exc_info=True)
        return JSONResponse({"status": "unavailable"}, status_code=503)
    if not current:
        return JSONResponse(
            {"status": "schema out of date: run `campaign-executions migrate`"},
            status_code=503,
        )
    return JSONResponse({"status": "ok"})
