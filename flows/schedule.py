"""When things are due, in the person's own wall-clock time (DST-safe, no 02:00-03:00)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flows.route import CHECKIN_MOMENT, DIGEST_MOMENT
from flows.settings import QuietHours
from storage.models import Role

# The hour in which clocks jump or repeat in Europe; nothing is scheduled inside it.
UNSAFE_HOUR = 2


def safe_time(value: dt.time) -> dt.time:
    """Move a time inside 02:00-03:00 to 03:00: that hour may not exist, or exist twice."""
    if value.hour == UNSAFE_HOUR:
        return dt.time(UNSAFE_HOUR + 1, 0)
    return value


def at_local(day: dt.date, at: dt.time, zone: str) -> dt.datetime:
    """The UTC instant of a local wall-clock time on a day (earlier one if it repeats)."""
    local = dt.datetime.combine(day, safe_time(at), tzinfo=ZoneInfo(zone))
    return local.astimezone(dt.UTC)


def local_date(instant: dt.datetime, zone: str) -> dt.date:
    return instant.astimezone(ZoneInfo(zone)).date()


def week_key(day: dt.date) -> str:
    """ISO week of a date, e.g. '2026-W10'."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_number(day: dt.date) -> int:
    return day.isocalendar()[1]


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def weekly_due(now: dt.datetime, weekday: int, at: dt.time, zone: str) -> dt.datetime:
    """This local week's due instant for a weekly event (it may lie before or after now)."""
    monday = monday_of(local_date(now, zone))
    return at_local(monday + dt.timedelta(days=weekday), at, zone)


def out_of_quiet_hours(instant: dt.datetime, zone: str, quiet: QuietHours) -> dt.datetime:
    """The same instant, or the end of the quiet hours it falls in."""
    tz = ZoneInfo(zone)
    local = instant.astimezone(tz)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return instant
    day = local.date()
    if quiet.start > quiet.end and local.time().replace(tzinfo=None) >= quiet.start:
        day += dt.timedelta(days=1)  # evening part: quiet ends tomorrow morning
    return at_local(day, quiet.end, zone)


def checkin_moment(role: Role, weekday: int | None, at: dt.time | None) -> tuple[int, dt.time]:
    """The person's chosen check-in day and time, or the role's default."""
    default_day, default_time = CHECKIN_MOMENT[role]
    return (default_day if weekday is None else weekday, default_time if at is None else at)


def digest_moment(weekday: int | None, at: dt.time | None) -> tuple[int, dt.time]:
    """The begeleider's chosen digest day and time, or Monday 08:30."""
    default_day, default_time = DIGEST_MOMENT
    return (default_day if weekday is None else weekday, default_time if at is None else at)
