"""The envelope every shim answer wears, and the one map from errors to statuses.

An answer is `{"succeeded", "message", "data"}`. Errors of our own kinds keep
their message; anything else is logged once here and answered with a generic
500, so no stack trace or SQL text ever reaches a client.
"""

import functools
import logging
from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from campaign_executions.errors import (
    AppError,
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)

logger = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]
FailureResponder = Callable[[Request, int, str], Awaitable[Response]]

GENERIC_FAILURE = (
    "The server could not answer this request because of an internal error; "
    "try again later, and report it if it persists."
)

_STATUSES: tuple[tuple[type[AppError], int], ...] = (
    (InvalidInputError, 400),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
)


def envelope(data: object) -> JSONResponse:
    """A successful answer carrying `data`."""
    return JSONResponse({"succeeded": True, "message": None, "data": data})


def failure_body(message: str) -> dict[str, object]:
    """The envelope of a failed request."""
    return {"succeeded": False, "message": message, "data": None}


async def respond_failure(_request: Request, status: int, message: str) -> Response:
    """A failed request's envelope with its status."""
    return JSONResponse(failure_body(message), status_code=status)


def classify(error: Exception, request: Request) -> tuple[int, str]:
    """The status and client-safe message for `error`; logs the unexpected ones."""
    for kind, status in _STATUSES:
        if isinstance(error, kind):
            return status, error.message
    if isinstance(error, HTTPException) and error.status_code < 500:
        return error.status_code, error.detail
    logger.error(
        "rest_request_failed",
        exc_info=error,
        extra={
            "method": request.method,
            "path": request.url.path,
            "error_type": type(error).__name__,
        },
    )
    return 500, GENERIC_FAILURE


def guarded(handler: Handler, failure: FailureResponder = respond_failure) -> Handler:
    """`handler`, with every error it raises answered by `failure`."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        # The shim's single error boundary: each error becomes an answer here.
        except Exception as error:  # noqa: BLE001
            status, message = classify(error, request)
            return await failure(request, status, message)

    return endpoint
