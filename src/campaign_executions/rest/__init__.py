"""The REST compatibility shim: the platform's four execution routes."""

from starlette.routing import BaseRoute

from .execution import BASE_PATH, execution_routes
from .openapi import serve_openapi
from .routing import ShimMount, ShimRoute


def rest_routes() -> list[BaseRoute]:
    """The shim's routes, mounted at the platform's base path."""
    routes = [
        *execution_routes(),
        ShimRoute("/openapi.json", serve_openapi, method="GET"),
    ]
    return [ShimMount(BASE_PATH, routes)]
