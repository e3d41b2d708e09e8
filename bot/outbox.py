"""Deliver the outbox: claim due rows, send them within Telegram's limits, record what happened.

Nothing is sent twice: a row is claimed (status `sending`, with a lease) and committed before
Telegram is called. A row still `sending` after its lease belonged to a process that died while
sending; it may have arrived, so it becomes `unknown` and is not sent again. Finished sends
are recorded in the same transaction that claims the rows replacing them, so at most
`concurrency` rows are ever `sending` (sent or not), which bounds how many can end up `unknown`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Boolean, and_, bindparam, case, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, Message
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.clock import Clock
from bot.delivery import keyboard
from bot.digest import photo_of
from bot.render import Renderer
from bot.transport import never_sent
from flows.checkins import after_delivery, is_paused
from flows.outbox import BLANK, FINAL, decode_say, is_blank
from flows.people import unreachable_notices
from flows.schedule import out_of_quiet_hours
from flows.settings import QuietHours
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, Person, TelegramLink

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_DATABASE_FAILURES = 3  # in a row, within one run


class RateLimiter:
    """Evenly spaced sends: at most `per_second` overall and one per `per_chat` per chat.

    Spacing alone lets sends that were held up (a busy event loop) go out together; a window
    of the latest send times makes sure no second ever holds more than `per_second x margin`.
    """

    def __init__(self, per_second: float, per_chat: float = 1.0, margin: float = 0.95) -> None:
        # A small margin keeps the spacing safely under a sliding-window limit despite jitter.
        self.interval = 1.0 / (per_second * margin)
        self.per_chat = per_chat
        self._next = 0.0
        self._chat_next: dict[int, float] = {}
        self._paused_until = 0.0
        self._sent: deque[float] = deque(maxlen=max(1, int(per_second * margin)))

    async def acquire(self, chat_id: int) -> None:
        """Wait for this chat's next slot; a pause that starts meanwhile holds it too."""
        loop = asyncio.get_running_loop()
        while True:
            # No await between reading and reserving: slots are handed out atomically.
            now = loop.time()
            previous = self._chat_next.get(chat_id, 0.0)
            slot = max(now, self._next, self._paused_until, previous)
            self._next = slot + self.interval
            self._chat_next[chat_id] = slot + self.per_chat
            if len(self._chat_next) > 10_000:  # forget chats whose slot has passed
                self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
            if slot > now:
                await asyncio.sleep(slot - now)
            now = loop.time()
            window_full = len(self._sent) == self._sent.maxlen and now - self._sent[0] < 1.0
            if self._paused_until <= now and not window_full:
                self._sent.append(now)
                return
            # Telegram said "retry after" while this send waited, or too many sends went out
            # in the last second: its slot is void, queue again (without the per-chat gap of
            # the slot it never used).
            if self._chat_next.get(chat_id) == slot + self.per_chat:
                self._chat_next[chat_id] = previous
            if window_full:
                await asyncio.sleep(self._sent[0] + 1.0 - now)

    def pause(self, seconds: float) -> None:
        """Telegram said 'retry after': hold every send, not just this one."""
        loop = asyncio.get_running_loop()
        self._paused_until = max(self._paused_until, loop.time() + seconds)
        # Sends after the pause are spaced from its end, not bunched up at it.
        self._next = max(self._next, self._paused_until)

    def paused_for(self) -> float:
        """Seconds until the current pause ends (0 when not paused)."""
        return max(0.0, self._paused_until - asyncio.get_running_loop().time())


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


@dataclass
class _Claimed:
    id: int
    person_id: int
    kind: str
    payload: dict[str, Any]
    subject_id: int | None
    expires_at: dt.datetime | None
    urgent: bool
    attempts: int


@dataclass
class _Result:
    row: _Claimed
    status: OutboxStatus
    message_id: int | None = None
    error: str | None = None
    retry_at: dt.datetime | None = None
    unreachable_chat: int | None = None
    deferred: bool = False


