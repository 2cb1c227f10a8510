"""What every request handler needs, built once per app."""

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from .auth.permission import Principal
from .auth.token import TokenVerifier
from .config import Settings
from .errors import AuthenticationError
from .storage.engine import Database

BEARER = "bearer"


@dataclass(frozen=True)
class Services:
    """Settings, the database and the token verifier of one running app."""

    settings: Settings
    database: Database
    verifier: TokenVerifier

    def authenticate(self, connection: HTTPConnection) -> Principal | None:
        """The caller behind the request's bearer token; None if it sent none.

        A token that is present but invalid raises AuthenticationError.
        """
        header = connection.headers.get("authorization")
        if header is None:
            return None
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != BEARER or not token.strip():
            raise AuthenticationError(
                "The Authorization header must read 'Bearer <token>'."
            )
        return self.verifier.verify(token.strip())


def services_of(connection: HTTPConnection) -> Services:
    """The Services of the app serving this request."""
    services: Services = connection.app.state.services
    return services
