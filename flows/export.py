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
from flows.replies import Document, Outcome, Say
from flows.settings import RouteSettings
from storage.models import (
    AccessLog,
    Answer,
    Checkin,
    CheckinStatus,
    ConsentRecord,
    ContactRequest,
    Meeting,
    MeetingInvitee,
    MeetingStatus,
    Placement,
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
        select(Answer, Placement.youth_name, Checkin.period, Checkin.status, Checkin.skip_reason)
        .join(Placement, Placement.id == Answer.placement_id)
        .join(Checkin, Checkin.id == Answer.checkin_id)
        .where(Answer.person_id == me.person.id)
        .order_by(Answer.answered_at, Answer.id)
    )
    skipped = await session.execute(
        select(Checkin.period, Checkin.skip_reason, Placement.youth_name)
        .join(Placement, Placement.id == Checkin.placement_id)
        .where(Checkin.person_id == me.person.id, Checkin.status == CheckinStatus.SKIPPED)
        .order_by(Checkin.due_at)
    )
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
            {"decision": str(c.decision), "version": c.notice_version, "at": c.decided_at}
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
            }
            for answer, youth, period, _status, _reason in answers
        ],
        "skipped": [
            {"period": period, "reason": reason, "youth": youth}
            for period, reason, youth in skipped
        ],
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
