"""The OpenAPI 3.1 document of the four routes, served beside them."""

import functools
from dataclasses import dataclass
from typing import Literal

from pydantic import TypeAdapter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from campaign_executions.auth.permission import Permission

from .datatable import DtResult
from .dto import ExecutionDto, StepSummaryDto
from .execution import BASE_PATH
from .grid_request import DtParameters

Schema = dict[str, object]
_REF = "#/components/schemas/{model}"
_ERRORS = {
    "400": "Malformed input: a bad GUID or a bad body.",
    "401": "No bearer token, or one that cannot be trusted.",
    "403": "A valid token without the permission the route needs.",
    "404": "No such execution.",
    "409": "The execution's state forbids the cancel.",
    "500": "An internal error; the message never carries its details.",
}


async def serve_openapi(_request: Request) -> Response:
    """The document, without authentication."""
    return JSONResponse(openapi_document())


@functools.cache
def openapi_document() -> Schema:
    """The OpenAPI document of the REST shim."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Notification Campaign Execution",
            "version": "1.0",
            "description": (
                "Run history, per-step delivery analytics and cancel of notification "
                "campaigns. Paths match without regard to case."
            ),
        },
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
        "security": [{"bearer": []}],
    }


def _schemas() -> Schema:
    schemas: Schema = {}
    shapes: list[tuple[str, type[object], Literal["validation", "serialization"]]] = [
        ("DtParameters", DtParameters, "validation"),
        ("ExecutionDto", ExecutionDto, "serialization"),
        ("StepSummaryDto", StepSummaryDto, "serialization"),
        ("DtResult", DtResult, "serialization"),
    ]
    for name, shape, mode in shapes:
        schema = TypeAdapter(shape).json_schema(ref_template=_REF, mode=mode)
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    return schemas | _envelope_schemas()


def _envelope(
    data: Schema, *, succeeded: bool = True, extra: Schema | None = None
) -> Schema:
    message: Schema = {"type": ["string", "null"]} if succeeded else {"type": "string"}
    properties: Schema = {
        "succeeded": {"const": succeeded},
        "message": message,
        "data": data,
    } | (extra or {})
    return {"type": "object", "required": list(properties), "properties": properties}


def _ref(name: str) -> Schema:
    return {"$ref": _REF.format(model=name)}


def _envelope_schemas() -> Schema:
    grid_error: Schema = {
        "draw": {"type": "integer"},
        "recordsTotal": {"const": 0},
        "recordsFiltered": {"const": 0},
        "error": {"type": "string"},
    }
    summaries: Schema = {"type": "array", "items": _ref("StepSummaryDto")}
    return {
        "Failure": _envelope({"type": "null"}, succeeded=False),
        "GridFailure": _envelope({"type": "null"}, succeeded=False, extra=grid_error),
        "ExecutionEnvelope": _envelope(_ref("ExecutionDto")),
        "StepSummariesEnvelope": _envelope(summaries),
        "GuidEnvelope": _envelope({"type": "string", "format": "uuid"}),
    }


@dataclass(frozen=True)
class _Operation:
    """One route as the document describes it."""

    verb: str
    route: str
    summary: str
    permission: Permission
    success: str
    errors: tuple[str, ...]
    failure: str = "Failure"
    takes_grid_request: bool = False


_OPERATIONS = (
    _Operation(
        "post",
        "GetDataTable/{campaignId}",
        "One page of a campaign's executions for a DataTables grid (not enveloped).",
        Permission.ANALYTICS,
        "DtResult",
        ("400", "401", "403", "500"),
        failure="GridFailure",
        takes_grid_request=True,
    ),
    _Operation(
        "get",
        "GetDetails/{id}",
        "One execution.",
        Permission.ANALYTICS,
        "ExecutionEnvelope",
        ("400", "401", "403", "404", "500"),
    ),
    _Operation(
        "get",
        "GetAnalytics/{campaignId}",
        "Delivery totals per (step, channel) over all of a campaign's executions.",
        Permission.ANALYTICS,
        "StepSummariesEnvelope",
        ("400", "401", "403", "500"),
    ),
    _Operation(
        "put",
        "Cancel/{id}",
        "Cancel a Pending or Running execution; a Cancelled one answers success.",
        Permission.CANCEL,
        "GuidEnvelope",
        ("400", "401", "403", "404", "409", "500"),
    ),
)


def _paths() -> Schema:
    return {f"{BASE_PATH}/{op.route}": {op.verb: _operation(op)} for op in _OPERATIONS}


def _operation(op: _Operation) -> Schema:
    parameter = op.route.partition("{")[2].rstrip("}")
    responses = {"200": _response("Success.", op.success)} | {
        code: _response(_ERRORS[code], op.failure) for code in op.errors
    }
    operation: Schema = {
        "operationId": op.route.partition("/")[0],
        "summary": op.summary,
        "description": f"Needs the permission {op.permission}.",
        "tags": ["NotificationCampaignExecution"],
        "parameters": [
            {
                "name": parameter,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "format": "uuid"},
            }
        ],
        "security": [{"bearer": []}],
        "responses": responses,
    }
    if op.takes_grid_request:
        operation["requestBody"] = _grid_request()
    return operation


def _response(description: str, schema: str) -> Schema:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref(schema)}},
    }


def _grid_request() -> Schema:
    return {
        "required": True,
        "description": (
            "DtParameters as JSON, or as the grid's form encoding with "
            "bracket-notation names such as columns[0][search][value]."
        ),
        "content": {
            media: {"schema": _ref("DtParameters")}
            for media in ("application/json", "application/x-www-form-urlencoded")
        },
    }
