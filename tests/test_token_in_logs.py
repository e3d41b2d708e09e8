"""The bot token never reaches a log: not in messages, arguments or tracebacks (bot/app.py)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import NetworkError

from bot.app import build_application, hide_token_in_logs
from bot.transport import AiohttpRequest
from flows.settings import RouteSettings
from storage.db import Database

TOKEN = "7654321:AAH-secret_Token-for-the-log-test-123"
PTB = logging.getLogger("telegram.ext.Updater")  # where PTB logs failed network calls


@pytest.fixture
async def not_http() -> AsyncIterator[int]:
    """A port that answers with something that is not HTTP: aiohttp names the URL then."""

    async def answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def failed_call(port: int) -> NetworkError:
    bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=AiohttpRequest())
    await bot.request.initialize()
    try:
        await bot.get_me()
    except NetworkError as error:
        return error
    finally:
        await bot.request.shutdown()
    raise AssertionError("the call should have failed")


async def test_a_url_in_a_network_error_is_logged_without_the_token(
    not_http: int, caplog: pytest.LogCaptureFixture
) -> None:
    hide_token_in_logs(TOKEN)
    error = await failed_call(not_http)
    # aiohttp's own error names the URL with the token: this is what must not reach a log.
    assert TOKEN in str(error.__cause__)
    assert TOKEN not in str(error)  # the transport's message names the method only
    assert "getMe" in str(error)
    with caplog.at_level(logging.ERROR):
        try:
            raise error
        except NetworkError:
            PTB.exception("Error while getting Updates: %s", error.__cause__)
    assert "Error while getting Updates" in caplog.text
    assert "Traceback" in caplog.text
    assert TOKEN not in caplog.text
    assert "<token>" in caplog.text


async def test_a_closed_port_is_logged_without_the_token(caplog: pytest.LogCaptureFixture) -> None:
    hide_token_in_logs(TOKEN)
    port = closed_port()
    error = await failed_call(port)
    with caplog.at_level(logging.WARNING):
        PTB.warning(
            "POST %s failed: %s",
            f"http://127.0.0.1:{port}/bot{TOKEN}/getMe",
            error,
            exc_info=error,
        )
    assert "failed" in caplog.text
    assert str(port) in caplog.text
    assert TOKEN not in caplog.text
    for record in caplog.records:
        assert TOKEN not in record.getMessage()


def test_the_application_hides_its_token_from_every_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = "1122334:ZZ-another_token_the_app_was_given_99"
    db = Database("sqlite://")
    build_application(token=token, db=db, route=RouteSettings(), clock_jobs=False)
    with caplog.at_level(logging.INFO):
        logging.getLogger("aiohttp.client").info("calling %s", f"/bot{token}/sendMessage")
        logging.getLogger("somewhere.else").info(f"token is {token}")
    assert caplog.text.count("<token>") == 2
    assert token not in caplog.text
    # Even a token of a shape this process was never given is hidden (e.g. an old one).
    with caplog.at_level(logging.INFO):
        logging.getLogger("x").info("old: 999999:ABCDEFGHIJKLMNOPQRSTUVWXYZ_-012")
    assert "ABCDEFGHIJKLMNOPQRSTUVWXYZ" not in caplog.text
