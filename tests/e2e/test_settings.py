"""/instellingen: day, time, time zone, pause until a date; quiet hours hold."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from storage.db import Database
from storage.models import Person, TelegramLink
from tests.e2e.conftest import at, create_placement, join, join_as_begeleider, snapshot

UTC = dt.UTC
SUNDAY_1900 = dt.datetime(2026, 3, 8, 18, 0, tzinfo=UTC)  # 19:00 in Amsterdam


@pytest.fixture
async def pair(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> tuple[ChatPerson, ChatPerson]:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    return bea, olga


def question_count(person: ChatPerson) -> int:
    return sum("1/5" in m.text for m in person.bot_messages)


async def test_choose_day_and_type_a_time(
    app: AnyApplication, pair: tuple[ChatPerson, ChatPerson], db: Database, clock: FakeClock
) -> None:
    _, olga = pair
    [menu] = await olga.send("/instellingen")
    assert "De vragen: elke zondag om 19:00" in menu.text
    assert "Je tijdzone: Europe/Amsterdam" in menu.text
    await olga.click("📅 Dag")
    await olga.click("Woensdag")
    await olga.click("🕖 Tijd")
    before = await snapshot(db)
    for bad in ("23:00", "banaan", "25:61", "<b>7</b>"):
        [reply] = await olga.send(bad)
        assert "Die tijd kan ik niet gebruiken" in reply.text, bad
    assert await snapshot(db) == before
    replies = await olga.send("19.30")
    assert "De vragen: elke woensdag om 19:30" in replies[-1].text

    await at(app, clock, SUNDAY_1900)
    assert question_count(olga) == 0
    # Wednesday 11 March, 19:30 in Amsterdam = 18:30 UTC.
    await at(app, clock, dt.datetime(2026, 3, 11, 18, 29, tzinfo=UTC))
    assert question_count(olga) == 0
    await at(app, clock, dt.datetime(2026, 3, 11, 18, 30, tzinfo=UTC))
    assert question_count(olga) == 1


async def test_time_zone_by_name(
    app: AnyApplication, pair: tuple[ChatPerson, ChatPerson], db: Database, clock: FakeClock
) -> None:
    _, olga = pair
    await olga.send("/instellingen")
    await olga.click("🌍 Tijdzone")
    [reply] = await olga.send("Mars/Olympus")
    assert "Die tijdzone ken ik niet" in reply.text
    replies = await olga.send("america/curacao")
    assert "Je tijdzone: America/Curacao" in replies[-1].text
    async with db.session() as session:
        assert (
            await session.scalar(
                select(TelegramLink.time_zone).where(TelegramLink.telegram_user_id == 2001)
            )
            == "America/Curacao"
        )
    # Sunday 19:00 on Curaçao (UTC-4) is 23:00 UTC.
    await at(app, clock, dt.datetime(2026, 3, 8, 22, 59, tzinfo=UTC))
    assert question_count(olga) == 0
    await at(app, clock, dt.datetime(2026, 3, 8, 23, 0, tzinfo=UTC))
    assert question_count(olga) == 1


async def test_pause_until_a_date_then_resume_by_itself(
    app: AnyApplication, pair: tuple[ChatPerson, ChatPerson], db: Database, clock: FakeClock
) -> None:
    bea, olga = pair
    await olga.send("/instellingen")
    await olga.click("⏸ Pauze")
    [reply] = await olga.send("1 maart")  # in the past
    assert "Die datum kan ik niet gebruiken" in reply.text
    replies = await olga.send("16 maart")
    assert "op pauze tot 16 maart 2026" in replies[-1].text
    assert bea.last.text == (
        "Olga (ouder bij Sam) heeft de berichten van de bot op pauze gezet tot 16 maart 2026."
    )
    await at(app, clock, SUNDAY_1900)
    await at(app, clock, SUNDAY_1900 + dt.timedelta(days=7))
    assert question_count(olga) == 0
    await at(app, clock, SUNDAY_1900 + dt.timedelta(days=14))
    assert question_count(olga) == 1
    async with db.session() as session:
        person = await session.scalar(select(Person).where(Person.first_name == "Olga"))
        assert person is not None
        assert not person.paused


async def test_pause_without_end_and_resume_with_a_button(
    app: AnyApplication, pair: tuple[ChatPerson, ChatPerson], db: Database, clock: FakeClock
) -> None:
    bea, olga = pair
    await olga.send("/instellingen")
    await olga.click("⏸ Pauze")
    replies = await olga.click("Zonder einddatum")
    assert "Je berichten: op pauze" in replies[-1].text
    await at(app, clock, SUNDAY_1900)
    assert question_count(olga) == 0
    await olga.send("/instellingen")
    await olga.click("▶️ Berichten weer aanzetten")
    assert "weer aangezet" in bea.last.text
    await at(app, clock, SUNDAY_1900 + dt.timedelta(days=7))
    assert question_count(olga) == 1


async def test_quiet_hours_hold_after_downtime(
    app: AnyApplication, pair: tuple[ChatPerson, ChatPerson], db: Database, clock: FakeClock
) -> None:
    _, olga = pair
    # The bot was down from before 19:00 until 23:00 on Sunday evening.
    await at(app, clock, dt.datetime(2026, 3, 8, 22, 0, tzinfo=UTC))
    assert question_count(olga) == 0  # 23:00 in Amsterdam: quiet
    await at(app, clock, dt.datetime(2026, 3, 9, 6, 59, tzinfo=UTC))
    assert question_count(olga) == 0
    await at(app, clock, dt.datetime(2026, 3, 9, 7, 0, tzinfo=UTC))  # 08:00
    assert question_count(olga) == 1
    # And the check-in of a week that is long gone is not sent at all.
    await at(app, clock, dt.datetime(2026, 3, 18, 12, 0, tzinfo=UTC))
    assert question_count(olga) == 1


def digests(person: ChatPerson) -> int:
    return sum(m.text.startswith("Weekoverzicht ") for m in person.bot_messages)


async def test_a_begeleider_moves_the_weekly_overview_to_tuesday_at_nine(
    app: AnyApplication, pair: tuple[ChatPerson, ChatPerson], db: Database, clock: FakeClock
) -> None:
    bea, olga = pair
    [menu] = await bea.send("/instellingen")
    assert "Het weekoverzicht: elke maandag om 08:30" in menu.text
    assert "Vragen:" not in menu.text  # she gets no weekly questions herself
    await bea.click("📅 Dag overzicht")
    await bea.click("Dinsdag")
    await bea.click("🕗 Tijd overzicht")
    replies = await bea.click("09:00")
    assert "Opgeslagen" in replies[0].text
    assert "Het weekoverzicht: elke dinsdag om 09:00" in bea.last.text
    # Olga is no begeleider: the overview's buttons, forged, do nothing for her.
    before = await snapshot(db)
    [reply] = await olga.click_data("in:od:2", olga.bot_messages[-1].message_id)
    assert "Deze knop werkt niet meer" in reply.text
    assert await snapshot(db) == before

    # Monday 9 March 08:30 in Amsterdam (07:30 UTC): nothing; Tuesday 09:00 (08:00 UTC): there.
    await at(app, clock, dt.datetime(2026, 3, 9, 7, 30, tzinfo=UTC))
    assert digests(bea) == 0
    await at(app, clock, dt.datetime(2026, 3, 10, 7, 59, tzinfo=UTC))
    assert digests(bea) == 0
    await at(app, clock, dt.datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    assert digests(bea) == 1
    # Moving it to Friday now does not bring a second one this week.
    await bea.send("/instellingen")
    await bea.click("📅 Dag overzicht")
    await bea.click("Vrijdag")
    await at(app, clock, dt.datetime(2026, 3, 13, 7, 30, tzinfo=UTC))
    assert digests(bea) == 1
    async with db.session() as session:
        stored = await session.scalar(
            select(Person).join(TelegramLink).where(TelegramLink.chat_id == bea.user_id)
        )
    assert stored is not None
    assert (stored.digest_weekday, stored.digest_time) == (4, dt.time(9, 0))
