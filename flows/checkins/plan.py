"""Planning the weekly check-in (run by the clock): tidying, who is due, creating, reminding."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, String, cast, exists, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flows.buttons import CHECKIN_GO
from flows.checkins.ask import question_say
from flows.checkins.pause import not_paused
from flows.guards import is_open
from flows.outbox import enqueue
from flows.plan import progress
from flows.planning import PAGE_SIZE, Page, page_of
from flows.replies import Say
from flows.route import weekly_questions
from flows.schedule import (
    checkin_moment,
    local_date,
    out_of_quiet_hours,
    week_key,
    week_number,
    weekly_due,
)
from flows.settings import CheckinRules
from storage.db import dialect_insert
from storage.models import (
    Checkin,
    CheckinKind,
    CheckinStatus,
    OutboxMessage,
    OutboxStatus,
    Participant,
    Person,
    Placement,
    TelegramLink,
)


async def tidy(session: AsyncSession, now: dt.datetime) -> None:
    """End pauses whose date has come and close check-ins that ran out (as missed)."""
    await _end_pauses(session, now)
    await _close_expired(session, now)


async def _end_pauses(session: AsyncSession, now: dt.datetime) -> None:
    await session.execute(
        update(Person)
        .where(Person.paused.is_(True), Person.paused_until.is_not(None))
        .where(Person.paused_until <= now)
        .values(paused=False, paused_until=None)
    )


async def _close_expired(session: AsyncSession, now: dt.datetime) -> None:
    expired = list(
        await session.scalars(
            select(Checkin.id).where(
                Checkin.status.in_([CheckinStatus.OPEN, CheckinStatus.ANSWERED]),
                Checkin.closed_at.is_(None),
                Checkin.closes_at <= now,
            )
        )
    )
    if not expired:
        return
    await session.execute(
        update(Checkin)
        .where(Checkin.id.in_(expired), Checkin.status == CheckinStatus.OPEN)
        .values(status=CheckinStatus.MISSED)
    )
    await session.execute(update(Checkin).where(Checkin.id.in_(expired)).values(closed_at=now))
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.kind.in_(["checkin", "checkin_reminder"]),
            OutboxMessage.subject_id.in_(expired),
        )
        .values(status=OutboxStatus.DROPPED)
    )


async def active_participants(
    session: AsyncSession, now: dt.datetime, after: int, size: int
) -> Sequence[Row[*tuple[Any, ...]]]:
    """A page of participants who may get something now: reachable, not paused, placement open.

    Columns only (no ORM objects): the planners go through every participant each beat.
    """
    statement = (
        select(
            Participant.id,
            Participant.person_id,
            Participant.role,
            Participant.joined_at,
            Person.first_name,
            Person.checkin_weekday,
            Person.checkin_time,
            TelegramLink.time_zone,
            Placement.id.label("placement_id"),
            Placement.phase,
            Placement.youth_name,
        )
        .join(Person, Participant.person_id == Person.id)
        .join(TelegramLink, TelegramLink.person_id == Person.id)
        .join(Placement, Placement.id == Participant.placement_id)
        .where(
            Participant.id > after,
            is_open(),
            TelegramLink.reachable.is_(True),
            not_paused(now),
        )
        .order_by(Participant.id)
        .limit(size)
    )
    return (await session.execute(statement)).all()


async def plan_weekly(
    session: AsyncSession,
    now: dt.datetime,
    rules: CheckinRules,
    after: int = 0,
    size: int = PAGE_SIZE,
) -> Page:
    """Create the weekly check-ins that are due now for one page of participants."""
    rows = await active_participants(session, now, after, size)
    due_now: list[tuple[Row[Any], dt.datetime, str]] = []
    for row in rows:
        weekday, at = checkin_moment(row.role, row.checkin_weekday, row.checkin_time)
        due = weekly_due(now, weekday, at, row.time_zone)
        if due > now or now - due > rules.send_late_until or row.joined_at > due:
            continue
        due_now.append((row, due, week_key(local_date(due, row.time_zone))))
    if not due_now:
        return page_of([row.id for row in rows], size, 0)
    made = {
        tuple(row)
        for row in (
            await session.execute(
                select(Checkin.participant_id, Checkin.period).where(
                    Checkin.participant_id.in_([row.id for row, _, _ in due_now]),
                    Checkin.kind == CheckinKind.WEEKLY,
                    Checkin.period.in_({period for _, _, period in due_now}),
                )
            )
        ).all()
    }
    # The goals asked about in goal weeks: one statement for the page, only in such a week.
    goals = await progress.open_goals(
        session,
        {
            row.placement_id
            for row, due, period in due_now
            if (row.id, period) not in made and progress.goal_week(week_number(due.date()))
        },
    )
    queued = 0
    for row, due, period in due_now:
        if (row.id, period) in made:
            continue
        goal_id = progress.pick(goals.get(row.placement_id, []), row.role, week_number(due.date()))
        checkin = await _insert_checkin(session, row, period, due, rules, goal_id)
        if checkin is None:
            continue  # another planner made it first
        say = question_say(checkin, 0, None, youth=row.youth_name, name=row.first_name)
        queued += await _queue(
            session, "checkin", row, checkin.id, checkin.closes_at, say, due, now, rules
        )
    return page_of([row.id for row in rows], size, queued)


async def _insert_checkin(
    session: AsyncSession,
    participant: Row[Any],
    period: str,
    due: dt.datetime,
    rules: CheckinRules,
    goal_id: int | None = None,
) -> Checkin | None:
    """Insert this week's check-in unless it exists; return it (not loaded again) or None.

    In a goal week it ends with the question about `goal_id` (flows/plan/progress.py).
    """
    questions = weekly_questions(participant.role, participant.phase, week_number(due.date()))
    if questions and goal_id is not None:
        questions = (*questions, progress.entry(goal_id))
    values = {
        "participant_id": participant.id,
        "placement_id": participant.placement_id,
        "person_id": participant.person_id,
        "role": participant.role,
        "kind": CheckinKind.WEEKLY,
        "period": period,
        "phase": participant.phase,
        "questions": list(questions),
        "status": CheckinStatus.OPEN,
        "due_at": due,
        "closes_at": due + rules.closes_after,
    }
    insert = dialect_insert(session)
    statement = (
        insert(Checkin)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["participant_id", "kind", "period"])
        .returning(Checkin.id)
    )
    inserted: int | None = await session.scalar(statement)
    if inserted is None:
        return None
    return Checkin(id=inserted, **values)  # transient: only read to word the first question


async def plan_reminders(
    session: AsyncSession,
    now: dt.datetime,
    rules: CheckinRules,
    after: int = 0,
    size: int = PAGE_SIZE,
) -> Page:
    """Queue the one gentle reminder for open check-ins sent a day ago (a page of them)."""
    reminder_key = literal("checkin_reminder:") + cast(Checkin.id, String)
    rows: Sequence[Row[*tuple[Any, ...]]] = (
        await session.execute(
            select(
                Checkin.id,
                Checkin.kind,
                Checkin.closes_at,
                Checkin.person_id,
                Checkin.placement_id,
                Person.first_name,
                TelegramLink.time_zone,
                Placement.youth_name,
            )
            .join(Person, Person.id == Checkin.person_id)
            .join(TelegramLink, TelegramLink.person_id == Person.id)
            .join(Placement, Placement.id == Checkin.placement_id)
            .where(
                Checkin.id > after,
                Checkin.status == CheckinStatus.OPEN,
                Checkin.sent_at.is_not(None),
                Checkin.sent_at <= now - rules.reminder_after,
                Checkin.closes_at > now,
                TelegramLink.reachable.is_(True),
                not_paused(now),
                # Reminded already (the usual case after the first beat): not even loaded.
                ~exists().where(OutboxMessage.key == reminder_key),
            )
            .order_by(Checkin.id)
            .limit(size)
        )
    ).all()
    queued = 0
    for row in rows:
        say = Say(
            "checkin/reminder",
            {
                "name": row.first_name,
                "youth": row.youth_name,
                "measurement": row.kind == CheckinKind.MEASUREMENT,
            },
            buttons=((CHECKIN_GO.button("continue_checkin", checkin=row.id),),),
        )
        queued += await _queue(
            session, "checkin_reminder", row, row.id, row.closes_at, say, now, now, rules
        )
    return page_of([row.id for row in rows], size, queued)


async def _queue(
    session: AsyncSession,
    kind: str,
    row: Row[*tuple[Any, ...]],
    checkin_id: int,
    closes_at: dt.datetime,
    say: Say,
    due: dt.datetime,
    now: dt.datetime,
    rules: CheckinRules,
) -> bool:
    """Queue one message about a check-in to its person, once (keyed by kind and check-in).

    It waits out the person's quiet hours and expires when the check-in closes.
    """
    return await enqueue(
        session,
        key=f"{kind}:{checkin_id}",
        person_id=row.person_id,
        kind=kind,
        say=say,
        due_at=out_of_quiet_hours(due, row.time_zone, rules.quiet),
        expires_at=closes_at,
        now=now,
        placement_id=row.placement_id,
        subject_id=checkin_id,
    )


async def after_delivery(
    session: AsyncSession, kind: str, subject_id: int | None, now: dt.datetime
) -> None:
    """Note when a check-in actually reached the person (reminders count from then)."""
    if kind == "checkin" and subject_id is not None:
        await session.execute(
            update(Checkin)
            .where(Checkin.id == subject_id, Checkin.sent_at.is_(None))
            .values(sent_at=now)
        )
