"""One person's updates in turn across webhook instances (PostgreSQL).

Inside one process `bot/updates.py` hands each person's updates to the handlers one at a time, in
arrival order. With webhooks and several instances, one person's quick presses can arrive at
different instances at once. So the first statement of a person's update transaction (after the
webhook's own update record) upserts that person's `person_turn` row:

- the row lock it takes is held until commit, so a second update of the same person, at any
  instance, waits right there, before reading anything; different people never wait for each
  other. Every later statement of the transaction (READ COMMITTED: a snapshot per statement)
  sees what the previous turn committed. (A row lock rather than `pg_advisory_xact_lock`: the
  same statement also tells which update came last, so order costs one statement, not two.)
- the row keeps the newest update id handled for the person, and the message that update
  pressed a button on. Telegram numbers updates in the order people act; an update that gets its
  turn after a newer one of the same person came in late over another connection. A late press
  on the same message as the newest press is answered but changes nothing: the newer press was
  the person's last word there, so the last press wins whatever the arrival order. Anything else
  (typed text, a command, a press on another message) is still handled, late: nothing a person
  said is dropped.

Lock order: the webhook's `processed_update` row, then this row, then whatever the step locks
(onboarding's placement row). Nothing takes them the other way round, so no deadlock: a step
never waits for another person's turn, and a duplicate delivery of the same update waits on the
update record before it holds anything.

SQLite has one instance and takes no turn (nothing to order across).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, case, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PersonTurn

# Ids are compared only with an update handled less than this long ago: after a week without
# updates Telegram may start the ids again from a random number.
WINDOW = dt.timedelta(days=1)

_new = pg_insert(PersonTurn).values(
    telegram_user_id=bindparam("user"),
    last_update_id=bindparam("update_id"),
    last_message_id=bindparam("message_id"),
    updated_at=bindparam("now"),
)
_NEWER = (PersonTurn.updated_at < bindparam("since")) | (
    PersonTurn.last_update_id < _new.excluded.last_update_id
)
_TAKE = _new.on_conflict_do_update(
    index_elements=[PersonTurn.telegram_user_id],
    set_={
        "last_update_id": case(
            (_NEWER, _new.excluded.last_update_id), else_=PersonTurn.last_update_id
        ),
        "last_message_id": case(
            (_NEWER, _new.excluded.last_message_id), else_=PersonTurn.last_message_id
        ),
        "updated_at": _new.excluded.updated_at,
    },
).returning(PersonTurn.last_update_id, PersonTurn.last_message_id)


async def take_turn(
    session: AsyncSession,
    telegram_user_id: int,
    update_id: int,
    message_id: int | None,
    now: dt.datetime,
) -> bool:
    """Wait for this person's turn (PostgreSQL). False: this is a press that came in late, after
    a newer press of theirs on the same message was handled; it must change nothing."""
    connection = await session.connection()
    params = {
        "user": telegram_user_id,
        "update_id": update_id,
        "message_id": message_id,
        "now": now,
        "since": now - WINDOW,
    }
    newest_update, newest_message = (await connection.execute(_TAKE, params)).one()
    late = newest_update != update_id
    return not (late and message_id is not None and newest_message == message_id)


async def prune_turns(session: AsyncSession, now: dt.datetime) -> int:
    """Forget turns older than the window (they order nothing any more)."""
    result = await session.execute(delete(PersonTurn).where(PersonTurn.updated_at < now - WINDOW))
    return int(getattr(result, "rowcount", 0) or 0)
