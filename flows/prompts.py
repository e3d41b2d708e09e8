"""Phase prompts: short reflective tips from the research, at most one every two weeks.

Which tips exist per role and phase is data here; each tip's text is a template
`messages/<lang>/prompt/<id>.j2`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.checkins import CheckinRules, is_paused
from flows.outbox import enqueue
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
from storage.models import Participant, Person, Phase, Placement, Role, TelegramLink

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


async def plan(session: AsyncSession, now: dt.datetime, rules: CheckinRules) -> int:
    """Queue this fortnight's tip for each participant whose moment has come."""
    rows = await session.execute(
        select(Participant, Person, TelegramLink, Placement)
        .join(Person, Participant.person_id == Person.id)
        .join(TelegramLink, TelegramLink.person_id == Person.id)
        .join(Placement, Placement.id == Participant.placement_id)
        .where(Placement.phase != Phase.AFGESLOTEN, TelegramLink.reachable.is_(True))
    )
    queued = 0
    for participant, person, link, placement in rows:
        if is_paused(person, now) or now - participant.joined_at < SETTLE_IN:
            continue
        weekday, at = checkin_moment(participant.role, person.checkin_weekday, person.checkin_time)
        today = local_date(now, link.time_zone)
        due_day = monday_of(today) + dt.timedelta(days=(weekday + DAYS_AFTER_CHECKIN) % 7)
        due = at_local(due_day, at, link.time_zone)
        if due > now or now - due > rules.send_late_until:
            continue
        tip = tip_for(participant.role, placement.phase, due_day)
        if tip is None:
            continue
        queued += await enqueue(
            session,
            key=f"prompt:{participant.id}:{week_key(due_day)}",
            person_id=person.id,
            kind="prompt",
            say=Say(f"prompt/{tip}", {"name": person.first_name, "youth": placement.youth_name}),
            due_at=out_of_quiet_hours(due, link.time_zone, rules.quiet),
            expires_at=due + rules.send_late_until,
            now=now,
            placement_id=placement.id,
        )
    return queued
