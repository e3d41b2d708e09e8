"""Rules set in the environment change what people get: the reminder's delay, quiet hours."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import AnyApplication, build_application, start_polling, stop_polling
from bot.clock import FakeClock
from bot.config import load_settings
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, Person
from tests.e2e.conftest import at, track_updates

UTC = dt.UTC
# Sunday 8 March 2026: Olga's check-in comes at 19:00 Amsterdam time, 18:00 UTC (winter time).
SUNDAY_1900 = dt.datetime(2026, 3, 8, 18, 0, tzinfo=UTC)
MONDAY_2200 = SUNDAY_1900 + dt.timedelta(hours=27)
TUESDAY_0800 = dt.datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
REMINDER = "staan nog open"


@pytest.fixture
def env() -> dict[str, str]:
    return {}


@pytest.fixture
async def app(
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> AsyncIterator[AnyApplication]:
    """The application built as `samenopvoeden run` builds it, from these variables."""
    monkeypatch.chdir(tmp_path)  # no stray .env from the working tree
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    application = build_application(
        token=sandbox.token,
        db=db,
        base_url=sandbox.base_url,
        clock=clock,
        clock_jobs=False,
        **load_settings().application_options(),
    )
    track_updates(application, sandbox)
    await start_polling(application, poll_timeout=5)
    yield application
    await stop_polling(application)
    assert sandbox.bot_errors == [], "the bot made calls Telegram would refuse"


async def reminders_of(db: Database, first_name: str) -> list[OutboxMessage]:
    """The check-in reminders queued for one person, as stored."""
    async with db.session() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .join(Person, Person.id == OutboxMessage.person_id)
            .where(OutboxMessage.kind == "checkin_reminder", Person.first_name == first_name)
        )
        return list(rows)


def reminded(person: ChatPerson) -> int:
    return sum(REMINDER in m.text for m in person.bot_messages)


# 40 hours after Sunday 19:00 is Tuesday 11:00, outside quiet hours.
@pytest.mark.parametrize("env", [{"SAMENOPVOEDEN_CHECKIN_REMINDER_AFTER_HOURS": "40"}])
async def test_the_reminder_comes_after_the_configured_hours(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    _, olga, _ = family
    await at(app, clock, SUNDAY_1900)
    await at(app, clock, SUNDAY_1900 + dt.timedelta(hours=24))  # the default would remind now
    assert reminded(olga) == 0
    assert await reminders_of(db, "Olga") == []
    await at(app, clock, SUNDAY_1900 + dt.timedelta(hours=39, minutes=59))
    assert reminded(olga) == 0
    await at(app, clock, SUNDAY_1900 + dt.timedelta(hours=40))
    assert reminded(olga) == 1
    [row] = await reminders_of(db, "Olga")
    assert row.status == OutboxStatus.SENT
    assert row.due_at.replace(tzinfo=UTC) == SUNDAY_1900 + dt.timedelta(hours=40)


@pytest.mark.parametrize(
    ("env", "arrives"),
    [
        # 22:00 lies in the default quiet hours (21:30-08:00): the reminder waits for 08:00.
        ({"SAMENOPVOEDEN_CHECKIN_REMINDER_AFTER_HOURS": "27"}, TUESDAY_0800),
        # With quiet hours from 23:00 it goes out at 22:00.
        (
            {
                "SAMENOPVOEDEN_CHECKIN_REMINDER_AFTER_HOURS": "27",
                "SAMENOPVOEDEN_QUIET_HOURS": "23:00-07:00",
            },
            MONDAY_2200,
        ),
    ],
)
async def test_quiet_hours_from_the_environment_decide_when_the_reminder_comes(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
    arrives: dt.datetime,
) -> None:
    _, olga, _ = family
    await at(app, clock, SUNDAY_1900)
    await at(app, clock, MONDAY_2200 - dt.timedelta(minutes=1))
    assert await reminders_of(db, "Olga") == []
    await at(app, clock, MONDAY_2200)
    [row] = await reminders_of(db, "Olga")
    assert row.due_at.replace(tzinfo=UTC) == arrives
    assert reminded(olga) == (1 if arrives == MONDAY_2200 else 0)
    await at(app, clock, TUESDAY_0800)
    assert reminded(olga) == 1
    [row] = await reminders_of(db, "Olga")
    assert row.status == OutboxStatus.SENT
