"""Settings, read once from CAMPAIGN_EXECUTIONS_* environment variables.

Every variable the service reads is a field below; the README lists them all.
"""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///campaign_executions.db"
SUPPORTED_URL_PREFIXES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
PLACEHOLDER_SECRETS = frozenset({"", "secret", "changeme", "change-me", "dev"})


class Settings(BaseSettings):
    """The service's configuration; frozen once built."""

    model_config = SettingsConfigDict(env_prefix="CAMPAIGN_EXECUTIONS_", frozen=True)

    # Storage. Any SQLAlchemy async URL: sqlite+aiosqlite:///file.db or
    # postgresql+asyncpg://user@host/db.
    database_url: str = DEFAULT_DATABASE_URL

    # Bearer tokens. A shared HS256 secret, or RS256 public keys from a PEM file or
    # a JWKS file; issuer and audience are checked only when set.
    jwt_secret: str | None = None
    jwt_public_key_file: Path | None = None
    jwt_jwks_file: Path | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)

    # GraphQL: the GraphiQL page, and the limits that guard the server.
    graphiql: bool = False
    max_query_depth: int = Field(default=10, ge=1)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=2000, ge=10)
    # Most fields one GraphQL document may expand to, counting a fragment's fields
    # again each time it is spread; it bounds the work a short document with
    # nested fragment spreads can ask for.
    max_fields: int = Field(default=5000, ge=1)

    # Largest request body the API reads at all, in bytes (the grid route keeps
    # its own smaller limit).
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)

    # Largest page the grid (length) or the connection (first) may ask for.
    max_page_size: int = Field(default=1000, ge=1)

    # Origins allowed to call the API from a browser, comma-separated.
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()

    # Logs: "text" for people, "json" for collectors; and the level.
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # The simulated channel sender used by demos and tests.
    simulated_success_rate: float = Field(default=0.97, ge=0.0, le=1.0)
    simulated_latency_ms: int = Field(default=0, ge=0)
    simulated_seed: int | None = None

    # Which sender serves each channel, as comma-separated channel=sender pairs:
    # channels email, sms, push, in_app (or inapp), whatsapp, webhook; senders
    # simulated or webhook. Every channel must be named, so that no run finds a
    # channel without a sender; each kind of sender is built once and shared.
    channel_senders: str = (
        "email=simulated,sms=simulated,push=simulated,"
        "in_app=simulated,whatsapp=simulated,webhook=simulated"
    )

    # The webhook sender: the http(s) URL it POSTs each message to (required when
    # a channel uses it), the timeout of one attempt, how many times a 429, 5xx,
    # timeout or connection error is retried after the first attempt, and the
    # first wait between attempts, which doubles on each retry (with jitter).
    webhook_url: str | None = None
    webhook_timeout_seconds: float = Field(default=5, gt=0)
    webhook_max_retries: int = Field(default=3, ge=0)
    webhook_backoff_base_seconds: float = Field(default=0.5, ge=0)

    # The worker: how long a claim lasts without renewal, how often it is
    # renewed, how long an idle worker waits before looking for due runs again,
    # how many recipients it records, sends and resolves together, and how often
    # it polls for cancels (PostgreSQL also announces them at once).
    worker_lease_seconds: float = Field(default=30, gt=0)
    worker_heartbeat_seconds: float = Field(default=10, gt=0)
    worker_idle_poll_seconds: float = Field(default=1.0, gt=0)
    worker_batch_size: int = Field(default=2000, ge=1, le=10_000)
    cancel_poll_seconds: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> "Settings":
        # A lease that can run out between two heartbeats hands a live run to a
        # second worker, which then sends the in-flight messages again.
        if self.worker_heartbeat_seconds * 2 > self.worker_lease_seconds:
            raise ValueError(
                "WORKER_HEARTBEAT_SECONDS must be at most half of WORKER_LEASE_SECONDS"
            )
        return self

    @field_validator("database_url")
    @classmethod
    def _supported_driver(cls, value: str) -> str:
        if not value.startswith(SUPPORTED_URL_PREFIXES):
            raise ValueError(
                "use sqlite+aiosqlite:///path/to/file.db or "
                "postgresql+asyncpg://user:password@host/database"
            )
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @property
    def has_token_key(self) -> bool:
        """Whether any key to verify bearer tokens is configured."""
        return bool(self.jwt_secret or self.jwt_public_key_file or self.jwt_jwks_file)

    @property
    def has_real_secret(self) -> bool:
        """Whether the HS256 secret is set and is not a known placeholder."""
        secret = self.jwt_secret or ""
        return secret.strip().lower() not in PLACEHOLDER_SECRETS and len(secret) >= 32
