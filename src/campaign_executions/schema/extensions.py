"""Schema extensions: caches, limits, error codes and masking of unexpected errors.

Every extension is given to the schema as a class or a factory, so each request
gets fresh instances and no state is shared between concurrent requests.
"""

import logging
from collections.abc import Callable, Iterator

from graphql import (
    ASTValidationRule,
    FloatValueNode,
    GraphQLError,
    GraphQLSyntaxError,
    IntValueNode,
)
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)

from campaign_executions.config import Settings
from campaign_executions.errors import AppError, InvalidInputError

from .limits import Limits, create_limit_rule

logger = logging.getLogger(__name__)

INTERNAL_ERROR_CODE = "INTERNAL_SERVER_ERROR"
PARSE_FAILED_CODE = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED_CODE = "GRAPHQL_VALIDATION_FAILED"
BAD_INPUT_CODE = InvalidInputError.code

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


class CachedParser(ParserCache):
    """ParserCache that lets a syntax error come back like any other error.

    Raised from this hook, a syntax error would skip the end of every
    extension's operation, so ErrorCodes could not label it. On a syntax error
    the document is left unparsed instead: Strawberry parses it again itself
    and answers with the error inside the operation. Documents that fail are
    never cached anyway.
    """

    def on_parse(self) -> Iterator[None]:
        """Parse through the cache unless the document does not parse."""
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        except GraphQLError:
            context.graphql_document = None
        yield


class ErrorCodes(SchemaExtension):
    """Give every client error an extensions.code.

    AppErrors carry their own (BAD_USER_INPUT, FORBIDDEN...); syntax errors get
    GRAPHQL_PARSE_FAILED, validation errors GRAPHQL_VALIDATION_FAILED, and
    variables that cannot be coerced BAD_USER_INPUT.
    """

    def __init__(self) -> None:
        super().__init__()
        self.validation_errors: list[GraphQLError] = []

    def on_validate(self) -> Iterator[None]:
        """Remember which errors validation found."""
        yield
        self.validation_errors = list(self.execution_context.pre_execution_errors or ())

    def on_operation(self) -> Iterator[None]:
        """Label the errors of the finished operation."""
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            # Copies: validation errors are cached and shared between requests.
            result.errors = [self.labelled(error) for error in errors]

    def labelled(self, error: GraphQLError) -> GraphQLError:
        """The error with its code, or itself when it has one or gets none."""
        extensions = error.extensions or {}
        code = None if "code" in extensions else self.code_of(error)
        if code is None:
            return error
        return GraphQLError(
            error.message,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            error.original_error,
            {**extensions, "code": code},
        )

    def code_of(self, error: GraphQLError) -> str | None:
        """The code an unlabelled error deserves, if any."""
        app_error = app_error_of(error)
        if app_error is not None:
            return app_error.code
        if isinstance(error, GraphQLSyntaxError):
            return PARSE_FAILED_CODE
        if any(error is found for found in self.validation_errors):
            return BAD_INPUT_CODE if refuses_a_number(error) else VALIDATION_FAILED_CODE
        if error.path is None:
            # Before execution proper: the variables could not be coerced.
            return BAD_INPUT_CODE
        return None


def refuses_a_number(error: GraphQLError) -> bool:
    """Whether a validation error is about a number literal (out of range, say).

    Such a literal fits the schema's shape but not its range, like a value
    refused by a resolver; errors about names stay validation failures.
    """
    nodes = error.nodes or []
    return bool(nodes) and isinstance(nodes[0], IntValueNode | FloatValueNode)


def limit_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    """The rule bounding depth, aliases and fields, built once per schema.

    Reusing the same rule class on every request is what lets ValidationCache
    find a document it validated before: a rule class built per request would
    make new cache keys.
    """
    limits = Limits(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_fields=settings.max_fields,
    )
    return [create_limit_rule(limits)]


def schema_extensions(settings: Settings) -> list[ExtensionFactory]:
    """The extensions of the service's schema, as classes or factories."""
    rules = limit_rules(settings)
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        CachedParser,
        lambda: AddValidationRules(rules),
        ValidationCache,
        ErrorCodes,
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
