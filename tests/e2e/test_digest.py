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
from storage.models import AccessLog, Phase, Placement, Role
from tests.e2e.conftest import (
    at,
    create_placement,
    join,
    join_as_begeleider,
    snapshot,
    staff_invite_code,
)
from tests.seed import seed, seed_caseload

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
    assert "2 plaatsingen: 2 vragen aandacht, waarvan 1 dreigt vast te lopen." in text
    assert text.index("Noor") < text.index("Sam")
    assert "⚠️ Noor · installatiefase, week 4 · dreigt vast te lopen" in text
    assert "• Piet (ouder) gaf 1 voor het samenwerken (was gemiddeld 4)." in text
    assert "• Piet (ouder) en Mia (gezinshuisouder): geen contact al 3 weken." in text
    assert (
        "• Gezinshuisouders merkten dat Noor het lastig had tussen thuis en hier"
        " (2 van de 4 weken)."
    ) in text
    # One step per placement: the kennismakingsgesprek with both sides is over time.
    assert (
        "👉 Misschien goed om het kennismakingsgesprek nu te plannen (/afspraak)"
        " en dit daar te bespreken."
    ) in text
    assert text.count("👉") == 2
    # Sam is calm, but its getting-to-know meetings were never planned.
    assert "🔸 Sam · installatiefase, week 4" in text
    assert (
        "• Nog niet gepland, nodig vóór 23 maart 2026: kennismakingsgesprek,"
        " kennismaking met de ouders en kennismaking met de gezinshuisouders."
    ) in text
    assert "Weekvragen ingevuld: 4 van 4." in text
    # Blame-free words only.
    for word in ("gemist", "niet geantwoord", "✖", "liever niet)"):
        assert word not in text
    assert digest.button_labels == ["🔎 Noor", "🔎 Sam"]
    photos = [m for m in bea.bot_messages if m.photo is not None]
    assert len(photos) == 1
    assert "Samenwerken per week" in photos[0].text
    assert photos[0] is bea.bot_messages[-1]  # the chart comes after the text
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


