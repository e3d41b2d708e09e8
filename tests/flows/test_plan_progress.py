"""The goal question's rhythm and the progress summary for the digest (flows/plan/progress.py)."""

from __future__ import annotations

import datetime as dt

from flows.plan import progress
from flows.plan.progress import GoalProgress
from flows.route import GOAL_QUESTION_EVERY, GOAL_STALLED
from flows.schedule import week_number
from storage.models import Goal, GoalSide, GoalStatus, Phase, Role

NOW = dt.datetime(2026, 3, 22, 18, 0, tzinfo=dt.UTC)  # a Sunday of ISO week 12
SAMEN, OUDER, GHO = GoalSide.SAMEN, GoalSide.OUDER, GoalSide.GEZINSHUISOUDER
GOALS = [(1, SAMEN), (2, OUDER), (3, GHO), (4, OUDER)]


def test_entries_keep_the_goal_and_read_back() -> None:
    assert progress.entry(12) == "doel:12"
    assert progress.parse("doel:12") == ("doel", 12)
    assert progress.parse("samenwerken") == ("samenwerken", None)
    assert progress.parse("doel:x") == ("doel", None)
    assert progress.question_ids(["contact", "doel:3"]) == ["contact", "doel"]
    assert progress.optional("doel:3")
    assert not progress.optional("samenwerken")


def test_every_fourth_iso_week_asks_about_a_goal_by_the_check_ins_date() -> None:
    asked = []
    for weeks in range(12):
        day = (NOW + dt.timedelta(weeks=weeks)).date()
        if progress.pick(GOALS, Role.OUDER, week_number(day)) is not None:
            asked.append(week_number(day))
    assert asked == [12, 16, 20]
    assert all(week % GOAL_QUESTION_EVERY == 0 for week in asked)


def test_the_goals_take_turns_and_each_side_only_gets_its_own_and_the_shared() -> None:
    ouder = [progress.pick(GOALS, Role.OUDER, week) for week in (12, 16, 20, 24)]
    gho = [progress.pick(GOALS, Role.GEZINSHUISOUDER, week) for week in (12, 16, 20, 24)]
    assert ouder == [1, 2, 4, 1]  # visible: 1, 2, 4 in turn
    assert gho == [3, 1, 3, 1]  # visible: 1, 3 in turn
    assert 3 not in ouder  # a gezinshuisouder's goal is never asked of an ouder
    assert not {2, 4} & set(gho)  # nor an ouder's of a gezinshuisouder


def test_no_visible_open_goal_means_no_question() -> None:
    assert progress.pick([], Role.OUDER, 12) is None
    assert progress.pick([(3, GHO)], Role.OUDER, 12) is None
    assert progress.pick([(2, OUDER)], Role.OUDER, 13) is None  # not a goal week


def _goal(goal_id: int, side: GoalSide, status: GoalStatus, created: dt.datetime) -> Goal:
    return Goal(
        id=goal_id,
        placement_id=1,
        phase=Phase.INSTALLATIEFASE,
        side=side,
        suggestion="samen_afspraken",
        text=None,
        status=status,
        created_at=created,
    )


def test_summary_counts_shows_the_trend_per_side_and_finds_a_stalled_goal() -> None:
    start = NOW - dt.timedelta(weeks=10)
    shared = GoalProgress(
        _goal(1, SAMEN, GoalStatus.OPEN, start),
        [
            ("ouder", 3, NOW - dt.timedelta(weeks=4)),
            ("gezinshuisouder", 2, NOW - dt.timedelta(weeks=4)),
            ("ouder", 4, NOW - dt.timedelta(days=1)),
        ],
    )
    never = GoalProgress(_goal(2, OUDER, GoalStatus.OPEN, start))
    fresh = GoalProgress(_goal(3, GHO, GoalStatus.OPEN, NOW - dt.timedelta(weeks=2)))
    reached = GoalProgress(_goal(4, OUDER, GoalStatus.REACHED, start))
    dropped = GoalProgress(_goal(5, GHO, GoalStatus.DROPPED, start))
    summary = progress.summarise([shared, never, fresh, reached, dropped], NOW)
    assert (summary["open"], summary["reached"]) == (3, 1)
    first, second, third = summary["goals"]
    assert first["sides"] == {
        "ouder": {"last": 4, "before": 3},
        "gezinshuisouder": {"last": 2, "before": None},
    }
    assert not first["stalled"]
    assert [w["score"] for w in first["weekly"] if w["role"] == "ouder"] == [3, 4]
    # Never answered: counted from the goal's creation.
    assert second["stalled"]
    assert second["quiet_weeks"] == 10
    assert not second["answered"]
    assert not third["stalled"]


def test_a_goal_is_stalled_from_exactly_the_stalled_time() -> None:
    answered = NOW - GOAL_STALLED
    goal = GoalProgress(_goal(1, SAMEN, GoalStatus.OPEN, answered - dt.timedelta(weeks=1)))
    goal.answers.append(("ouder", 3, answered))
    assert progress.summarise([goal], NOW)["goals"][0]["stalled"]
    assert not progress.summarise([goal], NOW - dt.timedelta(minutes=1))["goals"][0]["stalled"]