@dataclass
class _Recipient:
    chat_id: int
    language: str
    time_zone: str
    reachable: bool
    paused: bool


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
    on_sent: Callable[[AsyncSession, str, int | None, dt.datetime], Awaitable[None]] = (
        after_delivery
    )
    _limiter: RateLimiter | None = field(default=None, init=False)
    _running: asyncio.Lock | None = field(default=None, init=False)

    @property
    def limiter(self) -> RateLimiter:
        if self._limiter is None:
            self._limiter = RateLimiter(self.per_second)
        return self._limiter

    async def run_until_idle(self, keep_claiming: Callable[[], bool] = lambda: True) -> Report:
        """Send everything that is due now (after any run already busy in this process).

        Once `keep_claiming()` turns False (the bot is stopping) no more rows are claimed: the
        sends in flight finish and are recorded, and the rest waits, `pending`, for the next
        start. So a stop in the middle of a big fan-out takes seconds, not the whole fan-out.
        """
        if self._running is None:
            self._running = asyncio.Lock()
        async with self._running:
            return await self._run(keep_claiming)

    async def _run(self, keep_claiming: Callable[[], bool]) -> Report:
        report = Report()
        report.reclaimed = await self._reclaim_stale()
        pending: set[asyncio.Task[_Result]] = set()
        finished: list[_Result] = []
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

    async def _wind_up(self, pending: set[asyncio.Task[_Result]], finished: list[_Result]) -> None:
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
        self, finished: list[_Result], wanted: int
    ) -> tuple[Report, list[tuple[_Claimed, _Recipient | None]]]:
        """Record finished sends and claim up to `wanted` due rows, in one transaction."""
        async with self.db.session() as session:
            report = await self._record(session, finished)
            if wanted <= 0:
                return report, []
            claimed = await self._claim(session, wanted)
            recipients = await self._recipients(session, [c.person_id for c in claimed])
        return report, [(row, recipients.get(row.person_id)) for row in claimed]

    async def _reclaim_stale(self) -> int:
        """Rows left `sending` by a process that died: they may have arrived, so `unknown`."""
        now = self.clock.now()
        async with self.db.session() as session:
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
                    payload=case(
                        (OutboxMessage.ephemeral, BLANK_JSON), else_=OutboxMessage.payload
                    ),
                    payload_cleared_at=case(
                        (OutboxMessage.ephemeral, now), else_=OutboxMessage.payload_cleared_at
                    ),
                )
                .returning(OutboxMessage.kind, OutboxMessage.subject_id)
            )
            stale = result.all()
            for kind, subject_id in stale:  # as for a read timeout: it may have arrived
                await self.on_sent(session, kind, subject_id, now)
            return len(stale)

    async def _claim(self, session: AsyncSession, limit: int) -> list[_Claimed]:
        """Mark up to `limit` due rows as sending (no row is claimed twice)."""
        now = self.clock.now()
        due = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.due_at <= now)
            .order_by(OutboxMessage.due_at, OutboxMessage.id)
            .limit(limit)
        )
        if not self.db.is_sqlite:
            # SQLite has no row locks (one writer at a time); PostgreSQL skips rows that
            # another instance is claiming right now.
            due = due.with_for_update(skip_locked=True)
        # Two statements on purpose: as a subquery of the UPDATE, PostgreSQL may run the
        # LIMIT … SKIP LOCKED select more than once and claim far more rows than asked.
        ids = list((await session.scalars(due)).all())
        if not ids:
            return []
        result = await session.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id.in_(ids))
            .where(_OUTBOX.c.status == OutboxStatus.PENDING)
            .values(
                status=OutboxStatus.SENDING,
                lease_until=now + self.lease,
                attempts=_OUTBOX.c.attempts + 1,
            )
            .returning(
                _OUTBOX.c.id,
                _OUTBOX.c.person_id,
                _OUTBOX.c.kind,
                _OUTBOX.c.payload,
                _OUTBOX.c.subject_id,
                _OUTBOX.c.expires_at,
                _OUTBOX.c.urgent,
                _OUTBOX.c.attempts,
            )
        )
        return sorted((_Claimed(*row) for row in result.all()), key=lambda c: c.id)

    async def _recipients(
        self, session: AsyncSession, person_ids: Sequence[int]
    ) -> dict[int, _Recipient]:
        if not person_ids:
            return {}
        now = self.clock.now()
        rows = await session.execute(
            select(TelegramLink, Person)
            .join(Person, Person.id == TelegramLink.person_id)
            .where(TelegramLink.person_id.in_(set(person_ids)))
        )
        return {
            person.id: _Recipient(
                link.chat_id,
                link.language,
                link.time_zone,
                link.reachable,
                is_paused(person, now),
            )
            for link, person in rows
        }

    async def _send(self, row: _Claimed, recipient: _Recipient | None) -> _Result:
        now = self.clock.now()
        if recipient is None or not recipient.reachable:
            return _Result(row, OutboxStatus.DROPPED, error="recipient unreachable or gone")
        if row.expires_at is not None and row.expires_at <= now:
            return _Result(row, OutboxStatus.DROPPED, error="expired before it could be sent")
        if recipient.paused and not row.urgent:
            return _Result(row, OutboxStatus.DROPPED, error="recipient paused messages")
        later = out_of_quiet_hours(now, recipient.time_zone, self.quiet)
        if later > now and not row.urgent:
            # Quiet hours where the person lives: it goes out when they end (not an attempt).
            return _Result(row, OutboxStatus.PENDING, retry_at=later, deferred=True)
        if is_blank(row.payload):  # blanked by an erasure while it waited: nothing to send
            return _Result(row, OutboxStatus.DROPPED, error="payload cleared before sending")
        try:
            say = decode_say(row.payload)
            text = self.renderer.render(recipient.language, say.template, say.context)
            markup = keyboard(self.renderer, recipient.language, say.buttons)
        except Exception as error:  # a template bug must not block the rest of the outbox
            log.exception("could not render outbox row %s", row.id)
            return _Result(row, OutboxStatus.FAILED, error=f"render: {error}"[:300])
        await self.limiter.acquire(recipient.chat_id)
        now = self.clock.now()  # the limiter may have held this send a while
        try:
            photo = photo_of(say.context)
            message: Message = (
                await self.bot.send_photo(recipient.chat_id, photo, caption=text)
                if photo is not None
                else await self.bot.send_message(recipient.chat_id, text, reply_markup=markup)
            )
        except RetryAfter as error:
            seconds = _seconds(error.retry_after)
            self.limiter.pause(seconds)
            return self._retry(row, now + dt.timedelta(seconds=seconds), str(error))
        except Forbidden as error:
            return _Result(
                row,
                OutboxStatus.FAILED,
                error=str(error)[:300],
                unreachable_chat=recipient.chat_id,
            )
        except BadRequest as error:
            log.error("Telegram refused outbox row %s (%s): %s", row.id, say.template, error)
            return _Result(row, OutboxStatus.FAILED, error=str(error)[:300])
        except TimedOut as error:
            if never_sent(error):
                return self._retry(row, now + _backoff(row.attempts), "connect/pool timeout")
            return _Result(row, OutboxStatus.UNKNOWN, error="read/write timeout: may have arrived")
        except NetworkError as error:
            if never_sent(error):
                return self._retry(row, now + _backoff(row.attempts), str(error)[:300])
            return _Result(row, OutboxStatus.UNKNOWN, error=f"connection lost: {error}"[:300])
        except TelegramError as error:  # refused for another reason (e.g. the chat migrated)
            log.error("Telegram refused outbox row %s (%s): %s", row.id, say.template, error)
            return _Result(row, OutboxStatus.FAILED, error=str(error)[:300])
        except Exception as error:  # a surprise must not end the run with rows still claimed
            log.exception("sending outbox row %s failed", row.id)
            return _Result(row, OutboxStatus.UNKNOWN, error=f"unexpected: {error!r}"[:300])
        return _Result(row, OutboxStatus.SENT, message_id=message.message_id)

    def _retry(self, row: _Claimed, at: dt.datetime, error: str) -> _Result:
        if row.attempts >= MAX_ATTEMPTS:
            return _Result(row, OutboxStatus.FAILED, error=f"gave up: {error}"[:300])
        return _Result(row, OutboxStatus.PENDING, error=error[:300], retry_at=at)

    async def _record(self, session: AsyncSession, results: list[_Result]) -> Report:
        """Write the outcome of a batch of sends (in the caller's transaction)."""
        report = Report()
        if not results:
            return report
        now = self.clock.now()
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
                await self.on_sent(session, row.kind, row.subject_id, now)
            if result.unreachable_chat is not None:
                await unreachable_notices(session, result.unreachable_chat, now)
        return report


