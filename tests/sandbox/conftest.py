"""Fixtures: a running sandbox, a PTB Bot on it, and a tiny PTB Application to talk to."""

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.sandbox import Sandbox

TOKEN = "123456:SANDBOX-TOKEN"
KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Ja", callback_data="ja"),
            InlineKeyboardButton("Nee", callback_data="nee"),
        ]
    ]
)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """A started sandbox with a short quiet period to keep tests fast."""
    async with Sandbox(TOKEN, quiet_period=0.08, settle_timeout=5.0) as running:
        yield running


def make_bot(sandbox: Sandbox, **kwargs: float) -> Bot:
    """A real PTB Bot talking to the sandbox."""
    return Bot(TOKEN, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url, **kwargs)


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[Bot]:
    """An initialized PTB Bot (initialize calls getMe)."""
    async with make_bot(sandbox) as running:
        yield running


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    payload = " ".join(context.args or [])
    await update.effective_message.reply_html(
        f"Welkom <b>{update.effective_user.first_name if update.effective_user else ''}</b>!"
        f"\ncode: {payload or '-'}",
        reply_markup=KEYBOARD,
    )


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"Echo: {update.effective_message.text}")


async def _photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("Ik heb nu geen foto nodig.")


async def _button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(f"Gekozen: {query.data}")
    await query.edit_message_text(f"Je koos <i>{query.data}</i>.", parse_mode="HTML")


@pytest.fixture
async def app(sandbox: Sandbox) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """A polling PTB Application with /start, echo, photo and button handlers."""
    application = (
        Application.builder()
        .token(TOKEN)
        .base_url(sandbox.base_url)
        .base_file_url(sandbox.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", _start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    application.add_handler(MessageHandler(filters.PHOTO, _photo))
    application.add_handler(CallbackQueryHandler(_button))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=5)
    yield application
    await application.updater.stop()
    await application.stop()
    await application.shutdown()
