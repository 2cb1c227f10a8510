"""Engines and session factories, with the per-backend settings they need."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 30_000
UNICODE_LOWER = "unicode_lower"


def _unicode_lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for the URL, tuned for its backend."""
    if database_url.startswith("sqlite"):
        engine = create_async_engine(database_url, echo=echo)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        database_url,
        echo=echo,
        pool_pre_ping=True,
        # Generic plans made the grid's paged queries ten times slower on a
        # bound campaign id; custom plans cost little at these query sizes.
        connect_args={"server_settings": {"plan_cache_mode": "force_custom_plan"}},
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys, a busy timeout, and BEGIN under our control.

    pysqlite defers BEGIN until the first write, so a transaction that reads
    and then writes can fail with SQLITE_BUSY at once. Emitting BEGIN
    ourselves lets write sessions ask for BEGIN IMMEDIATE.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:  # noqa: ANN401
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()
        # SQLite's own lower() folds ASCII only; searches need Unicode folding.
        dbapi_connection.create_function(
            UNICODE_LOWER, 1, _unicode_lower, deterministic=True
        )

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """The engine and the two session factories the service uses.

    `reader` sessions are for queries; `writer` sessions take the write lock
    up front on SQLite so that read-then-write transactions never fail with
    SQLITE_BUSY. On PostgreSQL the two are the same.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.reader = async_sessionmaker(engine, expire_on_commit=False)
        self.writer = async_sessionmaker(
            engine.execution_options(sqlite_immediate=True), expire_on_commit=False
        )

    @classmethod
    def from_url(cls, database_url: str) -> "Database":
        """A Database for the URL."""
        return cls(create_engine(database_url))

    @property
    def dialect(self) -> str:
        """The backend's name: "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads, closed (and rolled back) on exit."""
        async with self.reader() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction, committed on success, rolled back on error."""
        async with self.writer() as session, session.begin():
            yield session

    async def ping(self) -> None:
        """Run a trivial query; raises if the database does not answer."""
        async with self.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
