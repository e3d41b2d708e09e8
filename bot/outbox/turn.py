"""Whose turn it is to deliver: one instance at a time, so Telegram's limits hold for the fleet.

Telegram's flood limits (about 30 messages/s overall, about 1/s per chat) are per bot, not per
process. So on PostgreSQL a delivery run first takes a session-level advisory lock on a
connection of its own; an instance that does not get it sends nothing this beat and tries
again on the next (every `DELIVER_EVERY`). The run holds the lock until it is idle, so one
process's `RateLimiter` paces every outbox send of the fleet, with the whole
`SAMENOPVOEDEN_MESSAGES_PER_SECOND`.

If the delivering process dies, PostgreSQL ends its session when the socket closes and the lock
is free at once; another instance takes it on its next beat (within seconds). The rows it left
`sending` become `unknown` when their lease runs out, as after any crash. If the lock's
connection breaks while its process lives on (the database restarted, the network failed), a
watcher notices within `WATCH_EVERY` and the run stops claiming: the sends in flight finish and
are recorded, nothing new is claimed without the lock.

SQLite has one instance (one writer in one process): there the turn is always ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database

log = logging.getLogger(__name__)

# The two-key form of PostgreSQL's advisory locks: its keys never meet the one-bigint form
# (objsubid 2 against 1), so a lock per person keyed by a bigint id cannot collide with this.
LOCK_SPACE = 0x534E_4F56  # "SNOV": samenopvoeden
DELIVERY = 1
DELIVERER_NAME = "samenopvoeden deliverer, pid"
WATCH_EVERY = 1.0  # seconds between checks that the lock's connection is still alive


@dataclass
class Turn:
    """A delivery turn; `held` turns False if the lock's connection is lost meanwhile."""

    held: bool = True
    _stop: asyncio.Event = field(default_factory=asyncio.Event)


@contextlib.asynccontextmanager
async def delivery_turn(db: Database) -> AsyncIterator[Turn | None]:
    """Yield a Turn while this instance holds the delivery lock, or None if another does."""
    if db.is_sqlite:
        yield Turn()
        return
    connection = await db.engine.connect()
    keep = False  # whether the connection may go back to the pool
    try:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        # While it holds the turn the connection is named, so `pg_stat_activity` (joined
        # with `pg_locks`) shows which process delivers.
        got = await connection.scalar(
            text(
                "SELECT CASE WHEN pg_try_advisory_lock(:space, :key)"
                " THEN set_config('application_name', :name, false) IS NOT NULL"
                " ELSE false END"
            ),
            {"space": LOCK_SPACE, "key": DELIVERY, "name": f"{DELIVERER_NAME} {os.getpid()}"},
        )
        if not got:
            keep = True
            yield None
            return
        turn = Turn()
        watcher = asyncio.create_task(_watch(connection, turn))
        try:
            yield turn
        finally:
            turn._stop.set()
            await watcher
            if turn.held:
                # A pooled connection must never keep the lock: unlock, or else close it.
                keep = bool(
                    await connection.scalar(
                        text(
                            "SELECT pg_advisory_unlock(:space, :key)"
                            " AND set_config('application_name', '', false) IS NOT NULL"
                        ),
                        {"space": LOCK_SPACE, "key": DELIVERY},
                    )
                )
    finally:
        if keep:
            await connection.close()
        else:
            await connection.invalidate()
            await connection.close()


async def _watch(connection: AsyncConnection, turn: Turn) -> None:
    """Ask the lock's connection every WATCH_EVERY seconds; a failure means the lock is gone."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(turn._stop.wait(), WATCH_EVERY)
        if turn._stop.is_set():
            return
        try:
            await connection.scalar(text("SELECT 1"))
        except Exception:
            log.warning("outbox: lost the delivery lock's connection; stop claiming")
            turn.held = False
            return
