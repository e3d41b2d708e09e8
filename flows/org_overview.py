"""/organisatie: the organisation overview a coordinator reads, on demand and every Monday.

Counts only, never answers: open placements per phase, check-in response rate per side, how many
placements need attention and why (the digest's signals, flows/signals.py, judged for every open
placement of the organisation), route meetings due or overdue, endings this quarter and the
caseload per begeleider. Aliases appear only in the list of placements that need attention (with
their begeleider's first name), never next to a reason. Family names, answers and free text are
never read into the overview's output.

Small numbers: every count of placements or people that could point at a family goes through
`small` (1-4 becomes "< 5"), every rate through `rate` (no number when fewer than 5 were asked).

Everything is read in a fixed number of statements, whatever the number of placements. Turning
the overview into Telegram messages and a chart is presentation: bot/org_overview.py.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from flows import access, guards
from flows import digest as digests
from flows.authz import Action
from flows.checkins import is_paused
from flows.meetings import due_route_meetings
from flows.outbox import enqueue
from flows.people import Caller
from flows.plan import progress
from flows.plan import review as plan_review
from flows.replies import Button, Outcome, Say
from flows.schedule import at_local, local_date, monday_of, week_key
from flows.settings import MeetingRules, SignalSettings
from flows.signals import PlacementWeeks, Signal, evaluate
from storage.models import (
    Checkin,
    CheckinKind,
    CheckinStatus,
    Organisation,
    OutboxMessage,
    Person,
    Phase,
    Placement,
    PlacementEnding,
    Role,
    StaffMember,
    TelegramLink,
)

ACTION = "organisation_overview"  # the access log's action
SIDES = ("ouder", "gezinshuisouder")
OPEN_PHASES = (Phase.INSTALLATIEFASE, Phase.STABILISATIEFASE, Phase.EVALUATIEFASE)
RATE_WEEKS = 4  # the response rate in the text: the last 4 full weeks
CHART_WEEKS = 8  # the chart: the last 8 full weeks
SMALL = 5  # counts 1-4 are shown as "< 5"; rates need at least 5 check-ins asked
LESS_THAN_FIVE = "< 5"
# The weekly overview: Monday 09:00 in the coordinator's own time zone.
WEEKLY_DAY = 0
WEEKLY_AT = dt.time(9, 0)
WEEKLY_LATE = dt.timedelta(days=2)  # not sent any more after this (the bot was down)
# The reasons in the order the overview lists them (the digest's order, strongest first).
REASONS = digests.STRENGTH
RESPONDED = ("answered", "skipped")  # answered, or skipped with a reason


def small(count: int) -> int | str:
    """A count that could point at a family, as shown: 0 stays 0, 1-4 is "< 5", else the count."""
    if 0 < count < SMALL:
        return LESS_THAN_FIVE
    return count


def rate(responses: int, expected: int) -> int | None:
    """A response rate in whole percent, or None when fewer than 5 check-ins were asked."""
    if expected < SMALL:
        return None
    return round(100 * responses / expected)


@dataclass
class SideWeek:
    """One side's check-ins of one week: how many were asked, how many got a response."""

    week: dt.date
    side: str
    expected: int = 0
    responses: int = 0


@dataclass
class OrgOverview:
    """The organisation overview as plain numbers (not yet suppressed: see `context`)."""

    organisation_id: int
    organisation: str
    today: dt.date
    weeks: list[dt.date]  # the last CHART_WEEKS full weeks, oldest first
    quarter_start: dt.date
    phases: dict[str, int] = field(default_factory=dict)
    side_weeks: dict[tuple[str, dt.date], SideWeek] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)  # placements per reason
    attention: list[tuple[str, str]] = field(default_factory=list)  # (alias, begeleider)
    meetings_due: int = 0
    meetings_overdue: int = 0
    premature: dict[str, int] = field(default_factory=dict)  # ending reason -> placements
    planned: int = 0
    caseload: list[tuple[str, int]] = field(default_factory=list)  # (begeleider, open)
    placement_ids: list[int] = field(default_factory=list)  # every placement counted

    @property
    def open_placements(self) -> int:
        return sum(self.phases.values())

    def side_rate(self, side: str, weeks: int = RATE_WEEKS) -> tuple[int, int]:
        """(responses, expected) of one side over the last `weeks` full weeks."""
        found = [self.side_weeks.get((side, week)) for week in self.weeks[-weeks:]]
        return (
            sum(w.responses for w in found if w is not None),
            sum(w.expected for w in found if w is not None),
        )


