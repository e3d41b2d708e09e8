"""Webhook mode: an aiohttp server that Telegram (or a proxy before several instances) posts to.

Acknowledged only once handled: an update is answered 200 after its handler has committed its
writes and sent its replies. If handling failed before the commit the answer is 500, and Telegram
delivers the update again (to this instance or another); after MAX_ATTEMPTS we give up on it.

Handled once: the update_id is written to `processed_update` in the same transaction as the
handler's own writes (a session hook, below), so both are stored or neither is. A redelivery of a
recorded update is answered 200 without running any handler.

Replied once: a step's replies to the person are kept in that record too, and counted off as they
are sent (bot/journal.py). A redelivery of a recorded update waits until the delivery that handled
it has sent them, or sends what it left when it died; only then is it answered 200. A press is
answered (answerCallbackQuery) by the delivery that handles it, never by one that lost the race.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import logging
import random
import signal
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import Connection, Executable, delete, event, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction
from telegram import Update
from telegram.error import RetryAfter, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.app import AnyApplication, start_without_updater, stop_polling
from bot.config import WebhookSettings
from bot.delivery import deliver
from bot.handlers import Services, answer_query, caller_of
from bot.journal import Handling, Progress, handling_var, take_over
from bot.turns import prune_turns
from storage.db import Database
from storage.models import ProcessedUpdate

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header's name, not a secret
HEALTH_PATH = "/healthz"
# Telegram picks update ids at random again after a week without updates: older ids can go.
KEEP_PROCESSED = dt.timedelta(days=7)
PRUNE_EVERY = dt.timedelta(hours=1)
# Telegram keeps an unacknowledged update for 24 hours: replies kept for a redelivery (left by a
# crash) are not asked for after that, and they name people.
KEEP_REPLIES = dt.timedelta(days=1)
HEALTH_TIMEOUT = 3.0
# On SIGTERM, requests in flight get this long to finish; one cut off is delivered again.
SHUTDOWN_TIMEOUT = 20.0
# An update whose handler failed this often (in this process) is given up on: acknowledged
# and recorded, so a bug does not make Telegram redeliver it (and us apologise) for hours.
MAX_ATTEMPTS = 5
# How long an instance keeps trying setWebhook while Telegram answers "retry after N" (another
# instance set it a moment ago) before it gives up and exits.
SET_WEBHOOK_PATIENCE = 60.0
_MAX_BODY = 1024 * 1024  # an update is a few kB; Telegram's own limit for files is elsewhere


# --- Handled once: the update id rides along in the handler's transaction -------------------


class AlreadyHandled(ApplicationHandlerStop):
    """Another delivery of this update committed first: stop the handler quietly."""


def _record_statement(dialect: str, update_id: int, now: dt.datetime) -> Executable:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(ProcessedUpdate)
        .values(update_id=update_id, processed_at=now)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(ProcessedUpdate.update_id)
    )


def _claim(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    """Write the update id as the first statement of the update's first transaction."""
    handling = handling_var.get()
    if handling is None or handling.over or handling.session is not None or handling.recorded:
        return  # not handling an update (a clock job), or it is already taken care of
    handling.session = session
    statement = _record_statement(connection.dialect.name, handling.update_id, handling.now)
    if connection.execute(statement).first() is None:
        # A concurrent delivery of the same update committed first (PostgreSQL made us wait
        # for it): this one must change nothing. The session rolls back.
        handling.duplicate = True
        raise AlreadyHandled


def _committed(session: Session) -> None:
    handling = handling_var.get()
    if handling is not None and handling.session is session:
        handling.recorded = True


def _rolled_back(session: Session) -> None:
    handling = handling_var.get()
    if handling is not None and handling.session is session and not handling.recorded:
        handling.session = None  # the record went with it; a later transaction carries it


def install_session_hooks() -> None:
    """Attach the hooks to every SQLAlchemy Session (once); they act only inside a delivery."""
    for name, hook in (
        ("after_begin", _claim),
        ("after_commit", _committed),
        ("after_rollback", _rolled_back),
    ):
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)


