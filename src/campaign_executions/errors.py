"""Errors the service raises on purpose; each one maps to a client answer."""


class AppError(Exception):
    """Base of every expected error: its message is safe to show a client."""

    code = "APP_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(AppError):
    """The request was malformed or asked for something the service refuses."""

    code = "BAD_USER_INPUT"


class NotFoundError(AppError):
    """The named record does not exist."""

    code = "NOT_FOUND"


class ConflictError(AppError):
    """The record's current state forbids the operation."""

    code = "CONFLICT"


class AuthenticationError(AppError):
    """No token, or a token that cannot be trusted."""

    code = "UNAUTHENTICATED"


class PermissionDeniedError(AppError):
    """A valid token that lacks the permission the operation needs."""

    code = "FORBIDDEN"


class ImportFileError(AppError):
    """An import file that cannot be loaded; nothing from it was stored."""

    code = "IMPORT_ERROR"


class LeaseLostError(ConflictError):
    """A worker wrote for an execution whose claim another worker now holds."""

    def __init__(
        self, message: str = "this worker no longer holds the execution"
    ) -> None:
        super().__init__(message)


class ExecutionStoppedError(ConflictError):
    """A worker wrote for an execution that was cancelled or has ended."""

    def __init__(self, message: str = "the execution was cancelled or ended") -> None:
        super().__init__(message)
