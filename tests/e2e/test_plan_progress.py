"""Goal progress in the weekly rhythm, over the sandbox: asked every fourth week, in the digest.

Goals are put straight into the database with `flows.plan.changes.add_goal` (the chat that sets
them is another part of the plan).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.render import Renderer
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from flows.plan.changes import add_goal, set_status
from storage.db import Database
from storage.models import (
    Answer,
    Checkin,
    CheckinStatus,
    Goal,
    GoalSide,
    GoalStatus,
    Phase,
    Placement,
)
from tests.e2e.conftest import at, snapshot

UTC = dt.UTC
SUNDAY_1800 = dt.datetime(2026, 3, 8, 18, 0, tzinfo=UTC)  # 19:00 in Amsterdam, ISO week 10
WEEK = dt.timedelta(days=7)
# The words of the suggested goals, as their templates say them (messages/nl/plan/goal_*.j2).
OUDER_GOAL = Renderer().render("nl", "plan/goal_ouder_kennen", {})
SHARED_GOAL = Renderer().render("nl", "plan/goal_samen_afspraken", {})
KEES_GOAL = "Rustig blijven bij de wissel op vrijdag"
OLGA = ("🤝 Elkaar gezien", "🙂", "🙂", "Ja", "🙂")
KEES = ("🤝 Elkaar gezien", "😄", "Ja", "Nee", "🙂")


async def add_goals(db: Database, clock: FakeClock) -> dict[GoalSide, int]:
    """A shared goal, an ouder goal and a typed gezinshuisouder goal, in that order."""
    async with db.session() as session:
        placement = await session.scalar(select(Placement))
        assert placement is not None
        made = {}
        for side, suggestion, text in (
            (GoalSide.SAMEN, "samen_afspraken", None),
            (GoalSide.OUDER, "ouder_kennen", None),
            (GoalSide.GEZINSHUISOUDER, None, KEES_GOAL),
        ):
            goal = await add_goal(
                session,
                placement_id=placement.id,
                phase=Phase.INSTALLATIEFASE,
                side=side,
                by_person_id=None,
                now=clock.now(),
                suggestion=suggestion,
                text=text,
            )
            made[side] = goal.id
    return made


async def answer_base(person: ChatPerson, labels: tuple[str, ...]) -> None:
    """Answer the newest check-in's base questions (without the open question)."""
    question = next(m for m in reversed(person.bot_messages) if "1/" in m.text)
    await person.click(labels[0], question)
    for label in labels[1:]:
        await person.click(label)


def everything(person: ChatPerson) -> str:
    """All a person received: texts, captions and documents."""
    parts = []
    for message in person.bot_messages:
        parts.append(message.text)
        if message.document is not None:
            parts.append(message.document.data.decode("utf-8"))
    return "\n".join(parts)


async def test_four_weeks_with_a_goal_question_lead_to_goal_progress_in_the_digest(
    app: AnyApplication,
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
) -> None:
    bea, olga, kees = family
    goals = await add_goals(db, clock)
    for week in range(4):  # ISO weeks 10-13; week 12 asks about a goal
        sunday = SUNDAY_1800 + week * WEEK
        goal_week = week == 2
        await at(app, clock, sunday)
        await answer_base(olga, OLGA)
        if goal_week:
            # Olga sees her own goal (her visible goals take turns), after the base questions.
            question = olga.bot_messages[-1]
            assert "6/6" in question.text
            assert "Hoe gaat het met dit doel, voor jou?" in question.text
            assert OUDER_GOAL in question.text
            assert "Nu niet" in question.button_labels
            await olga.click("🙂", question)
            assert "Jouw antwoord: 🙂" in olga.bot_messages[-2].text
        else:
            assert "5/5" in olga.bot_messages[-2].text
        await olga.click("Nee, dank je")
        await at(app, clock, sunday + dt.timedelta(hours=1))
        await answer_base(kees, KEES)
        if goal_week:
            question = kees.bot_messages[-1]
            assert KEES_GOAL in question.text
            assert "6/6" in question.text
            # "Nu niet" passes the question by: the open question follows.
            await kees.click("Nu niet", question)
            assert "Je slaat deze vraag over" in kees.bot_messages[-2].text
            assert "Nu niet" not in kees.bot_messages[-2].button_labels
            # A face may still be chosen; it changes the stored answer, nothing is asked again.
            count = len(kees.bot_messages)
            await kees.click("😄", kees.bot_messages[-2])
            assert len(kees.bot_messages) == count
        await kees.click("Nee, dank je")

    async with db.session() as session:
        stored = {
            (a.role, a.goal_id): (a.value, a.score)
            for a in await session.scalars(select(Answer).where(Answer.question_id == "doel"))
        }
        statuses = set(await session.scalars(select(Checkin.status)))
    assert stored == {
        ("ouder", goals[GoalSide.OUDER]): ("4", 4),
        ("gezinshuisouder", goals[GoalSide.GEZINSHUISOUDER]): ("5", 5),
    }
    assert statuses == {CheckinStatus.ANSWERED}

    # Monday 30 March 08:30 in Amsterdam: the digest shows the goals and their progress.
    await at(app, clock, dt.datetime(2026, 3, 30, 6, 30, tzinfo=UTC))
    [digest] = [m for m in bea.bot_messages if "Weekoverzicht" in m.text]
    assert "🎯 Doelen: 3 open, 0 bereikt" in digest.text
    assert f"• {SHARED_GOAL}: ouders – · gezinshuisouders –" in digest.text
    assert f"• {OUDER_GOAL}: ouders 4" in digest.text
    assert f"• {KEES_GOAL}: gezinshuisouders 5" in digest.text
    assert "geen voortgang" not in digest.text  # nothing stalled yet
    # The details show each goal with its progress per week.
    [details] = await bea.click("🔎 Sam", digest)
    assert "Doelen (3 open, 0 bereikt)" in details.text
    assert "Ouders: 22/3 4" in details.text
    assert "Gezinshuisouders: 22/3 5" in details.text

    # Separation: neither side ever received the other side's personal goal or its score.
    [export] = await olga.send("/mijngegevens")
    assert export.document is not None
    assert f"(doel): 4, doel: {OUDER_GOAL}" in export.document.data.decode("utf-8")
    [export] = await kees.send("/mijngegevens")
    assert f"(doel): 5, doel: {KEES_GOAL}" in export.document.data.decode("utf-8")
    assert KEES_GOAL not in everything(olga)
    assert OUDER_GOAL not in everything(kees)
    assert "doel:" not in everything(olga).replace(f"doel: {OUDER_GOAL}", "")