_OUTBOX = OutboxMessage.metadata.tables[OutboxMessage.__tablename__]
# The blank payload as a bound JSON value (`'{}'`), usable in a CASE on both databases.
BLANK_JSON = bindparam("blank_payload", BLANK, type_=JSON)
_BLANK_NOW = and_(_OUTBOX.c.ephemeral, bindparam("b_final", type_=Boolean()))
_RECORD = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("b_id"), _OUTBOX.c.status == OutboxStatus.SENDING)
    .values(
        status=bindparam("b_status", type_=_OUTBOX.c.status.type),
        lease_until=None,
        last_error=bindparam("b_error", type_=_OUTBOX.c.last_error.type),
        sent_at=func.coalesce(
            bindparam("b_sent_at", type_=_OUTBOX.c.sent_at.type), _OUTBOX.c.sent_at
        ),
        telegram_message_id=func.coalesce(
            bindparam("b_message_id", type_=_OUTBOX.c.telegram_message_id.type),
            _OUTBOX.c.telegram_message_id,
        ),
        due_at=func.coalesce(bindparam("b_due_at", type_=_OUTBOX.c.due_at.type), _OUTBOX.c.due_at),
        attempts=_OUTBOX.c.attempts - bindparam("b_undo", type_=_OUTBOX.c.attempts.type),
        # An ephemeral row (it names someone just erased) keeps no payload once final.
        payload=case((_BLANK_NOW, BLANK_JSON), else_=_OUTBOX.c.payload),
        payload_cleared_at=case(
            (_BLANK_NOW, bindparam("b_now", type_=_OUTBOX.c.payload_cleared_at.type)),
            else_=_OUTBOX.c.payload_cleared_at,
        ),
    )
)


def _seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(2 ** max(attempts - 1, 0), 60))
