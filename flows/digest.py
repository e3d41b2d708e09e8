"""The begeleider's weekly digest and the behandelaar's overview, as plain data for templates.

Everything is read with a fixed number of statements, whatever the number of placements (no N+1):
placements, members, check-ins, answers, contact requests, meetings, route meetings. The
signals come from flows.signals (pure functions); the words from messages/<lang>/digest/.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from statistics import fmean
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows import access, guards
from flows.checkins import is_paused
from flows.meetings import due_route_meetings
from flows.schedule import monday_of
from flows.settings import MeetingRules, SignalSettings
from flows.signals import (
    Assessment,
    Member,
    PlacementWeeks,
    WeekResult,
    evaluate,
    order,
    sparkline,
    trend,
)
from storage.models import (
    Answer,
    Checkin,
    CheckinKind,
    CheckinStatus,
    ContactRequest,
    Meeting,
    MeetingInvitee,
    MeetingStatus,
    Participant,
    Person,
    Placement,
    TelegramLink,
)

TREND_WEEKS = 8
OPEN_ANSWER_SHOWN = 600  # longer answers are shortened in the digest (complete in the export)
MEETINGS_AHEAD = dt.timedelta(days=14)
_STATUS = {
    CheckinStatus.OPEN: "open",
    CheckinStatus.ANSWERED: "answered",
    CheckinStatus.SKIPPED: "skipped",
    CheckinStatus.MISSED: "missed",
}


@dataclass
class Section:
    """One placement in the digest: the template's context."""

    placement_id: int
    context: dict[str, object]
    stalling: bool
    needs_attention: bool
    chart: tuple[str, list[float | None], list[float | None]] | None = None


@dataclass
class Digest:
    header: dict[str, object]
    sections: list[Section] = field(default_factory=list)

    @property
    def placement_ids(self) -> list[int]:
        return [s.placement_id for s in self.sections]


def digest_week(now: dt.datetime, zone: str) -> dt.date:
    """The week a digest looks at: the last full week (Monday to Sunday) before today."""
    today = now.astimezone(ZoneInfo(zone)).date()
    return monday_of(today) - dt.timedelta(days=7)


