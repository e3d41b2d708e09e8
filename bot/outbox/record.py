"""Write down what became of a batch of sends, in one statement, and count it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, and_, bindparam, case, func, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox.claim import OnSent
from bot.outbox.rows import BLANK_JSON, OUTBOX, Result
from flows.outbox import FINAL
from flows.people import unreachable_notices
from storage.models import OutboxStatus


@dataclass
class Report:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    dropped: int = 0
    reclaimed: int = 0
    deferred: int = 0

    def add(self, other: Report) -> None:
        for name in ("sent", "retried", "failed", "unknown", "dropped", "reclaimed", "deferred"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


async def record(
    session: AsyncSession, results: list[Result], now: dt.datetime, on_sent: OnSent
) -> Report:
    """Write the outcome of a batch of sends (in the caller's transaction)."""
    report = Report()
    if not results:
        return report
    outcomes: list[dict[str, Any]] = []
    for result in results:
        outcome: dict[str, Any] = {
            "b_id": result.row.id,
            "b_status": result.status,
            "b_error": result.error,
            "b_sent_at": None,
            "b_message_id": None,
            "b_due_at": None,
            "b_undo": 0,
            "b_final": result.status in FINAL,
            "b_now": now,
        }
        if result.status == OutboxStatus.SENT:
            outcome |= {"b_sent_at": now, "b_message_id": result.message_id}
            report.sent += 1
        elif result.status == OutboxStatus.PENDING:
            outcome["b_due_at"] = result.retry_at
            if result.deferred:
                outcome["b_undo"] = 1  # waiting out quiet hours is not an attempt
                report.deferred += 1
            else:
                report.retried += 1
        elif result.status == OutboxStatus.UNKNOWN:
            report.unknown += 1
        elif result.status == OutboxStatus.DROPPED:
            report.dropped += 1
        else:
            report.failed += 1
        outcomes.append(outcome)
    # One statement for the whole batch (a row no longer `sending` was reclaimed: keep it).
    await session.execute(_RECORD, outcomes)
    for result in results:
        row = result.row
        if result.status in (OutboxStatus.SENT, OutboxStatus.UNKNOWN):
            await on_sent(session, row.kind, row.subject_id, now)
        if result.unreachable_chat is not None:
            await unreachable_notices(session, result.unreachable_chat, now)
    return report


_BLANK_NOW = and_(OUTBOX.c.ephemeral, bindparam("b_final", type_=Boolean()))
_RECORD = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("b_id"), OUTBOX.c.status == OutboxStatus.SENDING)
    .values(
        status=bindparam("b_status", type_=OUTBOX.c.status.type),
        lease_until=None,
        last_error=bindparam("b_error", type_=OUTBOX.c.last_error.type),
        sent_at=func.coalesce(
            bindparam("b_sent_at", type_=OUTBOX.c.sent_at.type), OUTBOX.c.sent_at
        ),
        telegram_message_id=func.coalesce(
            bindparam("b_message_id", type_=OUTBOX.c.telegram_message_id.type),
            OUTBOX.c.telegram_message_id,
        ),
        due_at=func.coalesce(bindparam("b_due_at", type_=OUTBOX.c.due_at.type), OUTBOX.c.due_at),
        attempts=OUTBOX.c.attempts - bindparam("b_undo", type_=OUTBOX.c.attempts.type),
        # An ephemeral row (it names someone just erased) keeps no payload once final.
        payload=case((_BLANK_NOW, BLANK_JSON), else_=OUTBOX.c.payload),
        payload_cleared_at=case(
            (_BLANK_NOW, bindparam("b_now", type_=OUTBOX.c.payload_cleared_at.type)),
            else_=OUTBOX.c.payload_cleared_at,
        ),
    )
)
