"""Reading dates and times the way people type them in Dutch (and plain English) chats.

`read_moment` reads a meeting moment and says *what* is wrong when it cannot use it (a `Problem`
with a reason code and the part typed); `parse_moment` and `parse_date` are the simple entry
points (None when not understood). Own rules, no date library: see the README, "Libraries and
why" (dateparser read "morgen 2 uur" as 15:20 and "11-12 om 10 uur" as tonight 23:20).

How a typed text is read: it is lower-cased, accents and apostrophes go, punctuation becomes a
space; then each kind of part is taken out in turn (dates with digits, month names, holidays,
relative days, weekdays, then times and dagdelen). What is left must be filler words ("om",
"rond", "graag", "uur", ...); anything else means the text is not understood.

Hours 1 to 7 without a dagdeel are afternoon for meetings ("morgen 2 uur" = 14:00, "half vier" =
15:30), unless typed with a leading zero ("07:30"); 8 to 12 stay morning; "ochtend" keeps the hour,
"middag" and "avond" add 12 to hours 1 to 11. `now` is local wall-clock time; results are naive.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

MONTHS = {
    "jan": 1, "januari": 1, "january": 1,
    "feb": 2, "febr": 2, "februari": 2, "february": 2,
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
RELATIVE = {
    "eergisteren": -2, "gisteren": -1, "yesterday": -1, "vandaag": 0, "today": 0,
    "morgen": 1, "tomorrow": 1, "overmorgen": 2,
}  # fmt: skip
WEEKDAYS = {
    "maandag": 0, "ma": 0, "monday": 0, "mon": 0,
    "dinsdag": 1, "di": 1, "tuesday": 1, "tue": 1, "tues": 1,
    "woensdag": 2, "wo": 2, "woe": 2, "wednesday": 2, "wed": 2,
    "donderdag": 3, "do": 3, "don": 3, "thursday": 3, "thu": 3, "thur": 3, "thurs": 3,
    "vrijdag": 4, "vr": 4, "vrij": 4, "friday": 4, "fri": 4,
    "zaterdag": 5, "za": 5, "zat": 5, "saturday": 5, "sat": 5,
    "zondag": 6, "zo": 6, "zon": 6, "sunday": 6, "sun": 6,
}  # fmt: skip
NUMBERS = {
    "een": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7, "acht": 8,
    "negen": 9, "tien": 10, "elf": 11, "twaalf": 12, "dertien": 13, "veertien": 14,
    "vijftien": 15, "zestien": 16, "zeventien": 17, "achttien": 18, "negentien": 19,
    "twintig": 20, "eenentwintig": 21, "tweeentwintig": 22, "drieentwintig": 23,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
# Parts of the day, as typed -> the one word kept (ochtend, middag, avond, nacht).
DAYPARTS = {
    "ochtend": "ochtend", "ochtends": "ochtend", "morgens": "ochtend", "vroeg": "ochtend",
    "morning": "ochtend", "middag": "middag", "middags": "middag", "afternoon": "middag",
    "avond": "avond", "avonds": "avond", "evening": "avond", "nacht": "nacht", "nachts": "nacht",
}  # fmt: skip
# Words that may surround a moment and mean nothing for it.
FILLER = frozenset({
    "om", "rond", "rondom", "ca", "circa", "omstreeks", "ongeveer", "graag", "uur", "u", "h",
    "op", "de", "het", "van", "in", "tegen", "vanaf", "aanstaande", "as", "komende", "deze",
    "a", "at", "on", "the", "around", "about", "this", "s", "bij", "voorkeur", "liefst", "dan",
    "en", "of", "pls", "please", "maar", "dus",
})  # fmt: skip

# Reason codes of a Problem.
UNREADABLE = "unreadable"  # nothing usable: the reply with examples
NO_SUCH_DAY = "no_such_day"  # "31 februari", "32-3": that day does not exist
BAD_TIME = "bad_time"  # "25:00", "14:75": that time does not exist
PAST = "past"  # "gisteren 10:00", or today at an hour that has gone
NO_TIME = "no_time"  # a day without a time: ask the time, keep the day (and dagdeel)
NO_DAY = "no_day"  # a time without a day: ask the day, keep the time
OTHER_WEEKDAY = "other_weekday"  # "donderdag 11 december" when that is a Friday
TOO_FAR = "too_far"  # further ahead than the caller allows (set by the caller)


@dataclass(frozen=True)
class Moment:
    """A moment that was read: naive local wall-clock time."""

    at: dt.datetime


@dataclass(frozen=True)
class Problem:
    """Why a typed moment cannot be used, and the part that was wrong as it was typed.

    `day`, `time` and `daypart` keep what *was* understood, so a follow-up can complete it;
    `at` is the whole moment that was read (for PAST and TOO_FAR).
    """

    code: str
    part: str = ""
    day: dt.date | None = None
    time: dt.time | None = None
    daypart: str | None = None
    at: dt.datetime | None = None


@dataclass
class _Parts:
    """What was found in a text, before it is checked against `now`."""

    date: dt.date | None = None  # a date that is fixed (with or without a year)
    date_text: str = ""
    year_given: bool = True  # False: a day and month only, next year's once passed
    offset: int | None = None  # days from today ("morgen", "over 3 dagen")
    weeks: int | None = None  # calendar weeks ahead ("volgende week", "over 2 weken")
    weekday: int | None = None
    holiday: Callable[[int], dt.date] | None = None
    clock: tuple[int, int, bool] | None = None  # hour, minute, fixed (no afternoon guess)
    ampm: str | None = None
    time_text: str = ""
    daypart: str | None = None
    problems: list[Problem] = field(default_factory=list)
    needs_weekday: bool = False  # "volgende week" says which week, not which day
    clash: bool = False  # two dates or two times in one text
    days_named: int = 0  # how many parts name a day (more than one: not understood)


def easter(year: int) -> dt.date:
    """Easter Sunday in the Gregorian calendar (the anonymous algorithm of Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _fixed(month: int, day: int) -> Callable[[int], dt.date]:
    return lambda year: dt.date(year, month, day)


def _after_easter(days: int) -> Callable[[int], dt.date]:
    return lambda year: easter(year) + dt.timedelta(days=days)


def _koningsdag(year: int) -> dt.date:
    day = dt.date(year, 4, 27)
    return day - dt.timedelta(days=1) if day.weekday() == 6 else day


_FIRST = r"(?:eerste|1e|1ste)\s*"
_SECOND = r"(?:tweede|2e|2de)\s*"
HOLIDAYS: list[tuple[str, Callable[[int], dt.date]]] = [
    (_FIRST + r"kerstdag|kerstmis|kerst|christmas(?:\s+day)?", _fixed(12, 25)),
    (_SECOND + r"kerstdag|boxing\s+day", _fixed(12, 26)),
    (r"kerstavond", _fixed(12, 24)),
    (r"oudejaarsdag|oudjaarsdag|oudejaarsavond|oudjaarsavond|oudjaar|oudejaar", _fixed(12, 31)),
    (r"nieuwjaarsdag|nieuwjaar|new\s+year'?s?\s+day", _fixed(1, 1)),
    (r"koningsdag", _koningsdag),
    (r"bevrijdingsdag", _fixed(5, 5)),
    (r"goede\s*vrijdag", _after_easter(-2)),
    (_SECOND + r"paasdag|paasmaandag", _after_easter(1)),
    (_FIRST + r"paasdag|paaszondag|pasen|easter", _after_easter(0)),
    (_FIRST + r"(?:hemelvaartsdag|hemelvaart)|hemelvaartsdag|hemelvaart", _after_easter(39)),
    (_SECOND + r"pinksterdag|pinkstermaandag", _after_easter(50)),
    (_FIRST + r"pinksterdag|pinksterzondag|pinksteren", _after_easter(49)),
]

_NUMBER_WORD = "|".join(sorted(NUMBERS, key=len, reverse=True))
_HOUR = rf"(\d{{1,2}}|{_NUMBER_WORD})"
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_DAYPART_GLUED = r"(ochtend|morgen|middag|avond|nacht|vroeg)"
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_COUNT = rf"(\d{{1,2}}|{_NUMBER_WORD})"


def _number(text: str) -> int:
    return int(text) if text.isdigit() else NUMBERS[text]


def _normalise(text: str) -> str:
    """Lower case without accents or apostrophes; punctuation (not in dates or times) a space."""
    value = unicodedata.normalize("NFKD", text.lower())
    value = "".join(ch for ch in value if not unicodedata.combining(ch))
    value = re.sub("['`\u2018\u2019]", "", value)
    value = re.sub(r"(\d{4}-\d{1,2}-\d{1,2})t(?=\d)", r"\1 ", value)  # ISO 2026-12-11T10:00
    value = re.sub(r"[.:/-](?!\d)|(?<!\d)[.:/-]", " ", value)  # keep 11-12, 9.30, 14:00
    value = re.sub(r"[^a-z0-9.:/\- ]", " ", value)
    return " ".join(value.split())


class _Reader:
    """Take the parts out of a normalised text, one kind after the other."""

    def __init__(self, value: str) -> None:
        self.rest = f" {value} "
        self.parts = _Parts()

    def take(self, pattern: str, found: Callable[[re.Match[str]], object]) -> None:
        """Call `found` for each match of `pattern` (whole words) and blank the matched text."""
        regex = re.compile(rf"(?<=\s){pattern}(?=\s)")
        while (match := regex.search(self.rest)) is not None:
            self.rest = self.rest[: match.start()] + " " + self.rest[match.end() :]
            found(match)

    def set_date(self, text: str, year: int | None, month: int, day: int) -> None:
        parts = self.parts
        parts.days_named += 1
        parts.date_text = text
        parts.year_given = year is not None
        try:
            parts.date = dt.date(year or 2000, month, day)  # 2000: a leap year, 29-2 exists
        except ValueError:
            parts.problems.append(Problem(NO_SUCH_DAY, text))

    def set_clock(self, text: str, hour: int, minute: int, *, fixed: bool = False) -> None:
        parts = self.parts
        if parts.clock is not None or parts.time_text:
            parts.clash = True
            return
        parts.time_text = text
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            parts.problems.append(Problem(BAD_TIME, text))
            return
        parts.clock = (hour, minute, fixed)

    def set_daypart(self, word: str) -> None:
        part = DAYPARTS.get(word, "ochtend" if word == "morgen" else word)
        if self.parts.daypart not in (None, part):
            self.parts.clash = True
        self.parts.daypart = part

    def set_offset(self, days: int) -> None:
        self.parts.days_named += 1
        self.parts.offset = days


def _read(value: str) -> _Parts:
    """Find the date, time and dagdeel parts of a normalised text."""
    r = _Reader(value)
    p = r.parts

    def iso(m: re.Match[str]) -> None:
        r.set_date(m[0], int(m[1]), int(m[2]), int(m[3]))

    def numeric3(m: re.Match[str]) -> None:
        year = int(m[3]) + 2000 if len(m[3]) == 2 else int(m[3])
        r.set_date(m[0], year, int(m[2]), int(m[1]))

    def numeric2(m: re.Match[str]) -> None:
        r.set_date(m[0], None, int(m[2]), int(m[1]))

    def named(m: re.Match[str]) -> None:
        r.set_date(m[0], int(m[3]) if m[3] else None, MONTHS[m[2]], int(m[1]))

    def holiday(rule: Callable[[int], dt.date]) -> Callable[[re.Match[str]], None]:
        def found(m: re.Match[str]) -> None:
            p.days_named += 1
            p.holiday, p.date_text = rule, m[0]

        return found

    def holiday_year(m: re.Match[str]) -> None:
        if p.holiday is not None and p.date is None:
            p.date = p.holiday(int(m[1]))

    def ahead(m: re.Match[str]) -> None:
        count = 1 if m[1] is None else _number(m[1])
        if m[2].startswith(("dag", "day")):
            r.set_offset(count)
        else:
            p.weeks = count
            p.days_named += 1

    def next_week(m: re.Match[str]) -> None:
        p.weeks, p.needs_weekday = 1, True
        p.days_named += 1

    def relative(m: re.Match[str]) -> None:
        r.set_offset(RELATIVE[m[1]])
        p.date_text = p.date_text or m[1]
        if m[2]:
            r.set_daypart(m[2])

    def this_part(m: re.Match[str]) -> None:
        r.set_offset(0)
        p.date_text = p.date_text or m[0]
        r.set_daypart(m[1] or m[2])

    def weekday(m: re.Match[str]) -> None:
        if p.weekday is not None:
            p.clash = True
        p.weekday = WEEKDAYS[m[1]]
        if m[2]:
            r.set_daypart(m[2])

    def relative_clock(m: re.Match[str]) -> None:
        # "half vier" = 3:30, "kwart voor vier" = 3:45, "tien voor half vier" = 3:20.
        count, direction, half = m[1] or m[6], m[2] or m[7], m[3]
        kwart, kdir, hour_text = m[4], m[5], m[8]
        hour = _number(hour_text)
        if hour > 24:
            r.set_clock(m[0], hour, 0)
            return
        if kwart:
            minutes = hour * 60 + (15 if kdir == "over" else -15)
        else:
            minutes = hour * 60 - (30 if half else 0)
            if count:
                step = _number(count)
                minutes += step if direction == "over" else -step
        r.set_clock(m[0], (minutes // 60) % 24 or (12 if hour <= 12 else 0), minutes % 60)

    def clock(m: re.Match[str]) -> None:
        hour_text, minute = m[1], int(m[2])
        r.set_clock(m[0], int(hour_text), minute, fixed=hour_text.startswith("0"))
        if m[3]:
            p.ampm = m[3]

    def hours(m: re.Match[str]) -> None:
        hour_text = m[1]
        r.set_clock(m[0], _number(hour_text), 0, fixed=hour_text.startswith("0"))
        if m[2]:
            p.ampm = m[2]

    def daypart(m: re.Match[str]) -> None:
        r.set_daypart(m[1])

    ampm = r"(?:\s*(am|pm))?"
    r.take(r"(\d{4})-(\d{1,2})-(\d{1,2})", iso)
    r.take(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})", numeric3)
    r.take(r"(\d{1,2})[-/](\d{1,2})", numeric2)
    r.take(rf"(\d{{1,2}})(?:e|de|ste)?\s*({_MONTH})(?:\s+(\d{{4}}))?", named)
    for pattern, rule in HOLIDAYS:
        r.take(rf"(?:{pattern})", holiday(rule))
    r.take(r"(\d{4})", holiday_year)
    r.take(rf"(?:over|in)\s+(?:{_COUNT}\s+)?(dagen|dag|weken|week|days|day|weeks)", ahead)
    r.take(r"(?:volgende|next)\s+week", next_week)
    r.take(rf"van\s*({_DAYPART_GLUED[1:-1]})|this\s+(morning|afternoon|evening)", this_part)
    r.take(rf"({'|'.join(RELATIVE)}){_DAYPART_GLUED}?", relative)
    r.take(rf"(?:volgende\s+|next\s+)?({_WEEKDAY}){_DAYPART_GLUED}?", weekday)
    r.take(
        rf"(?:(?:{_COUNT}\s+(over|voor)\s+)?(half)|(kwart)\s+(over|voor)|{_COUNT}\s+(over|voor))"
        rf"\s+{_HOUR}",
        relative_clock,
    )
    r.take(rf"(\d{{1,2}})\s*[:hu]\s*(\d{{2}}){ampm}", clock)
    r.take(rf"{_HOUR}\s*(?:uur|u|h|(am|pm))", hours)
    r.take(rf"(?<=om\s){_HOUR}{ampm}", hours)
    r.take(r"(\d{1,2})\.(\d{1,2})", numeric2 if p.clock else clock_or_date(r))
    r.take(rf"(?:s\s*)?({'|'.join(DAYPARTS)})", daypart)
    r.take(r"(\d{1,2})", lambda m: r.set_clock(m[0], int(m[1]), 0, fixed=m[1].startswith("0")))
    leftover = [word for word in r.rest.split() if word not in FILLER]
    if leftover:
        p.problems.insert(0, Problem(UNREADABLE, " ".join(leftover)))
    return p


def clock_or_date(r: _Reader) -> Callable[[re.Match[str]], None]:
    """ "9.30": a time when a date is there already or it cannot be a date; else "11.12" a date."""

    def found(m: re.Match[str]) -> None:
        p = r.parts
        first, second = int(m[1]), int(m[2])
        has_day = p.date_text or p.weekday is not None or p.offset is not None or p.holiday
        if has_day or not (1 <= first <= 31 and 1 <= second <= 12):
            r.set_clock(m[0], first, second, fixed=m[1].startswith("0"))
        else:
            r.set_date(m[0], None, second, first)

    return found


def _clock_time(parts: _Parts, daypart: str | None, *, meeting: bool) -> dt.time | None:
    """The time read, with am/pm, the dagdeel or (for meetings) the afternoon rule applied."""
    if parts.clock is None:
        return None
    hour, minute, fixed = parts.clock
    if parts.ampm == "pm" and hour < 12:
        hour += 12
    elif parts.ampm == "am" and hour == 12:
        hour = 0
    elif parts.ampm is None and not fixed and 1 <= hour <= 12:
        if daypart in ("middag", "avond") and hour < 12:
            hour += 12
        elif daypart == "nacht" and hour == 12:
            hour = 0
        elif daypart is None and meeting and hour <= 7:
            hour += 12
    return dt.time(hour, minute)


def _has_day(parts: _Parts) -> bool:
    return bool(
        parts.date_text or parts.offset is not None or parts.weeks or parts.weekday is not None
    )


def _day(
    parts: _Parts, now: dt.datetime, at: dt.time | None, *, roll: bool = True
) -> dt.date | Problem | None:
    """The day the parts name, counted from `now`; None when they name none (or no one day).

    A day and month without a year that has passed is next year's (`roll`), a holiday the next
    one to come, a weekday the next one to come (today only with a time still ahead).
    """
    today = now.date()
    if parts.days_named > 1:
        return Problem(UNREADABLE, parts.date_text)
    day: dt.date | None = None
    if parts.date is not None:
        day = parts.date
        if not parts.year_given:
            try:
                day = day.replace(year=today.year)
                if roll and day < today:
                    day = day.replace(year=today.year + 1)
            except ValueError:  # 29 February in a year without it
                return Problem(NO_SUCH_DAY, parts.date_text)
    elif parts.holiday is not None:
        day = parts.holiday(today.year)
        if day < today:
            day = parts.holiday(today.year + 1)
    elif parts.offset is not None:
        day = today + dt.timedelta(days=parts.offset)
    elif parts.weeks:
        monday = today - dt.timedelta(days=today.weekday())
        if parts.weekday is not None:
            return monday + dt.timedelta(weeks=parts.weeks, days=parts.weekday)
        if parts.needs_weekday:
            return None
        return today + dt.timedelta(weeks=parts.weeks)
    if parts.weekday is None:
        return day
    if day is not None:
        if day.weekday() != parts.weekday:
            return Problem(OTHER_WEEKDAY, parts.date_text, day=day)
        return day
    ahead = (parts.weekday - today.weekday()) % 7
    if ahead == 0 and (at is None or at <= now.time()):
        ahead = 7
    return today + dt.timedelta(days=ahead)


def read_moment(
    text: str,
    now: dt.datetime,
    *,
    meeting: bool = True,
    day: dt.date | None = None,
    time: dt.time | None = None,
    daypart: str | None = None,
) -> Moment | Problem:
    """Read a day and time as typed; say which part is wrong when it cannot be used.

    `day`, `time` and `daypart` are what an earlier answer left open (a Problem's NO_TIME or
    NO_DAY): a text with only a time completes the day, and the other way round.
    """
    value = _normalise(text)
    if not value:
        return Problem(UNREADABLE)
    parts = _read(value)
    if parts.clash:
        return Problem(UNREADABLE, value)
    if parts.problems:
        return parts.problems[0]
    daypart = parts.daypart or daypart
    at = _clock_time(parts, daypart, meeting=meeting)
    if at is None and not parts.daypart:
        at = time
    found = _day(parts, now, at)
    if isinstance(found, Problem):
        return found
    if found is None and not _has_day(parts):
        found = day
    if found is None:
        if at is None:
            return Problem(UNREADABLE, value)
        return Problem(NO_DAY, parts.time_text, time=at, daypart=daypart)
    if at is None:
        if found < now.date():
            return Problem(PAST, parts.date_text, day=found)
        return Problem(NO_TIME, parts.date_text, day=found, daypart=daypart)
    moment = dt.datetime.combine(found, at)
    if moment <= now:
        return Problem(PAST, value, day=found, time=at, at=moment)
    return Moment(moment)


def read_time(text: str, *, meeting: bool = True, daypart: str | None = None) -> dt.time | Problem:
    """Read a time alone ("14:00", "half drie", "2 uur 's middags")."""
    value = _normalise(text)
    parts = _read(value) if value else _Parts(problems=[Problem(UNREADABLE)])
    if parts.problems:
        return parts.problems[0]
    at = _clock_time(parts, parts.daypart or daypart, meeting=meeting)
    if parts.clash or at is None or _has_day(parts):
        return Problem(UNREADABLE, value)
    return at


def parse_moment(text: str, now: dt.datetime) -> dt.datetime | None:
    """Read a meeting moment: `morgen 14:00`, `donderdag om half vier`, `12 maart 14.00`.

    `now` is local wall-clock time; the result is naive local time, or None when the text is
    not understood or cannot be used (a day without a time, a moment that has passed).
    """
    result = read_moment(text, now)
    return result.at if isinstance(result, Moment) else None


def parse_date(text: str, today: dt.date) -> dt.date | None:
    """Read a day alone: `12-3-2026`, `12/03`, `2026-03-12`, `12 maart`, `vandaag`, `kerst`,
    `vrijdag`, `over 2 weken`; None if unclear.

    A day and month without a year is taken in the year of `today` (it may be in the past);
    weekdays and holidays are the next ones to come.
    """
    value = _normalise(text)
    if not value:
        return None
    parts = _read(value)
    if parts.clash or parts.problems or parts.clock is not None or parts.daypart:
        return None
    found = _day(parts, dt.datetime.combine(today, dt.time.max), None, roll=False)
    return found if isinstance(found, dt.date) else None


__all__ = [
    "BAD_TIME",
    "NO_DAY",
    "NO_SUCH_DAY",
    "NO_TIME",
    "OTHER_WEEKDAY",
    "PAST",
    "TOO_FAR",
    "UNREADABLE",
    "Moment",
    "Problem",
    "easter",
    "parse_date",
    "parse_moment",
    "read_moment",
    "read_time",
]
