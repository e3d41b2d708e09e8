"""What the outbox's modules pass each other: a claimed row and what became of it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, bindparam

from flows.outbox import BLANK
from storage.models import OutboxMessage, OutboxStatus

OUTBOX = OutboxMessage.metadata.tables[OutboxMessage.__tablename__]
# The blank payload as a bound JSON value (`'{}'`), usable in a CASE on both databases.
BLANK_JSON = bindparam("blank_payload", BLANK, type_=JSON)


@dataclass
class Claimed:
    id: int
    person_id: int
    kind: str
    payload: dict[str, Any]
    subject_id: int | None
    expires_at: dt.datetime | None
    urgent: bool
    attempts: int


@dataclass
class Result:
    row: Claimed
    status: OutboxStatus
    message_id: int | None = None
    error: str | None = None
    retry_at: dt.datetime | None = None
    unreachable_chat: int | None = None
    deferred: bool = False
