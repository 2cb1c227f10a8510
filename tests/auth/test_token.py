import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from campaign_executions.auth.permission import (
    Permission,
    Principal,
    require_permission,
)
from campaign_executions.auth.token import TokenVerifier, mint_token
from campaign_executions.config import Settings
from campaign_executions.errors import AuthenticationError, PermissionDeniedError

SECRET = "a-shared-secret-of-enough-length"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _claims(**extra: object) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "permissions": [Permission.ANALYTICS],
        "exp": now + timedelta(minutes=5),
    } | extra


def _unsigned(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        raw = json.dumps(value, default=lambda v: int(v.timestamp())).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_minted_token_verifies_with_its_permissions():
    settings = Settings(jwt_secret=SECRET)
    token = mint_token(settings, permissions=["b", "a"], ttl=timedelta(minutes=1))

    principal = TokenVerifier(settings).verify(token)

    assert principal.permissions == frozenset({"a", "b"})


def test_rs256_token_verifies_with_a_pem_key(tmp_path: Path, rsa_key):
    pem = tmp_path / "public.pem"
    pem.write_bytes(_public_pem(rsa_key))
    token = jwt.encode(_claims(), rsa_key, algorithm="RS256")

    principal = TokenVerifier(Settings(jwt_public_key_file=pem)).verify(token)

    assert Permission.ANALYTICS in principal.permissions


def test_rs256_token_verifies_with_a_jwks_file_by_kid(tmp_path: Path, rsa_key):
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk | {"kid": "k1", "use": "sig"}]}))
    token = jwt.encode(_claims(), rsa_key, algorithm="RS256", headers={"kid": "k1"})

    principal = TokenVerifier(Settings(jwt_jwks_file=jwks)).verify(token)

    assert Permission.ANALYTICS in principal.permissions


def test_hs256_token_signed_with_the_public_key_is_refused(tmp_path: Path, rsa_key):
    """Algorithm confusion: the public PEM used as an HMAC secret must not pass."""
    pem_bytes = _public_pem(rsa_key)
    pem = tmp_path / "public.pem"
    pem.write_bytes(pem_bytes)
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    body = base64.urlsafe_b64encode(
        json.dumps({"permissions": ["x"], "exp": 4102444800}).encode()
    ).rstrip(b"=")
    signature = hmac.new(pem_bytes, header + b"." + body, hashlib.sha256).digest()
    forged = b".".join([header, body, base64.urlsafe_b64encode(signature).rstrip(b"=")])

    with pytest.raises(AuthenticationError, match="not accepted"):
        TokenVerifier(Settings(jwt_public_key_file=pem)).verify(forged.decode())


@pytest.mark.parametrize(
    ("token_of", "message"),
    [
        (lambda: _unsigned(_claims()), "not accepted"),
        (
            lambda: jwt.encode(_claims(), "another-secret-that-is-also-long-enough-x"),
            "signature",
        ),
        (
            lambda: jwt.encode(
                _claims(exp=datetime.now(UTC) - timedelta(minutes=5)), SECRET
            ),
            "expired",
        ),
        (lambda: jwt.encode({"permissions": []}, SECRET), "required claim"),
        (lambda: jwt.encode(_claims(), SECRET * 2, algorithm="HS512"), "not accepted"),
        (lambda: jwt.encode(_claims(permissions="all"), SECRET), "list of strings"),
        (lambda: "not-a-jwt", "not a JWT"),
    ],
)
def test_untrusted_tokens_are_refused(token_of, message):
    verifier = TokenVerifier(Settings(jwt_secret=SECRET, jwt_leeway_seconds=0))

    with pytest.raises(AuthenticationError, match=message):
        verifier.verify(token_of())


def test_issuer_and_audience_are_checked_when_configured():
    settings = Settings(jwt_secret=SECRET, jwt_issuer="idp", jwt_audience="runs")
    verifier = TokenVerifier(settings)
    good = jwt.encode(_claims(iss="idp", aud="runs"), SECRET)
    wrong_issuer = jwt.encode(_claims(iss="other", aud="runs"), SECRET)
    wrong_audience = jwt.encode(_claims(iss="idp", aud="others"), SECRET)

    assert verifier.verify(good).permissions == {Permission.ANALYTICS}
    with pytest.raises(AuthenticationError, match="issued by someone else"):
        verifier.verify(wrong_issuer)
    with pytest.raises(AuthenticationError, match="another audience"):
        verifier.verify(wrong_audience)


def test_require_permission_tells_missing_token_from_missing_permission():
    with pytest.raises(AuthenticationError):
        require_permission(None, Permission.CANCEL)
    with pytest.raises(PermissionDeniedError, match=r"NotificationCampaigns\.Cancel"):
        require_permission(
            Principal(subject="u", permissions=frozenset({Permission.ANALYTICS})),
            Permission.CANCEL,
        )


def test_pem_key_verifies_a_token_that_carries_any_kid(tmp_path: Path, rsa_key):
    pem = tmp_path / "public.pem"
    pem.write_bytes(_public_pem(rsa_key))
    token = jwt.encode(_claims(), rsa_key, algorithm="RS256", headers={"kid": "idp-7"})

    principal = TokenVerifier(Settings(jwt_public_key_file=pem)).verify(token)

    assert Permission.ANALYTICS in principal.permissions


def test_unknown_kid_is_refused_when_several_keys_are_configured(
    tmp_path: Path, rsa_key
):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks = tmp_path / "jwks.json"
    keys = [
        json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key())) | {"kid": kid}
        for k, kid in ((rsa_key, "a"), (other, "b"))
    ]
    jwks.write_text(json.dumps({"keys": keys}))
    token = jwt.encode(_claims(), rsa_key, algorithm="RS256", headers={"kid": "zzz"})

    with pytest.raises(AuthenticationError, match="signing key we do not know"):
        TokenVerifier(Settings(jwt_jwks_file=jwks)).verify(token)
