"""/mijngegevens: everything stored about a person, and who looked at it, as one text file."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.access import own_data_row
from flows.people import (
    Caller,
    Me,
    load_me,
)
from flows.plan import read as plan_read
from flows.plan.read import goal_context
from flows.replies import Document, Outcome, Say
from flows.settings import RouteSettings
from storage.models import (
    AccessLog,
    Answer,
    Checkin,
    CheckinStatus,
    ConsentRecord,
    ContactRequest,
    Goal,
    GoalResponse,
    Meeting,
    MeetingInvitee,
    MeetingStatus,
    Placement,
    PlanReview,
    Reflection,
)


async def export(
    session: AsyncSession, caller: Caller, now: dt.datetime, settings: RouteSettings
) -> Outcome:
    """Send everything stored about this person as a readable document."""
    me = await load_me(session, caller.telegram_user_id)
    if me is None:
        return Outcome(caller.telegram_language).say("account/export_nothing")
    consents = list(
        await session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.person_id == me.person.id)
            .order_by(ConsentRecord.id)
        )
    )
    access = await _own_views(session, me)
    viewed_by = await _viewed_by(session, me)
    zone = ZoneInfo(me.link.time_zone)
    requests = await session.execute(
        select(ContactRequest.created_at, Placement.youth_name)
        .join(Placement, Placement.id == ContactRequest.placement_id)
        .where(ContactRequest.person_id == me.person.id)
        .order_by(ContactRequest.created_at, ContactRequest.id)
    )
    reviews = await session.execute(
        select(
            PlanReview.recorded_at, PlanReview.next_review, PlanReview.note, Placement.youth_name
        )
        .join(Placement, Placement.id == PlanReview.placement_id)
        .where(PlanReview.recorded_by_person_id == me.person.id)
        .order_by(PlanReview.recorded_at, PlanReview.id)
    )
    invitations = await session.execute(
        select(
            Meeting.type,
            Meeting.starts_at,
            Meeting.location,
            Meeting.status,
            MeetingInvitee.rsvp,
            MeetingInvitee.rsvp_at,
        )
        .join(MeetingInvitee, MeetingInvitee.meeting_id == Meeting.id)
        .where(MeetingInvitee.person_id == me.person.id)
        .order_by(Meeting.starts_at, Meeting.id)
    )
    staff_placements = await _staff_placements(session, me)
    answers = await session.execute(
        select(Answer, Placement.youth_name, Checkin.period, Goal)
        .join(Placement, Placement.id == Answer.placement_id)
        .join(Checkin, Checkin.id == Answer.checkin_id)
        # A progress answer's goal (own side or shared: the only goals a person is asked about).
        .outerjoin(Goal, Goal.id == Answer.goal_id)
        .where(Answer.person_id == me.person.id)
        .order_by(Answer.answered_at, Answer.id)
    )
    skipped = await session.execute(
        select(Checkin.period, Checkin.skip_reason, Placement.youth_name)
        .join(Placement, Placement.id == Checkin.placement_id)
        .where(Checkin.person_id == me.person.id, Checkin.status == CheckinStatus.SKIPPED)
        .order_by(Checkin.due_at)
    )
    goals = await _own_goals(session, me)
    reflections = await session.execute(
        select(Reflection, Placement.youth_name)
        .join(Placement, Placement.id == Reflection.placement_id)
        .where(Reflection.person_id == me.person.id)
        .order_by(Reflection.asked_at, Reflection.id)
    )
    session.add(own_data_row(me.person, "export_own_data", now))
    context = {
        "person": me.person,
        "link": me.link,
        "participations": [
            {
                "role": str(p.role),
                "youth": p.placement.youth_name,
                "joined_at": p.joined_at,
                "phase": str(p.placement.phase),
            }
            for p in me.participations
        ],
        "staff": [{"role": str(s.role)} for s in me.staff],
        "staff_placements": staff_placements,
        "consents": [
            {
                "decision": str(c.decision),
                "version": c.notice_version,
                "at": c.decided_at,
                "purpose": c.purpose,
            }
            for c in consents
        ],
        "access": access,
        "viewed_by": viewed_by,
        "contact_requests": [{"at": at, "youth": youth} for at, youth in requests],
        "meetings": [
            {
                "type": kind,
                "at": starts_at.astimezone(zone),
                "where": location,
                "cancelled": status == MeetingStatus.CANCELLED,
                "rsvp": str(rsvp) if rsvp else None,
                "rsvp_at": rsvp_at,
            }
            for kind, starts_at, location, status, rsvp, rsvp_at in invitations
        ],
        "answers": [
            {
                "youth": youth,
                "period": period,
                "question": answer.question_id,
                "role": str(answer.role),
                "value": answer.value,
                "text": answer.text,
                "at": answer.answered_at,
                "changed_at": answer.changed_at,
                "goal": goal_context(goal) if goal is not None else None,
            }
            for answer, youth, period, goal in answers
        ],
        "skipped": [
            {"period": period, "reason": reason, "youth": youth}
            for period, reason, youth in skipped
        ],
        "plan_reviews": [  # plan reviews she recorded (flows/plan/review.py)
            {"at": at, "next": next_review, "note": note, "youth": youth}
            for at, next_review, note, youth in reviews
        ],
        "goals": goals,
        "reflections": [
            {
                "youth": youth,
                "question": row.question,
                "text": row.text,
                "answered": row.answered_at is not None,
                "at": row.answered_at or row.asked_at,
            }
            for row, youth in reflections
        ],
        "now": now,
        "retention_days": settings.retention_days,
    }
    document = Document("mijngegevens.txt", "account/export.txt", context)
    return Outcome(me.language).add(Say("account/export_caption", document=document))


async def _own_goals(session: AsyncSession, me: Me) -> list[dict[str, object]]:
    """The goals this person may see (own side and shared, read.goals decides), with their own
    answer to "Klopt dit voor jou?"; never another side's goals or anyone else's answer."""
    found: list[dict[str, object]] = []
    for participation in me.participations:
        goals = await plan_read.goals(session, participation.placement_id, role=participation.role)
        mine = {
            r.goal_id: r
            for r in await session.scalars(
                select(GoalResponse).where(
                    GoalResponse.person_id == me.person.id,
                    GoalResponse.goal_id.in_([g.id for g in goals]),
                )
            )
        }
        for goal in goals:
            response = mine.get(goal.id)
            found.append(
                {
                    **plan_read.goal_context(goal),
                    "youth": participation.placement.youth_name,
                    "agreed": None if response is None else response.agreed,
                    "comment": None if response is None else response.comment,
                    "answered_at": None if response is None else response.at,
                }
            )
    return found


async def _staff_placements(session: AsyncSession, me: Me) -> list[dict[str, object]]:
    ids = [s.id for s in me.staff]
    if not ids:
        return []
    placements = await session.scalars(
        select(Placement)
        .where(Placement.begeleider_id.in_(ids) | Placement.behandelaar_id.in_(ids))
        .order_by(Placement.id)
    )
    return [
        {
            "youth": p.youth_name,
            "phase": str(p.phase),
            "as": "begeleider" if p.begeleider_id in ids else "behandelaar",
        }
        for p in placements
    ]


async def _own_views(session: AsyncSession, me: Me) -> list[dict[str, object]]:
    """What this person looked at: one line per moment, with the placements seen then."""
    rows = await session.execute(
        select(AccessLog.action, AccessLog.at, AccessLog.subject, Placement.youth_name)
        .outerjoin(Placement, Placement.id == AccessLog.placement_id)
        .where(AccessLog.actor_person_id == me.person.id)
        .order_by(AccessLog.at, AccessLog.id)
    )
    lines: dict[tuple[str, dt.datetime], dict[str, object]] = {}
    for action, at, subject, youth in rows:
        line = lines.setdefault((action, at), {"action": action, "at": at, "what": []})
        what = line["what"]
        assert isinstance(what, list)  # made just above
        if subject.startswith("placement:"):
            # A placement erased since keeps its number only: the log outlives it.
            what.append(youth or subject.replace("placement:", "#"))
    return list(lines.values())


async def _viewed_by(session: AsyncSession, me: Me) -> list[dict[str, object]]:
    """Who saw data of the placements this person takes part in, and when."""
    placement_ids = [p.placement_id for p in me.participations]
    if not placement_ids:
        return []
    rows = await session.execute(
        select(AccessLog.actor_label, AccessLog.action, AccessLog.at, Placement.youth_name)
        .outerjoin(Placement, Placement.id == AccessLog.placement_id)
        .where(
            AccessLog.placement_id.in_(placement_ids),
            AccessLog.actor_person_id.is_distinct_from(me.person.id),
        )
        .order_by(AccessLog.at, AccessLog.id)
    )
    return [
        {"who": label, "action": action, "at": at, "youth": youth}
        for label, action, at, youth in rows
    ]
