"""A strict local fake of the Telegram Bot API, with people to act in it."""

from bot.sandbox.html import EntityParseError, ParsedText, parse_html, utf16_len
from bot.sandbox.limits import FloodLimits
from bot.sandbox.models import ApiCall, ChatMessage, FileInfo, Stats
from bot.sandbox.people import Person
from bot.sandbox.server import FAULTS, Sandbox

__all__ = [
    "FAULTS",
    "ApiCall",
    "ChatMessage",
    "EntityParseError",
    "FileInfo",
    "FloodLimits",
    "ParsedText",
    "Person",
    "Sandbox",
    "Stats",
    "parse_html",
    "utf16_len",
]