async def test_a_goal_without_progress_for_eight_weeks_is_a_reason_in_the_digest(
    app: AnyApplication,
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
) -> None:
    bea, olga, kees = family
    async with db.session() as session:
        placement = await session.scalar(select(Placement))
        assert placement is not None
        await add_goal(
            session,
            placement_id=placement.id,
            phase=Phase.INSTALLATIEFASE,
            side=GoalSide.SAMEN,
            by_person_id=None,
            now=clock.now(),
            suggestion="samen_afspraken",
        )
    # Week 12: Olga answers the base questions and leaves the goal question: still answered.
    sunday = SUNDAY_1800 + 2 * WEEK
    await at(app, clock, sunday)
    await answer_base(olga, OLGA)
    assert SHARED_GOAL in olga.bot_messages[-1].text
    await at(app, clock, sunday + dt.timedelta(days=6))  # after the check-in closed
    async with db.session() as session:
        checkin = await session.scalar(select(Checkin).where(Checkin.role == "ouder"))
        assert checkin is not None
        assert checkin.status == CheckinStatus.ANSWERED
        assert checkin.questions[-1].startswith("doel:")
        assert await session.scalar(select(Answer).where(Answer.question_id == "doel")) is None

    # Seven weeks after the goal was set (not yet eight): no reason yet.
    await at(app, clock, dt.datetime(2026, 4, 20, 6, 30, tzinfo=UTC))
    [digest] = [m for m in bea.bot_messages if "Weekoverzicht" in m.text]
    assert "geen voortgang" not in digest.text
    # Monday 4 May 08:30 in Amsterdam: more than eight weeks since the goal was set.
    await at(app, clock, dt.datetime(2026, 5, 4, 6, 30, tzinfo=UTC))
    digest = [m for m in bea.bot_messages if "Weekoverzicht" in m.text][-1]
    assert f"Al 8 weken geen voortgang op het doel {SHARED_GOAL}" in digest.text
    assert f"• {SHARED_GOAL}: ouders – · gezinshuisouders –" in digest.text
    # Only the begeleider gets the digest.
    assert "Weekoverzicht" not in everything(olga) + everything(kees)
    async with db.session() as session:
        assert (await session.scalar(select(Goal))) is not None


async def test_a_goal_dropped_before_the_answer_still_reads_and_forged_not_now_does_nothing(
    app: AnyApplication,
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
) -> None:
    _, olga, kees = family
    goals = await add_goals(db, clock)
    sunday = SUNDAY_1800 + 2 * WEEK  # week 12
    await at(app, clock, sunday)
    first = next(m for m in reversed(olga.bot_messages) if "1/6" in m.text)
    async with db.session() as session:
        checkin = await session.scalar(select(Checkin).where(Checkin.role == "ouder"))
        assert checkin is not None
        checkin_id = checkin.id
    # "Nu niet" forged onto a base question, or onto a question that does not exist: expired.
    before = await snapshot(db)
    for data in (f"ck:{checkin_id}:0:nu", f"ck:{checkin_id}:9:nu", f"ck:{checkin_id}:0:9"):
        [reply] = await olga.click_data(data, first.message_id)
        assert "werkt niet meer" in reply.text, data
    assert await snapshot(db) == before
    await answer_base(olga, OLGA)
    question = olga.bot_messages[-1]
    assert OUDER_GOAL in question.text
    # The goal is dropped before she answers: the question still reads, the answer is stored.
    async with db.session() as session:
        goal = await session.get(Goal, goals[GoalSide.OUDER])
        assert goal is not None
        await set_status(session, goal, GoalStatus.DROPPED, by_person_id=None, now=clock.now())
    await olga.click("🙁", question)
    assert OUDER_GOAL in olga.bot_messages[-2].text
    assert "Jouw antwoord: 🙁" in olga.bot_messages[-2].text
    # The same face twice changes nothing.
    count = len(olga.bot_messages)
    await olga.click("✓ 🙁", olga.bot_messages[-2])
    assert len(olga.bot_messages) == count
    async with db.session() as session:
        [stored] = await session.scalars(select(Answer).where(Answer.question_id == "doel"))
    assert (stored.goal_id, stored.score) == (goals[GoalSide.OUDER], 2)
    assert KEES_GOAL not in everything(olga)
    assert OUDER_GOAL not in everything(kees)
