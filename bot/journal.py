"""A webhook delivery's replies, kept with its processed update until they are sent.

A flow step commits, then sends its replies. In webhook mode the update is acknowledged (HTTP 200)
only after that; an instance killed in between means Telegram delivers the update again, to this
instance or another, which finds it recorded in `processed_update` and must not run the step a
second time. So the step's transaction also writes the replies to the person who wrote (the
`Say`s, not rendered text: the same templates are rendered again when sent) into that row, and
the sender counts them off as they go out (`replies_done`) and clears them after the last. A
redelivery that finds replies left sends those, and only those.

Who sends them: the instance that committed holds a lease on them (`replies_lease_until`) while
it sends. A redelivery that finds a live lease waits until the replies are gone (answered then)
or the lease ran out (that instance died): then it takes the lease over with a conditional
UPDATE, so of several redeliveries one sends. A crash between a send and its count means that
one message is sent again: what was in flight.

Only inside a webhook delivery; polling mode and clock jobs write nothing here.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import datetime as dt
import logging
import os
import signal
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session

from flows.outbox import decode_say, encode_say
from flows.replies import Document, Menu, Outcome, Say
from storage.db import Database
from storage.models import ProcessedUpdate

log = logging.getLogger(__name__)

# How long the instance that committed a step has to send its replies before another delivery of
# the update may take them over. Sending a step's replies takes a few Bot API calls; a call
# times out well within this.
REPLY_LEASE = dt.timedelta(seconds=20)
# How often a redelivery looks whether the replies of a live lease went out.
WAIT_STEP = 0.05
# Test-only: a process with this set kills itself (SIGKILL) right after a step of a webhook
# delivery has committed, before any reply is sent — the crash that fault 3 of issue #15 is about.
KILL_AFTER_COMMIT = "SAMENOPVOEDEN_TEST_KILL_AFTER_COMMIT"
# Test-only: the lease in seconds, so a test need not wait REPLY_LEASE after that kill.
LEASE_SECONDS = "SAMENOPVOEDEN_TEST_REPLY_LEASE"


@dataclass
class Handling:
    """The update this task is handling, as seen by the session hooks and the handlers."""

    update_id: int
    now: dt.datetime
    session: Session | None = None  # the session whose transaction carries the record
    recorded: bool = False  # that transaction committed
    duplicate: bool = False  # another delivery of this update was recorded first
    failed: bool = False  # a handler raised
    over: bool = False  # answered: a task it left behind must not record anything
    kept: bool = False  # this delivery's replies are in the record
    replies_left: bool = False  # sending them failed: a redelivery sends what is left


handling_var: contextvars.ContextVar[Handling | None] = contextvars.ContextVar(
    "samenopvoeden_handling", default=None
)


def current() -> Handling | None:
    """The webhook delivery this task is handling, if any (None in polling mode)."""
    handling = handling_var.get()
    return None if handling is None or handling.over else handling


def is_duplicate() -> bool:
    """Whether another delivery of this update was recorded first (this one changed nothing)."""
    handling = current()
    return handling is not None and handling.duplicate


def lease() -> dt.timedelta:
    seconds = os.environ.get(LEASE_SECONDS)
    return dt.timedelta(seconds=float(seconds)) if seconds else REPLY_LEASE


def wall_clock() -> dt.datetime:
    """Leases are about real time passing, whatever clock the bot's flows run on."""
    return dt.datetime.now(dt.UTC)


# --- What is kept: the outcome for the person who wrote ---------------------------------------


def encode(outcome: Outcome) -> dict[str, Any]:
    """The replies of an outcome to the person who wrote, as JSON-able data."""
    return {
        "language": outcome.language,
        "close_pressed": outcome.close_pressed,
        "messages": [_encode_say(say) for say in outcome.messages if say.to is None],
        "menus": [
            {"chat_id": m.chat_id, "language": m.language, "roles": sorted(m.roles)}
            for m in outcome.menus
        ],
    }


def decode(data: dict[str, Any]) -> Outcome:
    return Outcome(
        language=data["language"],
        close_pressed=data["close_pressed"],
        messages=[_decode_say(say) for say in data["messages"]],
        menus=[
            Menu(chat_id=m["chat_id"], language=m["language"], roles=frozenset(m["roles"]))
            for m in data["menus"]
        ],
    )


def _encode_say(say: Say) -> dict[str, Any]:
    encoded = encode_say(say) | {"edit": say.edit}
    if say.document is not None:
        document = say.document
        encoded["document"] = {
            "filename": document.filename,
            "template": document.template,
            "context": encode_say(Say("", document.context))["context"],
            "data": None if document.data is None else base64.b64encode(document.data).decode(),
        }
    return encoded


def _decode_say(data: dict[str, Any]) -> Say:
    say = decode_say(data)
    document = None
    if data.get("document") is not None:
        kept = data["document"]
        document = Document(
            filename=kept["filename"],
            template=kept["template"],
            context=decode_say(
                {"template": "", "context": kept["context"], "buttons": []}
            ).context,
            data=None if kept["data"] is None else base64.b64decode(kept["data"]),
        )
    return Say(
        say.template, say.context, say.buttons, edit=bool(data.get("edit")), document=document
    )


