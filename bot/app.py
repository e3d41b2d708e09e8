"""Wire the application: settings, database, renderer, clock and handlers (one place)."""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import Application, Defaults

from bot import handlers, org_overview
from bot.clock import Clock, SystemClock
from bot.delivery import set_default_menus
from bot.digest import plan_weekly
from bot.handlers import Services
from bot.outbox import Deliverer, Report
from bot.render import Renderer
from bot.transport import TOKEN_SHAPE, AiohttpRequest
from bot.updates import CONCURRENT_UPDATES, PerPersonOrder
from flows import checkins, housekeeping, measurement, meetings, prompts, retention
from flows.plan import review as plan_review
from flows.planning import in_pages
from flows.settings import CheckinRules, MeetingRules, RouteSettings
from storage.db import Database

# Opt in to python-telegram-bot's coming behaviour: RetryAfter.retry_after as a timedelta
# (reading it as an int is deprecated); the outbox handles both.
os.environ.setdefault("PTB_TIMEDELTA", "true")

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
log = logging.getLogger(__name__)

HIDDEN_TOKEN = "<token>"  # noqa: S105 - the placeholder shown instead of a token


class TokenRedactor(logging.Filter):
    """Hide bot tokens in a log record: its message, its arguments and its traceback text.

    Network errors can carry the request URL, `.../bot<TOKEN>/sendMessage`, and a token in a
    log file gives anyone who reads it the bot and every conversation.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def redact(self, text: str) -> str:
        for token in self.tokens:
            text = text.replace(token, HIDDEN_TOKEN)
        return TOKEN_SHAPE.sub(HIDDEN_TOKEN, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format: keep both
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text once set, so the traceback is written only redacted.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_REDACTOR = TokenRedactor()


def hide_token_in_logs(token: str) -> TokenRedactor:
    """Redact `token` in every log record of this process, whichever logger or handler.

    A record factory rather than a handler filter: it also covers handlers added later (a
    test's caplog, a library's own) and records of every logger. Installed once.
    """
    _REDACTOR.tokens.add(token)
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "redacts_tokens", False):

        def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = factory(*args, **kwargs)
            _REDACTOR.filter(record)
            return record

        redacting_factory.redacts_tokens = True  # type: ignore[attr-defined]  # marks it once
        logging.setLogRecordFactory(redacting_factory)
    return _REDACTOR


PLAN_EVERY = dt.timedelta(seconds=30)
DELIVER_EVERY = dt.timedelta(seconds=2)
# A delivery run that sent something looks for more this many seconds later, and hands the
# turn to another instance only after a second without sends (bot/outbox/deliverer.py).
DELIVERY_LINGER = 1.0
# Blanking old outbox payloads reads every final row's index entry: once an hour is enough.
TIDY_EVERY = dt.timedelta(hours=1)


def build_application(
    *,
    token: str,
    db: Database,
    route: RouteSettings,
    base_url: str | None = None,
    clock: Clock | None = None,
    renderer: Renderer | None = None,
    checkin_rules: CheckinRules | None = None,
    meeting_rules: MeetingRules | None = None,
    messages_per_second: float = 30.0,
    updates_at_once: int = CONCURRENT_UPDATES,
    clock_jobs: bool = True,
    read_timeout: float | None = None,
    updater: bool = True,
) -> AnyApplication:
    """Build the python-telegram-bot Application with our handlers and services.

    `updater=False` for webhook mode: our own web server feeds `process_update` (bot/webhook.py).
    """
    hide_token_in_logs(token)
    builder = (
        Application.builder()
        .token(token)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .post_init(_post_init)
        .concurrent_updates(PerPersonOrder(updates_at_once))
    )
    if base_url:
        builder = builder.base_url(base_url)
    # aiohttp instead of python-telegram-bot's default httpx: bot/transport.py says why.
    builder = builder.request(
        AiohttpRequest(read_timeout=5.0 if read_timeout is None else read_timeout)
    ).get_updates_request(AiohttpRequest(connection_pool_size=1))
    if not updater:
        builder = builder.updater(None)
    application = builder.build()
    services = Services(
        db=db,
        renderer=renderer or Renderer(),
        clock=clock or SystemClock(),
        route=route,
        checkin_rules=checkin_rules or CheckinRules(),
        meeting_rules=meeting_rules or MeetingRules(),
    )
    services.deliverer = Deliverer(
        db=db,
        bot=application.bot,
        renderer=services.renderer,
        clock=services.clock,
        per_second=messages_per_second,
        quiet=services.checkin_rules.quiet,
    )
    application.bot_data["services"] = services
    handlers.register(application)
    if clock_jobs and application.job_queue is not None:
        # APScheduler (via the JobQueue) is only the clock; the database says what is due.
        application.job_queue.run_repeating(_plan_job, interval=PLAN_EVERY, first=1)
        application.job_queue.run_repeating(_deliver_job, interval=DELIVER_EVERY, first=2)
    return application


async def plan(application: AnyApplication) -> int:
    """Put everything that is due now into the outbox; return how many messages were queued.

    What goes through every participant runs in pages, each its own transaction (flows.planning).
    """
    services: Services = application.bot_data["services"]
    db, now, rules = services.db, services.clock.now(), services.checkin_rules
    meeting_rules = services.meeting_rules
    async with db.session() as session:
        await checkins.tidy(session, now)
        erased = await retention.purge(session, now, services.route.retention_days)
    if erased:
        log.info("retention: erased %d placements closed longer than the retention period", erased)
    await tidy(application, now)
    queued = await in_pages(db, lambda s, after: checkins.plan_weekly(s, now, rules, after))
    queued += await in_pages(db, lambda s, after: checkins.plan_reminders(s, now, rules, after))
    queued += await in_pages(db, lambda s, after: prompts.plan(s, now, rules, after))
    async with db.session() as session:
        queued += await meetings.plan(session, now, meeting_rules, rules)
    async with db.session() as session:
        queued += await plan_review.plan(session, now)
    # The digests: a transaction per begeleider (flows.digest_plan).
    queued += await plan_weekly(db, services.renderer, now, services.route.signals, meeting_rules)
    async with db.session() as session:
        queued += await measurement.plan_results(session, now)
    async with db.session() as session:
        queued += await org_overview.plan_weekly(
            session, services.renderer, now, services.route.signals, meeting_rules
        )
    return queued


async def tidy(application: AnyApplication, now: dt.datetime) -> None:
    """Once an hour by the clock: blank old outbox payloads, forget unconsented visitors."""
    services: Services = application.bot_data["services"]
    last: dt.datetime | None = application.bot_data.get("tidied_at")
    if last is not None and last <= now < last + TIDY_EVERY:
        return
    async with services.db.session() as session:
        done = await housekeeping.tidy(session, now, services.route.outbox_keep_days)
    application.bot_data["tidied_at"] = now
    if done.payloads_blanked or done.visitors_forgotten:
        log.info(
            "housekeeping: blanked %d outbox payloads, forgot %d unconsented visitors",
            done.payloads_blanked,
            done.visitors_forgotten,
        )


async def deliver(application: AnyApplication) -> Report:
    """Send what is due in the outbox."""
    services: Services = application.bot_data["services"]
    assert services.deliverer is not None  # made in build_application
    return await services.deliverer.run_until_idle()


async def tick(application: AnyApplication) -> Report:
    """One beat of the clock: plan, then deliver. Tests call this with a fake clock."""
    await plan(application)
    return await deliver(application)


async def _plan_job(context: Any) -> None:
    try:
        await plan(context.application)
    except Exception:  # the next beat tries again; a crash here must not stop the clock
        log.exception("planning failed")


async def _deliver_job(context: Any) -> None:
    application: AnyApplication = context.application
    services: Services = application.bot_data["services"]
    assert services.deliverer is not None  # made in build_application
    try:
        # python-telegram-bot waits for running jobs when it stops; `running` turns False first,
        # so a big fan-out stops claiming at once and the stop is prompt.
        await services.deliverer.run_until_idle(
            keep_claiming=lambda: application.running, linger=DELIVERY_LINGER
        )
    except Exception:  # the next beat tries again
        log.exception("delivery failed")


async def _post_init(application: AnyApplication) -> None:
    """Learn the bot's username (for invite links) and set everyone's command menu."""
    services: Services = application.bot_data["services"]
    me = await application.bot.get_me()
    if me.username:
        services.bot_username = me.username
    await set_default_menus(application.bot, services.renderer)


async def start_polling(application: AnyApplication, *, poll_timeout: int = 10) -> None:
    """Start the application and long polling inside the running loop (tests, demo)."""
    await application.initialize()
    await _post_init(application)
    await application.start()
    assert application.updater is not None  # built with the default updater
    await application.updater.start_polling(
        poll_interval=0, timeout=poll_timeout, allowed_updates=Update.ALL_TYPES
    )


async def start_without_updater(application: AnyApplication) -> None:
    """Start the application and its clock, for a web server that feeds it updates (webhook)."""
    await application.initialize()
    await _post_init(application)
    await application.start()


async def stop_polling(application: AnyApplication) -> None:
    """Stop polling and the application, in the order python-telegram-bot expects."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()
