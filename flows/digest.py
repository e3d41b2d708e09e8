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
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, case, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from flows import access, guards
from flows.checkins import is_paused
from flows.meetings import due_route_meetings
from flows.plan import progress
from flows.plan import review as plan_review
from flows.route import MEETING_TYPES
from flows.schedule import monday_of
from flows.settings import MeetingRules, SignalSettings
from flows.signals import (
    Assessment,
    Member,
    PlacementWeeks,
    WeekResult,
    evaluate,
    order,
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
    Role,
    TelegramLink,
)

TREND_WEEKS = 8
OPEN_ANSWER_SHOWN = 600  # longer answers are shortened in the digest (complete in the export)
MEETINGS_AHEAD = dt.timedelta(days=14)
SIDES = ("ouder", "gezinshuisouder")
# A person's week without a check-in (before joining, or nothing asked yet).
NO_CHECKIN: dict[str, object] = {
    "status": "none",
    "reason": None,
    "contact": None,
    "score": None,
    "tension": None,
}

# The reasons of a placement, strongest first: the first one picks the suggested next step.
STRENGTH: tuple[str, ...] = (
    "contact_request",
    "unreachable",
    "drop",
    "low_score",
    "gap",
    "tension",
    "no_contact",
    "silent",
    "meeting_overdue",
    "goal_stalled",
    "review_overdue",
)
# Reason -> the next step the digest suggests (words in messages/<lang>/digest/_step.j2).
STEP_FOR: dict[str, str] = {
    "contact_request": "call_back",
    "unreachable": "reach_otherwise",
    "drop": "discuss",
    "low_score": "discuss",
    "gap": "discuss",
    "tension": "discuss_transition",
    "no_contact": "restart_contact",
    "silent": "ask_how",
    "meeting_overdue": "plan_meeting",
    "goal_stalled": "goal_talk",
    "review_overdue": "review_plan",
}
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
    chart: Chart | None = None


