"""The plan review: the plan to the begeleider before a twice-yearly talk, recorded after it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox.people import Person as ChatPerson
from flows import buttons
from flows.plan import changes
from storage.db import Database
from storage.models import (
    AccessLog,
    Goal,
    GoalEvent,
    GoalSide,
    GoalStatus,
    OutboxMessage,
    Phase,
    Placement,
    PlanReview,
)
from tests.e2e.conftest import at, snapshot

UTC = dt.UTC
OUDER_GOAL = "Olga-doel OUDERGEHEIM"
GHO_GOAL = "Kees-doel GHOGEHEIM"
SAMEN_GOAL = "Samen elke maand bellen"


async def _goals(db: Database, now: dt.datetime) -> list[int]:
    async with db.session() as session:
        placement = await session.scalar(select(Placement))
        assert placement is not None
        made = [
            await changes.add_goal(
                session,
                placement_id=placement.id,
                phase=Phase.STABILISATIEFASE,
                side=side,
                by_person_id=None,
                now=now,
                **words,  # type: ignore[arg-type]
            )
            for side, words in (
                (GoalSide.OUDER, {"suggestion": "ouder_rol"}),
                (GoalSide.GEZINSHUISOUDER, {"text": GHO_GOAL}),
                (GoalSide.SAMEN, {"text": SAMEN_GOAL}),
                (GoalSide.OUDER, {"text": OUDER_GOAL}),
            )
        ]
        return [g.id for g in made]


async def _stable_with_results_and_talk(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> list[int]:
    bea, olga, kees = family
    await bea.send("/meting")
    await bea.click("Sam · installatiefase")
    await bea.click("Ja, stuur de vragenlijst")
    for _ in range(10):
        await olga.click("🙂")
    await olga.click("Nee, dank je")
    for index in range(10):
        await kees.click("😞" if index == 0 else "🙂")
    await kees.click("Nee, dank je")
    await at(app, clock, clock.now())
    await bea.send("/fase")
    await bea.click("Sam · installatiefase")
    await bea.click("Ja, naar de stabilisatiefase")
    ids = await _goals(db, clock.now())
    await bea.send("/afspraak")
    await bea.click("Sam · stabilisatiefase")
    await bea.click("Samenwerkingsgesprek")
    await bea.send("20-3 15:00")
    await bea.send("kantoor Zuid")
    await bea.click("Klaar")
    await bea.click("📅 Plannen")
    return ids


async def test_plan_before_the_talk_and_review_after(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, kees = family
    ids = await _stable_with_results_and_talk(app, family, db, clock)

    # Before: two days before the talk (20 March 14:00 UTC), once, for the begeleider only.
    await at(app, clock, dt.datetime(2026, 3, 18, 13, 0, tzinfo=UTC))
    assert not any("Plan Sam" in m.text for m in bea.bot_messages)
    await at(app, clock, dt.datetime(2026, 3, 18, 14, 0, tzinfo=UTC))
    await at(app, clock, dt.datetime(2026, 3, 18, 15, 0, tzinfo=UTC))
    plans = [m for m in bea.bot_messages if m.text.startswith("Plan Sam")]
    assert len(plans) == 1
    text = plans[0].text
    for words in (OUDER_GOAL, GHO_GOAL, SAMEN_GOAL, "Vragenlijst van", "Gemiddeld: ouders 4"):
        assert words in text, words
    assert "Doelen van de ouders" in text
    assert "Doelen van de gezinshuisouders" in text
    for person in (olga, kees):
        seen = " ".join(m.text for m in person.bot_messages)
        assert "Plan Sam" not in seen
    assert GHO_GOAL not in " ".join(m.text for m in olga.bot_messages)
    assert OUDER_GOAL not in " ".join(m.text for m in kees.bot_messages)
    async with db.session() as session:
        [review] = list(await session.scalars(select(PlanReview)))
        assert review.sent_at is not None
        assert review.recorded_at is None
        logged = await session.scalar(
            select(func.count(AccessLog.id)).where(AccessLog.action == "plan_review")
        )
        assert logged == 1

    # After: a beat after the talk, the prompt; then the review step by step.
    await at(app, clock, dt.datetime(2026, 3, 20, 16, 30, tzinfo=UTC))
    await at(app, clock, dt.datetime(2026, 3, 20, 17, 30, tzinfo=UTC))
    prompts = [m for m in bea.bot_messages if "Hoe ging de bespreking" in m.text]
    assert len(prompts) == 1
    assert not any("Hoe ging de bespreking" in m.text for m in olga.bot_messages)
    [listing] = await bea.click("📋 Plan bespreken")
    assert "1. " in listing.text
    assert OUDER_GOAL in listing.text
    await bea.click("1 Houden")
    # A double press (the button on the earlier list): told kindly, nothing recorded twice.
    [twice] = await bea.click("1 Houden")
    assert "al gehad" in twice.text
    await bea.click("2 Aanpassen")
    replies = await bea.send("Kees-doel nieuw: samen koken")
    assert any("Aangepast" in r.text for r in replies)
    await bea.click("3 Bereikt")
    await bea.click("➕ Doel toevoegen")
    await bea.click("Doel voor de samenwerking")
    replies = await bea.send("Samen een uitje plannen")
    assert any("Toegevoegd" in r.text for r in replies)
    await bea.click("✅ Klaar")
    [ask_note] = await bea.click("📅 Over 6 maanden")
    assert "20 september 2026" in ask_note.text
    [done] = await bea.send("Goed gesprek, NOTITIEGEHEIM")
    assert "Vastgelegd" in done.text

    async with db.session() as session:
        [review] = list(await session.scalars(select(PlanReview)))
        assert review.recorded_at is not None
        assert review.next_review == dt.date(2026, 9, 20)
        assert review.note == "Goed gesprek, NOTITIEGEHEIM"
        listed = [
            (e.goal_id, e.action)
            for e in await session.scalars(
                select(GoalEvent).where(GoalEvent.review_id == review.id)
            )
        ]
        events = set(listed)
        assert len(listed) == len(events)  # each change once
        added = await session.scalar(select(Goal).order_by(Goal.id.desc()).limit(1))
        assert added is not None
        assert added.side == GoalSide.SAMEN
        assert added.text == "Samen een uitje plannen"  # encrypted at rest
        assert events == {
            (ids[0], "kept"),
            (ids[1], "adjusted"),
            (ids[2], "reached"),
            (added.id, "set"),
        }
        adjusted = await session.get(Goal, ids[1])
        reached = await session.get(Goal, ids[2])
        assert adjusted is not None
        assert adjusted.text == "Kees-doel nieuw: samen koken"
        assert reached is not None
        assert reached.status == GoalStatus.REACHED
        untouched = await session.get(Goal, ids[3])
        assert untouched is not None
        assert untouched.status == GoalStatus.OPEN

    # A second press on an old button changes nothing: the review is recorded once.
    before = await snapshot(db)
    [again] = await bea.click("✅ Klaar")
    assert "al vastgelegd" in again.text
    assert await snapshot(db) == before
    # Her own data: the review she recorded, with its note; the plan she got, in her log.
    [export] = await bea.send("/mijngegevens")
    assert export.document is not None
    content = export.document.data.decode("utf-8")
    assert "PLANBESPREKINGEN DIE JIJ VASTLEGDE" in content
    assert "Goed gesprek, NOTITIEGEHEIM" in content
    assert "plan gekregen voor een planbespreking" in content
    # The participants never saw any of it.
    for person in (olga, kees):
        seen = " ".join(m.text for m in person.bot_messages)
        assert "NOTITIEGEHEIM" not in seen
        assert "bespreking" not in seen


async def test_forged_review_button_and_closed_placement_are_refused(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, _kees = family
    await _stable_with_results_and_talk(app, family, db, clock)
    await at(app, clock, dt.datetime(2026, 3, 20, 16, 30, tzinfo=UTC))
    async with db.session() as session:
        review = await session.scalar(select(PlanReview))
        assert review is not None
        review_id, placement_id = review.id, review.placement_id
    before = await snapshot(db)
    # An ouder pressing the begeleider's button (forwarded or forged): refused, nothing stored.
    message_id = olga.last.message_id
    [refused] = await olga.click_data(
        buttons.REVIEW_START.data(placement=placement_id), message_id
    )
    assert "Plan Sam" not in refused.text
    await olga.click_data(buttons.REVIEW_STEP.data(review=review_id, step="done"), message_id)
    assert await snapshot(db) == before
    # A closed placement: no review any more.
    async with db.session() as session:
        placement = await session.scalar(select(Placement))
        assert placement is not None
        placement.phase = Phase.AFGESLOTEN
    [closed] = await bea.click("📋 Plan bespreken")
    assert "afgesloten" in closed.text.lower()
    async with db.session() as session:
        assert (
            await session.scalar(
                select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.kind == "plan_review_after"
                )
            )
            == 1
        )


async def test_a_missed_prompt_the_begeleider_starts_the_review_herself(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, _kees = family
    ids = await _goals(db, clock.now())
    [refused] = await olga.send("/planbespreking")
    assert "Sam" not in refused.text  # only a begeleider
    await bea.send("/planbespreking")
    [listing] = await bea.click("Sam · installatiefase")
    assert OUDER_GOAL in listing.text
    await bea.click("4 Laten vallen")
    await bea.click("✅ Klaar")
    [bad] = await bea.send("gisteren")
    assert "kan ik niet lezen" in bad.text
    await bea.send("1-6-2026")
    [done] = await bea.click("Geen notitie")
    assert "Vastgelegd" in done.text
    async with db.session() as session:
        [review] = list(await session.scalars(select(PlanReview)))
        assert review.meeting_id is None
        assert review.next_review == dt.date(2026, 6, 1)
        assert review.note is None
        dropped = await session.get(Goal, ids[3])
        assert dropped is not None
        assert dropped.status == GoalStatus.DROPPED
