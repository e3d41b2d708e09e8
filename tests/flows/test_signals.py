"""Signals for the begeleider, from plain weekly results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pytest

from flows.settings import SignalSettings
from flows.signals import (
    Assessment,
    Member,
    PlacementWeeks,
    Signal,
    WeekResult,
    contact_request,
    drop,
    evaluate,
    gap,
    low_score,
    meeting_overdue,
    no_contact,
    order,
    silent,
    tension,
    unreachable,
)

THIS_WEEK = dt.date(2026, 3, 2)  # a Monday
SETTINGS = SignalSettings()
OUDER = "ouder"
HUIS = "gezinshuisouder"


def week(ago: int) -> dt.date:
    return THIS_WEEK - dt.timedelta(weeks=ago)


def answered(
    person_id: int,
    role: str,
    ago: int = 0,
    score: int = 4,
    contact: str = "gesproken",
    tension: int | None = None,
) -> WeekResult:
    if tension is None and role == HUIS:
        tension = 5
    return WeekResult(person_id, role, week(ago), "answered", score, contact, tension)


def missed(
    person_id: int, role: str, ago: int = 0, score: int | None = None, contact: str | None = None
) -> WeekResult:
    return WeekResult(person_id, role, week(ago), "missed", score, contact)


def skipped(person_id: int, role: str, ago: int = 0, reason: str = "druk") -> WeekResult:
    return WeekResult(person_id, role, week(ago), "skipped", skip_reason=reason)


def scored(person_id: int, role: str, *oldest_first: int) -> list[WeekResult]:
    """Answered weeks with these scores, the last one in this week."""
    last = len(oldest_first) - 1
    return [answered(person_id, role, last - i, s) for i, s in enumerate(oldest_first)]


def member(person_id: int, role: str, joined_ago: int = 20, **state: bool) -> Member:
    return Member(
        person_id, role, f"P{person_id}", week(joined_ago) + dt.timedelta(days=2), **state
    )


def placement(
    results: Iterable[WeekResult] = (),
    members: Iterable[Member] = (),
    placement_id: int = 1,
    overdue: tuple[str, ...] = (),
    requests: int = 0,
) -> PlacementWeeks:
    return PlacementWeeks(placement_id, "Sam", tuple(members), tuple(results), overdue, requests)


def codes(signals: Iterable[Signal]) -> list[str]:
    return [signal.code for signal in signals]


# low_score


def test_low_score_flags_a_score_of_two_or_less_this_week() -> None:
    weeks = placement([answered(1, OUDER, score=2), answered(2, HUIS, score=1)])
    assert low_score(weeks, THIS_WEEK, SETTINGS) == [
        Signal("low_score", 1, OUDER, {"score": 2}),
        Signal("low_score", 2, HUIS, {"score": 1}),
    ]


def test_low_score_ignores_three_and_earlier_weeks() -> None:
    weeks = placement([answered(1, OUDER, score=3), answered(2, HUIS, ago=1, score=1)])
    assert low_score(weeks, THIS_WEEK, SETTINGS) == []


def test_low_score_counts_a_partial_answer_in_a_missed_checkin() -> None:
    weeks = placement([missed(1, OUDER, score=2)])
    assert codes(low_score(weeks, THIS_WEEK, SETTINGS)) == ["low_score"]


def test_low_score_threshold_is_a_setting() -> None:
    weeks = placement([answered(1, OUDER, score=3)])
    assert codes(low_score(weeks, THIS_WEEK, SignalSettings(low_score=3))) == ["low_score"]


# drop


def test_drop_against_own_mean_says_score_and_mean() -> None:
    weeks = placement(scored(1, OUDER, 4, 4, 5, 3, 2))
    assert drop(weeks, THIS_WEEK, SETTINGS) == [
        Signal("drop", 1, OUDER, {"score": 2, "mean": 4.0, "weeks": 4})
    ]


def test_drop_uses_only_the_last_four_scored_weeks() -> None:
    # The old 1s would pull the mean down to 3; only the last four 4s count.
    weeks = placement([*scored(1, OUDER, 1, 1, 1, 1, 4, 4, 4, 4, 2)])
    assert drop(weeks, THIS_WEEK, SETTINGS)[0].facts["mean"] == 4.0


def test_drop_passes_over_weeks_without_a_score() -> None:
    results = [
        answered(1, HUIS, ago=5, score=4),
        answered(1, HUIS, ago=4, score=4),
        skipped(1, HUIS, ago=3),
        missed(1, HUIS, ago=2),
        answered(1, HUIS, ago=1, score=5),
        answered(1, HUIS, score=2),
    ]
    weeks = placement(results)
    [signal] = drop(weeks, THIS_WEEK, SETTINGS)
    assert signal.facts == {"score": 2, "mean": pytest.approx(13 / 3), "weeks": 3}


def test_drop_of_exactly_the_threshold_counts() -> None:
    weeks = placement(scored(1, OUDER, 3, 4, 2))  # mean 3.5, now 2
    assert codes(drop(weeks, THIS_WEEK, SETTINGS)) == ["drop"]


def test_small_drop_is_not_flagged() -> None:
    weeks = placement(scored(1, OUDER, 4, 4, 4, 5, 3))  # mean 4.25, now 3
    assert drop(weeks, THIS_WEEK, SETTINGS) == []


def test_drop_needs_two_earlier_scored_weeks() -> None:
    one_earlier = placement(scored(1, OUDER, 5, 1))
    two_earlier = placement(scored(1, OUDER, 5, 5, 1))
    assert drop(one_earlier, THIS_WEEK, SETTINGS) == []
    assert codes(drop(two_earlier, THIS_WEEK, SETTINGS)) == ["drop"]


def test_no_drop_for_someone_who_joined_this_week() -> None:
    weeks = placement([answered(1, OUDER, score=1)], [member(1, OUDER, joined_ago=0)])
    assert drop(weeks, THIS_WEEK, SETTINGS) == []


def test_no_drop_without_a_score_this_week() -> None:
    results = [answered(1, OUDER, ago, score=5) for ago in (4, 3, 2, 1)]
    weeks = placement([*results, missed(1, OUDER, 0)])
    assert drop(weeks, THIS_WEEK, SETTINGS) == []


# gap


def test_gap_between_the_sides_gives_both_means() -> None:
    results = [answered(1, OUDER, score=2), answered(2, HUIS, score=4), answered(3, HUIS, score=5)]
    assert gap(placement(results), THIS_WEEK, SETTINGS) == [
        Signal("gap", None, None, {OUDER: 2.0, HUIS: 4.5, "gap": 2.5})
    ]


def test_gap_uses_the_mean_of_two_ouders() -> None:
    # One ouder alone (2 against 4) would be a gap; the two ouders together (3) are not.
    close = [answered(1, OUDER, score=2), answered(2, OUDER, score=4), answered(3, HUIS, score=4)]
    far = [answered(1, OUDER, score=1), answered(2, OUDER, score=2), answered(3, HUIS, score=4)]
    assert gap(placement(close), THIS_WEEK, SETTINGS) == []
    assert gap(placement(far), THIS_WEEK, SETTINGS)[0].facts[OUDER] == 1.5


def test_no_gap_when_one_side_is_silent_this_week() -> None:
    results = [answered(1, OUDER, score=1), missed(2, HUIS), answered(2, HUIS, ago=1, score=5)]
    assert gap(placement(results), THIS_WEEK, SETTINGS) == []


def test_gap_only_looks_at_this_week() -> None:
    results = [answered(1, OUDER, ago=1, score=1), answered(2, HUIS, ago=1, score=5)]
    assert gap(placement(results), THIS_WEEK, SETTINGS) == []


# no_contact


def test_no_contact_three_weeks_running() -> None:
    results = [answered(1, OUDER, ago, contact="geen") for ago in range(3)]
    assert no_contact(placement(results), THIS_WEEK, SETTINGS) == [
        Signal("no_contact", 1, OUDER, {"weeks": 3})
    ]


def test_no_contact_counts_the_whole_run() -> None:
    results = [answered(1, HUIS, ago, contact="geen") for ago in range(5)]
    assert no_contact(placement(results), THIS_WEEK, SETTINGS)[0].facts == {"weeks": 5}


def test_skip_for_no_contact_counts_as_no_contact() -> None:
    results = [
        answered(1, OUDER, 2, contact="geen"),
        skipped(1, OUDER, 1, reason="geen_contact"),
        answered(1, OUDER, 0, contact="geen"),
    ]
    assert codes(no_contact(placement(results), THIS_WEEK, SETTINGS)) == ["no_contact"]


@pytest.mark.parametrize(
    "middle",
    [
        missed(1, OUDER, 1),  # contact left unanswered
        skipped(1, OUDER, 1, reason="druk"),
        answered(1, OUDER, 1, contact="app"),
        None,  # no check-in that week
    ],
)
def test_no_contact_run_is_broken(middle: WeekResult | None) -> None:
    results = [answered(1, OUDER, ago, contact="geen") for ago in (3, 2, 0)]
    if middle is not None:
        results.append(middle)
    assert no_contact(placement(results), THIS_WEEK, SETTINGS) == []


def test_no_contact_run_must_reach_this_week() -> None:
    results = [answered(1, OUDER, ago, contact="geen") for ago in (3, 2, 1)]
    results.append(answered(1, OUDER, 0, contact="gesproken"))
    assert no_contact(placement(results), THIS_WEEK, SETTINGS) == []


# silent and unreachable


def test_two_missed_weeks_is_silent() -> None:
    results = [answered(1, OUDER, 2), missed(1, OUDER, 1), missed(1, OUDER, 0)]
    weeks = placement(results, [member(1, OUDER)])
    assert silent(weeks, THIS_WEEK, SETTINGS) == [Signal("silent", 1, OUDER, {"weeks": 2})]


def test_silent_counts_the_whole_run_and_passes_over_weeks_without_checkin() -> None:
    results = [missed(1, HUIS, 4), missed(1, HUIS, 3), missed(1, HUIS, 1), missed(1, HUIS, 0)]
    weeks = placement(results, [member(1, HUIS)])
    assert silent(weeks, THIS_WEEK, SETTINGS)[0].facts == {"weeks": 4}


def test_an_open_checkin_does_not_end_the_silence() -> None:
    open_now = WeekResult(1, OUDER, THIS_WEEK, "open")
    weeks = placement([missed(1, OUDER, 2), missed(1, OUDER, 1), open_now], [member(1, OUDER)])
    assert codes(silent(weeks, THIS_WEEK, SETTINGS)) == ["silent"]


def test_checkins_after_this_week_do_not_count() -> None:
    results = [answered(1, OUDER, 0), missed(1, OUDER, -1), missed(1, OUDER, -2)]
    weeks = placement(results, [member(1, OUDER)])
    assert silent(weeks, THIS_WEEK, SETTINGS) == []
    assert codes(silent(weeks, week(-2), SETTINGS)) == ["silent"]


def test_a_skip_is_not_silence() -> None:
    weeks = placement([missed(1, OUDER, 1), skipped(1, OUDER, 0)], [member(1, OUDER)])
    assert silent(weeks, THIS_WEEK, SETTINGS) == []


def test_one_missed_week_is_not_silent() -> None:
    weeks = placement([answered(1, OUDER, 1), missed(1, OUDER, 0)], [member(1, OUDER)])
    assert silent(weeks, THIS_WEEK, SETTINGS) == []


def test_a_paused_member_is_not_silent() -> None:
    results = [missed(1, OUDER, 1), missed(1, OUDER, 0)]
    weeks = placement(results, [member(1, OUDER, paused=True)])
    assert silent(weeks, THIS_WEEK, SETTINGS) == []


def test_someone_who_joined_this_week_is_not_silent() -> None:
    weeks = placement([missed(1, HUIS, 0)], [member(1, HUIS, joined_ago=0)])
    assert silent(weeks, THIS_WEEK, SETTINGS) == []


def test_checkins_from_before_joining_do_not_count() -> None:
    results = [missed(1, OUDER, 3), missed(1, OUDER, 2), missed(1, OUDER, 0)]
    weeks = placement(results, [member(1, OUDER, joined_ago=1)])
    assert silent(weeks, THIS_WEEK, SETTINGS) == []


def test_unreachable_member_is_always_a_signal_and_not_also_silent() -> None:
    results = [missed(1, OUDER, 1), missed(1, OUDER, 0)]
    members = [member(1, OUDER, reachable=False), member(2, HUIS, paused=True, reachable=False)]
    weeks = placement(results, members)
    assert unreachable(weeks, THIS_WEEK, SETTINGS) == [
        Signal("unreachable", 1, OUDER, {}),
        Signal("unreachable", 2, HUIS, {}),
    ]
    assert silent(weeks, THIS_WEEK, SETTINGS) == []


def test_reachable_members_and_staff_are_not_unreachable() -> None:
    members = [member(1, OUDER), member(9, "begeleider", reachable=False)]
    assert unreachable(placement([], members), THIS_WEEK, SETTINGS) == []


# tension


def test_tension_in_two_of_the_last_four_weeks() -> None:
    results = [answered(2, HUIS, 3, tension=1), answered(2, HUIS, 1, tension=3)]
    assert tension(placement(results), THIS_WEEK, SETTINGS) == [
        Signal("tension", None, HUIS, {"weeks": 2, "window": 4})
    ]


def test_tension_in_one_week_or_outside_the_window_is_not_flagged() -> None:
    results = [answered(2, HUIS, 4, tension=1), answered(2, HUIS, 0, tension=3)]
    results += [answered(2, HUIS, ago) for ago in (1, 2, 3)]
    assert tension(placement(results), THIS_WEEK, SETTINGS) == []


def test_tension_counts_weeks_not_house_parents() -> None:
    same_week = [answered(2, HUIS, 1, tension=1), answered(3, HUIS, 1, tension=1)]
    two_weeks = [answered(2, HUIS, 1, tension=1), answered(3, HUIS, 0, tension=1)]
    assert tension(placement(same_week), THIS_WEEK, SETTINGS) == []
    assert codes(tension(placement(two_weeks), THIS_WEEK, SETTINGS)) == ["tension"]


# meetings and contact requests


def test_each_overdue_meeting_is_a_signal() -> None:
    weeks = placement(overdue=("samenwerkingsgesprek", "begeleidingsgesprek ouders"))
    assert meeting_overdue(weeks, THIS_WEEK, SETTINGS) == [
        Signal("meeting_overdue", None, None, {"meeting": "samenwerkingsgesprek"}),
        Signal("meeting_overdue", None, None, {"meeting": "begeleidingsgesprek ouders"}),
    ]


def test_contact_requests_are_one_signal_with_their_count() -> None:
    assert contact_request(placement(requests=0), THIS_WEEK, SETTINGS) == []
    assert contact_request(placement(requests=2), THIS_WEEK, SETTINGS) == [
        Signal("contact_request", None, None, {"count": 2})
    ]


# evaluate


def test_new_placement_only_gets_signals_that_need_no_history() -> None:
    members = [member(1, OUDER, joined_ago=0, reachable=False), member(2, HUIS, joined_ago=0)]
    weeks = placement([], members, overdue=("kennismakingsgesprek",), requests=1)
    assessment = evaluate(weeks, THIS_WEEK, SETTINGS)
    assert sorted(codes(assessment.signals)) == [
        "contact_request",
        "meeting_overdue",
        "unreachable",
    ]
    assert assessment.needs_attention


def test_a_calm_placement_needs_no_attention() -> None:
    results = [r for ago in range(8) for r in (answered(1, OUDER, ago), answered(2, HUIS, ago))]
    weeks = placement(results, [member(1, OUDER), member(2, HUIS)], placement_id=7)
    assert evaluate(weeks, THIS_WEEK, SETTINGS) == Assessment(7, (), False, False)


def test_several_signals_mean_stalling() -> None:
    results = [
        *scored(1, OUDER, 4, 4, 4, 4, 2),
        *[answered(2, HUIS, ago, score=4, contact="geen") for ago in range(3)],
    ]
    assessment = evaluate(
        placement(results, [member(1, OUDER), member(2, HUIS)]), THIS_WEEK, SETTINGS
    )
    assert set(codes(assessment.signals)) == {"low_score", "drop", "gap", "no_contact"}
    assert assessment.stalling
    assert assessment.needs_attention


def test_low_score_with_drop_is_one_concern_not_stalling() -> None:
    weeks = placement(scored(1, OUDER, 4, 4, 4, 4, 2))
    assessment = evaluate(weeks, THIS_WEEK, SETTINGS)
    assert codes(assessment.signals) == ["low_score", "drop"]
    assert not assessment.stalling
    assert assessment.needs_attention


def test_contact_request_does_not_count_towards_stalling() -> None:
    weeks = placement([answered(1, OUDER, score=1)], requests=1)
    assert not evaluate(weeks, THIS_WEEK, SETTINGS).stalling
    weeks = placement([answered(1, OUDER, score=1)], overdue=("samenwerkingsgesprek",))
    assert evaluate(weeks, THIS_WEEK, SETTINGS).stalling


def test_stalling_threshold_is_a_setting() -> None:
    weeks = placement([answered(1, OUDER, score=1)])
    assert evaluate(weeks, THIS_WEEK, SignalSettings(stalling_signals=1)).stalling


def test_results_after_this_week_and_order_of_input_do_not_matter() -> None:
    results = [*scored(1, OUDER, 4, 4, 4, 4, 2), answered(1, OUDER, ago=-1, score=5)]
    shuffled = results[::2] + results[1::2]
    expected = evaluate(placement(results[:-1]), THIS_WEEK, SETTINGS)
    assert evaluate(placement(shuffled), THIS_WEEK, SETTINGS) == expected
    assert codes(expected.signals) == ["low_score", "drop"]


def test_a_week_given_twice_counts_once_the_later_one() -> None:
    results = [answered(1, OUDER, score=1), answered(1, OUDER, score=4)]
    assert evaluate(placement(results), THIS_WEEK, SETTINGS).signals == ()


def test_this_week_must_be_a_monday() -> None:
    with pytest.raises(ValueError, match="Monday"):
        evaluate(placement(), THIS_WEEK + dt.timedelta(days=1), SETTINGS)


# order


def assessment(placement_id: int, signals: int, stalling: bool = False) -> Assessment:
    flagged = tuple(Signal("low_score", placement_id, OUDER, {"score": 1}) for _ in range(signals))
    return Assessment(placement_id, flagged, stalling, signals > 0)


def test_order_puts_stalling_first_then_most_signals_then_placement() -> None:
    calm, busy, stalled = assessment(1, 0), assessment(2, 3), assessment(5, 2, stalling=True)
    one_a, one_b = assessment(3, 1), assessment(4, 1)
    ordered = order([calm, one_b, busy, one_a, stalled])
    assert [a.placement_id for a in ordered] == [5, 2, 3, 4, 1]


def test_order_among_stalling_placements_by_number_of_signals() -> None:
    few, many = assessment(1, 2, stalling=True), assessment(2, 4, stalling=True)
    assert order([few, many]) == [many, few]
