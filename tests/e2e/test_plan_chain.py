"""The whole begeleidingsplan in one placement, as its people go through it (issue #13):
estimate → goals → each person confirms her own → nine weeks of check-ins with goal questions →
a digest with goal progress and a stalled goal → the review before and after a talk → the
evaluatiefase's reflections → closing with a reason and a summary. Everything each participant
received is scanned for the other side's personal goal and reflection."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox.people import Person as ChatPerson
from storage.db import Database
from storage.models import (
    Answer,
    EndingReason,
    GoalResponse,
    Placement,
    PlacementEnding,
    PlanEstimate,
    PlanReview,
)
from tests.e2e.conftest import at
from tests.e2e.test_plan_ending import close_as, label_starting, received, reflect
from tests.e2e.test_plan_goals import add_typed, estimate
from tests.e2e.test_plan_progress import KEES, OLGA, answer_base

UTC = dt.UTC
SUNDAY_1800 = dt.datetime(2026, 3, 8, 18, 0, tzinfo=UTC)  # 19:00 in Amsterdam, ISO week 10
WEEK = dt.timedelta(days=7)
OLGA_GOAL = "OUDERDOEL Olga belt elke zondag"
KEES_GOAL = "GHODOEL Kees nodigt Olga uit bij het sporten"
SAMEN_GOAL = "SAMENDOEL elke maand samen praten"


async def test_the_whole_plan_from_estimate_to_ending(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, kees = family

    # 1. The estimate, by chat: one item at 2 means extra support.
    saved = await estimate(bea)
    assert "extra steun" in saved[-1].text

    # 2. Goals for each side and the collaboration, sent; each person confirms her own.
    await bea.send("/plan")
    for side, words in (
        ("Voor de ouders", OLGA_GOAL),
        ("Voor de gezinshuisouders", KEES_GOAL),
        ("Voor de samenwerking", SAMEN_GOAL),
    ):
        await add_typed(bea, side, words)
    await bea.send("/plan")
    await bea.click("📨 Klaar, stuur naar ouders en gezinshuisouders")
    for person in (olga, kees):
        ask = await person.wait_for_message(lambda m: "Klopt dit voor jou?" in m.text)
        await person.click("👍 Ja, dat klopt", ask)
    async with db.session() as session:
        responses = list(await session.scalars(select(GoalResponse)))
        estimates = list(await session.scalars(select(PlanEstimate)))
    assert len(estimates) == 1
    assert len(responses) == 4  # Olga: her goal and the shared one; Kees: the same
    assert all(r.agreed for r in responses)

    # 3. Nine weeks of check-ins; every fourth week one question about an own or shared goal.
    #    Olga answers hers; Kees passes his with "Nu niet", so his own goal has no progress.
    for week in range(9):  # ISO weeks 10-18: weeks 12 and 16 ask about a goal
        sunday = SUNDAY_1800 + week * WEEK
        goal_week = week in (2, 6)
        await at(app, clock, sunday)
        await answer_base(olga, OLGA)
        if goal_week:
            question = olga.bot_messages[-1]
            assert "Hoe gaat het met dit doel, voor jou?" in question.text
            assert KEES_GOAL not in question.text
            await olga.click("🙂", question)
        await olga.click("Nee, dank je")
        await at(app, clock, sunday + dt.timedelta(hours=1))
        await answer_base(kees, KEES)
        if goal_week:
            question = kees.bot_messages[-1]
            assert "Hoe gaat het met dit doel, voor jou?" in question.text
            assert OLGA_GOAL not in question.text
            await kees.click("Nu niet", question)
        await kees.click("Nee, dank je")
    async with db.session() as session:
        progress = list(await session.scalars(select(Answer).where(Answer.question_id == "doel")))
    assert sorted(a.score for a in progress if a.score is not None) == [4, 4]

    # 4. The Monday digest (4 May, 08:30 in Amsterdam): goal progress, and Kees's own goal
    #    without progress for more than eight weeks as a reason.
    await at(app, clock, dt.datetime(2026, 5, 4, 6, 31, tzinfo=UTC))
    digest = next(m for m in reversed(bea.bot_messages) if m.text.startswith("Weekoverzicht"))
    assert "geen voortgang" in digest.text
    assert KEES_GOAL in digest.text

    # 5. The plan review around a samenwerkingsgesprek in the stabilisatiefase.
    await bea.send("/fase")
    await bea.click(label_starting(bea, "Sam ·"))
    await bea.click(label_starting(bea, "Ja, naar"))
    await bea.send("/afspraak")
    await bea.click(label_starting(bea, "Sam ·"))
    await bea.click("Samenwerkingsgesprek")
    await bea.send("20-5 15:00")
    await bea.send("kantoor Zuid")
    await bea.click("Klaar")
    await bea.click("📅 Plannen")
    await at(app, clock, dt.datetime(2026, 5, 18, 14, 0, tzinfo=UTC))
    await at(app, clock, dt.datetime(2026, 5, 18, 15, 0, tzinfo=UTC))
    [plan] = [m for m in bea.bot_messages if m.text.startswith("Plan Sam")]
    for words in (OLGA_GOAL, KEES_GOAL, SAMEN_GOAL):
        assert words in plan.text
    await at(app, clock, dt.datetime(2026, 5, 20, 16, 30, tzinfo=UTC))
    await at(app, clock, dt.datetime(2026, 5, 20, 17, 30, tzinfo=UTC))
    await bea.click("📋 Plan bespreken")
    await bea.click("1 Houden")
    await bea.click("✅ Klaar")
    await bea.click("📅 Over 6 maanden")
    [done] = await bea.send("Goed gesprek")
    assert "Vastgelegd" in done.text
    async with db.session() as session:
        [review] = list(await session.scalars(select(PlanReview)))
    assert review.sent_at is not None
    assert review.recorded_at is not None

    # 6. The evaluatiefase: three reflective questions to each, stored per side.
    await bea.send("/fase")
    await bea.click(label_starting(bea, "Sam ·"))
    await bea.click(label_starting(bea, "Ja, naar"))
    await reflect(olga, kees)

    # 7. Closing: the reason as a code, a last message to each, one summary for Bea.
    await close_as(bea, "Voortijdig gestopt (breakdown)")
    replies = await bea.click("Ja, sluit de plaatsing af")
    [summary] = [r for r in replies if r.document is not None]
    assert summary.document is not None
    content = summary.document.data.decode("utf-8")
    for expected in (OLGA_GOAL, KEES_GOAL, SAMEN_GOAL, "OLGA-GOED", "KEES-GOED", "breakdown"):
        assert expected in content, expected
    for person in (olga, kees):
        assert "geen vragen meer" in person.last.text
    async with db.session() as session:
        ending = await session.scalar(select(PlacementEnding))
        placement = await session.scalar(select(Placement))
    assert ending is not None
    assert ending.reason == EndingReason.BREAKDOWN
    assert placement is not None
    assert placement.closed_at is not None

    # Separation over everything each participant ever received.
    olga_all, kees_all = received(olga), received(kees)
    assert KEES_GOAL not in olga_all
    assert "KEES-" not in olga_all
    assert OLGA_GOAL not in kees_all
    assert "OLGA-" not in kees_all
    assert SAMEN_GOAL in olga_all
    assert SAMEN_GOAL in kees_all
