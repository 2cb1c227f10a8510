"""Fixtures of the REST tests: tokens of every kind a caller may send."""

from collections.abc import Callable
from datetime import timedelta

import pytest

from campaign_executions.auth.permission import Permission
from campaign_executions.auth.token import mint_token
from campaign_executions.config import Settings
from tests.rest.helpers import unsigned_token

OTHER_SECRET = "another-secret-that-is-long-enough-for-hs256"
TokenFor = Callable[[str, Permission], dict[str, str]]


@pytest.fixture
def headers_for(settings: Settings, make_token: Callable[..., str]) -> TokenFor:
    """Authorization headers of a kind of caller for a route needing `needed`."""

    def build(caller: str, needed: Permission) -> dict[str, str]:
        other = next(p for p in Permission if p != needed)
        tokens = {
            "expired": lambda: make_token(needed, ttl=timedelta(minutes=-5)),
            "other-secret": lambda: mint_token(
                settings.model_copy(update={"jwt_secret": OTHER_SECRET}),
                permissions=[needed],
                ttl=timedelta(minutes=5),
            ),
            "alg-none": lambda: unsigned_token([str(p) for p in Permission]),
            "lacks-permission": lambda: make_token(other),
            "holds-permission": lambda: make_token(needed),
        }
        if caller == "no-token":
            return {}
        return {"Authorization": f"Bearer {tokens[caller]()}"}

    return build
