"""Claiming due rows so no row is sent twice, and reclaiming rows a dead process left `sending`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox.rows import BLANK_JSON, OUTBOX, Claimed
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus

OnSent = Callable[[AsyncSession, str, int | None, dt.datetime], Awaitable[None]]


async def reclaim_stale(db: Database, now: dt.datetime, on_sent: OnSent) -> int:
    """Rows left `sending` by a process that died: they may have arrived, so `unknown`."""
    async with db.session() as session:
        result = await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.SENDING,
                OutboxMessage.lease_until < now,
            )
            .values(
                status=OutboxStatus.UNKNOWN,
                last_error="lease expired while sending",
                # An ephemeral row is blanked once final, whatever the outcome.
                payload=case((OutboxMessage.ephemeral, BLANK_JSON), else_=OutboxMessage.payload),
                payload_cleared_at=case(
                    (OutboxMessage.ephemeral, now), else_=OutboxMessage.payload_cleared_at
                ),
            )
            .returning(OutboxMessage.kind, OutboxMessage.subject_id)
        )
        stale = result.all()
        for kind, subject_id in stale:  # as for a read timeout: it may have arrived
            await on_sent(session, kind, subject_id, now)
        return len(stale)


async def claim(
    session: AsyncSession,
    limit: int,
    now: dt.datetime,
    lease: dt.timedelta,
    *,
    skip_locked: bool,
) -> list[Claimed]:
    """Mark up to `limit` due rows as sending (no row is claimed twice)."""
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.due_at <= now)
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
    )
    if skip_locked:
        # SQLite has no row locks (one writer at a time); PostgreSQL skips rows that
        # another instance is claiming right now.
        due = due.with_for_update(skip_locked=True)
    # Two statements on purpose: as a subquery of the UPDATE, PostgreSQL may run the
    # LIMIT … SKIP LOCKED select more than once and claim far more rows than asked.
    ids = list((await session.scalars(due)).all())
    if not ids:
        return []
    result = await session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(ids))
        .where(OUTBOX.c.status == OutboxStatus.PENDING)
        .values(
            status=OutboxStatus.SENDING,
            lease_until=now + lease,
            attempts=OUTBOX.c.attempts + 1,
        )
        .returning(
            OUTBOX.c.id,
            OUTBOX.c.person_id,
            OUTBOX.c.kind,
            OUTBOX.c.payload,
            OUTBOX.c.subject_id,
            OUTBOX.c.expires_at,
            OUTBOX.c.urgent,
            OUTBOX.c.attempts,
        )
    )
    return sorted((Claimed(*row) for row in result.all()), key=lambda c: c.id)
