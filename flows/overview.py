"""/overzicht: the digest of a staff member's placements on request, full or brief."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows import guards
from flows.authz import Action
from flows.digest import Digest, build, log_view
from flows.people import load_me
from flows.settings import MeetingRules, SignalSettings
from storage.models import (
    MeasurementRound,
    Role,
)


async def latest_rounds(
    session: AsyncSession, placement_ids: list[int]
) -> dict[int, MeasurementRound]:
    """The most recent reported questionnaire round per placement."""
    found: dict[int, MeasurementRound] = {}
    if not placement_ids:
        return found
    for round_ in await session.scalars(
        select(MeasurementRound)
        .where(
            MeasurementRound.placement_id.in_(placement_ids),
            MeasurementRound.reported_at.is_not(None),
        )
        .order_by(MeasurementRound.created_at)
    ):
        found[round_.placement_id] = round_
    return found


@dataclass
class Overview:
    """What /overzicht shows one staff member (or why not)."""

    language: str
    refusal: str | None = None
    digest: Digest | None = None
    brief: bool = False
    last_rounds: dict[int, dt.date] = field(default_factory=dict)
    zone: str = "Europe/Amsterdam"


async def overview(
    session: AsyncSession,
    telegram_user_id: int,
    fallback_language: str,
    now: dt.datetime,
    only_youth: str | None = None,
    signals: SignalSettings | None = None,
    meetings: MeetingRules | None = None,
) -> Overview:
    """Build /overzicht: full for a begeleider, brief for a behandelaar; log who saw what."""
    me = await load_me(session, telegram_user_id)
    if me is None:
        return Overview(fallback_language, refusal=guards.NOT_REGISTERED)
    if not guards.staff_ids(me, Action.VIEW_DIGEST):
        return Overview(me.language, refusal=guards.staff_refusal(Action.VIEW_DIGEST))
    # A begeleider sees her own placements in full, a behandelaar hers in brief.
    begeleider = sorted(guards.staff_ids(me, guards.BEGELEIDER))
    behandelaar = sorted(guards.staff_ids(me, {Role.BEHANDELAAR}))
    zone = me.link.time_zone
    brief = not begeleider
    digest = await build(
        session,
        begeleider or behandelaar,
        now,
        zone,
        signals=signals,
        meetings=meetings,
        only_youth=only_youth,
    )
    if not digest.sections:
        return Overview(me.language, refusal="digest/empty", zone=zone)
    await log_view(session, me.person, "overview", digest.placement_ids, now)
    rounds = await latest_rounds(session, digest.placement_ids) if brief else {}
    last = {pid: r.created_at.astimezone(ZoneInfo(zone)).date() for pid, r in rounds.items()}
    return Overview(me.language, digest=digest, brief=brief, last_rounds=last, zone=zone)
