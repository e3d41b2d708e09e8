"""Reading dates the way people type them in Dutch or English chats."""

from __future__ import annotations

import datetime as dt
import re

MONTHS = {
    "jan": 1, "januari": 1, "january": 1,
    "feb": 2, "februari": 2, "february": 2,
    "mrt": 3, "maart": 3, "mar": 3, "march": 3,
    "apr": 4, "april": 4,
    "mei": 5, "may": 5,
    "jun": 6, "juni": 6, "june": 6,
    "jul": 7, "juli": 7, "july": 7,
    "aug": 8, "augustus": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9,
    "okt": 10, "oktober": 10, "oct": 10, "october": 10,
    "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}  # fmt: skip
RELATIVE = {"vandaag": 0, "today": 0, "gisteren": -1, "yesterday": -1, "morgen": 1, "tomorrow": 1}

_NUMERIC = re.compile(r"(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{2}|\d{4}))?")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_WORDS = re.compile(r"(\d{1,2})\s+([a-z]+)\.?(?:\s+(\d{4}))?")


def parse_date(text: str, today: dt.date) -> dt.date | None:
    """Read `12-3-2026`, `12/03`, `2026-03-12`, `12 maart 2026`, `vandaag`; None if unclear.

    Without a year, the date is taken in the year of `today`.
    """
    value = " ".join(text.strip().lower().split())
    if value in RELATIVE:
        return today + dt.timedelta(days=RELATIVE[value])
    year: int | None
    if match := _ISO.fullmatch(value):
        year, month, day = (int(group) for group in match.groups())
    elif match := _NUMERIC.fullmatch(value):
        day, month = int(match[1]), int(match[2])
        year = _full_year(match[3]) if match[3] else today.year
    elif (match := _WORDS.fullmatch(value)) and match[2] in MONTHS:
        day, month = int(match[1]), MONTHS[match[2]]
        year = int(match[3]) if match[3] else today.year
    else:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _full_year(text: str) -> int:
    return 2000 + int(text) if len(text) == 2 else int(text)


WEEKDAYS = {
    "maandag": 0, "ma": 0, "monday": 0, "mon": 0,
    "dinsdag": 1, "di": 1, "tuesday": 1, "tue": 1,
    "woensdag": 2, "wo": 2, "wednesday": 2, "wed": 2,
    "donderdag": 3, "do": 3, "thursday": 3, "thu": 3,
    "vrijdag": 4, "vr": 4, "friday": 4, "fri": 4,
    "zaterdag": 5, "za": 5, "saturday": 5, "sat": 5,
    "zondag": 6, "zo": 6, "sunday": 6, "sun": 6,
}  # fmt: skip
_TIME_AT_END = re.compile(r"(?:^|\s)(?:om\s+|at\s+)?(\d{1,2})(?:[:.](\d{2})|\s*u(?:ur)?|\s*h)?$")


def parse_moment(text: str, now: dt.datetime) -> dt.datetime | None:
    """Read a date and time as typed: `12-3 14:00`, `12 maart 14.00`, `morgen 10:00`,
    `dinsdag 9u`. `now` is local wall-clock time; the result is naive local time, or None.

    A date without a year that has passed this year is taken as next year's.
    """
    value = " ".join(text.strip().lower().replace(",", " ").split())
    match = _TIME_AT_END.search(value)
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour > 23 or minute > 59:
        return None
    day_text = value[: match.start()].strip()
    if not day_text:
        return None
    today = now.date()
    at = dt.time(hour, minute)
    if day_text in WEEKDAYS:
        ahead = (WEEKDAYS[day_text] - today.weekday()) % 7
        if ahead == 0 and at <= now.time():
            ahead = 7
        day = today + dt.timedelta(days=ahead)
    else:
        parsed = parse_date(day_text, today)
        if parsed is None:
            return None
        has_year = bool(re.search(r"\d{4}|[-/.]\d{2}$", day_text))
        if parsed < today and not has_year and day_text not in RELATIVE:
            try:
                parsed = parsed.replace(year=parsed.year + 1)
            except ValueError:  # 29 February
                return None
        day = parsed
    return dt.datetime.combine(day, at)
