"""The grid's request: DtParameters, from a JSON body or the grid's form encoding.

Keys the protocol does not use are ignored, numbers and booleans may come as
strings, and `dir` may be in any case. Omitted fields take the grid's
defaults: draw 0, start 0, length 10, no search, and the default order.
"""

import json
from typing import Annotated, Literal
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.requests import Request

from campaign_executions.errors import InvalidInputError

from .form import parse_bracketed

Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
DEFAULT_LENGTH = 10
FORM_TYPE = "application/x-www-form-urlencoded"
# A grid of a dozen columns sends about 3 KiB; far larger bodies are refused
# before they are parsed.
MAX_BODY_BYTES = 256 * 1024
MAX_FORM_FIELDS = 2000
MAX_ORDER_TERMS = 32
MAX_COLUMNS = 200


class DtSearch(BaseModel):
    """A search box: the global one or a column's."""

    model_config = ConfigDict(extra="ignore")

    value: str | None = ""
    regex: bool = False


class DtColumn(BaseModel):
    """One grid column: the DTO field it shows (`data`, else `name`)."""

    model_config = ConfigDict(extra="ignore")

    data: str | None = None
    name: str | None = None
    searchable: bool = True
    orderable: bool = True
    search: DtSearch = Field(default_factory=DtSearch)

    @field_validator("data", mode="before")
    @classmethod
    def _text_or_none(cls, value: object) -> object:
        # The grid sends the column's index when `data` is not set, and an
        # object for orthogonal data; neither names a field.
        return value if isinstance(value, str) else None


class DtOrder(BaseModel):
    """One ordering: an index into `columns` and a direction."""

    model_config = ConfigDict(extra="ignore")

    column: Int32
    dir: Literal["asc", "desc"] = "asc"

    @field_validator("dir", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


class DtParameters(BaseModel):
    """The grid's request, as the platform's DtParameters binds it."""

    model_config = ConfigDict(extra="ignore")

    draw: Int32 = 0
    start: Int32 = 0
    length: Int32 = DEFAULT_LENGTH
    search: DtSearch = Field(default_factory=DtSearch)
    # A grid orders by a few columns at most; SQLite refuses ORDER BY lists
    # in the thousands, so the length is bounded here.
    order: list[DtOrder] = Field(default_factory=list, max_length=MAX_ORDER_TERMS)
    columns: list[DtColumn] = Field(default_factory=list, max_length=MAX_COLUMNS)
    additional_values: list[str] | None = Field(default=None, alias="additionalValues")


async def read_dt_parameters(request: Request) -> DtParameters:
    """The request's DtParameters, from a JSON or a form-encoded body."""
    raw = await read_body(request)
    try:
        return DtParameters.model_validate(raw)
    except ValidationError as error:
        raise InvalidInputError(_describe(error)) from None


async def read_body(request: Request) -> object:
    """The body as plain data: nested form fields or parsed JSON; not yet checked."""
    body = await _read_capped(request)
    if not body.strip():
        raise InvalidInputError(
            "The request body is empty: send the grid's DtParameters as JSON "
            "or as form fields."
        )
    media_type = request.headers.get("content-type", "").split(";")[0]
    if media_type.strip().lower() == FORM_TYPE:
        return parse_bracketed(_form_pairs(body))
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidInputError("The request body is not valid JSON.") from None


async def _read_capped(request: Request) -> bytes:
    """The body, refused past MAX_BODY_BYTES; kept on the request for re-reads."""
    cached: bytes | None = getattr(request.state, "capped_body", None)
    if cached is not None:
        return cached
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    body = b"".join(chunks)
    request.state.capped_body = body
    return body


def _too_large() -> InvalidInputError:
    return InvalidInputError(
        f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB; "
        "a grid request is a few KiB."
    )


def _form_pairs(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise InvalidInputError(
            "The form body cannot be read: send UTF-8 "
            "application/x-www-form-urlencoded fields, at most "
            f"{MAX_FORM_FIELDS} of them."
        ) from None


def _describe(error: ValidationError) -> str:
    problems = [
        f"{_location(problem['loc'])}: {problem['msg']}"
        for problem in error.errors(include_url=False, include_input=False)[:3]
    ]
    return "The grid's request is invalid: " + "; ".join(problems) + "."


def _location(loc: tuple[int | str, ...]) -> str:
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    return text.lstrip(".") or "body"
