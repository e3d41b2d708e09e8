"""Numbers carried in button data, read strictly: a forged press must never reach the database.

Telegram gives back whatever callback data a client sends, so `pl:99999999999999999999` or
`mv:1e9` arrive as easily as the buttons we made. A database id is 1 … 2**31-1 (PostgreSQL's
integer; asyncpg refuses anything larger with an error instead of "not found"); an index or a
small choice is 0 … its limit. Only ASCII digits in their plain form count: no sign, no
exponent, no leading zero ("007"), no other scripts' digits ("²" passes str.isdigit).
"""

from __future__ import annotations

import re

ID_MAX = 2**31 - 1
_PLAIN = re.compile(r"0|[1-9][0-9]{0,9}")


class BadNumber(ValueError):
    """Button data that is not a number we could have made."""


def _plain(text: str | None) -> int | None:
    if text is None or not _PLAIN.fullmatch(text):
        return None
    return int(text)


def parse_id(text: str | None) -> int:
    """Return the database id in button data, or raise BadNumber."""
    value = _plain(text)
    if value is None or not 1 <= value <= ID_MAX:
        raise BadNumber(text)
    return value


def small_number(text: str | None, limit: int = ID_MAX) -> int | None:
    """Return the number 0 … limit in button data, or None when it is anything else."""
    value = _plain(text)
    return value if value is not None and value <= limit else None
