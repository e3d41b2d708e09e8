"""Phase prompts: short reflective tips from the research, at most one every two weeks.

Which tips exist per role and phase, and when they come, is the route's (`flows/route.py`);
each tip's text is a template `messages/<lang>/prompt/<id>.j2`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.checkins import active_participants
from flows.outbox import enqueue
from flows.planning import PAGE_SIZE, Page, page_of
from flows.replies import Say
from flows.route import TIP_DAYS_AFTER_CHECKIN, TIP_SETTLE_IN, tip_for
from flows.schedule import (
    at_local,
    checkin_moment,
    local_date,
    monday_of,
    out_of_quiet_hours,
    week_key,
    week_number,
)
from flows.settings import CheckinRules
from storage.models import OutboxMessage


async def plan(
    session: AsyncSession,
    now: dt.datetime,
    rules: CheckinRules,
    after: int = 0,
    size: int = PAGE_SIZE,
) -> Page:
    """Queue this fortnight's tip for the participants (one page) whose moment has come."""
    rows = await active_participants(session, now, after, size)
    tips: dict[str, tuple[Row[Any], str, dt.datetime]] = {}
    for row in rows:
        if now - row.joined_at < TIP_SETTLE_IN:
            continue
        weekday, at = checkin_moment(row.role, row.checkin_weekday, row.checkin_time)
        today = local_date(now, row.time_zone)
        due_day = monday_of(today) + dt.timedelta(days=(weekday + TIP_DAYS_AFTER_CHECKIN) % 7)
        due = at_local(due_day, at, row.time_zone)
        if due > now or now - due > rules.send_late_until:
            continue
        tip = tip_for(row.role, row.phase, week_number(due_day))
        if tip is not None:
            tips[f"prompt:{row.id}:{week_key(due_day)}"] = (row, tip, due)
    if tips:  # leave out what was queued in an earlier beat (most of them, most beats)
        queued_before = await session.scalars(
            select(OutboxMessage.key).where(OutboxMessage.key.in_(list(tips)))
        )
        for key in queued_before:
            del tips[key]
    queued = 0
    for key, (row, tip, due) in tips.items():
        queued += await enqueue(
            session,
            key=key,
            person_id=row.person_id,
            kind="prompt",
            say=Say(f"prompt/{tip}", {"name": row.first_name, "youth": row.youth_name}),
            due_at=out_of_quiet_hours(due, row.time_zone, rules.quiet),
            expires_at=due + rules.send_late_until,
            now=now,
            placement_id=row.placement_id,
        )
    return page_of([row.id for row in rows], size, queued)
