"""The bot's aiohttp transport (bot/transport.py) against the sandbox: the calls the bot makes
arrive as Telegram would read them, and each failure is told apart as the outbox needs it
(`never_sent`: safe to send again, or it may have arrived)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.sandbox import Sandbox
from bot.transport import AiohttpRequest, never_sent

TOKEN = "123456:TRANSPORT"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(TOKEN, quiet_period=0.05) as running:
        yield running


def bot_on(base_url: str, request: AiohttpRequest | None = None) -> Bot:
    return Bot(TOKEN, base_url=base_url, request=request or AiohttpRequest())


async def test_messages_buttons_edits_and_files_arrive_as_sent(sandbox: Sandbox) -> None:
    bea = sandbox.person(1001, "Bea", started=True)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ja & nee", callback_data="ck:1:0:ja")]])
    async with bot_on(sandbox.base_url) as bot:
        sent = await bot.send_message(
            1001, "<b>Hoe gaat het?</b> é ✓", parse_mode=ParseMode.HTML, reply_markup=markup
        )
        await bot.edit_message_text(
            "Gekozen ✓", chat_id=1001, message_id=sent.message_id, reply_markup=markup
        )
        await bot.send_document(1001, b"naam;waarde\nOlga;3\n", filename="gegevens.csv")
        await bot.send_photo(1001, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, caption="Grafiek")
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(999, "niemand")
    edited, document, photo = bea.chat
    assert (edited.text, edited.edited) == ("Gekozen ✓", True)
    assert edited.buttons == [[("Ja & nee", "ck:1:0:ja")]]
    assert document.document is not None
    assert (document.document.filename, document.document.data) == (
        "gegevens.csv",
        b"naam;waarde\nOlga;3\n",
    )
    assert photo.photo is not None
    assert photo.caption == "Grafiek"
    assert [c.method for c in sandbox.calls if c.ok][-4:] == [
        "sendMessage",
        "editMessageText",
        "sendDocument",
        "sendPhoto",
    ]


@pytest.mark.parametrize(
    ("fault", "error", "safe_to_resend"),
    [
        ("read_timeout", TimedOut, False),  # processed, answered too late: it may have arrived
        ("drop", NetworkError, False),  # the connection closed mid-request: it may have arrived
        ("500", NetworkError, True),  # Telegram answered that it did not process it
    ],
)
async def test_a_failed_call_says_whether_it_may_have_arrived(
    sandbox: Sandbox, fault: str, error: type[Exception], safe_to_resend: bool
) -> None:
    sandbox.person(1001, "Bea", started=True)
    sandbox.inject("sendMessage", fault, times=1, delay=1.0)
    async with bot_on(sandbox.base_url, AiohttpRequest(read_timeout=0.3)) as bot:
        with pytest.raises(error) as caught:
            await bot.send_message(1001, "aangekomen?")
    assert isinstance(caught.value, NetworkError)
    assert never_sent(caught.value) is safe_to_resend


async def test_no_connection_means_never_sent() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/sendMessage")
    finally:
        await request.shutdown()
    assert never_sent(caught.value)


async def test_waiting_too_long_for_a_free_connection_means_never_sent(sandbox: Sandbox) -> None:
    sandbox.person(1001, "Bea", started=True)
    sandbox.inject("sendMessage", "read_timeout", times=1, delay=1.0)
    # Waiting for a slot and connecting share aiohttp's `connect` limit: 0.1 + 0.1 s here.
    request = AiohttpRequest(
        connection_pool_size=1, read_timeout=3.0, pool_timeout=0.1, connect_timeout=0.1
    )
    async with bot_on(sandbox.base_url, request) as bot:
        slow = asyncio.create_task(bot.send_message(1001, "langzaam"))
        await asyncio.sleep(0.1)  # the one connection is now taken by the slow call
        with pytest.raises(TimedOut) as caught:
            await bot.send_message(1001, "wacht")
        await slow
    assert never_sent(caught.value)
    assert [c.params.get("text") for c in sandbox.calls_to("sendMessage")] == ["langzaam"]
