"""Putting proactive messages in the outbox: once per key, whoever plans it and how often."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from flows.replies import Button, Say
from storage.db import dialect_insert
from storage.models import OutboxMessage, OutboxStatus

# A row in one of these states is never sent again: its payload is only kept as a short-lived
# record of what went out, then blanked (`blank_delivered`).
FINAL = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.UNKNOWN, OutboxStatus.DROPPED)
# What a blanked payload holds. Readers check `is_blank` before decoding.
BLANK: dict[str, Any] = {}


def is_blank(payload: dict[str, Any] | None) -> bool:
    return not payload or "template" not in payload


def encode_say(say: Say) -> dict[str, Any]:
    """A Say as JSON-able data (dates tagged so they come back as dates)."""
    return {
        "template": say.template,
        "context": _encode(dict(say.context)),
        "buttons": [
            [
                {"label": b.label, "data": b.data, "url": b.url, "args": _encode(dict(b.args))}
                for b in row
            ]
            for row in say.buttons
        ],
    }


def decode_say(payload: dict[str, Any]) -> Say:
    return Say(
        template=payload["template"],
        context=_decode(payload["context"]),
        buttons=tuple(
            tuple(
                Button(b["label"], data=b["data"], url=b["url"], args=_decode(b["args"]))
                for b in row
            )
            for row in payload["buttons"]
        ),
    )


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, dt.date):
        return {"__date__": value.isoformat()}
    if isinstance(value, dt.time):
        return {"__time__": value.isoformat()}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "__datetime__" in value:
            return dt.datetime.fromisoformat(value["__datetime__"])
        if "__date__" in value:
            return dt.date.fromisoformat(value["__date__"])
        if "__time__" in value:
            return dt.time.fromisoformat(value["__time__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    person_id: int,
    kind: str,
    say: Say,
    due_at: dt.datetime,
    now: dt.datetime,
    expires_at: dt.datetime | None = None,
    placement_id: int | None = None,
    subject_id: int | None = None,
    urgent: bool = False,
    ephemeral: bool = False,
) -> bool:
    """Add a message unless one with this key exists; return True if it was added."""
    values = {
        "key": key,
        "person_id": person_id,
        "kind": kind,
        "placement_id": placement_id,
        "subject_id": subject_id,
        "payload": encode_say(say),
        "status": OutboxStatus.PENDING,
        "due_at": due_at,
        "expires_at": expires_at,
        "urgent": urgent,
        "ephemeral": ephemeral,
        "attempts": 0,
        "created_at": now,
    }
    insert = dialect_insert(session)
    statement = (
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxMessage.id)
    )
    added = await session.scalar(statement)
    return added is not None


async def enqueue_notice(
    session: AsyncSession, say: Say, now: dt.datetime, *, kind: str = "notice"
) -> None:
    """Queue a one-off message to someone else (say.to), to go out at once."""
    assert say.to is not None  # notices name a person
    assert say.to.person_id is not None
    await enqueue(
        session,
        key=f"{kind}:{say.to.person_id}:{uuid.uuid4().hex}",
        person_id=say.to.person_id,
        kind=kind,
        say=say,
        due_at=now,
        now=now,
        urgent=kind == "contact_request",
        ephemeral=say.ephemeral,
    )


async def drop_pending(
    session: AsyncSession,
    *,
    kind: str | None = None,
    placement_id: int | None = None,
    subject_id: int | None = None,
    person_id: int | None = None,
) -> None:
    """Drop pending messages that no longer make sense (closed check-in, cancelled meeting)."""
    statement = update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
    if kind is not None:
        statement = statement.where(OutboxMessage.kind == kind)
    if placement_id is not None:
        statement = statement.where(OutboxMessage.placement_id == placement_id)
    if subject_id is not None:
        statement = statement.where(OutboxMessage.subject_id == subject_id)
    if person_id is not None:
        statement = statement.where(OutboxMessage.person_id == person_id)
    await session.execute(statement.values(status=OutboxStatus.DROPPED))


async def blank_delivered(session: AsyncSession, now: dt.datetime, keep_days: int) -> int:
    """Blank the payload of rows final for longer than `keep_days`; return how many.

    One UPDATE on the (status, due_at) index: a final row's `due_at` is its last attempt (a retry
    or quiet hours move it), so it is never later than the moment the row became final.
    """
    cutoff = now - dt.timedelta(days=keep_days)
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status.in_(FINAL),
            OutboxMessage.due_at < cutoff,
            OutboxMessage.payload_cleared_at.is_(None),
            (OutboxMessage.sent_at.is_(None)) | (OutboxMessage.sent_at < cutoff),
        )
        .values(payload=BLANK, payload_cleared_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
