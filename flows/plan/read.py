"""Reading the plan: which goals there are and which of them a person may see.

Shared by every part of the plan (goals, progress, review, ending, digest, export), so the
separation rule lives in one place: a participant sees their own side's goals and the shared
collaboration goals (`route.VISIBLE_SIDES`), never the other side's personal goals.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.route import VISIBLE_SIDES
from storage.models import Goal, GoalSide, GoalStatus, PlanEstimate, Role

ACTIVE = (GoalStatus.OPEN,)


def sides_for(role: Role) -> tuple[GoalSide, ...]:
    """The goal sides a role may see: staff see all, participants their own and the shared."""
    return VISIBLE_SIDES.get(role, tuple(GoalSide))


async def goals(
    session: AsyncSession,
    placement_id: int,
    *,
    role: Role | None = None,
    statuses: Collection[GoalStatus] | None = None,
) -> list[Goal]:
    """The placement's goals, oldest first; only those `role` may see, in `statuses`."""
    query = select(Goal).where(Goal.placement_id == placement_id)
    if role is not None:
        query = query.where(Goal.side.in_(sides_for(role)))
    if statuses is not None:
        query = query.where(Goal.status.in_(list(statuses)))
    return list(await session.scalars(query.order_by(Goal.created_at, Goal.id)))


async def latest_estimate(session: AsyncSession, placement_id: int) -> PlanEstimate | None:
    """The newest version of the placement's estimate, or None before there is one."""
    return await session.scalar(
        select(PlanEstimate)
        .where(PlanEstimate.placement_id == placement_id)
        .order_by(PlanEstimate.version.desc())
        .limit(1)
    )


def goal_context(goal: Goal) -> dict[str, object]:
    """What a template needs to show a goal: its suggestion code (words in
    messages/<lang>/plan/goal_<code>.j2) or the typed text, its side and status."""
    return {
        "id": goal.id,
        "side": str(goal.side),
        "phase": str(goal.phase),
        "suggestion": goal.suggestion,
        "text": goal.text,
        "status": str(goal.status),
    }
