"""Case-insensitive routes and mounts, with enveloped 404 and 405 answers.

The platform's router matched paths without regard to case and with or
without a trailing slash; these classes recompile Starlette's path patterns
to do the same.
"""

import re

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketClose

from .envelope import FailureResponder, Handler, failure_body, guarded, respond_failure


def _ignoring_case(
    pattern: re.Pattern[str], *, trailing_slash: bool
) -> re.Pattern[str]:
    source = pattern.pattern
    if trailing_slash:
        source = source.removesuffix("$") + "/?$"
    return re.compile(source, re.IGNORECASE)


class ShimRoute(Route):
    """One verb on one path; errors, a wrong verb included, go to `failure`."""

    def __init__(
        self,
        path: str,
        handler: Handler,
        *,
        method: str,
        failure: FailureResponder = respond_failure,
    ) -> None:
        super().__init__(path, guarded(handler, failure), methods=[method])
        self.failure = failure
        self.path_regex = _ignoring_case(self.path_regex, trailing_slash=True)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the endpoint, or answer 405 with an envelope for another verb."""
        allowed = self.methods or set()
        if scope["method"] in allowed:
            await super().handle(scope, receive, send)
            return
        verbs = ", ".join(sorted(allowed))
        message = f"{scope['method']} is not allowed on this route; use {verbs}."
        response = await self.failure(Request(scope, receive), 405, message)
        response.headers["Allow"] = verbs
        await response(scope, receive, send)


class ShimMount(Mount):
    """A base path matched case-insensitively; unknown paths below it answer 404."""

    def __init__(self, path: str, routes: list[BaseRoute]) -> None:
        router = Router(routes=routes, redirect_slashes=False, default=answer_not_found)
        super().__init__(path, app=router)
        self.path_regex = _ignoring_case(self.path_regex, trailing_slash=False)


async def answer_not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """The envelope for a path under the base path that names no route."""
    if scope["type"] != "http":
        await WebSocketClose()(scope, receive, send)
        return
    message = (
        "There is no such route here; the openapi.json under this base path "
        "lists the routes."
    )
    response = JSONResponse(failure_body(message), status_code=404)
    await response(scope, receive, send)
