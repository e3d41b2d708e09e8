"""The route over time: phases, tips, two placements for one house parent, the questionnaire."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from storage.db import Database
from storage.models import Answer, Checkin, CheckinKind, MeasurementRound, Phase, Placement
from tests.e2e.conftest import at, create_placement, join, join_as_begeleider, snapshot

UTC = dt.UTC
SUNDAY_1900 = dt.datetime(2026, 3, 8, 18, 0, tzinfo=UTC)
SUNDAY_2000 = SUNDAY_1900 + dt.timedelta(hours=1)
WEEK = dt.timedelta(days=7)


def questions(person: ChatPerson) -> list[str]:
    return [m.text for m in person.bot_messages if "1/5" in m.text]


async def test_phase_change_tells_people_and_switches_the_questions(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, kees = family
    [choose] = await bea.send("/fase")
    assert "Welke plaatsing" in choose.text
    [confirm] = await bea.click("Sam · installatiefase")
    assert "van de installatiefase naar de stabilisatiefase" in confirm.text
    assert "twee keer per jaar" in confirm.text
    [changed] = await bea.click("Ja, naar de stabilisatiefase")
    assert "Sam is nu in de stabilisatiefase" in changed.text
    assert "nu rustiger" in olga.last.text
    assert "hoe het met <b>jou</b> gaat" in olga.last.html
    assert "intervisie" in kees.last.text
    # Pressing the old confirm button again changes nothing.
    before = await snapshot(db)
    [again] = await bea.click_data(f"fa:{1}:stabilisatiefase", bea.last.message_id)
    assert "is al in de stabilisatiefase" in again.text
    assert await snapshot(db) == before

    await at(app, clock, SUNDAY_2000)
    async with db.session() as session:
        sets = {
            c.role: c.questions
            for c in await session.scalars(select(Checkin).where(Checkin.kind == "weekly"))
        }
    assert sets["ouder"][-1] in ("hoe_gaat_het_met_jou", "betrokken")
    assert sets["gezinshuisouder"][-1] in ("over_samenwerking_gepraat", "iets_goeds_verteld")
    assert len(questions(olga)) == 1


async def test_a_closed_placement_sends_nothing_more(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, kees = family
    await at(app, clock, SUNDAY_1900)  # Olga's check-in is open
    for step in range(3):
        await bea.send("/fase")
        await bea.click(
            next(
                label
                for m in reversed(bea.bot_messages)
                for row in m.buttons
                for label, _ in row
                if label.startswith("Sam ·")
            )
        )
        if step == 2:  # closing is its own flow (flows/plan/ending.py)
            for label in ("Verder", "Terug naar huis", "Ja", "Ja, sluit de plaatsing af"):
                await bea.click(label)
            break
        await bea.click(
            next(label for row in bea.last.buttons for label, _ in row if label.startswith("Ja"))
        )
    assert "De plaatsing van Sam is afgesloten" in bea.last.text
    assert "geen vragen meer" in olga.last.text
    async with db.session() as session:
        placement = await session.scalar(select(Placement))
        assert placement is not None
        assert placement.phase == Phase.AFGESLOTEN
        assert placement.closed_at is not None
    count_olga, count_kees = len(olga.bot_messages), len(kees.bot_messages)
    for week in range(1, 5):
        await at(app, clock, SUNDAY_2000 + week * WEEK)
    assert (len(olga.bot_messages), len(kees.bot_messages)) == (count_olga, count_kees)
    [reply] = await bea.send("/fase")
    assert "Je hebt geen open plaatsingen" in reply.text


async def test_a_house_parent_with_two_placements_gets_two_separate_check_ins(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    sam = await create_placement(bea, youth="Sam")
    noor = await create_placement(bea, youth="Noor")
    kees = await join(sandbox, sam["gezinshuisouder"], 3001, "Kees")
    await kees.send(f"/start {noor['gezinshuisouder']}")
    await kees.click("✅ Ja, ik doe mee")
    await at(app, clock, SUNDAY_2000)
    asked = questions(kees)
    assert len(asked) == 2
    assert any("ouders van Sam" in q for q in asked)
    assert any("ouders van Noor" in q for q in asked)
    sam_question = next(m for m in kees.bot_messages if "1/5" in m.text and "Sam" in m.text)
    await kees.click("Geen contact", sam_question)
    async with db.session() as session:
        rows = list(
            await session.execute(
                select(Placement.youth_name, Answer.question_id).join(
                    Answer, Answer.placement_id == Placement.id
                )
            )
        )
    assert [tuple(r) for r in rows] == [("Sam", "contact")]
    # The second placement's check-in is untouched and still open.
    noor_question = next(m for m in kees.bot_messages if "1/5" in m.text and "Noor" in m.text)
    assert "Jouw antwoord" not in kees.message(noor_question.message_id).text


async def test_tips_come_at_most_every_two_weeks(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    _, olga, kees = family
    for day in range(0, 42):
        await at(app, clock, dt.datetime(2026, 3, 2, 18, 30, tzinfo=UTC) + dt.timedelta(days=day))
    tips_olga = [m.text for m in olga.bot_messages if m.text.startswith("💡")]
    tips_kees = [m.text for m in kees.bot_messages if m.text.startswith("💡")]
    assert 2 <= len(tips_olga) <= 3  # six weeks: one every other week, none in the first week
    assert 2 <= len(tips_kees) <= 3
    assert any("Sam" in t for t in tips_olga)  # tips name the youth, never a surname
    assert set(tips_olga).isdisjoint(tips_kees)  # each side gets its own tips


async def test_the_questionnaire_goes_to_both_sides_and_is_stored_per_dimension(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, kees = family
    await bea.send("/meting")
    await bea.click("Sam · installatiefase")
    [started] = await bea.click("Ja, stuur de vragenlijst")
    assert "verstuurd naar 2 personen" in started.text
    first = olga.last
    assert "1/10" in first.text
    assert "We hebben respect voor elkaar." in first.text
    assert "1/10" in kees.last.text
    for _ in range(10):
        await olga.click("🙂")
    assert "Wil je er nog iets bij zeggen?" in olga.last.text
    await olga.click("Nee, dank je")
    async with db.session() as session:
        stored = list(
            await session.scalars(
                select(Answer.question_id)
                .join(Checkin, Checkin.id == Answer.checkin_id)
                .where(Checkin.kind == CheckinKind.MEASUREMENT)
            )
        )
        assert len(stored) == 10
        assert all(q.startswith("dim_") for q in stored)
        assert await session.scalar(select(func.count(MeasurementRound.id))) == 1
    await bea.send("/meting")
    [busy] = await bea.click("Sam · installatiefase")
    assert "loopt al een vragenlijst" in busy.text


async def test_questionnaire_results_reach_behandelaar_and_begeleider_not_parents(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    kees = await join(sandbox, codes["gezinshuisouder"], 3001, "Kees")
    ben = await join(sandbox, codes["behandelaar"], 4001, "Ben")
    await ben.send("/meting")
    await ben.click("Sam · installatiefase")
    await ben.click("Ja, stuur de vragenlijst")
    for _ in range(10):
        await olga.click("🙂")
    await olga.click("Nee, dank je")
    await at(app, clock, clock.now())
    assert not any("Samenwerkingsvragenlijst Sam" in m.text for m in bea.bot_messages)
    for index in range(10):
        await kees.click("😞" if index == 0 else "🙂")
    await kees.click("Nee, dank je")
    await at(app, clock, clock.now())
    for staff in (bea, ben):
        [result] = [m for m in staff.bot_messages if "Samenwerkingsvragenlijst Sam" in m.text]
        assert "Ingevuld: ouders 1 van 1 · gezinshuisouders 1 van 1" in result.text
        assert "Respect: 4,0 · 1,0 · 3,0 ⚠️" in result.text
        assert "🃏 Respect – Wanneer voelde je je" in result.text
    for parent in (olga, kees):
        assert not any("Samenwerkingsvragenlijst" in m.text for m in parent.bot_messages)
