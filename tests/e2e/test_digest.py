"""The begeleider's Monday digest over the sandbox, after a scripted month of answers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.sandbox.html import parse_html
from bot.sandbox.people import Person as ChatPerson
from storage.db import Database
from storage.models import AccessLog
from tests.e2e.conftest import at, create_placement, join, join_as_begeleider
from tests.seed import seed

UTC = dt.UTC
SUNDAY_1900 = dt.datetime(2026, 3, 8, 18, 0, tzinfo=UTC)
WEEK = dt.timedelta(days=7)


async def answer(person: ChatPerson, labels: tuple[str, ...]) -> None:
    """Answer the newest open check-in with these buttons, then decline the open question."""
    question = next(m for m in reversed(person.bot_messages) if "1/5" in m.text)
    await person.click(labels[0], question)
    for label in labels[1:]:
        await person.click(label)
    await person.click("Nee, dank je")


async def test_a_month_of_answers_leads_to_a_digest_with_the_stalling_one_first(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    sam = await create_placement(bea, youth="Sam")
    noor = await create_placement(bea, youth="Noor")
    olga = await join(sandbox, sam["ouder"], 2001, "Olga")
    kees = await join(sandbox, sam["gezinshuisouder"], 3001, "Kees")
    piet = await join(sandbox, noor["ouder"], 2002, "Piet")
    mia = await join(sandbox, noor["gezinshuisouder"], 3002, "Mia")
    for week in range(4):
        sunday = SUNDAY_1900 + week * WEEK
        await at(app, clock, sunday)
        await answer(olga, ("🤝 Elkaar gezien", "🙂", "🙂", "Ja", "🙂"))
        last = week == 3
        await answer(
            piet,
            (
                "Geen contact" if week >= 1 else "📱 App of telefoon",
                "😞" if last else "🙂",
                "🙁",
                "Nee",
                "😐",
            ),
        )
        await at(app, clock, sunday + dt.timedelta(hours=1))
        await answer(kees, ("🤝 Elkaar gezien", "😄", "Ja", "Nee", "🙂"))
        await answer(
            mia,
            (
                "Geen contact" if week >= 1 else "📱 App of telefoon",
                "🙂",
                "Nee",
                "Ja" if week >= 2 else "Nee",
                "🙂",
            ),
        )
    before = {p: len(p.bot_messages) for p in (olga, kees, piet, mia)}
    # Monday 30 March 08:30 in Amsterdam (summer time: 06:30 UTC).
    await at(app, clock, dt.datetime(2026, 3, 30, 6, 29, tzinfo=UTC))
    assert not any("Weekoverzicht" in m.text for m in bea.bot_messages)
    await at(app, clock, dt.datetime(2026, 3, 30, 6, 30, tzinfo=UTC))
    [digest] = [m for m in bea.bot_messages if "Weekoverzicht" in m.text]
    text = digest.text
    assert "2 plaatsingen · 2 vragen aandacht · 1 dreigt vast te lopen" in text
    assert text.index("Noor") < text.index("Sam")
    assert "⚠️ Noor – dreigt vast te lopen" in text
    assert "Piet gaf 1 (was gemiddeld 4,0)." in text
    assert "Piet: geen contact, al 3 weken." in text
    assert "Noor merkte spanning, in 2 van de laatste 4 weken" in text
    # Sam is calm, but its getting-to-know meetings were never planned.
    assert "🔸 Sam – vraagt aandacht" in text
    assert "Kennismakingsgesprek is over tijd." in text
    assert "Vragen beantwoord: 4 van 4" in text
    photos = [m for m in bea.bot_messages if m.photo is not None]
    assert len(photos) == 1
    assert "Samenwerken per week" in photos[0].text
    # Parents and house parents never get anything of the digest.
    for person, count in before.items():
        assert len(person.bot_messages) == count
    # A second beat the same morning sends nothing again.
    await at(app, clock, dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC))
    assert len([m for m in bea.bot_messages if "Weekoverzicht" in m.text]) == 1
    async with db.session() as session:
        logged = list(
            await session.scalars(select(AccessLog).where(AccessLog.action == "weekly_digest"))
        )
    # One row per placement in the digest, written once (not again on the second beat).
    assert sorted(row.subject for row in logged) == ["placement:1", "placement:2"]
    assert sorted(row.placement_id for row in logged) == [1, 2]


async def test_thirty_placements_arrive_as_several_valid_messages_and_one_chart(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    monday = dt.datetime(2026, 3, 16, 7, 30, tzinfo=UTC)  # 08:30 in Amsterdam
    seeded = await seed(db, now=monday, placements=30, weeks=8)
    bea = sandbox.person(seeded.begeleider_user_id, "Bea", started=True)
    for user_id in seeded.participant_users:
        sandbox.person(user_id, "Ouder", started=True)
    await at(app, clock, monday)
    parts = [m for m in bea.bot_messages if m.photo is None]
    assert len(parts) >= 2
    for part in parts:
        parse_html(part.html)
    assert sum(m.text.count(" – ") for m in parts) >= 30
    assert len([m for m in bea.bot_messages if m.photo is not None]) == 1
    for user_id in seeded.participant_users:
        assert sandbox.person(user_id, "Ouder").bot_messages == []

    [*replies] = await bea.send("/overzicht Noor")
    assert all(
        "Noor" in m.text for m in replies if m.photo is None and "Weekoverzicht" not in m.text
    )


async def test_overzicht_for_staff_only_and_brief_for_the_behandelaar(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    ben = await join(sandbox, codes["behandelaar"], 4001, "Ben")
    [reply] = await olga.send("/overzicht")
    assert "voor begeleiders en behandelaars" in reply.text
    replies = await bea.send("/overzicht")
    assert "Weekoverzicht" in replies[0].text
    assert "Deze week: Olga" in replies[0].text
    [brief] = await ben.send("/overzicht")
    assert "Weekoverzicht" in brief.text
    assert "Deze week" not in brief.text  # less detail: no per-person answers
    assert "Nog geen samenwerkingsvragenlijst" in brief.text
    [none] = await bea.send("/overzicht Bestaatniet")
    assert "Je hebt geen open plaatsingen met de naam Bestaatniet" in none.text
    async with db.session() as session:
        views = list(
            await session.scalars(select(AccessLog.action).where(AccessLog.action == "overview"))
        )
    assert len(views) == 2
