"""Phase prompts: short reflective tips from the research, at most one every two weeks.

Which tips exist per role and phase is data here; each tip's text is a template
`messages/<lang>/prompt/<id>.j2`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.checkins import CheckinRules, active_participants
from flows.outbox import enqueue
from flows.planning import PAGE_SIZE, Page, page_of
from flows.replies import Say
from flows.schedule import (
    at_local,
    checkin_moment,
    local_date,
    monday_of,
    out_of_quiet_hours,
    week_key,
    week_number,
)
from storage.models import OutboxMessage, Phase, Role

TIPS: dict[tuple[Role, Phase], tuple[str, ...]] = {
    (Role.OUDER, Phase.INSTALLATIEFASE): ("ouder_vertel_iets", "ouder_vragen_opschrijven"),
    (Role.GEZINSHUISOUDER, Phase.INSTALLATIEFASE): (
        "gho_vraag_gewoontes",
        "gho_contact_afspreken",
    ),
    (Role.OUDER, Phase.STABILISATIEFASE): ("ouder_verdriet_mag", "ouder_jouw_rol"),
    (Role.GEZINSHUISOUDER, Phase.STABILISATIEFASE): ("gho_iets_goeds", "gho_hoe_samenwerken"),
    (Role.OUDER, Phase.EVALUATIEFASE): ("terugkijken_samen", "ouder_rol_later"),
    (Role.GEZINSHUISOUDER, Phase.EVALUATIEFASE): ("terugkijken_samen", "gho_lessen"),
}
# Tips come in even ISO weeks only (at most one every two weeks), three days after the check-in.
DAYS_AFTER_CHECKIN = 3
SETTLE_IN = dt.timedelta(days=7)  # new people first get used to the weekly questions


def tip_for(role: Role, phase: Phase, day: dt.date) -> str | None:
    """The tip of this two-week period for a role in a phase, or None (odd week, no tips)."""
    tips = TIPS.get((role, phase), ())
    week = week_number(day)
    if not tips or week % 2:
        return None
    return tips[(week // 2) % len(tips)]


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
        if now - row.joined_at < SETTLE_IN:
            continue
        weekday, at = checkin_moment(row.role, row.checkin_weekday, row.checkin_time)
        today = local_date(now, row.time_zone)
        due_day = monday_of(today) + dt.timedelta(days=(weekday + DAYS_AFTER_CHECKIN) % 7)
        due = at_local(due_day, at, row.time_zone)
        if due > now or now - due > rules.send_late_until:
            continue
        tip = tip_for(row.role, row.phase, due_day)
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
