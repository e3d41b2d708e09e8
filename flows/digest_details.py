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
from flows.people import Caller
from flows.replies import Outcome
from flows.settings import MeetingRules, SignalSettings
from storage.models import Phase

CLOSED = "digest/details_closed"


async def show(
    session: AsyncSession,
    caller: Caller,
    placement_id: int,
    now: dt.datetime,
    signals: SignalSettings | None = None,
    meetings: MeetingRules | None = None,
) -> Outcome:
    """Show this placement's details to its begeleider and log the view."""
    found = await guards.placement_press(session, caller, placement_id, guards.BEGELEIDER)
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
        week=digest.header["week"],
        week_end=digest.header["week_end"],
    )
