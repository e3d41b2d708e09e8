"""An overdue plan review: which placements, since when, in one query, and in the digest."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event, select, update

from bot.digest import render_messages
from bot.render import Renderer
from flows import digest as digests
from flows.plan import review
from flows.route import REVIEW_FIRST_DUE
from storage.db import Database
from storage.models import Phase, Placement, PlanReview, StaffMember
from tests.seed import seed

# Monday 16 March 2026, 08:30 in Amsterdam.
NOW = dt.datetime(2026, 3, 16, 7, 30, tzinfo=dt.UTC)


async def test_overdue_reviews_in_one_query_and_in_the_digest(db: Database) -> None:
    seeded = await seed(db, now=NOW, placements=25, weeks=4)
    ids = sorted(pid for pids in seeded.placements.values() for pid in pids)
    late_first, late_next, on_time, recent, evaluation = ids[:5]
    long_ago = NOW - dt.timedelta(weeks=30)
    async with db.session() as session:
        await session.execute(
            update(Placement)
            .where(Placement.id.in_(ids))
            .values(phase=Phase.STABILISATIEFASE, phase_since=long_ago)
        )
        await session.execute(
            update(Placement)
            .where(Placement.id == recent)
            .values(phase_since=NOW - dt.timedelta(weeks=10))
        )
        await session.execute(
            update(Placement).where(Placement.id == evaluation).values(phase=Phase.EVALUATIEFASE)
        )
        for pid, next_review in (
            (late_next, dt.date(2026, 3, 1)),
            (on_time, dt.date(2026, 6, 1)),
        ):
            session.add_all(
                [
                    # An older review with a date long past: only the latest counts.
                    PlanReview(
                        placement_id=pid,
                        recorded_at=long_ago + dt.timedelta(weeks=1),
                        next_review=dt.date(2025, 10, 1),
                        created_at=long_ago,
                    ),
                    PlanReview(
                        placement_id=pid,
                        recorded_at=NOW - dt.timedelta(weeks=20),
                        next_review=next_review,
                        created_at=NOW - dt.timedelta(weeks=20),
                    ),
                    # Sent but never recorded: does not count as a review.
                    PlanReview(placement_id=pid, sent_at=NOW, created_at=NOW),
                ]
            )

    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    async with db.session() as session:
        placements = list(await session.scalars(select(Placement)))
        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            late = await review.overdue(session, placements, NOW)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert statements == 1
    assert late[late_first] == (long_ago + REVIEW_FIRST_DUE).date()
    assert late[late_next] == dt.date(2026, 3, 1)
    for pid in (on_time, recent, evaluation):
        assert pid not in late
    assert len(late) == 25 - 3  # every other placement has had no review for 30 weeks

    async with db.session() as session:
        staff = list(await session.scalars(select(StaffMember.id)))
        digest = await digests.build(session, staff, NOW, "Europe/Amsterdam")
    by_id = {s.placement_id: s for s in digest.sections}
    reasons = by_id[late_next].context["reasons"]
    assert isinstance(reasons, list)
    assert {"code": "review_overdue", "people": [], "facts": {"since": dt.date(2026, 3, 1)}} in (
        reasons
    )
    assert by_id[late_next].needs_attention
    on_time_reasons = by_id[on_time].context["reasons"]
    assert isinstance(on_time_reasons, list)
    assert all(r["code"] != "review_overdue" for r in on_time_reasons)
    text = "\n".join(html for html, _ in render_messages(Renderer(), "nl", digest))
    assert "Planbespreking te laat (sinds 1 maart 2026)" in text


async def test_a_calm_placement_with_an_overdue_review_needs_attention(
    db: Database,
) -> None:
    seeded = await seed(db, now=NOW, placements=1, weeks=4, patterns=("calm",))
    [pid] = [pid for pids in seeded.placements.values() for pid in pids]
    async with db.session() as session:
        await session.execute(
            update(Placement)
            .where(Placement.id == pid)
            .values(phase=Phase.STABILISATIEFASE, phase_since=NOW - dt.timedelta(weeks=27))
        )
    async with db.session() as session:
        staff = list(await session.scalars(select(StaffMember.id)))
        digest = await digests.build(session, staff, NOW, "Europe/Amsterdam")
    [section] = digest.sections
    assert section.needs_attention
    reasons = section.context["reasons"]
    assert isinstance(reasons, list)
    review_reason = next(r for r in reasons if r["code"] == "review_overdue")
    # Route meetings over time are the stronger reason; alone, the review picks its own step.
    step = digests._step([review_reason], [])
    assert step is not None
    assert step["code"] == "review_plan"
    text = Renderer().render("nl", "digest/_step", {**section.context, "step": step})
    assert "Misschien goed om het plan te bespreken in het volgende gesprek." in text


async def test_a_review_recorded_twice_at_once_is_recorded_once(db: Database) -> None:
    import asyncio
    from types import SimpleNamespace as NS

    from flows.people import Caller

    seeded = await seed(db, now=NOW, placements=1, weeks=1, patterns=("calm",))
    [pid] = [pid for pids in seeded.placements.values() for pid in pids]
    async with db.session() as session:
        row = PlanReview(placement_id=pid, created_at=NOW)
        session.add(row)
        await session.flush()
        review_id = row.id
    me = NS(person=NS(id=seeded.begeleider_person_id), language="nl")
    caller = Caller(seeded.begeleider_user_id, seeded.begeleider_user_id, "Bea")

    async def record(note: str) -> str:
        async with db.session() as session:
            found = await session.get(PlanReview, review_id)
            placement = await session.get(Placement, pid)
            assert found is not None
            assert placement is not None
            outcome = await review._record(
                session,
                caller,
                me,  # type: ignore[arg-type]
                placement,
                found,
                {"next": "2026-09-16"},
                note,
                NOW,
            )
            return str(outcome.messages[0].context["what"])

    answers = await asyncio.gather(record("eerste"), record("tweede"))
    assert sorted(answers) == ["already", "recorded"]
    async with db.session() as session:
        stored = await session.get(PlanReview, review_id)
        assert stored is not None
        assert stored.recorded_at is not None
        assert stored.note == ("eerste" if answers[0] == "recorded" else "tweede")
