"""Signals for the begeleider: where a collaboration may start to stall.

Pure functions over plain data: no database, no Telegram, no clock. Each signal carries the numbers
that say *why* in `facts`; the words live in the message templates.

Decisions on the open points:
- One result per person per week counts; if a week is given twice, the later one wins. Results
  after `this_week`, and results of roles other than ouder and gezinshuisouder, are ignored.
- A score in any check-in counts, also in a missed (partly answered) or still open one.
- `drop` needs at least `drop_min_weeks` (2) earlier scored weeks: one earlier answer is no mean.
- `gap` compares the mean of each side and needs a score from both sides in this week.
- `no_contact` counts the weeks running up to and including this week in which the person answered
  contact "geen" or skipped with reason "geen_contact"; any other week (contact, another skip,
  contact left unanswered, or no check-in at all) breaks the run.
- `silent` counts the person's latest closed check-ins since joining, newest first, that were
  missed (also when partly answered); weeks without a check-in are passed over, an open check-in
  does not count yet, and a skip ends the run (it is information, not silence). Paused members are
  never silent; an unreachable member gets `unreachable` instead of `silent`.
- `tension` counts weeks of the placement, not people: a week counts if any gezinshuisouder said
  the youth noticed tension.
- `stalling` counts distinct concerns: `low_score` and `drop` read the same answer and count once,
  and a `contact_request` does not count (it asks for help, it says nothing about the
  collaboration itself). It still counts for `needs_attention` and for the order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from statistics import fmean

from flows.settings import SignalSettings

OUDER = "ouder"
GEZINSHUISOUDER = "gezinshuisouder"
PARTICIPANTS = (OUDER, GEZINSHUISOUDER)
# Stored answer values, as in flows.questions; not imported to keep this module free of storage.
CONTACT_NONE = "geen"
SKIP_NO_CONTACT = "geen_contact"
WEEK = dt.timedelta(weeks=1)
# Floats from means must not miss a threshold by a rounding error.
TOLERANCE = 1e-9


class Status(StrEnum):
    ANSWERED = "answered"
    SKIPPED = "skipped"
    MISSED = "missed"
    OPEN = "open"


class Code(StrEnum):
    LOW_SCORE = "low_score"
    DROP = "drop"
    GAP = "gap"
    NO_CONTACT = "no_contact"
    SILENT = "silent"
    UNREACHABLE = "unreachable"
    TENSION = "tension"
    MEETING_OVERDUE = "meeting_overdue"
    CONTACT_REQUEST = "contact_request"


# Codes that read the same concern count once towards stalling.
CONCERN: dict[str, str] = {Code.DROP: Code.LOW_SCORE}
NOT_STALLING: frozenset[str] = frozenset({Code.CONTACT_REQUEST})


@dataclass(frozen=True)
class WeekResult:
    """One person's weekly check-in; `week_start` is the Monday of its ISO week."""

    person_id: int
    role: str
    week_start: dt.date
    status: str
    collaboration: int | None = None
    contact: str | None = None
    tension: int | None = None
    skip_reason: str | None = None


@dataclass(frozen=True)
class Member:
    person_id: int
    role: str
    name: str
    joined_at: dt.date
    paused: bool = False
    reachable: bool = True


@dataclass(frozen=True)
class PlacementWeeks:
    """What the signals read of one placement; results in any order, over any number of weeks."""

    placement_id: int
    youth: str
    members: tuple[Member, ...]
    results: tuple[WeekResult, ...]
    overdue_meetings: tuple[str, ...] = ()
    contact_requests: int = 0


@dataclass(frozen=True)
class Signal:
    code: str
    person_id: int | None
    role: str | None
    facts: Mapping[str, object] = field(hash=False)


@dataclass(frozen=True)
class Assessment:
    placement_id: int
    signals: tuple[Signal, ...]
    stalling: bool
    needs_attention: bool


def low_score(weeks: PlacementWeeks, this_week: dt.date, settings: SignalSettings) -> list[Signal]:
    """Flag each collaboration score of this week at or below the low mark."""
    return [
        Signal(Code.LOW_SCORE, result.person_id, result.role, {"score": result.collaboration})
        for result in _week(_results(weeks, this_week), this_week)
        if result.collaboration is not None and result.collaboration <= settings.low_score
    ]