def has_replies(outcome: Outcome) -> bool:
    return (
        outcome.close_pressed or bool(outcome.menus) or any(s.to is None for s in outcome.messages)
    )


# --- Writing and counting off ------------------------------------------------------------------


async def keep(session: AsyncSession, outcome: Outcome) -> Progress | None:
    """In the step's transaction: keep its replies with the update's record (webhook only)."""
    handling = current()
    if handling is None or not has_replies(outcome):
        return None
    await session.execute(
        update(ProcessedUpdate)
        .where(ProcessedUpdate.update_id == handling.update_id)
        .values(
            replies=encode(outcome), replies_done=0, replies_lease_until=wall_clock() + lease()
        )
    )
    handling.kept = True
    return Progress(handling.update_id)


def committed() -> None:
    """Right after a step's commit in a webhook delivery, before any reply: the test-only crash."""
    handling = current()
    if handling is not None and os.environ.get(KILL_AFTER_COMMIT):
        log.warning("test: killing this process after the commit of update %s", handling.update_id)
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class Progress:
    """Counts a delivery's replies off in its record as they are sent."""

    update_id: int
    done: int = 0  # replies already sent (by an earlier delivery, when taking over)
    db: Database | None = None

    def bind(self, db: Database) -> Progress:
        self.db = db
        return self

    async def release(self) -> None:
        """Sending failed (Telegram or the network): let the next delivery send what is left."""
        handling = current()
        if handling is not None:
            handling.replies_left = True
        if self.db is None:
            return
        try:
            async with self.db.engine.begin() as connection:
                await connection.execute(
                    update(ProcessedUpdate)
                    .where(ProcessedUpdate.update_id == self.update_id)
                    .values(replies_lease_until=None)
                )
        except Exception:  # the lease runs out by itself
            log.warning("could not release the replies of update %s", self.update_id)

    async def give_up(self) -> None:
        """Forget the replies (after too many failed deliveries)."""
        await self.sent(self.done, last=True)

    async def sent(self, count: int, *, last: bool) -> None:
        """`count` replies are out; after the last the kept replies are cleared."""
        self.done = count
        if self.db is None:
            return
        values: dict[str, Any] = {"replies_done": count}
        if last:
            values |= {"replies": None, "replies_lease_until": None}
        statement = (
            update(ProcessedUpdate)
            .where(ProcessedUpdate.update_id == self.update_id)
            .values(**values)
        )
        async with self.db.engine.begin() as connection:
            if not self.db.is_sqlite:
                # Not worth a disk flush: lost in a PostgreSQL crash, a redelivery would send
                # these replies again (what was in flight). Waiting for the flush cost ~5 ms.
                await connection.execute(text("SET LOCAL synchronous_commit TO OFF"))
            await connection.execute(statement)


# --- A redelivery: wait for the replies, or take them over -------------------------------------


@dataclass
class Left:
    """Replies a redelivery took over: the outcome and how many of its messages went out."""

    outcome: Outcome
    progress: Progress


async def take_over(db: Database, update_id: int) -> Left | None:
    """Wait while another instance holds the replies' lease; take over what it left, if any.

    None: nothing left to send (sent, or there were none). Waits at most one lease.
    """
    while True:
        async with db.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(
                        ProcessedUpdate.replies,
                        ProcessedUpdate.replies_done,
                        ProcessedUpdate.replies_lease_until,
                    ).where(ProcessedUpdate.update_id == update_id)
                )
            ).first()
        if row is None or row.replies is None:
            return None
        now = wall_clock()
        if row.replies_lease_until is not None and row.replies_lease_until > now:
            # The instance that committed is sending them (or died; then the lease runs out).
            await asyncio.sleep(min(WAIT_STEP, (row.replies_lease_until - now).total_seconds()))
            continue
        async with db.engine.begin() as connection:
            taken = await _take(connection, update_id, now)
        if taken is not None:
            data, done = taken
            log.warning(
                "webhook: update %s was handled but %s of its replies were not sent "
                "(an instance stopped); sending them now",
                update_id,
                "some" if done else "none",
            )
            return Left(decode(data), Progress(update_id, done, db))
        # Another redelivery took them a moment ago: wait for it like for the first.


async def _take(
    connection: AsyncConnection, update_id: int, now: dt.datetime
) -> tuple[dict[str, Any], int] | None:
    """Take the lease if it ran out (one of several redeliveries wins)."""
    statement = (
        update(ProcessedUpdate)
        .where(
            ProcessedUpdate.update_id == update_id,
            ProcessedUpdate.replies.is_not(None),
            (ProcessedUpdate.replies_lease_until.is_(None))
            | (ProcessedUpdate.replies_lease_until <= now),
        )
        .values(replies_lease_until=now + lease())
        .returning(ProcessedUpdate.replies, ProcessedUpdate.replies_done)
    )
    row = (await connection.execute(statement)).first()
    return None if row is None else (row.replies, row.replies_done)
