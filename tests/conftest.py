"""Fixtures: one database per backend, an app, a client and token builders.

Every test that uses `database` runs on SQLite and on PostgreSQL. PostgreSQL
tests skip when no server answers, except in CI (CI=true), where they fail.
"""

import os
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from campaign_executions.app import create_app
from campaign_executions.auth.permission import Permission
from campaign_executions.auth.token import mint_token
from campaign_executions.config import Settings
from campaign_executions.storage.engine import Database
from campaign_executions.storage.migrate import upgrade_schema
from campaign_executions.storage.models import Base

SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"
POSTGRES_ADMIN_URL = os.environ.get(
    "CAMPAIGN_EXECUTIONS_TEST_POSTGRES_URL",
    "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
)
TEST_SECRET = "test-secret-that-is-long-enough-for-hs256"
ALL_PERMISSIONS = (Permission.ANALYTICS, Permission.CANCEL)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


async def _postgres_admin() -> asyncpg.Connection:
    url = make_url(POSTGRES_ADMIN_URL)
    return await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
        timeout=5,
    )


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """A throwaway PostgreSQL database, dropped when the session ends."""
    try:
        admin = await _postgres_admin()
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        reason = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error}"
        if in_ci():
            pytest.fail(f"{reason} (CI requires PostgreSQL)")
        pytest.skip(f"{reason}; set CAMPAIGN_EXECUTIONS_TEST_POSTGRES_URL to run")
    name = f"ce_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield (
            make_url(POSTGRES_ADMIN_URL)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The URL of a fresh database of each backend."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.db"
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    """A migrated database of each backend, shared by the session."""
    db = Database.from_url(database_url)
    await upgrade_schema(db.engine)
    yield db
    await db.dispose()


@pytest.fixture(autouse=True)
async def _empty_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Leave every table empty after a test that used the database."""
    yield
    if "database" not in request.fixturenames:
        return
    db: Database = request.getfixturevalue("database")
    async with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(text(f"DELETE FROM {table.name}"))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret=TEST_SECRET,
        graphiql=True,
        max_page_size=1000,
        cors_origins=("https://runs.example.test",),
    )


@pytest.fixture
async def client(
    settings: Settings, database: Database
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver"
    ) as http:
        yield http


@pytest.fixture
def make_token(settings: Settings) -> Callable[..., str]:
    def build(*permissions: str, ttl: timedelta = timedelta(minutes=5)) -> str:
        return mint_token(settings, permissions=permissions, ttl=ttl)

    return build


@pytest.fixture
def auth_headers(make_token: Callable[..., str]) -> dict[str, str]:
    """Headers of a caller holding every permission."""
    return {"Authorization": f"Bearer {make_token(*ALL_PERMISSIONS)}"}
