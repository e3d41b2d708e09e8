"""SQLite on the loop's thread (storage/inline_sqlite.py): no worker threads, transactions take
turns instead of waiting on each other's locks, and an error reaches the caller."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from storage.db import Database


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'inline.db'}", sqlite_busy_timeout_ms=1_000)
    async with db.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
    return db


async def test_statements_run_on_the_loops_thread_without_a_worker(sqlite_db: Database) -> None:
    threads_before = threading.active_count()
    seen: list[int] = []

    def remember_thread(*_args: object) -> None:
        seen.append(threading.get_ident())

    raw = await sqlite_db.engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        await driver._execute(remember_thread)  # what every aiosqlite call goes through
    finally:
        raw.close()
    async with sqlite_db.session() as session:
        await session.execute(text("INSERT INTO note (body) VALUES ('a')"))
    assert seen == [threading.get_ident()]
    assert threading.active_count() == threads_before
    await sqlite_db.dispose()


async def test_two_writers_of_one_process_take_turns(sqlite_db: Database) -> None:
    """The first holds its write transaction across an await; the second waits for it (with
    several connections, the second's write would block the loop that the first needs, and
    fail with 'database is locked' after the busy timeout)."""
    first_wrote, release = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with sqlite_db.session() as session:
            await session.execute(text("INSERT INTO note (body) VALUES ('first')"))
            first_wrote.set()
            await release.wait()

    async def second() -> None:
        await first_wrote.wait()
        async with sqlite_db.session() as session:
            await session.execute(text("INSERT INTO note (body) VALUES ('second')"))

    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await asyncio.sleep(0.2)
    assert not tasks[1].done()  # waiting for its turn, not failing
    release.set()
    await asyncio.gather(*tasks)
    async with sqlite_db.session() as session:
        bodies = (await session.execute(text("SELECT body FROM note ORDER BY id"))).scalars()
        assert list(bodies) == ["first", "second"]
    await sqlite_db.dispose()


async def test_an_error_reaches_the_caller_and_the_connection_goes_on(sqlite_db: Database) -> None:
    async with sqlite_db.session() as session:
        await session.execute(text("INSERT INTO note (id, body) VALUES (1, 'a')"))

    async def two_inserts_the_second_clashing() -> None:
        async with sqlite_db.session() as session:
            await session.execute(text("INSERT INTO note (id, body) VALUES (2, 'b')"))
            await session.execute(text("INSERT INTO note (id, body) VALUES (1, 'again')"))

    with pytest.raises(IntegrityError):
        await two_inserts_the_second_clashing()
    async with sqlite_db.session() as session:  # rolled back as a whole; the next one works
        count = await session.scalar(text("SELECT count(*) FROM note"))
    assert count == 1
    await sqlite_db.dispose()


async def test_isolation_level_and_another_process_holding_the_lock(
    sqlite_db: Database, tmp_path: Path
) -> None:
    # SQLAlchemy sets the isolation level through aiosqlite's worker queue: it must not hang.
    async with sqlite_db.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("INSERT INTO note (body) VALUES ('auto')"))
    # Another process's write lock past the busy timeout: a clear error, nothing half-written.
    other = sqlite3.connect(tmp_path / "inline.db")
    other.execute("BEGIN IMMEDIATE")

    async def write() -> None:
        async with sqlite_db.session() as session:
            await session.execute(text("INSERT INTO note (body) VALUES ('blocked')"))

    try:
        with pytest.raises(OperationalError, match="database is locked"):
            await write()
    finally:
        other.rollback()
        other.close()
    async with sqlite_db.session() as session:
        bodies = list((await session.execute(text("SELECT body FROM note"))).scalars())
    assert bodies == ["auto"]
    await sqlite_db.dispose()