def quarter_start(day: dt.date) -> dt.date:
    """The first day of the calendar quarter this day is in."""
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


async def build(
    session: AsyncSession,
    organisation_id: int,
    now: dt.datetime,
    zone: str,
    *,
    signals: SignalSettings | None = None,
    meetings: MeetingRules | None = None,
) -> OrgOverview:
    """Count everything the overview shows of one organisation, in a fixed number of statements."""
    signals = signals or SignalSettings()
    meetings = meetings or MeetingRules()
    organisation = await session.get(Organisation, organisation_id)
    assert organisation is not None  # the caller's own organisation
    today = local_date(now, zone)
    last_week = digests.digest_week(now, zone)
    weeks = [last_week - dt.timedelta(weeks=ago) for ago in range(CHART_WEEKS - 1, -1, -1)]
    found = OrgOverview(organisation_id, organisation.name, today, weeks, quarter_start(today))

    # The open placements, with their begeleider's first name (staff are named).
    lead = aliased(StaffMember)
    rows = await session.execute(
        select(Placement, Person.first_name)
        .outerjoin(lead, lead.id == Placement.begeleider_id)
        .outerjoin(Person, Person.id == lead.person_id)
        .where(Placement.organisation_id == organisation_id, guards.is_open())
        .order_by(Placement.youth_name, Placement.id)
    )
    placements: list[Placement] = []
    begeleider_of: dict[int, str] = {}
    for placement, first_name in rows:
        placements.append(placement)
        begeleider_of[placement.id] = first_name or "-"
    ids = [p.id for p in placements]
    found.placement_ids = list(ids)
    phase_counts = Counter(str(p.phase) for p in placements)
    found.phases = {str(phase): phase_counts.get(str(phase), 0) for phase in OPEN_PHASES}

    await _response_rates(session, found, ids, now)
    await _attention(session, found, placements, begeleider_of, now, zone, signals, meetings)
    await _endings(session, found, now, zone)
    await _caseload(session, found)
    return found


async def _response_rates(
    session: AsyncSession, found: OrgOverview, ids: list[int], now: dt.datetime
) -> None:
    """Weekly check-ins per side and week, by status: one statement."""
    for week in found.weeks:
        for side in SIDES:
            found.side_weeks[(side, week)] = SideWeek(week, side)
    if not ids:
        return
    periods = {week_key(week): week for week in found.weeks}
    rows = await session.execute(
        select(
            type_coerce(Checkin.role, String),
            Checkin.period,
            type_coerce(Checkin.status, String),
            func.count(),
        )
        .where(
            Checkin.placement_id.in_(ids),
            Checkin.kind == CheckinKind.WEEKLY,
            Checkin.period.in_(list(periods)),
            Checkin.status != CheckinStatus.CANCELLED,
            Checkin.due_at <= now,
        )
        .group_by(Checkin.role, Checkin.period, Checkin.status)
    )
    for role, period, status, count in rows:
        entry = found.side_weeks.get((str(role), periods[period]))
        if entry is None:
            continue
        entry.expected += int(count)
        if str(status) in RESPONDED:
            entry.responses += int(count)


