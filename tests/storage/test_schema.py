"""The migrations and the models agree, and instants come back timezone-aware (both engines)."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from storage.db import Database, async_url
from storage.models import Base, Organisation, Person, TelegramLink


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_as_batch": True}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_match_models(db: Database) -> None:
    async with db.engine.connect() as connection:
        differences = await connection.run_sync(_diff)
    assert differences == []


async def test_upgrade_twice_is_harmless(db: Database) -> None:
    await db.upgrade()
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_diff) == []


async def test_instants_round_trip_in_utc(db: Database) -> None:
    amsterdam = dt.timezone(dt.timedelta(hours=2))
    local = dt.datetime(2026, 7, 1, 19, 0, tzinfo=amsterdam)
    async with db.session() as session:
        session.add(Person(first_name="Olga", created_at=local, paused=False))
    async with db.session() as session:
        person = await session.scalar(select(Person))
    assert person is not None
    assert person.created_at == local
    assert person.created_at.tzinfo is not None
    assert person.created_at.utcoffset() == dt.timedelta(0)


async def test_naive_instants_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with db.session() as session:
            session.add(Organisation(name="X", created_at=dt.datetime(2026, 1, 1)))  # noqa: DTZ001  # the point of the test


async def test_one_telegram_account_links_one_person(db: Database) -> None:
    now = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    async with db.session() as session:
        for name in ("A", "B"):
            person = Person(first_name=name, created_at=now, paused=False)
            person.telegram = TelegramLink(
                telegram_user_id=42,
                chat_id=42,
                language="nl",
                time_zone="Europe/Amsterdam",
                reachable=True,
                linked_at=now,
            )
            session.add(person)
        with pytest.raises(IntegrityError):
            await session.flush()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u@h:5432/d", "postgresql+asyncpg://u@h:5432/d"),
        ("postgres://u@h/d", "postgresql+asyncpg://u@h/d"),
    ],
)
def test_async_url(given: str, expected: str) -> None:
    assert async_url(given) == expected


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database"):
        async_url("mysql://u@h/d")
