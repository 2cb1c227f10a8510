"""The typed per-request GraphQL context: services, caller, and DataLoaders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from campaign_executions.auth.permission import (
    Permission,
    Principal,
    require_permission,
)
from campaign_executions.errors import AuthenticationError
from campaign_executions.services import Services

if TYPE_CHECKING:
    from .types import StepExecution


@dataclass(frozen=True)
class Loaders:
    """DataLoaders of one request; each batches its keys into one storage call."""

    steps: DataLoader[uuid.UUID, list[StepExecution]]


@dataclass
class GraphQLContext:
    """What every resolver of one request (or one WebSocket) can reach.

    `authentication_error` keeps a bad token's error so that protected fields
    fail with it, while the request itself still gets a GraphQL answer.
    """

    request: Request | WebSocket
    response: Response | WebSocket
    services: Services
    principal: Principal | None
    authentication_error: AuthenticationError | None
    loaders: Loaders
    connection_params: dict[str, object] | None = None

    def require(self, permission: Permission) -> None:
        """Raise AuthenticationError or PermissionDeniedError unless allowed."""
        if self.authentication_error is not None:
            # A fresh error per field, so tracebacks do not pile up on one object.
            raise AuthenticationError(self.authentication_error.message)
        require_permission(self.principal, permission)