async def build(
    session: AsyncSession,
    staff_ids: list[int],
    now: dt.datetime,
    zone: str,
    *,
    signals: SignalSettings | None = None,
    meetings: MeetingRules | None = None,
    only_youth: str | None = None,
    weeks: int = TREND_WEEKS,
) -> Digest:
    """Gather and judge the placements of these staff members for the last full week."""
    signals = signals or SignalSettings()
    meetings = meetings or MeetingRules()
    this_week = digest_week(now, zone)
    since = this_week - dt.timedelta(weeks=weeks)
    query = select(Placement).where(
        (Placement.begeleider_id.in_(staff_ids)) | (Placement.behandelaar_id.in_(staff_ids)),
        guards.is_open(),
    )
    if only_youth is not None:
        query = query.where(Placement.youth_name.ilike(only_youth))
    placements = list(await session.scalars(query.order_by(Placement.youth_name, Placement.id)))
    ids = [p.id for p in placements]
    members = await _members(session, ids, now)
    results, statuses = await _results(session, ids, since)
    open_answers = await _open_answers(session, ids, this_week)
    requests = await _contact_requests(session, ids, this_week)
    upcoming = await _meetings(session, ids, now, zone)
    due = await due_route_meetings(session, placements, now, meetings)
    due_by: dict[int, list[dict[str, object]]] = defaultdict(list)
    for item in due:
        due_by[item.placement_id].append(
            {
                "type": item.type,
                "due": item.due.astimezone(ZoneInfo(zone)).date(),
                "overdue": item.due < now,
            }
        )

    assessed: list[tuple[Placement, PlacementWeeks, Assessment]] = []
    for placement in placements:
        weeks_data = PlacementWeeks(
            placement_id=placement.id,
            youth=placement.youth_name,
            members=tuple(m for m, _ in members.get(placement.id, [])),
            results=tuple(results.get(placement.id, [])),
            overdue_meetings=tuple(str(d["type"]) for d in due_by[placement.id] if d["overdue"]),
            contact_requests=len(requests.get(placement.id, [])),
        )
        assessed.append((placement, weeks_data, evaluate(weeks_data, this_week, signals)))
    ranking = {a.placement_id: i for i, a in enumerate(order(a for _, _, a in assessed))}
    assessed.sort(key=lambda item: ranking[item[0].id])

    sections = []
    answered = expected = 0
    for placement, weeks_data, assessment in assessed:
        names = {m.person_id: (m.name, m.role) for m in weeks_data.members}
        drops = {(s.person_id, str(s.code)) for s in assessment.signals if s.code == "drop"}
        this = [r for r in weeks_data.results if r.week_start == this_week]
        expected += len(this)
        answered += sum(r.status == "answered" for r in this)
        ouder = trend(weeks_data, "ouder", this_week, TREND_WEEKS)
        gho = trend(weeks_data, "gezinshuisouder", this_week, TREND_WEEKS)
        context: dict[str, object] = {
            "youth": placement.youth_name,
            "phase": str(placement.phase),
            "weeks_in_phase": max(0, (now - placement.phase_since).days // 7) + 1,
            "stalling": assessment.stalling,
            "attention": assessment.needs_attention,
            "signals": [
                {
                    "code": s.code,
                    "role": s.role,
                    "facts": dict(s.facts),
                    "name": names.get(s.person_id, ("", ""))[0] if s.person_id else None,
                }
                for s in assessment.signals
                # A drop already says the score; do not say it twice for the same person.
                if not (s.code == "low_score" and (s.person_id, "drop") in drops)
            ],
            "scores": {
                "ouder": _mean(this, "ouder"),
                "gezinshuisouder": _mean(this, "gezinshuisouder"),
            },
            "trend": {"ouder": sparkline(ouder), "gezinshuisouder": sparkline(gho)},
            "people": [
                {
                    "name": name,
                    "role": role,
                    **statuses.get((placement.id, pid, this_week), {"status": "none"}),
                    "paused": member.paused,
                    "reachable": member.reachable,
                }
                for member, pid in members.get(placement.id, [])
                for name, role in [names[pid]]
            ],
            "open_answers": open_answers.get(placement.id, []),
            "contact_requests": requests.get(placement.id, []),
            "meetings": upcoming.get(placement.id, []),
            "due": due_by[placement.id],
        }
        chart = (placement.youth_name, ouder, gho) if assessment.needs_attention else None
        sections.append(
            Section(placement.id, context, assessment.stalling, assessment.needs_attention, chart)
        )
    header = {
        "week": this_week,
        "week_end": this_week + dt.timedelta(days=6),
        "placements": len(sections),
        "attention": sum(s.needs_attention for s in sections),
        "stalling": sum(s.stalling for s in sections),
        "answered": answered,
        "expected": expected,
    }
    return Digest(header, sections)


def _mean(results: list[WeekResult], role: str) -> float | None:
    scores = [r.collaboration for r in results if r.role == role and r.collaboration is not None]
    return round(fmean(scores), 1) if scores else None


async def _members(
    session: AsyncSession, placement_ids: list[int], now: dt.datetime
) -> dict[int, list[tuple[Member, int]]]:
    found: dict[int, list[tuple[Member, int]]] = defaultdict(list)
    if not placement_ids:
        return found
    rows = await session.execute(
        select(Participant, Person, TelegramLink)
        .join(Person, Person.id == Participant.person_id)
        .outerjoin(TelegramLink, TelegramLink.person_id == Person.id)
        .where(Participant.placement_id.in_(placement_ids))
        .order_by(Participant.role.desc(), Participant.id)
    )
    for participant, person, link in rows:
        member = Member(
            person_id=person.id,
            role=str(participant.role),
            name=person.first_name,
            joined_at=participant.joined_at.date(),
            paused=is_paused(person, now),
            reachable=link is not None and link.reachable,
        )
        found[participant.placement_id].append((member, person.id))
    return found


async def _results(
    session: AsyncSession, placement_ids: list[int], since: dt.date
) -> tuple[dict[int, list[WeekResult]], dict[tuple[int, int, dt.date], dict[str, object]]]:
    results: dict[int, list[WeekResult]] = defaultdict(list)
    statuses: dict[tuple[int, int, dt.date], dict[str, object]] = {}
    if not placement_ids:
        return results, statuses
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    # Plain columns, no ORM objects: these two read most of the rows of a digest, and with a
    # long history making an object per row was most of a digest's time.
    checkins = await session.execute(
        select(
            Checkin.id,
            Checkin.placement_id,
            Checkin.person_id,
            Checkin.role,
            Checkin.period,
            Checkin.status,
            Checkin.skip_reason,
        ).where(
            Checkin.placement_id.in_(placement_ids),
            Checkin.kind == CheckinKind.WEEKLY,
            Checkin.due_at >= start,
            Checkin.status != CheckinStatus.CANCELLED,
        )
    )
    answers: dict[int, dict[str, tuple[str | None, int | None]]] = defaultdict(dict)
    for checkin_id, question_id, value, score in await session.execute(
        select(Answer.checkin_id, Answer.question_id, Answer.value, Answer.score)
        .join(Checkin, Checkin.id == Answer.checkin_id)
        .where(
            Checkin.placement_id.in_(placement_ids),
            Checkin.kind == CheckinKind.WEEKLY,
            Checkin.due_at >= start,
            Answer.question_id.in_(["samenwerken", "contact", "spanning"]),
        )
    ):
        answers[checkin_id][question_id] = (value, score)
    for checkin_id, placement_id, person_id, role, period, checkin_status, reason in checkins:
        year, week = period.split("-W")
        week_start = dt.date.fromisocalendar(int(year), int(week), 1)
        given = answers.get(checkin_id, {})
        status = _STATUS.get(checkin_status, "open")
        contact = given["contact"][0] if "contact" in given else None
        results[placement_id].append(
            WeekResult(
                person_id=person_id,
                role=str(role),
                week_start=week_start,
                status=status,
                collaboration=given["samenwerken"][1] if "samenwerken" in given else None,
                contact=contact,
                tension=given["spanning"][1] if "spanning" in given else None,
                skip_reason=reason,
            )
        )
        statuses[(placement_id, person_id, week_start)] = {
            "status": status,
            "reason": reason,
            "contact": contact,
        }
    return results, statuses


async def _open_answers(
    session: AsyncSession, placement_ids: list[int], week: dt.date
) -> dict[int, list[dict[str, object]]]:
    found: dict[int, list[dict[str, object]]] = defaultdict(list)
    if not placement_ids:
        return found
    start = dt.datetime.combine(week, dt.time(), tzinfo=dt.UTC) - dt.timedelta(days=1)
    end = start + dt.timedelta(days=9)
    rows = await session.execute(
        select(Answer, Person.first_name)
        .join(Person, Person.id == Answer.person_id)
        .where(
            Answer.placement_id.in_(placement_ids),
            Answer.question_id == "open",
            Answer.answered_at >= start,
            Answer.answered_at < end,
        )
        .order_by(Answer.answered_at)
    )
    for answer, name in rows:
        text = answer.text or ""
        shown = text if len(text) <= OPEN_ANSWER_SHOWN else text[:OPEN_ANSWER_SHOWN].rstrip()
        found[answer.placement_id].append(
            {
                "name": name,
                "role": str(answer.role),
                "text": shown,
                "shortened": len(shown) < len(text),
            }
        )
    return found


async def _contact_requests(
    session: AsyncSession, placement_ids: list[int], week: dt.date
) -> dict[int, list[dict[str, object]]]:
    found: dict[int, list[dict[str, object]]] = defaultdict(list)
    if not placement_ids:
        return found
    start = dt.datetime.combine(week, dt.time(), tzinfo=dt.UTC) - dt.timedelta(days=1)
    rows = await session.execute(
        select(ContactRequest, Person.first_name)
        .join(Person, Person.id == ContactRequest.person_id)
        .where(
            ContactRequest.placement_id.in_(placement_ids),
            ContactRequest.created_at >= start,
            ContactRequest.created_at < start + dt.timedelta(days=9),
        )
        .order_by(ContactRequest.created_at)
    )
    for request, name in rows:
        found[request.placement_id].append(
            {"name": name, "role": str(request.role), "at": request.created_at}
        )
    return found


async def _meetings(
    session: AsyncSession, placement_ids: list[int], now: dt.datetime, zone: str
) -> dict[int, list[dict[str, object]]]:
    found: dict[int, list[dict[str, object]]] = defaultdict(list)
    if not placement_ids:
        return found
    rows = await session.execute(
        select(Meeting, MeetingInvitee, Person.first_name)
        .join(MeetingInvitee, MeetingInvitee.meeting_id == Meeting.id)
        .join(Person, Person.id == MeetingInvitee.person_id)
        .where(
            Meeting.placement_id.in_(placement_ids),
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.starts_at >= now,
            Meeting.starts_at <= now + MEETINGS_AHEAD,
        )
        .order_by(Meeting.starts_at, MeetingInvitee.id)
    )
    by_meeting: dict[int, dict[str, object]] = {}
    for meeting, invitee, name in rows:
        entry = by_meeting.get(meeting.id)
        if entry is None:
            entry = {
                "type": meeting.type,
                "at": meeting.starts_at.astimezone(ZoneInfo(zone)),
                "rsvps": [],
            }
            by_meeting[meeting.id] = entry
            assert meeting.placement_id is not None  # filtered on placement above
            found[meeting.placement_id].append(entry)
        rsvps = entry["rsvps"]
        assert isinstance(rsvps, list)
        rsvps.append(
            {
                "name": name,
                "role": str(invitee.role),
                "rsvp": str(invitee.rsvp) if invitee.rsvp else None,
            }
        )
    return found


async def log_view(
    session: AsyncSession,
    person: Person,
    action: str,
    placement_ids: list[int],
    now: dt.datetime,
) -> None:
    """Write who saw which placements' answers, and when: one row per placement (NEN 7513)."""
    await access.log_placements(session, person, action, placement_ids, now)
