"""Schema extensions: caches, limits, error codes and masking of unexpected errors.

Every extension is given to the schema as a class or a factory, so each request
gets fresh instances and no state is shared between concurrent requests.
"""

import logging
from collections.abc import Callable, Iterator

from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from campaign_executions.config import Settings
from campaign_executions.errors import AppError

logger = logging.getLogger(__name__)

INTERNAL_ERROR_CODE = "INTERNAL_SERVER_ERROR"

ExtensionFactory = type[SchemaExtension] | Callable[[], SchemaExtension]


def is_unexpected(error: GraphQLError) -> bool:
    """Whether an error came from a fault of ours rather than from the request.

    Syntax and validation errors carry no original exception (or a GraphQL
    one); AppErrors are raised on purpose with a message meant for clients.
    """
    original = error.original_error
    return original is not None and not isinstance(original, AppError | GraphQLError)


def app_error_of(error: GraphQLError) -> AppError | None:
    """The AppError behind an error, through the GraphQL errors that wrap it."""
    cause: BaseException | None = error.original_error
    while isinstance(cause, GraphQLError):
        cause = cause.original_error
    return cause if isinstance(cause, AppError) else None


class MaskUnexpectedErrors(MaskErrors):
    """Replace unexpected errors by "Unexpected error."; leave the rest alone."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        """The masked error, labelled so that clients can tell it apart."""
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL_ERROR_CODE}
        return masked


class AppErrorCodes(SchemaExtension):
    """Put an AppError's code (BAD_USER_INPUT, FORBIDDEN...) in extensions.code."""

    def on_operation(self) -> Iterator[None]:
        """Label the errors of the finished operation."""
        yield
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or ():
            app_error = app_error_of(error)
            if app_error is not None:
                code = app_error.code
                error.extensions = {**(error.extensions or {}), "code": code}


def limit_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    """The depth and alias rules, built once per schema.

    Reusing the same rule classes on every request is what lets
    ValidationCache find a document it validated before: building a new
    limiter per request would make new classes, hence new cache keys.
    """
    depth = QueryDepthLimiter(max_depth=settings.max_query_depth)
    aliases = MaxAliasesLimiter(max_alias_count=settings.max_aliases)
    return [*depth.validation_rules, *aliases.validation_rules]


def schema_extensions(settings: Settings) -> list[ExtensionFactory]:
    """The extensions of the service's schema, as classes or factories."""
    rules = limit_rules(settings)
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        ParserCache,
        lambda: AddValidationRules(rules),
        ValidationCache,
        AppErrorCodes,
        MaskUnexpectedErrors,
    ]


def log_unexpected(errors: list[GraphQLError]) -> None:
    """Log each unexpected error once, with its traceback; client errors are not."""
    for error in errors:
        if is_unexpected(error):
            logger.error(
                "graphql_unexpected_error",
                exc_info=error.original_error,
                extra={"path": ".".join(map(str, error.path or ()))},
            )
