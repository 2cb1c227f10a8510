"""Permissions, who holds them, and the check every operation makes."""

import enum
from dataclasses import dataclass

from campaign_executions.errors import AuthenticationError, PermissionDeniedError


class Permission(enum.StrEnum):
    """The permissions the platform's controller declares."""

    ANALYTICS = "NotificationCampaigns.Analytics"
    CANCEL = "NotificationCampaigns.Cancel"


@dataclass(frozen=True)
class Principal:
    """The caller a verified token speaks for."""

    subject: str | None
    permissions: frozenset[str]


def require_permission(principal: Principal | None, permission: Permission) -> None:
    """Raise unless the caller is authenticated and holds `permission`."""
    if principal is None:
        raise AuthenticationError(
            "This operation needs a bearer token: send 'Authorization: Bearer <token>'."
        )
    if permission not in principal.permissions:
        raise PermissionDeniedError(
            f"The token lacks the permission {permission} that this operation needs."
        )
