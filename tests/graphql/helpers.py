"""What the GraphQL tests share: queries, error readers and odd tokens."""

import base64
import json
import time
from typing import Any

import jwt

from campaign_executions.auth.permission import Permission

Body = dict[str, Any]

EXECUTION_FIELDS = """
    id campaignId status statusCode scheduledFor startedAt completedAt
    totalRecipients totalDispatched totalSucceeded totalFailed
    correlationId errorMessage deliveryRate
"""

PAGE = """
query Page($campaignId: UUID!, $first: Int, $after: String,
           $filter: CampaignExecutionFilter, $orderBy: CampaignExecutionOrder) {
  campaignExecutions(campaignId: $campaignId, first: $first, after: $after,
                     filter: $filter, orderBy: $orderBy) {
    totalCount
    edges { cursor node { id scheduledFor status totalDispatched } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

LEAKS = ("Traceback", "base64", "JSON", "binascii", "Error:", "SELECT", "sqlalchemy")


def codes(body: Body) -> list[str]:
    """The extensions.code of every error of a response."""
    return [error.get("extensions", {}).get("code") for error in body["errors"]]


def messages(body: Body) -> str:
    """Every error message of a response, in one string."""
    return " | ".join(error["message"] for error in body.get("errors", []))


def _b64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def claims(*permissions: Permission) -> dict[str, Any]:
    """Claims of a token that would be valid for a minute."""
    now = int(time.time())
    return {"sub": "tester", "permissions": list(permissions), "exp": now + 60}


def unsigned_token(*permissions: Permission) -> str:
    """A token with `alg: none` and no signature, built by hand."""
    header = _b64url({"alg": "none", "typ": "JWT"})
    return f"{header}.{_b64url(claims(*permissions))}."


def foreign_token(*permissions: Permission) -> str:
    """A well-formed HS256 token signed with a secret that is not ours."""
    secret = "another-secret-that-is-long-enough-for-hs256"
    return jwt.encode(claims(*permissions), secret, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
