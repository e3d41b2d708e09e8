"""The delivery run: record finished sends and claim their replacements, a few at a time."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import astuple, dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot

from bot.clock import Clock
from bot.outbox.claim import OnSent, claim, reclaim_stale
from bot.outbox.limiter import RateLimiter
from bot.outbox.recipients import Recipient, recipients
from bot.outbox.record import Report, record
from bot.outbox.rows import Claimed, Result
from bot.outbox.send import send
from bot.outbox.turn import delivery_turn
from bot.render import Renderer
from flows.checkins import after_delivery
from flows.settings import QuietHours
from storage.db import Database

log = logging.getLogger(__name__)

MAX_DATABASE_FAILURES = 3  # in a row, within one run


@dataclass
class Deliverer:
    """Sends what is due; `run_until_idle` is the clock's delivery job."""

    db: Database
    bot: Bot
    renderer: Renderer
    clock: Clock
    per_second: float = 30.0
    concurrency: int = 8
    quiet: QuietHours = field(default_factory=QuietHours)
    lease: dt.timedelta = dt.timedelta(seconds=60)
    on_sent: OnSent = after_delivery
    _limiter: RateLimiter | None = field(default=None, init=False)
    _running: asyncio.Lock | None = field(default=None, init=False)
    _delivering: bool = field(default=False, init=False)  # had the fleet's turn last time

    @property
    def limiter(self) -> RateLimiter:
        if self._limiter is None:
            self._limiter = RateLimiter(self.per_second)
        return self._limiter

    async def run_until_idle(
        self, keep_claiming: Callable[[], bool] = lambda: True, linger: float = 0.0
    ) -> Report:
        """Send everything that is due now (after any run already busy in this process).

        On PostgreSQL only one instance of the fleet delivers at a time (bot/outbox/turn.py):
        if another holds the turn, this returns at once with an empty report.

        Once `keep_claiming()` turns False (the bot is stopping) no more rows are claimed: the
        sends in flight finish and are recorded, and the rest waits, `pending`, for the next
        start. So a stop in the middle of a big fan-out takes seconds, not the whole fan-out.

        With `linger` > 0 (the clock's job: 1 s) a run that sent something keeps the turn and
        looks again after `linger` seconds; it ends only when a look finds nothing. So the turn
        passes to another instance only after a whole second without sends from this one: the
        next holder's limiter starts afresh and cannot know this one's last second. It also
        bridges the pages in which planning queues a fan-out.
        """
        if self._running is None:
            self._running = asyncio.Lock()
        async with self._running, delivery_turn(self.db) as turn:
            if turn is None:
                self._delivering = False
                return Report()

            def keep() -> bool:
                return turn.held and keep_claiming()

            report = last = await self._run(keep)
            while linger > 0 and any(astuple(last)) and keep():
                await asyncio.sleep(linger)
                last = await self._run(keep)
                report.add(last)
            worked = any(astuple(report))
            if worked and not self._delivering:  # once per change, not every beat
                log.info("outbox: this instance delivers now (pid %d)", os.getpid())
            self._delivering = self._delivering or worked
            return report

    async def _run(self, keep_claiming: Callable[[], bool]) -> Report:
        report = Report()
        report.reclaimed = await reclaim_stale(self.db, self.clock.now(), self.on_sent)
        pending: set[asyncio.Task[Result]] = set()
        finished: list[Result] = []
        more_due = True
        failures = 0
        try:
            while True:
                if any(result.unreachable_chat is not None for result in finished):
                    more_due = True  # recording it queues a notice for the begeleider
                free = self.concurrency - len(pending)
                wanted = free if more_due and keep_claiming() else 0
                # With sends still queued, wait until half the slots are free: one transaction
                # then records and replaces several (the database is the costly part).
                if not pending or free >= max(1, self.concurrency // 2):
                    if wanted > 0 and self.limiter.paused_for() > 0:
                        # Telegram asked us to wait: claim nothing (a claim starts its lease)
                        # until the pause is over, but write down what has finished first.
                        if finished:
                            report.add((await self._exchange(finished, 0))[0])
                            finished = []
                        await asyncio.sleep(self.limiter.paused_for())
                    if finished or wanted > 0:
                        # Record what finished and claim what replaces it in one transaction,
                        # so never more than `concurrency` rows are `sending`, sent or not.
                        try:
                            recorded, claimed = await self._exchange(finished, wanted)
                        except SQLAlchemyError:
                            # Often passing (SQLite stays locked while a long plan commits).
                            failures += 1
                            if failures >= MAX_DATABASE_FAILURES:
                                raise
                            log.warning("outbox: database error, trying again", exc_info=True)
                            await asyncio.sleep(failures)
                            continue
                        failures = 0
                        report.add(recorded)
                        finished = []
                        more_due = wanted > 0 and len(claimed) == wanted
                        for row, recipient in claimed:
                            pending.add(asyncio.create_task(self._send(row, recipient)))
                if not pending:
                    return report
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                finished += [task.result() for task in done]
        finally:
            if pending or finished:  # the run was cancelled or the database kept failing
                await self._wind_up(pending, finished)

    async def _wind_up(self, pending: set[asyncio.Task[Result]], finished: list[Result]) -> None:
        """Let claimed sends finish and record them if the database allows; else they stay
        `sending` and become `unknown` when their lease runs out (as after a crash)."""
        if pending:
            done, _ = await asyncio.wait(pending)
            finished = finished + [
                t.result() for t in done if not t.cancelled() and t.exception() is None
            ]
        try:
            await self._exchange(finished, 0)
        except Exception:  # the original error (or cancellation) is what the caller sees
            log.exception("outbox: could not record %d sends", len(finished))

    async def _exchange(
        self, finished: list[Result], wanted: int
    ) -> tuple[Report, list[tuple[Claimed, Recipient | None]]]:
        """Record finished sends and claim up to `wanted` due rows, in one transaction."""
        async with self.db.session() as session:
            report = await record(session, finished, self.clock.now(), self.on_sent)
            if wanted <= 0:
                return report, []
            claimed = await self._claim(session, wanted)
            people = await recipients(session, [c.person_id for c in claimed], self.clock.now())
        return report, [(row, people.get(row.person_id)) for row in claimed]

    async def _claim(self, session: AsyncSession, limit: int) -> list[Claimed]:
        """Mark up to `limit` due rows as sending (no row is claimed twice)."""
        return await claim(
            session, limit, self.clock.now(), self.lease, skip_locked=not self.db.is_sqlite
        )

    async def _send(self, row: Claimed, recipient: Recipient | None) -> Result:
        return await send(
            row,
            recipient,
            bot=self.bot,
            renderer=self.renderer,
            clock=self.clock,
            limiter=self.limiter,
            quiet=self.quiet,
        )
