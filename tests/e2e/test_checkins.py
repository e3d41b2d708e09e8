"""The weekly check-in as parents and house parents live it, driven by a fake clock."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select, update

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from storage.db import Database
from storage.models import (
    Answer,
    Checkin,
    CheckinStatus,
    ContactRequest,
    Organisation,
    OutboxMessage,
    OutboxStatus,
    TelegramLink,
)
from tests.e2e.conftest import at, snapshot

UTC = dt.UTC
# Sunday 8 March 2026: 19:00 in Amsterdam is 18:00 UTC (winter time).
SUNDAY_1900 = dt.datetime(2026, 3, 8, 18, 0, tzinfo=UTC)
SUNDAY_2000 = SUNDAY_1900 + dt.timedelta(hours=1)


async def answers(db: Database, person_name: str | None = None) -> dict[str, Answer]:
    async with db.session() as session:
        rows = await session.scalars(select(Answer).order_by(Answer.id))
        return {a.question_id: a for a in rows}


async def test_each_gets_the_check_in_at_their_own_time_and_answers_it(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
    sandbox: Sandbox,
) -> None:
    _, olga, kees = family
    before = len(olga.bot_messages)
    await at(app, clock, SUNDAY_1900 - dt.timedelta(minutes=1))
    assert len(olga.bot_messages) == before  # not yet
    report = await at(app, clock, SUNDAY_1900)
    assert report.sent == 1
    first = olga.last
    assert "Olga" in first.text
    assert "Sam" in first.text
    assert "1/5" in first.text
    assert "Had je deze week contact met de gezinshuisouders van Sam?" in first.text
    assert [label for row in first.buttons for label, _ in row] == [
        "🤝 Elkaar gezien",
        "📱 App of telefoon",
        "Geen contact",
        "Deze week overslaan",
    ]
    assert all("Kees" not in m.text for m in olga.bot_messages)
    kees_before = len(kees.bot_messages)
    await at(app, clock, SUNDAY_2000)
    assert len(kees.bot_messages) == kees_before + 1
    assert "Had je deze week contact met de ouders van Sam?" in kees.last.text

    # Olga answers with buttons, one question at a time.
    replies = await olga.click("🤝 Elkaar gezien")
    assert "Jouw antwoord: 🤝 Elkaar gezien" in olga.message(first.message_id).text
    second = replies[-1]
    assert "2/5 Hoe ging het samenwerken met de gezinshuisouders van Sam deze week?" in (
        second.text
    )
    await olga.click("🙂", second)
    # She changes her mind: press another face on the same question.
    changed = await olga.click("😐", second)
    assert len(changed) == 1  # only the question itself is updated, nothing new is sent
    assert "Jouw antwoord: 😐" in olga.message(second.message_id).text
    assert "✓ 😐" in [label for row in olga.message(second.message_id).buttons for label, _ in row]
    await olga.click("🙂")  # 3/5 gehoord
    await olga.click("Een beetje")  # 4/5 weet hoe het gaat
    done = await olga.click("😄")  # 5/5 rotating phase item
    assert "Wil je nog iets kwijt aan je begeleider?" in done[-1].text
    [saved] = await olga.send("Het gaat <b>best</b> goed & Sam lacht weer 😀")
    assert "Bea leest het" in saved.text

    stored = await answers(db)
    assert stored["contact"].value == "gesproken"
    assert stored["samenwerken"].value == "3"
    assert stored["samenwerken"].score == 3
    assert stored["samenwerken"].changed_at is not None
    assert stored["weet_hoe_het_gaat"].score == 3
    assert stored["open"].text == "Het gaat <b>best</b> goed & Sam lacht weer 😀"
    async with db.session() as session:
        checkin = await session.scalar(select(Checkin).where(Checkin.role == "ouder"))
        assert checkin is not None
        assert checkin.status == CheckinStatus.ANSWERED
        assert checkin.period == "2026-W10"
    # Nothing Olga answered reached Kees.
    assert all(
        "best" not in m.text and "Olga" not in m.text
        for m in kees.bot_messages
        if m.message_id > kees_before
    )


async def test_skip_with_a_reason(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    _, _, kees = family
    await at(app, clock, SUNDAY_2000)
    [why] = await kees.click("Deze week overslaan")
    assert "Wil je zeggen waarom?" in why.text
    [done] = await kees.click("Druk")
    assert "We slaan deze week over" in done.text
    async with db.session() as session:
        checkin = await session.scalar(select(Checkin).where(Checkin.role == "gezinshuisouder"))
        assert checkin is not None
        assert checkin.status == CheckinStatus.SKIPPED
        assert checkin.skip_reason == "druk"
    # A day later: no reminder for a skipped check-in.
    count = len(kees.bot_messages)
    await at(app, clock, SUNDAY_2000 + dt.timedelta(days=1, hours=1))
    assert len(kees.bot_messages) == count


async def test_one_reminder_then_missed(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    _, olga, kees = family
    await at(app, clock, SUNDAY_1900)
    question = olga.last
    count = len(olga.bot_messages)
    await at(app, clock, SUNDAY_1900 + dt.timedelta(hours=23))
    assert len(olga.bot_messages) == count
    await at(app, clock, SUNDAY_1900 + dt.timedelta(hours=24))
    assert len(olga.bot_messages) == count + 1
    reminder = olga.last
    assert "staan nog open" in reminder.text
    for hours in (25, 30, 48):
        await at(app, clock, SUNDAY_1900 + dt.timedelta(hours=hours))
    assert len(olga.bot_messages) == count + 1  # exactly one reminder
    # Kees is not reminded of Olga's check-in (and got only his own).
    assert all("staan nog open" not in m.text for m in kees.bot_messages)
    # "Verder met de vragen" shows the first open question again.
    [again] = await olga.click("Verder met de vragen")
    assert "1/5" in again.text

    await at(app, clock, SUNDAY_1900 + dt.timedelta(days=4))
    async with db.session() as session:
        checkin = await session.scalar(select(Checkin).where(Checkin.role == "ouder"))
        assert checkin is not None
        assert checkin.status == CheckinStatus.MISSED
    [closed] = await olga.click("Geen contact", question)
    assert "zijn gesloten" in closed.text
    assert (await answers(db)) == {}


async def test_a_restart_in_the_middle_continues_where_it_was(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
    sandbox: Sandbox,
) -> None:
    from bot.app import build_application, start_polling, stop_polling
    from flows.settings import RouteSettings

    _, olga, _ = family
    await at(app, clock, SUNDAY_1900)
    await olga.click("📱 App of telefoon")
    second = olga.last
    await stop_polling(app)
    restarted = build_application(
        token=sandbox.token,
        db=db,
        route=RouteSettings(),
        base_url=sandbox.base_url,
        clock=clock,
        clock_jobs=False,
    )
    await start_polling(restarted, poll_timeout=5)
    try:
        replies = await olga.click("🙁", second)
        assert "3/5" in replies[-1].text
        stored = await answers(db)
        assert stored["contact"].value == "app"
        assert stored["samenwerken"].value == "2"
    finally:
        await stop_polling(restarted)
        await app.initialize()  # the fixture's teardown stops `app` again


async def test_contact_request_reaches_the_begeleider_at_once(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, kees = family
    before = len(bea.bot_messages)
    [confirm] = await olga.send("/contact")
    # The bot promises only what it did itself, and says where to go when it cannot wait.
    assert confirm.text == (
        "Bea heeft je vraag gekregen. Is het dringend? "
        "Bel dan je begeleider of het gezinshuis. Bij gevaar: bel 112."
    )
    assert "neemt contact" not in confirm.text
    assert len(bea.bot_messages) == before + 1
    assert bea.last.text == "📞 Olga (ouder bij Sam) wil graag contact met je."
    [again] = await olga.send("/contact")
    assert "Ik stuur het niet nog een keer naar Bea" in again.text
    assert "Bij gevaar: bel 112" in again.text
    assert len(bea.bot_messages) == before + 1
    assert all("contact met je" not in m.text for m in kees.bot_messages)
    async with db.session() as session:
        assert await session.scalar(select(func.count(ContactRequest.id))) == 1
        sent = await session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.kind == "contact_request", OutboxMessage.status == OutboxStatus.SENT
            )
        )
        assert sent == 1


async def test_contact_gives_the_organisations_phone_also_when_the_begeleider_is_away(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, kees = family
    async with db.session() as session:
        await session.execute(update(Organisation).values(phone="088 123 45 67"))
    [confirm] = await olga.send("/contact")
    assert confirm.text == (
        "Bea heeft je vraag gekregen. Is het dringend? Bel dan 088 123 45 67. Bij gevaar: bel 112."
    )
    [help_text] = await kees.send("/help")
    assert "Is het dringend? Bel dan 088 123 45 67. Bij gevaar: bel 112." in help_text.text
    [bea_help] = await bea.send("/help")
    assert "112" not in bea_help.text  # staff only: no participant section
    # Bea cannot be reached: the question is kept, and the person is told to call.
    async with db.session() as session:
        await session.execute(
            update(TelegramLink)
            .where(TelegramLink.telegram_user_id == bea.user_id)
            .values(reachable=False)
        )
    before = len(bea.bot_messages)
    [kept] = await kees.send("/contact")
    assert kept.text == (
        "Ik heb je vraag bewaard. Maar ik kan Bea nu niet bereiken via Telegram. "
        "Wil je zelf bellen? Bel dan 088 123 45 67. Bij gevaar: bel 112."
    )
    assert len(bea.bot_messages) == before
    async with db.session() as session:
        assert await session.scalar(select(func.count(ContactRequest.id))) == 2


async def test_foreign_and_forged_check_in_buttons(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    _, olga, kees = family
    await at(app, clock, SUNDAY_2000)
    olga_question = next(m for m in reversed(olga.bot_messages) if "1/5" in m.text)
    data = olga_question.buttons[0][0][1]
    assert data is not None
    before = await snapshot(db)
    # Kees replays Olga's button data in his own chat.
    [reply] = await kees.click_data(data, kees.last.message_id)
    assert "Deze knop werkt niet meer" in reply.text
    for forged in ("ck:1:0:banana", "ck:1:99:1", "ck:999:0:1", "ck:x:y", "ck:1:why:boos"):
        [reply] = await olga.click_data(forged, olga_question.message_id)
        assert "Deze knop werkt niet meer" in reply.text, forged
    assert await snapshot(db) == before


async def test_typing_while_a_button_question_is_open(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    _, olga, _ = family
    await at(app, clock, SUNDAY_1900)
    before = await snapshot(db)
    [reply] = await olga.send("goed hoor")
    assert "Antwoorden gaat met de knoppen" in reply.text
    assert await snapshot(db) == before


async def test_a_very_long_open_answer_is_stored_and_escaped(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    _, olga, _ = family
    await at(app, clock, SUNDAY_1900)
    for label in ("Geen contact", "😐", "😐", "Nee", "😐"):
        await olga.click(label)
    text = ("<script>&amp; 😀 " * 400)[:5000]
    [saved] = await olga.send(text)
    assert "Bea leest het" in saved.text
    assert (await answers(db))["open"].text == text.strip()


async def test_export_includes_the_answers(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    _, olga, _ = family
    await at(app, clock, SUNDAY_1900)
    for label in ("Geen contact", "🙂", "😐", "Ja", "😄"):
        await olga.click(label)
    await olga.send("Fijn <3")
    [export] = await olga.send("/mijngegevens")
    assert export.document is not None
    content = export.document.data.decode("utf-8")
    # Each answer with its question as it was asked, and its id.
    asked = "Hoe ging het samenwerken met de gezinshuisouders van Sam deze week?"
    assert f'vraag "{asked}" (samenwerken): 4' in content
    assert 'vraag "iets voor je begeleider" (open): Fijn <3' in content  # shown as typed


async def test_pressing_twice_quickly_stores_one_answer(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    _, olga, _ = family
    await at(app, clock, SUNDAY_1900)
    question = olga.last
    data = question.buttons[0][0][1]
    assert data is not None
    await asyncio.gather(
        olga.click_data(data, question.message_id), olga.click_data(data, question.message_id)
    )
    stored = await answers(db)
    assert list(stored) == ["contact"]
    assert sum("2/5" in m.text for m in olga.bot_messages) == 1  # the next question came once


@pytest.mark.parametrize(
    ("sunday", "utc_hour"),
    [
        (dt.date(2026, 3, 22), 18),  # before the March change: CET, UTC+1
        (dt.date(2026, 3, 29), 17),  # the change day itself: CEST, UTC+2
        (dt.date(2026, 10, 25), 18),  # the October change day: back to CET
        (dt.date(2026, 10, 18), 17),  # the Sunday before it: still CEST
    ],
)
async def test_sunday_1900_local_across_dst(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
    sunday: dt.date,
    utc_hour: int,
) -> None:
    _, olga, _ = family
    due = dt.datetime.combine(sunday, dt.time(utc_hour), tzinfo=UTC)
    await at(app, clock, due - dt.timedelta(minutes=1))
    before = sum("1/5" in m.text for m in olga.bot_messages)
    await at(app, clock, due)
    assert sum("1/5" in m.text for m in olga.bot_messages) == before + 1
