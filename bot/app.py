"""Wire the application: settings, database, renderer, clock and handlers (one place)."""

from __future__ import annotations

from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import Application, Defaults

from bot import handlers
from bot.clock import Clock, SystemClock
from bot.delivery import set_default_menus
from bot.handlers import Services
from bot.render import Renderer
from flows.settings import RouteSettings
from storage.db import Database

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def build_application(
    *,
    token: str,
    db: Database,
    route: RouteSettings,
    base_url: str | None = None,
    clock: Clock | None = None,
    renderer: Renderer | None = None,
) -> AnyApplication:
    """Build the python-telegram-bot Application with our handlers and services."""
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
    )
    if base_url:
        builder = builder.base_url(base_url)
    application = builder.build()
    application.bot_data["services"] = Services(
        db=db,
        renderer=renderer or Renderer(),
        clock=clock or SystemClock(),
        route=route,
    )
    handlers.register(application)
    return application


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


async def stop_polling(application: AnyApplication) -> None:
    """Stop polling and the application, in the order python-telegram-bot expects."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()