async def _attention(
    session: AsyncSession,
    found: OrgOverview,
    placements: list[Placement],
    begeleider_of: dict[int, str],
    now: dt.datetime,
    zone: str,
    signals: SignalSettings,
    meetings: MeetingRules,
) -> None:
    """The digest's signals for every open placement, counted by reason; route meetings due.

    Loaded as the digest loads them (one statement per kind of data, for all placements);
    the names and answers it reads stay here, only codes and counts leave.
    """
    ids = [p.id for p in placements]
    if not ids:
        return
    this_week = found.weeks[-1]
    since = this_week - dt.timedelta(weeks=digests.TREND_WEEKS)
    members = await digests._members(session, ids, now)
    results, _ = await digests._results(session, ids, since, this_week)
    requests = await digests._contact_requests(session, ids, this_week)
    goals = await progress.placement_progress(session, ids)
    due = await due_route_meetings(session, placements, now, meetings)
    reviews_late = await plan_review.overdue(session, placements, now)
    overdue_by: dict[int, list[str]] = defaultdict(list)
    for item in due:
        if item.due < now:
            overdue_by[item.placement_id].append(item.type)
            found.meetings_overdue += 1
        else:
            found.meetings_due += 1
    reasons: Counter[str] = Counter()
    for placement in placements:
        weeks = PlacementWeeks(
            placement_id=placement.id,
            youth=placement.youth_name,
            members=tuple(m for m, _ in members.get(placement.id, [])),
            results=tuple(results.get(placement.id, [])),
            overdue_meetings=tuple(overdue_by[placement.id]),
            contact_requests=len(requests.get(placement.id, [])),
        )
        assessment = evaluate(weeks, this_week, signals)
        codes = reason_codes(assessment.signals)
        plan = progress.summarise(goals.get(placement.id, []), now)
        if any(goal["stalled"] for goal in plan["goals"]):
            codes.add("goal_stalled")
        if placement.id in reviews_late:
            codes.add("review_overdue")
        if codes or assessment.needs_attention:
            found.attention.append((placement.youth_name, begeleider_of[placement.id]))
        reasons.update(codes)
    found.reasons = {code: reasons[code] for code in REASONS if reasons[code]}


def reason_codes(signals: Sequence[Signal]) -> set[str]:
    """The reasons of one placement, as the digest names them: a low score that a drop of the
    same person already says is not a reason of its own."""
    drops = {s.person_id for s in signals if s.code == "drop"}
    return {s.code for s in signals if not (s.code == "low_score" and s.person_id in drops)}


async def _endings(session: AsyncSession, found: OrgOverview, now: dt.datetime, zone: str) -> None:
    """Placements that ended this quarter (local time): premature by reason, planned: one
    statement."""
    start = at_local(found.quarter_start, dt.time(0), zone)
    rows = await session.execute(
        select(PlacementEnding.placement_id, PlacementEnding.planned, PlacementEnding.reason)
        .join(Placement, Placement.id == PlacementEnding.placement_id)
        .where(
            Placement.organisation_id == found.organisation_id,
            PlacementEnding.closed_at >= start,
            PlacementEnding.closed_at <= now,
        )
    )
    premature: Counter[str] = Counter()
    for placement_id, planned, reason in rows:
        found.placement_ids.append(placement_id)
        if planned:
            found.planned += 1
        else:
            premature[str(reason)] += 1
    found.premature = dict(sorted(premature.items()))


async def _caseload(session: AsyncSession, found: OrgOverview) -> None:
    """Open placements per active begeleider of the organisation (also those with none)."""
    rows = await session.execute(
        select(Person.first_name, StaffMember.id, func.count(Placement.id))
        .join(Person, Person.id == StaffMember.person_id)
        .outerjoin(
            Placement,
            (Placement.begeleider_id == StaffMember.id) & guards.is_open(),
        )
        .where(
            StaffMember.organisation_id == found.organisation_id,
            StaffMember.role == Role.BEGELEIDER,
            StaffMember.active.is_(True),
        )
        .group_by(Person.first_name, StaffMember.id)
        .order_by(Person.first_name, StaffMember.id)
    )
    found.caseload = [(name, int(count)) for name, _, count in rows]


def context(found: OrgOverview, listed: int | None = None) -> dict[str, object]:
    """The overview as template context, every count and rate already suppressed.

    `listed`: how many aliases of placements that need attention to name (the rest: "en nog N").
    """
    aliases = sorted(found.attention)
    shown = aliases if listed is None else aliases[:listed]
    rates = {}
    for side in SIDES:
        responses, expected = found.side_rate(side)
        rates[side] = rate(responses, expected)
    return {
        "organisation": found.organisation,
        "today": found.today,
        "open": small(found.open_placements),
        "phases": [{"phase": phase, "count": small(n)} for phase, n in found.phases.items()],
        "rate_weeks": RATE_WEEKS,
        "rates": rates,
        "attention": small(len(aliases)),
        # With 1-4 placements that need attention, reasons next to their aliases would say
        # which reason is whose: then the aliases are named, the reasons are not.
        "reasons": (
            [{"code": code, "count": small(n)} for code, n in found.reasons.items()]
            if len(aliases) >= SMALL
            else []
        ),
        "aliases": [{"youth": youth, "begeleider": name} for youth, name in shown],
        "more": len(aliases) - len(shown),
        "meetings_due": small(found.meetings_due),
        "meetings_overdue": small(found.meetings_overdue),
        "quarter_start": found.quarter_start,
        "premature": small(sum(found.premature.values())),
        "premature_reasons": [
            {"reason": reason, "count": small(n)} for reason, n in found.premature.items()
        ],
        "planned": small(found.planned),
        # Staff are named and their caseload is about their work, not about a family: shown
        # as it is.
        "caseload": [{"name": name, "count": count} for name, count in found.caseload],
    }