@dataclass(frozen=True)
class Chart:
    """What the chart draws of one placement: per side, a mark and a score per week."""

    youth: str
    weeks: dict[str, list[dict[str, object]]]


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
    only_placement: int | None = None,
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
    if only_placement is not None:
        query = query.where(Placement.id == only_placement)
    placements = list(await session.scalars(query.order_by(Placement.youth_name, Placement.id)))
    ids = [p.id for p in placements]
    members = await _members(session, ids, now)
    results, statuses = await _results(session, ids, since, this_week)
    open_answers = await _open_answers(session, ids, this_week)
    requests = await _contact_requests(session, ids, this_week)
    upcoming = await _meetings(session, ids, now, zone)
    goals = await progress.placement_progress(session, ids)  # one statement for all
    due = await due_route_meetings(session, placements, now, meetings)
    reviews_late = await plan_review.overdue(session, placements, now)
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
        this = [r for r in weeks_data.results if r.week_start == this_week]
        expected += len(this)
        answered += sum(r.status == "answered" for r in this)
        marks = {side: week_marks(weeks_data, side, this_week, TREND_WEEKS) for side in SIDES}
        people = [
            {
                "name": name,
                "role": role,
                **statuses.get((placement.id, pid, this_week), NO_CHECKIN),
                "paused": member.paused,
                "reachable": member.reachable,
            }
            for member, pid in members.get(placement.id, [])
            for name, role in [names[pid]]
        ]
        upcoming_here = upcoming.get(placement.id, [])
        reasons = _reasons(assessment, names, requests.get(placement.id, []), due_by[placement.id])
        plan = progress.summarise(goals.get(placement.id, []), now, ZoneInfo(zone))
        reasons += _goal_reasons(plan)
        if placement.id in reviews_late:  # the plan review is late (flows/plan/review.py)
            reasons.append(
                {
                    "code": "review_overdue",
                    "people": [],
                    "facts": {"since": reviews_late[placement.id]},
                }
            )
        attention = assessment.needs_attention or bool(reasons)
        context: dict[str, object] = {
            "placement_id": placement.id,
            "youth": placement.youth_name,
            "phase": str(placement.phase),
            "weeks_in_phase": max(0, (now - placement.phase_since).days // 7) + 1,
            "stalling": assessment.stalling,
            "attention": attention,
            "reasons": reasons,
            "step": _step(reasons, upcoming_here),
            "scores": {side: _mean(this, side) for side in SIDES},
            "mean": _mean(this, None),
            "answered": sum(r.status == "answered" for r in this),
            "expected": len(this),
            "weeks": marks,
            "people": people,
            "open_answers": open_answers.get(placement.id, []),
            "meetings": upcoming_here,
            "due": due_by[placement.id],
            # The plan's goals: counts, open goals with progress per side (None: no goals).
            "goals": plan if plan["open"] or plan["reached"] else None,
        }
        chart = Chart(placement.youth_name, marks) if attention else None
        sections.append(Section(placement.id, context, assessment.stalling, attention, chart))
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


def week_marks(
    weeks: PlacementWeeks, role: str, this_week: dt.date, n: int = TREND_WEEKS
) -> list[dict[str, object]]:
    """One side's last n weeks, oldest first: the mean score and what happened that week.

    `mark` is "answered" (a score), "skipped", "missed" (closed without an answer), "open"
    (still open) or "none" (no check-in that week, e.g. before joining or during a pause).
    """
    first = this_week - dt.timedelta(weeks=n - 1)
    # One result per person and week (the later one wins), as the signals count them.
    latest = {
        (result.person_id, result.week_start): result
        for result in weeks.results
        if result.role == role and first <= result.week_start <= this_week
    }
    by_week: dict[dt.date, list[WeekResult]] = defaultdict(list)
    for result in latest.values():
        by_week[result.week_start].append(result)
    found: list[dict[str, object]] = []
    for ago in range(n - 1, -1, -1):
        week = this_week - dt.timedelta(weeks=ago)
        given = by_week.get(week, [])
        statuses = {result.status for result in given}
        score = _mean(given, None)
        if score is not None:
            mark = "answered"
        elif "skipped" in statuses:
            mark = "skipped"
        elif "missed" in statuses or "answered" in statuses:
            mark = "missed"
        elif "open" in statuses:
            mark = "open"
        else:
            mark = "none"
        found.append({"week": week, "score": score, "mark": mark})
    return found


def _reasons(
    assessment: Assessment,
    names: dict[int, tuple[str, str]],
    requests: list[dict[str, object]],
    due: list[dict[str, object]],
) -> list[dict[str, object]]:
    """The signals as reasons, strongest first; one fact once (same fact, several people)."""
    drops = {s.person_id for s in assessment.signals if s.code == "drop"}
    reasons: dict[tuple[str, str], dict[str, object]] = {}
    for signal in assessment.signals:
        if signal.code == "low_score" and signal.person_id in drops:
            continue  # a drop already says the score
        facts = dict(signal.facts)
        if signal.code == "contact_request":
            people = [{"name": r["name"], "role": r["role"]} for r in requests]
        elif signal.person_id is not None:
            name, role = names.get(signal.person_id, ("", signal.role or ""))
            people = [{"name": name, "role": role}]
        else:
            people = []
        if signal.code == "meeting_overdue":
            # All route meetings over time make one line.
            when = next((d["due"] for d in due if d["type"] == facts["meeting"]), None)
            facts = {"meetings": [{"type": facts["meeting"], "due": when}]}
        # Several people with the same fact ("geen contact, 3 weken") make one line.
        merge = signal.code in ("no_contact", "silent", "unreachable")
        key = (signal.code, repr(sorted(facts.items())) if merge else str(len(reasons)))
        if signal.code == "meeting_overdue":
            key = (signal.code, "")
            if key in reasons:
                listed_facts = reasons[key]["facts"]
                assert isinstance(listed_facts, dict)
                listed_facts["meetings"].extend(facts["meetings"])
                continue
        if key in reasons:
            listed = reasons[key]["people"]
            assert isinstance(listed, list)
            listed.extend(people)
        else:
            reasons[key] = {"code": signal.code, "people": people, "facts": facts}
    rank = {code: index for index, code in enumerate(STRENGTH)}
    return sorted(reasons.values(), key=lambda r: rank.get(str(r["code"]), len(rank)))


def _goal_reasons(plan: dict[str, Any]) -> list[dict[str, object]]:
    """An open goal without progress for `route.GOAL_STALLED`: a reason for attention each."""
    return [
        {
            "code": "goal_stalled",
            "people": [],
            "facts": {"goal": goal, "weeks": goal["quiet_weeks"], "answered": goal["answered"]},
        }
        for goal in plan["goals"]
        if goal["stalled"]
    ]


def _step(
    reasons: list[dict[str, object]], upcoming: list[dict[str, object]]
) -> dict[str, object] | None:
    """The one next step to suggest, from the strongest reason (None when all is calm)."""
    if not reasons:
        return None
    strongest = reasons[0]
    overdue = [
        str(meeting["type"])
        for reason in reasons
        if reason["code"] == "meeting_overdue"
        for meeting in reason["facts"]["meetings"]  # type: ignore[index]
    ]
    # A route meeting with both sides that is over time: the place to talk about it.
    together = next(
        (
            kind
            for kind in overdue
            if kind in MEETING_TYPES
            and {Role.OUDER, Role.GEZINSHUISOUDER} <= set(MEETING_TYPES[kind].roles)
        ),
        None,
    )
    return {
        "code": STEP_FOR.get(str(strongest["code"]), "discuss"),
        "people": strongest["people"],
        "facts": strongest["facts"],
        "meeting": upcoming[0] if upcoming else None,
        "overdue": overdue,
        "together": together,
    }


def _mean(results: list[WeekResult], role: str | None) -> float | None:
    scores = [
        r.collaboration
        for r in results
        if (role is None or r.role == role) and r.collaboration is not None
    ]
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
    session: AsyncSession, placement_ids: list[int], since: dt.date, this_week: dt.date
) -> tuple[dict[int, list[WeekResult]], dict[tuple[int, int, dt.date], dict[str, object]]]:
    results: dict[int, list[WeekResult]] = defaultdict(list)
    statuses: dict[tuple[int, int, dt.date], dict[str, object]] = {}
    if not placement_ids:
        return results, statuses
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)

    def answered(question: str, column: Any) -> Any:
        return func.max(case((Answer.question_id == question, column)))

    # One row per check-in with the three answers the signals read, as plain columns: this
    # reads most of a digest's rows, and fewer rows and no ORM objects keep a long history cheap.
    rows = await session.execute(
        select(
            Checkin.placement_id,
            Checkin.person_id,
            # As stored (text): no enum object per row.
            type_coerce(Checkin.role, String),
            Checkin.period,
            type_coerce(Checkin.status, String),
            Checkin.skip_reason,
            answered("samenwerken", Answer.score),
            answered("contact", Answer.value),
            answered("spanning", Answer.score),
            answered("spanning", Answer.value),
        )
        .outerjoin(
            Answer,
            (Answer.checkin_id == Checkin.id)
            & Answer.question_id.in_(["samenwerken", "contact", "spanning"]),
        )
        .where(
            Checkin.placement_id.in_(placement_ids),
            Checkin.kind == CheckinKind.WEEKLY,
            Checkin.due_at >= start,
            Checkin.status != CheckinStatus.CANCELLED,
        )
        .group_by(
            Checkin.id,
            Checkin.placement_id,
            Checkin.person_id,
            Checkin.role,
            Checkin.period,
            Checkin.status,
            Checkin.skip_reason,
        )
    )
    mondays: dict[str, dt.date] = {}
    for (
        placement_id,
        person_id,
        role,
        period,
        checkin_status,
        reason,
        score,
        contact,
        tension,
        tension_value,
    ) in rows:
        week_start = mondays.get(period)
        if week_start is None:
            year, week = period.split("-W")
            week_start = mondays[period] = dt.date.fromisocalendar(int(year), int(week), 1)
        status = _STATUS.get(checkin_status, "open")
        results[placement_id].append(
            WeekResult(
                person_id=person_id,
                role=str(role),
                week_start=week_start,
                status=status,
                collaboration=score,
                contact=contact,
                tension=tension,
                skip_reason=reason,
            )
        )
        if week_start != this_week:
            continue  # what each person did is shown for this week only
        statuses[(placement_id, person_id, week_start)] = {
            "status": status,
            "reason": reason,
            "contact": contact,
            "score": score,
            "tension": tension_value,
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
