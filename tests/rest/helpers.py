"""What the REST tests share: paths, grid bodies, form twins and odd tokens."""

import base64
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from campaign_executions.domain import ExecutionField
from tests.conftest import SHARED_DIR, in_ci

BASE = "/api/v1/NotificationCampaignExecution"
FIXTURE_DIR = SHARED_DIR / "fixtures" / "datatables"
FIXTURE_NAMES = (
    "first-draw-datatables-1.13.11.json",
    "first-draw-datatables-2.3.8.json",
    "first-draw-datatables-3.1.5.json",
)
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}
LEAKS = ("Traceback", "SELECT", "sqlalchemy")


def column_index(field: ExecutionField) -> int:
    """Where `field` stands among the grid's columns, as `grid_body` lists them."""
    return list(ExecutionField).index(field)


def grid_body(**overrides: Any) -> dict[str, Any]:
    """A grid request over every DTO field, like the Runs tab sends."""
    columns = [
        {
            "data": str(field),
            "name": "",
            "searchable": True,
            "orderable": True,
            "search": {"value": "", "regex": False},
        }
        for field in ExecutionField
    ]
    body: dict[str, Any] = {
        "draw": 1,
        "columns": columns,
        "order": [],
        "start": 0,
        "length": 10,
        "search": {"value": "", "regex": False},
    }
    return body | overrides


def search_column(body: dict[str, Any], field: ExecutionField, text: str) -> None:
    """Put `text` in the search box of `field`'s column."""
    body["columns"][column_index(field)]["search"]["value"] = text


def load_fixture(name: str) -> dict[str, Any]:
    """One first-draw request exactly as a DataTables release sent it.

    The fixtures live in the shared folder beside the checkout; without it the
    test skips, except in CI, where it fails.
    """
    path = FIXTURE_DIR / name
    if not path.is_file():
        reason = f"client fixture {path} is missing (the shared/ folder)"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    loaded: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return loaded


def flatten(value: object, prefix: str = "") -> list[tuple[str, str]]:
    """The form fields jQuery.param makes of `value` (empty lists vanish)."""
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return [(prefix, _scalar(value))]
    pairs: list[tuple[str, str]] = []
    for key, child in items:
        pairs += flatten(child, f"{prefix}[{key}]" if prefix else str(key))
    return pairs


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def form_content(body: dict[str, Any]) -> str:
    """The form-encoded twin of a JSON grid body."""
    return urlencode(flatten(body))


async def post_grid(
    client: httpx.AsyncClient,
    campaign_id: uuid.UUID | str,
    body: object,
    headers: dict[str, str],
) -> httpx.Response:
    """POST a JSON grid body to GetDataTable."""
    return await client.post(
        f"{BASE}/GetDataTable/{campaign_id}", json=body, headers=headers
    )


def unsigned_token(permissions: list[str]) -> str:
    """A JWT with `alg: none` and an empty signature, built by hand."""
    header = {"alg": "none", "typ": "JWT"}
    claims = {"sub": "intruder", "permissions": permissions, "exp": time.time() + 300}
    encoded = [_base64url(json.dumps(part).encode()) for part in (header, claims)]
    return ".".join(encoded) + "."


def _base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def assert_clean_failure(response: httpx.Response, status: int) -> dict[str, Any]:
    """A failure envelope with that status that gives nothing away."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["succeeded"] is False
    assert isinstance(body["message"], str)
    assert body["message"].strip()
    assert body["data"] is None
    for leak in LEAKS:
        assert leak.lower() not in response.text.lower()
    return body