async def test_thirty_placements_arrive_as_few_valid_messages_and_one_chart(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    monday = dt.datetime(2026, 3, 16, 7, 30, tzinfo=UTC)  # 08:30 in Amsterdam
    seeded = await seed(db, now=monday, placements=30, weeks=8)
    bea = sandbox.person(seeded.begeleider_user_id, "Bea", started=True)
    for user_id in seeded.participant_users:
        sandbox.person(user_id, "Ouder", started=True)
    await at(app, clock, monday)
    parts = [m for m in bea.bot_messages if m.photo is None]
    assert 1 <= len(parts) <= 3
    for part in parts:
        parse_html(part.html)
    # Every placement once: a section or a line, and a details button.
    assert sum(len(m.button_labels) for m in parts) == 30
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
    assert "🔎 Sam" in replies[0].button_labels
    [details] = await bea.click("🔎 Sam", replies[0])
    assert "Olga (ouder): nog geen weekvragen" in details.text
    [brief] = await ben.send("/overzicht")
    assert "Weekoverzicht" in brief.text
    assert brief.buttons == []  # less detail: no details, no per-person answers
    assert "Nog geen samenwerkingsvragenlijst" in brief.text
    [none] = await bea.send("/overzicht Bestaatniet")
    assert "Je hebt geen open plaatsingen met de naam Bestaatniet" in none.text
    async with db.session() as session:
        views = list(
            await session.scalars(select(AccessLog.action).where(AccessLog.action == "overview"))
        )
    assert len(views) == 2
    async with db.session() as session:
        details_views = list(
            await session.scalars(select(AccessLog).where(AccessLog.action == "placement_details"))
        )
    assert [(r.placement_id, r.actor_label) for r in details_views] == [(1, "Bea (person 1)")]


async def test_details_show_trend_answers_free_text_and_meetings_and_are_logged(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    monday = dt.datetime(2026, 3, 16, 7, 30, tzinfo=UTC)  # 08:30 in Amsterdam
    seeded = await seed_caseload(db, now=monday)
    bea = sandbox.person(seeded.begeleider_user_id, "Bea", started=True)
    await at(app, clock, monday)
    [part] = [m for m in bea.bot_messages if m.photo is None]
    zoe = seeded.placements["stalling"][1]
    before = len(await _logged(db, "placement_details"))
    [details] = await bea.click("🔎 Zoë", part)
    text = details.text
    assert text.startswith("🔎 Zoë · stabilisatiefase, week 7")
    # Trend per side in numbers, oldest first, with the mean.
    assert "Ouders: 4  4  4  4  4  4  4  2 (gemiddeld 3,8)" in text
    assert "Gezinshuisouders: 4  4  4  4  4  4  4  4 (gemiddeld 4)" in text
    # Both sides' latest answers (staff only), free text as written.
    assert "• Karin (ouder): samenwerken 2, contact: geen contact" in text
    assert (
        "• Tineke (gezinshuisouder): samenwerken 4, contact: geen contact,"
        " lastig tussen thuis en hier: ja"
    ) in text
    assert 'Tineke (gezinshuisouder): "Het bezoek op woensdag ging niet door.' in text
    assert await _logged(db, "placement_details") == [*([zoe] * (before + 1))]
    # A double press shows the same again and logs a second view; nothing else changes.
    [again] = await bea.click("🔎 Zoë", part)
    assert again.text == text
    assert await _logged(db, "placement_details") == [zoe, zoe]
    # A skipped week is named without blame.
    [lina] = await bea.click("🔎 Lina", part)
    assert "Said (ouder): overgeslagen: wil liever niet zeggen waarom" in lina.text
    assert "⏭" in lina.text


async def test_details_of_someone_elses_or_a_closed_placement_are_refused(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    [overview] = [m for m in await bea.send("/overzicht") if m.buttons]
    data = overview.buttons[0][0][1]
    assert data == "dd:1"
    # Another begeleider, a parent, and a stranger pressing the same (forwarded) button.
    code = await staff_invite_code(db, clock, Role.BEGELEIDER, "Bo")
    bo = sandbox.person(1002, "Bo")
    await bo.send(f"/start {code}")
    await bo.click("✅ Ja, ik doe mee")
    before = await snapshot(db)
    [refused] = await bo.click_data(data, bo.last.message_id)
    assert "hoort niet bij jou" in refused.text
    [refused] = await olga.click_data(data, olga.last.message_id)
    assert "hoort niet bij jou" in refused.text
    stranger = sandbox.person(9999, "Vreemde", started=True)
    await stranger.send("/help")
    [expired] = await stranger.click_data(data, stranger.last.message_id)
    assert "Deze knop werkt niet meer" in expired.text
    for forged in ("dd:0", "dd:x", "dd:1:2", "dd:99999999999"):
        [expired] = await bea.click_data(forged, overview.message_id)
        assert "Deze knop werkt niet meer" in expired.text
    assert await snapshot(db) == before  # nothing logged, nothing changed
    # Closed: said so, nothing shown.
    async with db.session() as session:
        placement = await session.get(Placement, 1)
        assert placement is not None
        placement.phase = Phase.AFGESLOTEN
    [closed] = await bea.click("🔎 Sam", overview)
    assert "De plaatsing van Sam is afgesloten" in closed.text
    assert "Olga" not in closed.text
    assert overview.text == bea.message(overview.message_id).text  # the digest stays


async def _logged(db: Database, action: str) -> list[int | None]:
    async with db.session() as session:
        return list(
            await session.scalars(
                select(AccessLog.placement_id)
                .where(AccessLog.action == action)
                .order_by(AccessLog.id)
            )
        )


async def test_no_digest_for_a_week_before_her_placements_were_in_the_bot(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    # Monday 9 March 2026, 10:00 in Amsterdam: after her digest moment (08:30), she starts.
    clock.set(dt.datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
    bea = await join_as_begeleider(sandbox, db, clock)
    await create_placement(bea, youth="Sam")
    await at(app, clock, dt.datetime(2026, 3, 9, 9, 10, tzinfo=UTC))
    assert not any("Weekoverzicht" in m.text for m in bea.bot_messages)
    # The next Monday there is a week to look back on.
    await at(app, clock, dt.datetime(2026, 3, 16, 7, 31, tzinfo=UTC))
    assert sum("Weekoverzicht" in m.text for m in bea.bot_messages) == 1
