"""The clock's meeting work: reminders, route meetings that are due, questionnaires.

Reminders are planned into the outbox with keys that include the meeting's version, so a moved
meeting never gets a reminder for its old time. Which route meetings are due, and how often,
is the route's (flows/route.py); when a reminder goes out is `MeetingRules` (flows/settings.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.checkins import is_paused
from flows.measurement import start_round
from flows.meetings.notices import meeting_details, rsvp_buttons
from flows.outbox import enqueue
from flows.replies import Say
from flows.route import MEETING_TYPES, MONITORING
from flows.schedule import at_local, local_date, out_of_quiet_hours
from flows.settings import CheckinRules, MeetingRules
from storage.models import (
    MeasurementRound,
    Meeting,
    MeetingInvitee,
    MeetingStatus,
    Person,
    Placement,
    TelegramLink,
)


async def plan(
    session: AsyncSession, now: dt.datetime, rules: MeetingRules, checkin_rules: CheckinRules
) -> int:
    """Meeting reminders and questionnaires (route meetings due: in the weekly digest)."""
    queued = await _plan_reminders(session, now, rules, checkin_rules)
    await _plan_questionnaires(session, now, rules)
    return queued


async def _plan_reminders(
    session: AsyncSession, now: dt.datetime, rules: MeetingRules, checkin_rules: CheckinRules
) -> int:
    horizon = now + rules.day_before + dt.timedelta(days=1)
    meetings = list(
        await session.scalars(
            select(Meeting).where(
                Meeting.status == MeetingStatus.PLANNED,
                Meeting.starts_at > now,
                Meeting.starts_at <= horizon,
            )
        )
    )
    queued = 0
    for meeting in meetings:
        details = await meeting_details(session, meeting)
        rows = await session.execute(
            select(MeetingInvitee, TelegramLink, Person)
            .join(TelegramLink, TelegramLink.person_id == MeetingInvitee.person_id)
            .join(Person, Person.id == MeetingInvitee.person_id)
            .where(MeetingInvitee.meeting_id == meeting.id)
        )
        for _invitee, link, person in rows:
            if not link.reachable:
                continue
            zone = link.time_zone
            first = at_local(
                local_date(meeting.starts_at, zone) - rules.day_before, rules.day_before_at, zone
            )
            second = meeting.starts_at - rules.shortly_before
            for which, due, urgent in (("early", first, False), ("late", second, True)):
                if due > now or due < meeting.updated_at:
                    continue  # not yet, or planned after this reminder's moment
                if which == "early" and second <= now:
                    continue  # after downtime: only the nearer reminder still makes sense
                if is_paused(person, now) and not urgent:
                    continue
                say = Say(
                    "meeting/reminder",
                    {
                        **details,
                        "at": meeting.starts_at.astimezone(ZoneInfo(zone)),
                        "soon": urgent,
                    },
                    buttons=rsvp_buttons(meeting),
                )
                queued += await enqueue(
                    session,
                    key=f"meeting_reminder:{meeting.id}:v{meeting.version}:{person.id}:{which}",
                    person_id=person.id,
                    kind="meeting_reminder",
                    say=say,
                    due_at=due if urgent else out_of_quiet_hours(due, zone, checkin_rules.quiet),
                    expires_at=meeting.starts_at,
                    now=now,
                    placement_id=meeting.placement_id,
                    subject_id=meeting.id,
                    urgent=urgent,
                )
    return queued


@dataclass(frozen=True)
class DueMeeting:
    placement_id: int
    type: str
    due: dt.datetime


async def due_route_meetings(
    session: AsyncSession, placements: list[Placement], now: dt.datetime, rules: MeetingRules
) -> list[DueMeeting]:
    """Route meetings due within the warning window (or overdue) and not planned."""
    if not placements:
        return []
    latest = {
        (pid, kind): when
        for pid, kind, when in await session.execute(
            select(Meeting.placement_id, Meeting.type, func.max(Meeting.starts_at))
            .where(
                Meeting.placement_id.in_([p.id for p in placements]),
                Meeting.status == MeetingStatus.PLANNED,
            )
            .group_by(Meeting.placement_id, Meeting.type)
        )
    }
    found = []
    for placement in placements:
        for kind in MEETING_TYPES.values():
            if placement.phase not in kind.phases or kind.first_due is None:
                continue
            last = latest.get((placement.id, kind.code))
            if kind.every is None:  # once in this phase
                if last is not None:
                    continue
                due = placement.phase_since + kind.first_due
            elif last is not None and last > now:
                continue  # the next one is planned already
            elif last is not None and last >= placement.phase_since:
                due = last + kind.every
            else:
                due = placement.phase_since + kind.first_due
            if due - now <= rules.route_warning:
                found.append(DueMeeting(placement.id, kind.code, due))
    return found


async def _plan_questionnaires(
    session: AsyncSession, now: dt.datetime, rules: MeetingRules
) -> None:
    """A week before a monitoring meeting both sides get the collaboration questionnaire."""
    meetings = await session.scalars(
        select(Meeting)
        .outerjoin(MeasurementRound, MeasurementRound.meeting_id == Meeting.id)
        .where(
            Meeting.type == MONITORING,
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.starts_at > now,
            Meeting.starts_at <= now + rules.questionnaire_ahead,
            MeasurementRound.id.is_(None),
            Meeting.placement_id.is_not(None),
        )
    )
    for meeting in list(meetings):
        await start_questionnaire(session, meeting, now)


async def start_questionnaire(session: AsyncSession, meeting: Meeting, now: dt.datetime) -> None:
    assert meeting.placement_id is not None  # monitoring is about one placement
    busy = await session.scalar(
        select(MeasurementRound.id).where(
            MeasurementRound.placement_id == meeting.placement_id, MeasurementRound.closes_at > now
        )
    )
    placement = await session.get(Placement, meeting.placement_id)
    if busy is None and placement is not None:
        await start_round(
            session, placement, meeting.planned_by_person_id, now, meeting_id=meeting.id
        )
