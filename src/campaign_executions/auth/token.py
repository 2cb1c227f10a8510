"""JWT verification (HS256 secret, RS256 PEM or JWKS) and local minting."""

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from campaign_executions.config import Settings
from campaign_executions.errors import AuthenticationError

from .permission import Principal

HS256 = "HS256"
RS256 = "RS256"
LOCAL_ISSUER_SUBJECT = "campaign-executions-cli"


class TokenKeyError(Exception):
    """A configured key file is missing or holds no usable RSA public key."""


class TokenVerifier:
    """Checks bearer tokens against the keys the settings name.

    Each key serves one algorithm only, chosen by us, never by the token: an
    RS256 public key is never used as an HMAC secret, and "none" never passes.
    """

    def __init__(self, settings: Settings) -> None:
        self._secret = settings.jwt_secret
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._leeway = settings.jwt_leeway_seconds
        self._rsa_keys = _load_rsa_keys(
            settings.jwt_public_key_file, settings.jwt_jwks_file
        )

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; AuthenticationError otherwise."""
        key, algorithm = self._key_for(token)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[algorithm],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={
                    "require": ["exp"],
                    "verify_aud": self._audience is not None,
                },
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("The bearer token has expired.") from None
        except jwt.InvalidTokenError as error:
            raise AuthenticationError(_explain(error)) from None
        return _principal(claims)

    def _key_for(self, token: str) -> tuple[str | RSAPublicKey, str]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise AuthenticationError("The bearer token is not a JWT.") from None
        algorithm = header.get("alg")
        if algorithm == HS256 and self._secret:
            return self._secret, HS256
        if algorithm == RS256 and self._rsa_keys:
            return self._rsa_key(header.get("kid")), RS256
        raise AuthenticationError(
            f"Tokens signed with {algorithm!r} are not accepted by this service."
        )

    def _rsa_key(self, kid: object) -> RSAPublicKey:
        """The key a token's `kid` names; a lone key serves any or no `kid`.

        Identity providers put a `kid` in every token, and a PEM file carries
        no key id to match it against.
        """
        if isinstance(kid, str) and kid in self._rsa_keys:
            return self._rsa_keys[kid]
        if len(self._rsa_keys) == 1:
            return next(iter(self._rsa_keys.values()))
        raise AuthenticationError(
            "The bearer token names a signing key we do not know."
        )


def _explain(error: jwt.InvalidTokenError) -> str:
    reasons: list[tuple[type[jwt.InvalidTokenError], str]] = [
        (jwt.InvalidSignatureError, "its signature does not verify"),
        (jwt.InvalidIssuerError, "it was issued by someone else"),
        (jwt.InvalidAudienceError, "it is meant for another audience"),
        (jwt.MissingRequiredClaimError, "it lacks a required claim"),
        (jwt.ImmatureSignatureError, "it is not valid yet"),
        (jwt.DecodeError, "it cannot be decoded"),
    ]
    for kind, reason in reasons:
        if isinstance(error, kind):
            return f"The bearer token was refused: {reason}."
    return "The bearer token was refused."


def _principal(claims: dict[str, Any]) -> Principal:
    permissions = claims.get("permissions", [])
    if not isinstance(permissions, list) or not all(
        isinstance(p, str) for p in permissions
    ):
        raise AuthenticationError(
            "The bearer token's permissions claim must be a list of strings."
        )
    subject = claims.get("sub")
    return Principal(
        subject=subject if isinstance(subject, str) else None,
        permissions=frozenset(permissions),
    )


def _load_rsa_keys(
    pem_file: Path | None, jwks_file: Path | None
) -> dict[str, RSAPublicKey]:
    keys: dict[str, RSAPublicKey] = {}
    if pem_file is not None:
        keys["pem"] = _load_pem(pem_file)
    if jwks_file is not None:
        keys |= _load_jwks(jwks_file)
    return keys


def _load_pem(path: Path) -> RSAPublicKey:
    try:
        key = load_pem_public_key(path.read_bytes())
    except OSError as error:
        raise TokenKeyError(f"{path}: {error.strerror}") from None
    except ValueError:
        raise TokenKeyError(f"{path} is not a PEM public key") from None
    if not isinstance(key, RSAPublicKey):
        raise TokenKeyError(f"{path} does not hold an RSA public key")
    return key


def _load_jwks(path: Path) -> dict[str, RSAPublicKey]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        jwks = jwt.PyJWKSet.from_dict(document).keys
    except OSError as error:
        raise TokenKeyError(f"{path}: {error.strerror}") from None
    except (ValueError, jwt.PyJWTError):
        raise TokenKeyError(f"{path} is not a JWKS document with usable keys") from None
    keys = {
        jwk.key_id or f"jwks-{index}": jwk.key
        for index, jwk in enumerate(jwks)
        if isinstance(jwk.key, RSAPublicKey)
    }
    if not keys:
        raise TokenKeyError(f"{path} holds no RSA public key")
    return keys


def mint_token(
    settings: Settings,
    *,
    permissions: Iterable[str],
    ttl: timedelta,
    subject: str = LOCAL_ISSUER_SUBJECT,
) -> str:
    """An HS256 token signed with the configured secret, for local use."""
    if not settings.jwt_secret:
        raise ValueError("minting needs CAMPAIGN_EXECUTIONS_JWT_SECRET to be set")
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "permissions": sorted(set(permissions)),
        "iat": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
    }
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.jwt_secret, algorithm=HS256)
