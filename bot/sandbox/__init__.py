"""A strict local fake of the Telegram Bot API, with people to act in it.

Usage::

    async with Sandbox(bot_username="samenopvoeden_bot") as sandbox:
        application = Application.builder().token(sandbox.token).base_url(
            sandbox.base_url).base_file_url(sandbox.base_file_url).build()
        ...  # initialize, start, updater.start_polling()
        bea = sandbox.person(1001, "Bea")
        replies = await bea.send("/start abc")   # bot messages new or edited, once settled
        await bea.click("Ja, ik doe mee")
        assert sandbox.errors == []
        print(sandbox.transcript(labels={1001: "Bea (begeleider)"}))
        print(sandbox.timeline(zone=ZoneInfo("Europe/Amsterdam")))  # all chats, in time order

``Sandbox(clock=...)`` dates messages by another clock (the demo's fake one); ``timeline``
shows all chats as one story in time order, each message as it was then (bot/sandbox/timeline.py).
"""

from bot.sandbox.html import EntityParseError, ParsedText, parse_html, utf16_len
from bot.sandbox.limits import FloodLimits
from bot.sandbox.models import ApiCall, ChatMessage, FileInfo, MessageVersion, Stats
from bot.sandbox.people import Person
from bot.sandbox.server import FAULTS, Sandbox

__all__ = [
    "FAULTS",
    "ApiCall",
    "ChatMessage",
    "EntityParseError",
    "FileInfo",
    "FloodLimits",
    "MessageVersion",
    "ParsedText",
    "Person",
    "Sandbox",
    "Stats",
    "parse_html",
    "utf16_len",
]
