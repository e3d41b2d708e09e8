"""One placement's details, from the button under the digest: trend, answers, free text, meetings.

Only the placement's own begeleider sees them (the behandelaar's overview is brief and has no
buttons); a forwarded or forged button gets not-yours, an unknown account expired. Every view is
written to the access log, like the digest itself. Pressing twice shows the details twice and
logs two views; nothing changes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from flows import access, guards
from flows import digest as digests
from flows.authz import Action
from flows.people import Caller
from flows.plan import read as plan_read
from flows.replies import Outcome
from flows.settings import MeetingRules, SignalSettings
from storage.models import GoalStatus, Phase

CLOSED = "digest/details_closed"


async def plan_line(session: AsyncSession, placement_id: int) -> dict[str, object]:
    """The begeleidingsplan in one line: intensity of the newest estimate, goals open/reached."""
    estimate = await plan_read.latest_estimate(session, placement_id)
    goals = await plan_read.goals(session, placement_id)
    return {
        "intensity": None if estimate is None else str(estimate.intensity),
        "open": sum(1 for g in goals if g.status == GoalStatus.OPEN),
        "reached": sum(1 for g in goals if g.status == GoalStatus.REACHED),
    }


async def show(
    session: AsyncSession,
    caller: Caller,
    placement_id: int,
    now: dt.datetime,
    signals: SignalSettings | None = None,
    meetings: MeetingRules | None = None,
) -> Outcome:
    """Show this placement's details to its begeleider and log the view."""
    found = await guards.placement_press(session, caller, placement_id, Action.VIEW_DETAILS)
    if isinstance(found, Outcome):
        return found
    me, placement = found
    if placement.phase == Phase.AFGESLOTEN:
        return Outcome(me.language).say(CLOSED, youth=placement.youth_name)
    digest = await digests.build(
        session,
        sorted(guards.staff_ids(me, guards.BEGELEIDER)),
        now,
        me.link.time_zone,
        signals=signals,
        meetings=meetings,
        only_placement=placement.id,
    )
    [section] = digest.sections
    await access.log_placements(session, me.person, "placement_details", [placement.id], now)
    return Outcome(me.language).say(
        "digest/details",
        **section.context,
        plan=await plan_line(session, placement.id),
        week=digest.header["week"],
        week_end=digest.header["week_end"],
    )
