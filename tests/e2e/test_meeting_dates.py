"""Planning a meeting with a moment typed as people type it (flows/dates.py, meetings/chat.py).

The begeleider types a day without a time: the bot asks the time and keeps the day, whatever
goes wrong in between; a past moment, a day that does not exist and an hour that does not exist
each get their own reply. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from storage.db import Database
from storage.models import ConversationState, Meeting
from tests.e2e.conftest import create_placement, join, join_as_begeleider, snapshot

UTC = dt.UTC
# Thursday 3 December 2026, 13:20 in Amsterdam (CET, UTC+1).
THURSDAY = dt.datetime(2026, 12, 3, 12, 20, tzinfo=UTC)


async def _ready(sandbox: Sandbox, db: Database, clock: FakeClock) -> ChatPerson:
    """A begeleider with one placement (parent and house parent joined), asked "when?"."""
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    await join(sandbox, codes["ouder"], 2001, "Olga")
    await join(sandbox, codes["gezinshuisouder"], 3001, "Kees")
    clock.set(THURSDAY)
    await bea.send("/afspraak")
    await bea.click("Sam · installatiefase")
    [ask_when] = await bea.click("Kennismakingsgesprek")
    assert ask_when.text.startswith("Kennismakingsgesprek: wanneer is het?")
    return bea


async def _kept(db: Database) -> dict[str, object]:
    async with db.session() as session:
        state = await session.scalar(select(ConversationState))
        assert state is not None
        return {k: v for k, v in state.data.items() if k in ("day", "time", "daypart")}


async def test_a_day_without_a_time_is_kept_until_the_time_comes(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await _ready(sandbox, db, clock)
    before = await snapshot(db)
    [ask_time] = await bea.send("zaterdag")
    assert ask_time.text == (
        "Hoe laat is het op zaterdag 5 december? Typ de tijd, bijvoorbeeld 14:00 of half drie."
    )
    assert await _kept(db) == {"day": "2026-12-05"}
    [wrong] = await bea.send("25:00")  # a time that does not exist: the day stays
    assert wrong.text.startswith("Die tijd bestaat niet: 25:00.")
    assert await _kept(db) == {"day": "2026-12-05"}
    [ask_where] = await bea.send("half drie")
    assert ask_where.text.startswith("Waar is het?")
    assert await _kept(db) == {}
    await bea.send("kantoor Zuid")
    await bea.click("Klaar")
    assert "Wanneer: zaterdag 5 december om 14:30" in bea.last.text  # half drie = 14:30
    after = await snapshot(db)
    assert {k: v for k, v in after.items() if k != "conversation_state"} == {
        k: v for k, v in before.items() if k != "conversation_state"
    }  # nothing but the open question is stored before "Plannen"
    replies = await bea.click("📅 Plannen")
    assert "zaterdag 5 december om 14:30" in replies[-1].text
    async with db.session() as session:
        meeting = await session.scalar(select(Meeting))
        assert meeting is not None
        assert meeting.starts_at == dt.datetime(2026, 12, 5, 13, 30, tzinfo=UTC)  # 14:30 CET


async def test_each_wrong_part_gets_its_own_reply(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await _ready(sandbox, db, clock)
    for typed, says in (
        ("gisteren 10:00", "Dat is al voorbij: woensdag 2 december om 10:00."),
        ("vandaag 09:00", "Dat is al voorbij: donderdag 3 december om 09:00."),
        ("31 februari 10:00", "Die datum bestaat niet: 31 februari."),
        ("morgen 14:75", "Die tijd bestaat niet: 14:75."),
        ("donderdag 11 december 10:00", "11 december 2026 is een vrijdag."),
        ("11 december 2028 10:00", "Dat is meer dan een jaar vooruit: maandag 11 december"),
        ("banaan", "Dat kan ik niet lezen."),
    ):
        [reply] = await bea.send(typed)
        assert reply.text.startswith(says), typed
        assert reply.text.endswith("Vandaag is het 3 december 2026."), typed
    async with db.session() as session:
        assert await session.scalar(select(Meeting)) is None
    # A time without a day: the bot asks the day and keeps the time.
    [ask_day] = await bea.send("Om half vier.")
    assert ask_day.text.startswith("Op welke dag is het, om 15:30?")
    assert await _kept(db) == {"time": "15:30"}
    await bea.send("morgen")
    await bea.send("kantoor Zuid")
    await bea.click("Klaar")
    assert "Wanneer: vrijdag 4 december om 15:30" in bea.last.text


async def test_moving_a_meeting_reads_the_same_way(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await _ready(sandbox, db, clock)
    await bea.send("maandagmiddag 2 uur")
    await bea.send("kantoor Zuid")
    await bea.click("Klaar")
    assert "Wanneer: maandag 7 december om 14:00" in bea.last.text  # 2 uur = 14:00
    await bea.click("📅 Plannen")
    await bea.send("/afspraken")
    await bea.click("Verzetten (7/12)")
    [ask_time] = await bea.send("dinsdagavond")
    assert ask_time.text.startswith("Hoe laat is het op dinsdag 8 december in de avond?")
    [moved] = await bea.send("8 uur")
    assert "nu dinsdag 8 december om 20:00 (was maandag 7 december om 14:00)" in moved.text
    async with db.session() as session:
        meeting = await session.scalar(select(Meeting))
        assert meeting is not None
        assert meeting.starts_at == dt.datetime(2026, 12, 8, 19, 0, tzinfo=UTC)