def drop(weeks: PlacementWeeks, this_week: dt.date, settings: SignalSettings) -> list[Signal]:
    """Flag a score of this week that fell against the person's own recent mean."""
    signals = []
    for by_week in _by_person(_results(weeks, this_week)).values():
        current = by_week.get(this_week)
        if current is None or current.collaboration is None:
            continue
        earlier = [
            result.collaboration
            for week, result in sorted(by_week.items(), reverse=True)
            if week < this_week and result.collaboration is not None
        ][: settings.drop_window]
        if len(earlier) < settings.drop_min_weeks:
            continue
        mean = fmean(earlier)
        if _reaches(mean - current.collaboration, settings.drop):
            facts = {"score": current.collaboration, "mean": mean, "weeks": len(earlier)}
            signals.append(Signal(Code.DROP, current.person_id, current.role, facts))
    return signals


def gap(weeks: PlacementWeeks, this_week: dt.date, settings: SignalSettings) -> list[Signal]:
    """Flag this week when the mean scores of ouders and gezinshuisouders lie far apart."""
    results = _results(weeks, this_week)
    ouders = _side_mean(results, OUDER, this_week)
    house_parents = _side_mean(results, GEZINSHUISOUDER, this_week)
    if ouders is None or house_parents is None:
        return []  # one side said nothing: no comparison
    difference = abs(ouders - house_parents)
    if not _reaches(difference, settings.gap):
        return []
    facts = {OUDER: ouders, GEZINSHUISOUDER: house_parents, "gap": difference}
    return [Signal(Code.GAP, None, None, facts)]


def no_contact(
    weeks: PlacementWeeks, this_week: dt.date, settings: SignalSettings
) -> list[Signal]:
    """Flag someone who reported no contact in each of the weeks running up to this week."""
    signals = []
    for by_week in _by_person(_results(weeks, this_week)).values():
        run, week = 0, this_week
        while (result := by_week.get(week)) is not None and _reports_no_contact(result):
            run, week = run + 1, week - WEEK
        if run >= settings.no_contact_weeks:
            current = by_week[this_week]
            signals.append(
                Signal(Code.NO_CONTACT, current.person_id, current.role, {"weeks": run})
            )
    return signals


def silent(weeks: PlacementWeeks, this_week: dt.date, settings: SignalSettings) -> list[Signal]:
    """Flag a participant whose latest check-ins all closed without an answer."""
    by_person = _by_person(_results(weeks, this_week))
    signals = []
    for member in _participants(weeks):
        if member.paused or not member.reachable:
            continue  # a pause is a choice; unreachable is its own signal
        joined = _monday(member.joined_at)
        closed = [
            result
            for week, result in sorted(by_person.get(member.person_id, {}).items(), reverse=True)
            if week >= joined and result.status != Status.OPEN
        ]
        run = next(
            (count for count, result in enumerate(closed) if result.status != Status.MISSED),
            len(closed),
        )
        if run >= settings.silent_weeks:
            signals.append(Signal(Code.SILENT, member.person_id, member.role, {"weeks": run}))
    return signals


def unreachable(
    weeks: PlacementWeeks, this_week: dt.date, settings: SignalSettings
) -> list[Signal]:
    """Flag each participant the bot cannot reach (for example, the bot was blocked)."""
    return [
        Signal(Code.UNREACHABLE, member.person_id, member.role, {})
        for member in _participants(weeks)
        if not member.reachable
    ]


def tension(weeks: PlacementWeeks, this_week: dt.date, settings: SignalSettings) -> list[Signal]:
    """Flag tension the youth noticed in enough of the recent weeks."""
    window = set(_last_weeks(this_week, settings.tension_window))
    tense_weeks = {
        result.week_start
        for result in _results(weeks, this_week)
        if result.role == GEZINSHUISOUDER
        and result.week_start in window
        and result.tension is not None
        and result.tension <= settings.tension_score
    }
    if len(tense_weeks) < settings.tension_weeks:
        return []
    facts = {"weeks": len(tense_weeks), "window": settings.tension_window}
    return [Signal(Code.TENSION, None, GEZINSHUISOUDER, facts)]


