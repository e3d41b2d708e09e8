"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool

from storage.inline_sqlite import inline_creator

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5_000


def async_url(url: str) -> str:
    """Return the URL with an async driver: aiosqlite for SQLite, asyncpg for PostgreSQL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    else:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_on_connect(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets readers work while one writer commits; the busy timeout waits instead of
        # failing. Only another process (the CLI, a migration) can hold the lock while the bot
        # writes, as the bot's own transactions take turns on one connection; the wait
        # blocks the event loop, so it is seconds, not more.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


class Database:
    """One engine and its session factory; create it inside the event loop that uses it."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
    ) -> None:
        self.url = async_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if is_sqlite(self.url):
            # One connection, its calls run on the loop (storage/inline_sqlite.py says why).
            parsed = make_url(self.url)
            args, connect_args = parsed.get_dialect()().create_connect_args(parsed)
            connect_args["check_same_thread"] = False  # the pool may close it from elsewhere
            kwargs.update(
                async_creator=inline_creator(args[0], connect_args),
                poolclass=AsyncAdaptedQueuePool,
                pool_size=1,
                max_overflow=0,
            )
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if is_sqlite(self.url):
            on_connect = _sqlite_on_connect(sqlite_busy_timeout_ms)
            event.listen(self.engine.sync_engine, "connect", on_connect)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Open a session in a transaction; commit on success, roll back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to `revision` on this engine."""
        async with self.engine.begin() as connection:
            await connection.run_sync(_run_upgrade, revision)

    async def dispose(self) -> None:
        await self.engine.dispose()


def dialect_insert(session: AsyncSession) -> Any:
    """The INSERT construct of the session's database: both have ON CONFLICT DO NOTHING."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return pg_insert if dialect == "postgresql" else sqlite_insert


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        # env.py uses this connection instead of making its own (alembic's asyncio cookbook).
        config.attributes["connection"] = connection
    return config


def _run_upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)
