"""Shared fixtures: a fresh database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.clock import FakeClock
from bot.sandbox import Sandbox
from flows.settings import RouteSettings
from storage.db import Database, is_sqlite
from tests.fake_telegram import threaded_sandbox

# A Monday morning in Amsterdam (UTC+1 in winter).
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


# The data key of the tests' PostgreSQL runs (PostgreSQL refuses to start without one); on
# SQLite the key file beside the database is used, as in the README's commands.
TEST_DATA_KEY = "bg5wp2ql1cejsHHnYF3De4tMX6NOg8N1Iwc5mCWQXFA="


def _database_per_worker() -> None:
    """Under pytest-xdist, give each worker a PostgreSQL database of its own (made if missing):
    the tests empty their database's schema, so two workers must never share one."""
    url, worker = os.environ.get("TEST_DATABASE_URL"), os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker or is_sqlite(url):
        return
    base, _, name = url.rpartition("/")
    own = f"{name}_{worker}"

    async def create() -> None:
        import asyncpg  # the PostgreSQL driver, only when tests run on PostgreSQL

        connection = await asyncpg.connect(url.replace("postgresql://", "postgres://", 1))
        try:
            if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", own):
                await connection.execute(f'CREATE DATABASE "{own}"')
        finally:
            await connection.close()

    asyncio.run(create())
    os.environ["TEST_DATABASE_URL"] = f"{base}/{own}"


_database_per_worker()


def database_url(tmp_path: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.db'}"


def data_key(url: str) -> str | None:
    """The key a test gives `Database(url)`: the tests' key on PostgreSQL, none on SQLite."""
    return None if is_sqlite(url) else TEST_DATA_KEY


def data_key_env(url: str) -> dict[str, str]:
    """The environment a `samenopvoeden` subprocess on `url` needs to read the same rows."""
    key = data_key(url)
    return {} if key is None else {"SAMENOPVOEDEN_DATA_KEY": key}


async def fresh_database(url: str) -> Database:
    """An empty database at the newest migration."""
    db = Database(url, data_key=data_key(url))
    if not is_sqlite(url):
        async with db.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await db.upgrade()
    return db


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await fresh_database(database_url(tmp_path))
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def route() -> RouteSettings:
    return RouteSettings()


@pytest.fixture
def fake_telegram() -> Iterator[Sandbox]:
    """The built-in fake Bot API in a thread, for commands that call Telegram themselves."""
    with threaded_sandbox() as sandbox:
        yield sandbox