def meeting_overdue(
    weeks: PlacementWeeks, this_week: dt.date, settings: SignalSettings
) -> list[Signal]:
    """Flag each route meeting that is due and not yet planned."""
    return [
        Signal(Code.MEETING_OVERDUE, None, None, {"meeting": meeting})
        for meeting in weeks.overdue_meetings
    ]


def contact_request(
    weeks: PlacementWeeks, this_week: dt.date, settings: SignalSettings
) -> list[Signal]:
    """Flag open requests for contact with the begeleider."""
    if weeks.contact_requests <= 0:
        return []
    return [Signal(Code.CONTACT_REQUEST, None, None, {"count": weeks.contact_requests})]


Check = Callable[[PlacementWeeks, dt.date, SignalSettings], list[Signal]]
CHECKS: tuple[Check, ...] = (
    contact_request,
    unreachable,
    silent,
    low_score,
    drop,
    gap,
    no_contact,
    tension,
    meeting_overdue,
)


def evaluate(weeks: PlacementWeeks, this_week: dt.date, settings: SignalSettings) -> Assessment:
    """Collect all signals of a placement for the week starting on Monday `this_week`."""
    _require_monday(this_week)
    signals = tuple(signal for check in CHECKS for signal in check(weeks, this_week, settings))
    concerns = {CONCERN.get(s.code, s.code) for s in signals if s.code not in NOT_STALLING}
    return Assessment(
        placement_id=weeks.placement_id,
        signals=signals,
        stalling=len(concerns) >= settings.stalling_signals,
        needs_attention=bool(signals),
    )


def order(assessments: Iterable[Assessment]) -> list[Assessment]:
    """Sort for the digest: stalling first, then most signals, then by placement."""
    return sorted(assessments, key=lambda a: (not a.stalling, -len(a.signals), a.placement_id))


def _results(weeks: PlacementWeeks, this_week: dt.date) -> list[WeekResult]:
    """Keep one result per person and week, up to this week, of ouders and gezinshuisouders."""
    latest = {
        (result.person_id, result.week_start): result
        for result in weeks.results
        if result.week_start <= this_week and result.role in PARTICIPANTS
    }
    return sorted(latest.values(), key=lambda r: (r.week_start, r.person_id))


def _by_person(results: Iterable[WeekResult]) -> dict[int, dict[dt.date, WeekResult]]:
    by_person: dict[int, dict[dt.date, WeekResult]] = {}
    for result in results:
        by_person.setdefault(result.person_id, {})[result.week_start] = result
    return dict(sorted(by_person.items()))


def _week(results: Iterable[WeekResult], week: dt.date) -> list[WeekResult]:
    return [result for result in results if result.week_start == week]


def _side_mean(results: Iterable[WeekResult], role: str, week: dt.date) -> float | None:
    scores = [
        result.collaboration
        for result in _week(results, week)
        if result.role == role and result.collaboration is not None
    ]
    return fmean(scores) if scores else None


def _reports_no_contact(result: WeekResult) -> bool:
    if result.contact is not None:
        return result.contact == CONTACT_NONE
    return result.status == Status.SKIPPED and result.skip_reason == SKIP_NO_CONTACT


def _participants(weeks: PlacementWeeks) -> list[Member]:
    members = (member for member in weeks.members if member.role in PARTICIPANTS)
    return sorted(members, key=lambda member: member.person_id)


def _last_weeks(this_week: dt.date, n: int) -> list[dt.date]:
    """The Mondays of the last n weeks, oldest first, ending with this week."""
    return [this_week - WEEK * ago for ago in range(n - 1, -1, -1)]


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _reaches(value: float, threshold: float) -> bool:
    return value >= threshold - TOLERANCE


def _require_monday(day: dt.date) -> None:
    if day.weekday() != 0:
        raise ValueError(f"this_week must be a Monday, got {day.isoformat()}")
