"""The ending's flow functions on a seeded caseload of 25 placements: who is asked to reflect,
asked once only, and what the summary holds per side."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from flows.plan import changes, ending, reflections
from storage.db import Database
from storage.models import (
    ConversationState,
    EndingReason,
    GoalSide,
    Participant,
    Person,
    Phase,
    Placement,
    Reflection,
    Role,
)
from tests.seed import seed

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


async def test_reflections_go_to_the_participants_of_that_placement_once(db: Database) -> None:
    seeded = await seed(db, now=NOW, placements=25, weeks=4, patterns=("calm",))
    first, *others = seeded.placements["calm"]
    async with db.session() as session:
        placement = await session.get(Placement, first)
        assert placement is not None
        placement.phase = Phase.EVALUATIEFASE
        people = {
            p.role: p.person_id
            for p in await session.scalars(
                select(Participant).where(Participant.placement_id == first)
            )
        }
        asked = await reflections.start(session, placement, NOW)
    assert len(asked) == len(people) == 2
    assert {say.to.person_id for say in asked if say.to} == set(people.values())
    assert all(say.context["question"] == "goed" for say in asked)
    async with db.session() as session:
        placement = await session.get(Placement, first)
        assert placement is not None
        assert await reflections.start(session, placement, NOW) == []  # never twice
        rows = list(await session.scalars(select(Reflection)))
        states = await session.scalar(select(func.count()).select_from(ConversationState))
    assert {r.placement_id for r in rows} == {first}
    assert {(r.role, r.question) for r in rows} == {
        (Role.OUDER, "goed"),
        (Role.GEZINSHUISOUDER, "goed"),
    }
    assert states == 2
    # A paused person is not asked (they are asked when they resume).
    second = others[0]
    async with db.session() as session:
        paused = select(Participant.person_id).where(
            Participant.placement_id == second, Participant.role == Role.OUDER
        )
        await session.execute(update(Person).where(Person.id.in_(paused)).values(paused=True))
        placement = await session.get(Placement, second)
        assert placement is not None
        asked = await reflections.start(session, placement, NOW)
    assert [say.context["role"] for say in asked] == ["gezinshuisouder"]


async def test_the_summary_shows_both_sides_goals_reflections_and_trend(db: Database) -> None:
    seeded = await seed(db, now=NOW, placements=2, weeks=6, patterns=("calm",))
    first = seeded.placements["calm"][0]
    async with db.session() as session:
        placement = await session.get(Placement, first)
        assert placement is not None
        for side, words in ((GoalSide.OUDER, "eigen doel"), (GoalSide.SAMEN, "samen doel")):
            await changes.add_goal(
                session,
                placement_id=first,
                phase=Phase.INSTALLATIEFASE,
                side=side,
                by_person_id=None,
                now=NOW,
                text=words,
            )
        participants = list(
            await session.scalars(select(Participant).where(Participant.placement_id == first))
        )
        for participant in participants:
            session.add(
                Reflection(
                    placement_id=first,
                    person_id=participant.person_id,
                    role=participant.role,
                    question="goed",
                    text=f"woorden van {participant.role}",
                    asked_at=NOW,
                    answered_at=NOW,
                )
            )
        await session.flush()
        placement.closed_at = NOW
        context = await ending.summary_context(
            session, placement, EndingReason.BREAKDOWN, 0b101, True, NOW
        )
    assert [g["text"] for g in context["goals"]["ouder"]] == ["eigen doel"]
    assert [g["text"] for g in context["goals"]["samen"]] == ["samen doel"]
    assert context["goals"]["gezinshuisouder"] == []
    assert [r["text"] for r in context["reflections"]["ouder"]] == ["woorden van ouder"]
    assert [r["text"] for r in context["reflections"]["gezinshuisouder"]] == [
        "woorden van gezinshuisouder"
    ]
    assert set(context["trend"]) <= {"ouder", "gezinshuisouder"}
    assert all(isinstance(v, float) for v in context["trend"].values())
    assert context["talks"] == ["afrondend_gesprek_ouders", "afsluitend_gesprek"]
    assert (context["reason"], context["planned"], context["handover"]) == (
        "breakdown",
        False,
        True,
    )
