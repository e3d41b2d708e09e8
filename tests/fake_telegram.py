"""The sandbox's fake Bot API on a thread of its own, for commands that run their own loop.

`bot.cli.main([...])` calls `asyncio.run` itself, so the fake Telegram it talks to cannot live
in the test's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from bot.sandbox import Sandbox

TOKEN = "123456:SANDBOX-TOKEN-FOR-THE-CHECKS"
USERNAME = "samenopvoeden_check_bot"


@contextlib.contextmanager
def threaded_sandbox() -> Iterator[Sandbox]:
    """A started sandbox (token TOKEN, bot @USERNAME) served from a background thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-telegram", daemon=True)
    thread.start()
    sandbox = Sandbox(TOKEN, bot_username=USERNAME)
    try:
        asyncio.run_coroutine_threadsafe(sandbox.start(), loop).result(timeout=10)
        try:
            yield sandbox
        finally:
            asyncio.run_coroutine_threadsafe(sandbox.stop(), loop).result(timeout=10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
