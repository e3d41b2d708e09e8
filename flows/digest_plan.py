"""Whose weekly digest is due, and queueing it: built, logged as seen, enqueued in parts.

Turning a digest into Telegram messages and a chart is presentation, so the caller passes that
in (`render`; bot/digest.py binds its renderer). Each part is queued under a key per
begeleider and local week, so a digest is queued once, also when the moment moves after it came.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows import digest as digests
from flows import guards
from flows.digest import Digest
from flows.outbox import enqueue
from flows.replies import Button, Say
from flows.schedule import at_local, digest_moment, local_date, monday_of, week_key
from flows.settings import MeetingRules, SignalSettings
from storage.db import Database
from storage.models import OutboxMessage, Person, Placement, Role, StaffMember, TelegramLink


@dataclass(frozen=True)
class RenderedDigest:
    """A digest as messages (HTML and its buttons), the chart as PNG, and how many placements
    that need attention the chart leaves out."""

    messages: list[tuple[str, tuple[tuple[Button, ...], ...]]]
    png: bytes | None
    chart_more: int = 0


# (language, digest) -> the rendered digest.
RenderDigest = Callable[[str, Digest], RenderedDigest]


async def plan_weekly(
    db: Database,
    render: RenderDigest,
    now: dt.datetime,
    signals: SignalSettings | None = None,
    meetings: MeetingRules | None = None,
) -> int:
    """Queue this week's digest for each begeleider whose moment (default Monday 08:30 local)
    has come; one per local week, also when they move the moment after it came.

    Each begeleider's digest is its own transaction (built, logged as seen, queued): at sector
    scale (250 begeleiders, the chart ~0.6 s each) one transaction for all would queue nothing
    for minutes, lose everything on a crash, and let every instance build every digest; now the
    first go out while the rest are made, and an instance skips those another has queued.
    """
    async with db.session() as session:
        rows = (
            await session.execute(
                select(Person, TelegramLink, StaffMember.id)
                .join(TelegramLink, TelegramLink.person_id == Person.id)
                .join(StaffMember, StaffMember.person_id == Person.id)
                .where(StaffMember.role == Role.BEGELEIDER, TelegramLink.reachable.is_(True))
                .order_by(Person.id)
            )
        ).all()
    staff_by_person: dict[int, tuple[Person, TelegramLink, list[int]]] = {}
    for person, link, staff_id in rows:
        staff_by_person.setdefault(person.id, (person, link, []))[2].append(staff_id)
    queued = 0
    for person, link, staff_ids in staff_by_person.values():
        zone = link.time_zone
        today = local_date(now, zone)
        weekday, at = digest_moment(person.digest_weekday, person.digest_time)
        due = at_local(monday_of(today) + dt.timedelta(days=weekday), at, zone)
        week = week_key(monday_of(today))
        if due > now or now - due > dt.timedelta(days=2):
            continue
        async with db.session() as session:
            queued += await _plan_one(
                session, person, link, staff_ids, week, render, now, signals, meetings
            )
    return queued


async def _plan_one(
    session: AsyncSession,
    person: Person,
    link: TelegramLink,
    staff_ids: list[int],
    week: str,
    render: RenderDigest,
    now: dt.datetime,
    signals: SignalSettings | None,
    meetings: MeetingRules | None,
) -> int:
    """One begeleider's digest of `week`, unless queued already or there is nothing to say."""
    zone = link.time_zone
    if await _queued_already(session, person.id, week):
        return 0
    if not await _had_placements(session, staff_ids, digests.digest_week(now, zone), zone):
        return 0  # she just started: no week to look back on yet
    digest = await digests.build(session, staff_ids, now, zone, signals=signals, meetings=meetings)
    if not digest.sections:
        return 0
    await digests.log_view(session, person, "weekly_digest", digest.placement_ids, now)
    rendered = render(link.language, digest)
    queued = 0
    for index, (text, keyboard) in enumerate(rendered.messages):
        say = Say("digest/part", {"html": text}, buttons=keyboard)
        queued += await _enqueue_part(session, person.id, week, str(index), say, now)
    if rendered.png is not None:
        photo = base64.b64encode(rendered.png).decode()
        say = Say("digest/chart_caption", {"photo": photo, "more": rendered.chart_more})
        queued += await _enqueue_part(session, person.id, week, "chart", say, now)
    return queued


async def _had_placements(
    session: AsyncSession, staff_ids: list[int], week: dt.date, zone: str
) -> bool:
    """Whether any open placement of hers was already in the bot during the digest's week."""
    week_end = at_local(week + dt.timedelta(days=7), dt.time(0), zone)
    found = await session.scalar(
        select(Placement.id)
        .where(
            Placement.begeleider_id.in_(staff_ids),
            guards.is_open(),
            Placement.created_at < week_end,
        )
        .limit(1)
    )
    return found is not None


async def _queued_already(session: AsyncSession, person_id: int, week: str) -> bool:
    found = await session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.key == f"digest:{person_id}:{week}:0")
    )
    return found is not None


async def _enqueue_part(
    session: AsyncSession, person_id: int, week: str, part: str, say: Say, now: dt.datetime
) -> int:
    return int(
        await enqueue(
            session,
            key=f"digest:{person_id}:{week}:{part}",
            person_id=person_id,
            kind="digest",
            say=say,
            due_at=now,
            now=now,
            expires_at=now + dt.timedelta(days=2),
        )
    )
