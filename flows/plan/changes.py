"""Changing the plan's goals, each change kept in the goal's history (`GoalEvent`).

Used by the goals flow (the begeleider or behandelaar sets and edits goals) and by the plan
review after a talk (goals kept, changed, added), so a change is recorded the same way wherever
it is made.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Goal, GoalEvent, GoalSide, GoalStatus, Phase


class Action(StrEnum):
    SET = "set"
    ADJUSTED = "adjusted"
    REACHED = "reached"
    DROPPED = "dropped"
    KEPT = "kept"  # looked at in a review and left as it is
    REOPENED = "reopened"


async def add_goal(
    session: AsyncSession,
    *,
    placement_id: int,
    phase: Phase,
    side: GoalSide,
    by_person_id: int | None,
    now: dt.datetime,
    suggestion: str | None = None,
    text: str | None = None,
    review_id: int | None = None,
) -> Goal:
    """A new open goal from a suggestion code or typed words (exactly one of them)."""
    if (suggestion is None) == (text is None):
        raise ValueError("a goal is a suggestion or typed words")
    goal = Goal(
        placement_id=placement_id,
        phase=phase,
        side=side,
        suggestion=suggestion,
        text=text,
        status=GoalStatus.OPEN,
        created_by_person_id=by_person_id,
        created_at=now,
    )
    session.add(goal)
    await session.flush()
    await _record(session, goal, Action.SET, by_person_id, now, review_id)
    return goal


async def adjust_goal(
    session: AsyncSession,
    goal: Goal,
    *,
    text: str,
    by_person_id: int | None,
    now: dt.datetime,
    review_id: int | None = None,
) -> None:
    """New words for a goal; the history keeps the words it had before."""
    before_suggestion, before_text = goal.suggestion, goal.text
    goal.suggestion, goal.text, goal.changed_at = None, text, now
    session.add(
        GoalEvent(
            goal_id=goal.id,
            action=Action.ADJUSTED,
            suggestion=before_suggestion,
            text=before_text,
            review_id=review_id,
            by_person_id=by_person_id,
            at=now,
        )
    )


async def set_status(
    session: AsyncSession,
    goal: Goal,
    status: GoalStatus,
    *,
    by_person_id: int | None,
    now: dt.datetime,
    review_id: int | None = None,
) -> bool:
    """Mark a goal reached, dropped or open again; False if it already was (nothing changes)."""
    if goal.status == status:
        return False
    goal.status, goal.changed_at = status, now
    action = {
        GoalStatus.REACHED: Action.REACHED,
        GoalStatus.DROPPED: Action.DROPPED,
        GoalStatus.OPEN: Action.REOPENED,
    }[status]
    await _record(session, goal, action, by_person_id, now, review_id)
    return True


async def keep_goal(
    session: AsyncSession,
    goal: Goal,
    *,
    by_person_id: int | None,
    now: dt.datetime,
    review_id: int,
) -> None:
    """A review looked at the goal and kept it as it is."""
    await _record(session, goal, Action.KEPT, by_person_id, now, review_id)


async def _record(
    session: AsyncSession,
    goal: Goal,
    action: Action,
    by_person_id: int | None,
    now: dt.datetime,
    review_id: int | None,
) -> None:
    session.add(
        GoalEvent(
            goal_id=goal.id,
            action=action,
            review_id=review_id,
            by_person_id=by_person_id,
            at=now,
        )
    )
