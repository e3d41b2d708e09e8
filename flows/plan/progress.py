"""Progress on the plan's goals: the goal question in the weekly rhythm, and progress per goal.

Every `route.GOAL_QUESTION_EVERY`-th ISO week (like the rotating phase item, by the week of the
check-in's due date) a weekly check-in gets one question about one of the person's visible open
goals, in turn, after the base questions. It is stored in `checkin.questions` as `"doel:<goal
id>"` (`entry`/`parse` are the one place that reads it) and answered as
`Answer(question_id="doel", goal_id=..., score=1-5)`. The goal question is optional: leaving it
unanswered (or tapping "Nu niet") does not make the check-in missed.

For the digest, `placement_progress` reads every goal of a set of placements with its progress
answers in one statement, and `summarise` turns them into plain data: counts, the last score per
side with the one before (the trend), per-week scores, and whether a goal stalled.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.plan.read import goal_context, sides_for
from flows.route import GOAL_QUESTION_EVERY, GOAL_STALLED
from storage.models import Answer, Goal, GoalSide, GoalStatus, Role

GOAL_QUESTION = "doel"
# The value of the "Nu niet" button under the goal question (not an answer: nothing is stored).
NOT_NOW = "nu"
_PREFIX = GOAL_QUESTION + ":"
SIDES = ("ouder", "gezinshuisouder")


def entry(goal_id: int) -> str:
    """How a goal question is kept in `checkin.questions`."""
    return f"{_PREFIX}{goal_id}"


def parse(item: str) -> tuple[str, int | None]:
    """A `checkin.questions` entry as (question id, goal id or None)."""
    if item.startswith(_PREFIX):
        rest = item[len(_PREFIX) :]
        return GOAL_QUESTION, int(rest) if rest.isdigit() else None
    return item, None


def question_ids(items: Iterable[str]) -> list[str]:
    """The question ids of a check-in's entries (a goal entry is "doel")."""
    return [parse(item)[0] for item in items]


def optional(item: str) -> bool:
    """Whether leaving this question unanswered still counts as an answered check-in."""
    return parse(item)[0] == GOAL_QUESTION


def goal_week(week_number: int) -> bool:
    """Whether this ISO week's check-in asks about a goal."""
    return week_number % GOAL_QUESTION_EVERY == 0


def pick(goals: Sequence[tuple[int, GoalSide]], role: Role, week_number: int) -> int | None:
    """The goal (id) this person is asked about this week, or None.

    `goals` are the placement's open goals, oldest first, as (id, side). Only the sides the
    role may see count (`read.sides_for`: own side and the shared ones); they take turns, one
    per goal week.
    """
    if not goal_week(week_number):
        return None
    visible = [goal_id for goal_id, side in goals if side in sides_for(role)]
    if not visible:
        return None
    return visible[(week_number // GOAL_QUESTION_EVERY) % len(visible)]


async def open_goals(
    session: AsyncSession, placement_ids: Iterable[int]
) -> dict[int, list[tuple[int, GoalSide]]]:
    """The open goals of these placements, oldest first, as (id, side): one statement."""
    ids = sorted(set(placement_ids))
    found: dict[int, list[tuple[int, GoalSide]]] = defaultdict(list)
    if not ids:
        return found
    rows = await session.execute(
        select(Goal.placement_id, Goal.id, Goal.side)
        .where(Goal.placement_id.in_(ids), Goal.status == GoalStatus.OPEN)
        .order_by(Goal.created_at, Goal.id)
    )
    for placement_id, goal_id, side in rows:
        found[placement_id].append((goal_id, GoalSide(side)))
    return found


async def goal_for_question(
    session: AsyncSession, item: str, placement_id: int
) -> dict[str, object] | None:
    """The words of the goal a check-in entry asks about (any status), or None."""
    _, goal_id = parse(item)
    if goal_id is None:
        return None
    goal = await session.get(Goal, goal_id)
    if goal is None or goal.placement_id != placement_id:
        return None
    return goal_context(goal)


# --- Progress for the digest -------------------------------------------------------------------


@dataclass
class GoalProgress:
    """One goal with its progress answers, oldest first, as (side, score, answered at)."""

    goal: Goal
    answers: list[tuple[str, int, dt.datetime]] = field(default_factory=list)


async def placement_progress(
    session: AsyncSession, placement_ids: Iterable[int]
) -> dict[int, list[GoalProgress]]:
    """Every goal of these placements with its progress answers: one statement for all."""
    ids = sorted(set(placement_ids))
    found: dict[int, list[GoalProgress]] = defaultdict(list)
    if not ids:
        return found
    rows = await session.execute(
        select(Goal, Answer.role, Answer.score, Answer.answered_at)
        .outerjoin(Answer, (Answer.goal_id == Goal.id) & (Answer.question_id == GOAL_QUESTION))
        .where(Goal.placement_id.in_(ids))
        .order_by(Goal.created_at, Goal.id, Answer.answered_at, Answer.id)
    )
    by_goal: dict[int, GoalProgress] = {}
    for goal, role, score, answered_at in rows:
        progress = by_goal.get(goal.id)
        if progress is None:
            progress = by_goal[goal.id] = GoalProgress(goal)
            found[goal.placement_id].append(progress)
        if score is not None and answered_at is not None:
            progress.answers.append((str(role), int(score), answered_at))
    return found


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def summarise(
    goals: Sequence[GoalProgress], now: dt.datetime, zone: Any = dt.UTC
) -> dict[str, Any]:
    """A placement's goals for the digest: counts, and per open goal its progress and trend.

    Per open goal and side (ouders, gezinshuisouders): the last score and the one before it
    (None when there is none), the scores per week, and `stalled` when nothing was answered for
    `route.GOAL_STALLED`, counted from the goal's creation when it was never answered.
    """
    items = []
    for progress in goals:
        goal = progress.goal
        if goal.status != GoalStatus.OPEN:
            continue
        sides: dict[str, dict[str, object]] = {}
        for side in SIDES:
            scores = [score for role, score, _ in progress.answers if role == side]
            sides[side] = {
                "last": scores[-1] if scores else None,
                "before": scores[-2] if len(scores) > 1 else None,
            }
        last_at = max(
            (_aware(at) for _, _, at in progress.answers), default=_aware(goal.created_at)
        )
        quiet = now - last_at
        weekly: dict[tuple[dt.date, str], int] = {}
        for role, score, at in progress.answers:
            weekly[(_aware(at).astimezone(zone).date(), role)] = score
        items.append(
            {
                **goal_context(goal),
                "sides": sides,
                "answered": bool(progress.answers),
                "stalled": quiet >= GOAL_STALLED,
                "quiet_weeks": quiet.days // 7,
                "weekly": [
                    {"date": day, "role": role, "score": score}
                    for (day, role), score in sorted(weekly.items())
                ],
            }
        )
    return {
        "open": sum(p.goal.status == GoalStatus.OPEN for p in goals),
        "reached": sum(p.goal.status == GoalStatus.REACHED for p in goals),
        "goals": items,
    }
