"""Who a row goes to, and whether it may go now: gone, expired, paused or quiet hours."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox.rows import Claimed, Result
from flows.checkins import is_paused
from flows.outbox import is_blank
from flows.schedule import out_of_quiet_hours
from flows.settings import QuietHours
from storage.models import OutboxStatus, Person, TelegramLink


@dataclass
class Recipient:
    chat_id: int
    language: str
    time_zone: str
    reachable: bool
    paused: bool


async def recipients(
    session: AsyncSession, person_ids: Sequence[int], now: dt.datetime
) -> dict[int, Recipient]:
    """The chat, language, time zone and pause of each person, in one query."""
    if not person_ids:
        return {}
    rows = await session.execute(
        select(TelegramLink, Person)
        .join(Person, Person.id == TelegramLink.person_id)
        .where(TelegramLink.person_id.in_(set(person_ids)))
    )
    return {
        person.id: Recipient(
            link.chat_id,
            link.language,
            link.time_zone,
            link.reachable,
            is_paused(person, now),
        )
        for link, person in rows
    }


def held_back(
    row: Claimed, recipient: Recipient | None, now: dt.datetime, quiet: QuietHours
) -> Result | None:
    """What becomes of a row that may not go out now (None: send it)."""
    if recipient is None or not recipient.reachable:
        return Result(row, OutboxStatus.DROPPED, error="recipient unreachable or gone")
    if row.expires_at is not None and row.expires_at <= now:
        return Result(row, OutboxStatus.DROPPED, error="expired before it could be sent")
    if recipient.paused and not row.urgent:
        return Result(row, OutboxStatus.DROPPED, error="recipient paused messages")
    later = out_of_quiet_hours(now, recipient.time_zone, quiet)
    if later > now and not row.urgent:
        # Quiet hours where the person lives: it goes out when they end (not an attempt).
        return Result(row, OutboxStatus.PENDING, retry_at=later, deferred=True)
    if is_blank(row.payload):  # blanked by an erasure while it waited: nothing to send
        return Result(row, OutboxStatus.DROPPED, error="payload cleared before sending")
    return None