def chart_points(found: OrgOverview) -> dict[str, list[int | None]]:
    """Per side, the response rate of each of the last 8 weeks (None: fewer than 5 asked)."""
    return {
        side: [
            rate(entry.responses, entry.expected)
            for week in found.weeks
            for entry in [found.side_weeks[(side, week)]]
        ]
        for side in SIDES
    }


# --- Who asks, and the weekly one ------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """An overview as messages (HTML and its keyboard rows) and the chart as PNG."""

    messages: list[tuple[str, tuple[tuple[Button, ...], ...]]]
    png: bytes | None


# (language, overview) -> the rendered overview (bot/org_overview.py binds its renderer).
Render = Callable[[str, OrgOverview], Rendered]


async def on_demand(
    session: AsyncSession,
    caller: Caller,
    now: dt.datetime,
    signals: SignalSettings | None = None,
    meetings: MeetingRules | None = None,
) -> tuple[str, list[OrgOverview]] | Outcome:
    """/organisatie: the overview of each organisation this coordinator reaches, logged as seen;
    anyone else gets the guard's refusal."""
    me = await guards.staff(session, caller, Action.ORGANISATION_OVERVIEW)
    if isinstance(me, Outcome):
        return me
    zone = me.link.time_zone
    found = []
    for organisation_id in sorted(guards.organisations(me, Action.ORGANISATION_OVERVIEW)):
        overview = await build(
            session, organisation_id, now, zone, signals=signals, meetings=meetings
        )
        await access.log_placements(session, me.person, ACTION, overview.placement_ids, now)
        found.append(overview)
    return me.language, found


async def plan_weekly(
    session: AsyncSession,
    render: Render,
    now: dt.datetime,
    signals: SignalSettings | None = None,
    meetings: MeetingRules | None = None,
) -> int:
    """Queue the weekly overview for each active, reachable, not paused coordinator whose
    Monday 09:00 (her own time zone) has come: once per coordinator, organisation and ISO week."""
    rows = await session.execute(
        select(Person, TelegramLink, StaffMember.organisation_id)
        .join(TelegramLink, TelegramLink.person_id == Person.id)
        .join(StaffMember, StaffMember.person_id == Person.id)
        .where(
            StaffMember.role == Role.COORDINATOR,
            StaffMember.active.is_(True),
            TelegramLink.reachable.is_(True),
        )
        .order_by(Person.id, StaffMember.organisation_id)
    )
    queued = 0
    for person, link, organisation_id in rows:
        if is_paused(person, now):
            continue
        zone = link.time_zone
        monday = monday_of(local_date(now, zone))
        due = at_local(monday + dt.timedelta(days=WEEKLY_DAY), WEEKLY_AT, zone)
        if due > now or now - due > WEEKLY_LATE:
            continue
        key = f"org_overview:{person.id}:{organisation_id}:{week_key(monday)}"
        if await session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == f"{key}:0")):
            continue
        overview = await build(
            session, organisation_id, now, zone, signals=signals, meetings=meetings
        )
        await access.log_placements(session, person, ACTION, overview.placement_ids, now)
        rendered = render(link.language, overview)
        parts: list[tuple[str, Say]] = [
            (str(index), Say("organisation/part", {"html": text}, buttons=keyboard))
            for index, (text, keyboard) in enumerate(rendered.messages)
        ]
        if rendered.png is not None:
            photo = base64.b64encode(rendered.png).decode()
            parts.append(("chart", Say("organisation/chart_caption", {"photo": photo})))
        for part, say in parts:
            queued += int(
                await enqueue(
                    session,
                    key=f"{key}:{part}",
                    person_id=person.id,
                    kind="org_overview",
                    say=say,
                    due_at=now,
                    now=now,
                    expires_at=now + WEEKLY_LATE,
                )
            )
    return queued
