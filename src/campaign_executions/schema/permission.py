"""Field permissions: each checks the caller through auth's require_permission.

The check raises the AuthenticationError or PermissionDeniedError itself, so
the client sees its message and code (UNAUTHENTICATED or FORBIDDEN). It sits
on the fields, so aliases and fragments reach it like any other selection.
"""

from typing import Any

import strawberry
from strawberry.permission import BasePermission

from campaign_executions.auth.permission import Permission

from .context import GraphQLContext


class _RequiresPermission(BasePermission):
    """Allows a field only to callers holding `permission`."""

    permission: Permission

    def has_permission(
        self,
        source: Any,  # noqa: ANN401 - the parent object, of any type
        info: strawberry.Info[GraphQLContext, None],
        **kwargs: Any,  # noqa: ANN401 - the field's arguments
    ) -> bool:
        """True, or raise the reason the caller may not read the field."""
        info.context.require(self.permission)
        return True


class CanReadAnalytics(_RequiresPermission):
    """NotificationCampaigns.Analytics: read executions and their figures."""

    permission = Permission.ANALYTICS
    message = "This field needs the NotificationCampaigns.Analytics permission."


class CanCancel(_RequiresPermission):
    """NotificationCampaigns.Cancel: cancel an execution."""

    permission = Permission.CANCEL
    message = "This field needs the NotificationCampaigns.Cancel permission."