async def _mark_failed(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remember that a handler raised, so the delivery is answered 500 (runs after on_error)."""
    handling = handling_var.get()
    if handling is not None:
        handling.failed = True


async def already_handled(db: Database, update_id: int) -> bool:
    async with db.engine.connect() as connection:
        found = await connection.scalar(
            select(ProcessedUpdate.update_id).where(ProcessedUpdate.update_id == update_id)
        )
    return found is not None


async def _record_alone(db: Database, update_id: int, now: dt.datetime) -> None:
    """Record an update whose handlers wrote nothing (or that no handler took)."""
    async with db.engine.begin() as connection:
        await connection.execute(_record_statement(connection.dialect.name, update_id, now))


async def prune_processed(
    db: Database, now: dt.datetime, keep: dt.timedelta = KEEP_PROCESSED
) -> int:
    """Forget update ids older than `keep`, and replies nobody can ask for again; return how
    many ids."""
    async with db.engine.begin() as connection:
        result = await connection.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < now - keep)
        )
        await connection.execute(
            update(ProcessedUpdate)
            .where(
                ProcessedUpdate.replies.is_not(None),
                ProcessedUpdate.processed_at < now - KEEP_REPLIES,
            )
            .values(replies=None, replies_lease_until=None)
        )
    return result.rowcount


async def _prune_job(context: Any) -> None:
    services: Services = context.application.bot_data["services"]
    try:
        await prune_processed(services.db, services.clock.now())
        async with services.db.session() as session:
            await prune_turns(session, services.clock.now())
    except Exception:  # the next beat tries again
        log.exception("pruning processed updates failed")


# --- The server ------------------------------------------------------------------------------


class WebhookServer:
    """Serves Telegram's POSTs at the webhook URL's path, and GET /healthz."""

    def __init__(
        self, application: AnyApplication, settings: WebhookSettings, *, clock_jobs: bool = True
    ) -> None:
        if application.updater is not None:
            raise ValueError("build the application with updater=False for webhook mode")
        self.application = application
        self.settings = settings
        self.path = urlsplit(settings.url).path or "/"
        self.port = settings.port
        self._secret = settings.secret.encode()
        self._clock_jobs = clock_jobs
        self._runner: web.AppRunner | None = None
        self._failures: dict[int, int] = {}  # update_id -> failed attempts in this process
        self.app = web.Application(client_max_size=_MAX_BODY)
        self.app.router.add_post(self.path, self._on_update)
        self.app.router.add_get(HEALTH_PATH, self._on_health)

    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data["services"]
        return services

    @property
    def local_url(self) -> str:
        """Where this process takes updates (tests post here; Telegram posts to the public URL)."""
        host = self.settings.listen
        if host in ("0.0.0.0", "::"):  # noqa: S104 - compared with, not bound to
            host = "127.0.0.1"
        return f"http://{host}:{self.port}{self.path}"

    async def start(self, *, set_webhook: bool = True) -> None:
        """Start the application and its clock, listen, then tell Telegram where to post."""
        install_session_hooks()
        self.application.add_error_handler(_mark_failed)
        # Several instances may share PostgreSQL: a person's updates take turns across them.
        self.services.person_turns = not self.services.db.is_sqlite
        if self._clock_jobs and self.application.job_queue is not None:
            self.application.job_queue.run_repeating(
                _prune_job, interval=PRUNE_EVERY, first=60, name="prune processed updates"
            )
        try:
            await start_without_updater(self.application)
            runner = web.AppRunner(self.app, shutdown_timeout=SHUTDOWN_TIMEOUT)
            await runner.setup()
            self._runner = runner
            await web.TCPSite(runner, self.settings.listen, self.settings.port).start()
            self.port = int(runner.addresses[0][1])  # port 0 picks a free one
            if set_webhook:
                await self._set_webhook()
        except BaseException:
            await self.stop()
            raise
        log.info("webhook: listening on %s:%s%s", self.settings.listen, self.port, self.path)

    async def _set_webhook(self) -> None:
        """Tell Telegram where to post, waiting out its "retry after N" (bounded).

        Every instance sets the same webhook at start. Telegram takes one setWebhook a second
        and answers the next with 429, so when two instances start together the second waits
        and sets it again. It always sets it rather than skipping when getWebhookInfo already
        shows our URL: the secret cannot be read back, and an instance started with a new
        secret must make Telegram send that one.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SET_WEBHOOK_PATIENCE
        while True:
            try:
                await self.application.bot.set_webhook(
                    self.settings.url,
                    secret_token=self.settings.secret,
                    allowed_updates=Update.ALL_TYPES,
                )
                return
            except RetryAfter as error:
                retry_after = _seconds_of(error.retry_after)
                wait = retry_after + random.uniform(0.0, 0.3)  # noqa: S311 - spreads instances
                if loop.time() + wait > deadline:
                    raise
                log.warning(
                    "webhook: setWebhook answered 'retry after %g s' (another instance is "
                    "setting it too); trying again in %.1f s",
                    retry_after,
                    wait,
                )
                await asyncio.sleep(wait)

    async def stop(self) -> None:
        """Finish requests in flight (up to SHUTDOWN_TIMEOUT), then stop the application.

        The webhook stays set: other instances keep serving, and Telegram keeps what arrives
        while none runs.
        """
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await stop_polling(self.application)

    async def _on_update(self, request: web.Request) -> web.Response:
        """Handle one update, then acknowledge it: 200 handled (or already), 500 retry later."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403)
        try:
            data = await request.json()
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400, text="not a Telegram update")
        services = self.services
        handling = Handling(update.update_id, services.clock.now())
        token = handling_var.set(handling)
        try:
            if await already_handled(services.db, update.update_id):
                handling.duplicate = True
            else:
                await self.application.process_update(update)
                if not (handling.failed or handling.duplicate or handling.recorded):
                    await _record_alone(services.db, update.update_id, handling.now)
        except Exception:
            log.exception("webhook: update %s could not be handled", update.update_id)
            return web.Response(status=500)
        finally:
            handling.over = True
            handling_var.reset(token)
        if handling.duplicate:
            # Handled by another delivery: answered only once its replies went out, and by
            # this one when that delivery died before sending them all.
            try:
                await self._send_what_is_left(update)
            except TelegramError:
                # Telegram refused again: leave the rest to its next delivery (bounded).
                handling.replies_left = handling.recorded = True
                return await self._failed(update.update_id, handling)
            except Exception:
                log.exception(
                    "webhook: the replies of update %s could not be sent", update.update_id
                )
                return web.Response(status=500)
            return web.Response(text="already handled")
        if handling.failed:
            return await self._failed(update.update_id, handling)
        return web.Response(text="ok")

    async def _send_what_is_left(self, update: Update) -> None:
        """Wait for the replies of another delivery of this update; send what it left."""
        services = self.services
        left = await take_over(services.db, update.update_id)
        if left is None:
            return
        caller = caller_of(update)
        if caller is not None:
            try:
                await deliver(
                    self.application.bot,
                    services.renderer,
                    left.outcome,
                    caller.chat_id,
                    update.callback_query,
                    left.progress,
                )
            except Exception:
                await left.progress.release()
                raise
        else:
            await left.progress.sent(left.progress.done, last=True)
        if update.callback_query is not None:
            await answer_query(update.callback_query)

    async def _failed(self, update_id: int, handling: Handling) -> web.Response:
        """Answer 500 so Telegram delivers the update again (up to MAX_ATTEMPTS times)."""
        if handling.recorded and not handling.replies_left:
            # The handler's writes were committed; what failed came after (logged by on_error)
            # and left nothing to send. A redelivery would find the record and change nothing,
            # and would only hold up this chat's next updates.
            return web.Response(text="handled; a reply failed")
        if len(self._failures) > 10_000:  # a bound; lost counts only mean more attempts
            self._failures.clear()
        attempts = self._failures[update_id] = self._failures.get(update_id, 0) + 1
        if attempts < MAX_ATTEMPTS:
            return web.Response(status=500)
        del self._failures[update_id]
        log.error("webhook: giving up on update %s after %s failed attempts", update_id, attempts)
        if handling.recorded:  # its replies could not be sent: forget them
            try:
                await Progress(update_id, db=self.services.db).give_up()
            except Exception:
                log.exception("webhook: could not forget the replies of update %s", update_id)
                return web.Response(status=500)
            return web.Response(text="given up")
        try:
            await _record_alone(self.services.db, update_id, handling.now)
        except Exception:
            log.exception("webhook: could not record update %s", update_id)
            return web.Response(status=500)
        return web.Response(text="given up")

    async def _on_health(self, request: web.Request) -> web.Response:
        """200 when the database answers, else 503 (the proxy then sends updates elsewhere)."""
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                async with self.services.db.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except Exception as error:
            log.warning("health check: the database does not answer: %r", error)
            return web.Response(status=503, text="database unavailable")
        return web.Response(text="ok")


def _seconds_of(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def serve(application: AnyApplication, settings: WebhookSettings) -> None:
    """Run in webhook mode until SIGINT or SIGTERM (`samenopvoeden run --webhook`)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    server = WebhookServer(application, settings)
    await server.start()
    try:
        await stopping.wait()
    finally:
        await server.stop()
        await server.services.db.dispose()
