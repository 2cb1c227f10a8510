"""The REST compatibility shim: the platform's four execution routes."""

from starlette.routing import BaseRoute


def rest_routes() -> list[BaseRoute]:
    """The shim's routes, mounted at the platform's base path."""
    return []
