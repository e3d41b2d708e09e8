"""Schedules in local wall-clock time, across DST, outside quiet hours."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from flows.schedule import (
    at_local,
    checkin_moment,
    out_of_quiet_hours,
    safe_time,
    week_key,
    weekly_due,
)
from flows.settings import QuietHours
from storage.models import Role

AMS = "Europe/Amsterdam"
UTC = dt.UTC


def local(instant: dt.datetime, zone: str = AMS) -> dt.datetime:
    return instant.astimezone(ZoneInfo(zone))


@pytest.mark.parametrize(
    ("now", "expected_utc"),
    [
        # Week before the March change: CET (UTC+1).
        (dt.datetime(2026, 3, 23, 12, tzinfo=UTC), dt.datetime(2026, 3, 29, 17, 0, tzinfo=UTC)),
        # Sunday 29 March 2026 is the change day itself: 19:00 CEST = 17:00 UTC.
        (dt.datetime(2026, 3, 29, 1, tzinfo=UTC), dt.datetime(2026, 3, 29, 17, 0, tzinfo=UTC)),
        # The week before: 22 March, 19:00 CET = 18:00 UTC.
        (dt.datetime(2026, 3, 16, 12, tzinfo=UTC), dt.datetime(2026, 3, 22, 18, 0, tzinfo=UTC)),
        # October: 18 Oct CEST (17:00 UTC), 25 Oct is the change day (CET, 18:00 UTC).
        (dt.datetime(2026, 10, 12, 12, tzinfo=UTC), dt.datetime(2026, 10, 18, 17, 0, tzinfo=UTC)),
        (dt.datetime(2026, 10, 19, 12, tzinfo=UTC), dt.datetime(2026, 10, 25, 18, 0, tzinfo=UTC)),
        (dt.datetime(2026, 10, 26, 12, tzinfo=UTC), dt.datetime(2026, 11, 1, 18, 0, tzinfo=UTC)),
    ],
)
def test_sunday_1900_stays_1900_local_across_dst(
    now: dt.datetime, expected_utc: dt.datetime
) -> None:
    weekday, at = checkin_moment(Role.OUDER, None, None)
    due = weekly_due(now, weekday, at, AMS)
    assert due == expected_utc
    assert local(due).strftime("%A %H:%M") == "Sunday 19:00"


def test_other_time_zones_keep_their_own_wall_clock() -> None:
    now = dt.datetime(2026, 3, 2, 12, tzinfo=UTC)
    due = weekly_due(now, 6, dt.time(19, 0), "America/Curacao")
    assert local(due, "America/Curacao").strftime("%A %H:%M") == "Sunday 19:00"
    assert due == dt.datetime(2026, 3, 8, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize("at", [dt.time(2, 0), dt.time(2, 30), dt.time(2, 59)])
def test_nothing_is_scheduled_between_two_and_three(at: dt.time) -> None:
    assert safe_time(at) == dt.time(3, 0)
    # On the March change day 02:30 does not exist; on the October one it happens twice.
    for day in (dt.date(2026, 3, 29), dt.date(2026, 10, 25)):
        assert local(at_local(day, at, AMS)).strftime("%H:%M") == "03:00"


def test_quiet_hours_push_to_the_morning() -> None:
    quiet = QuietHours()
    evening = dt.datetime(2026, 3, 2, 21, 0, tzinfo=UTC)  # 22:00 in Amsterdam
    assert local(out_of_quiet_hours(evening, AMS, quiet)) == dt.datetime(
        2026, 3, 3, 8, 0, tzinfo=ZoneInfo(AMS)
    )
    early = dt.datetime(2026, 3, 3, 5, 0, tzinfo=UTC)  # 06:00
    assert local(out_of_quiet_hours(early, AMS, quiet)).strftime("%d %H:%M") == "03 08:00"
    fine = dt.datetime(2026, 3, 3, 18, 0, tzinfo=UTC)  # 19:00
    assert out_of_quiet_hours(fine, AMS, quiet) == fine
    edge = dt.datetime(2026, 3, 3, 20, 30, tzinfo=UTC)  # 21:30 exactly: quiet
    assert local(out_of_quiet_hours(edge, AMS, quiet)).strftime("%d %H:%M") == "04 08:00"


def test_daytime_quiet_window() -> None:
    quiet = QuietHours(dt.time(12, 0), dt.time(13, 0))
    noon = dt.datetime(2026, 6, 1, 10, 30, tzinfo=UTC)  # 12:30 CEST
    assert local(out_of_quiet_hours(noon, AMS, quiet)).strftime("%H:%M") == "13:00"


def test_week_keys_follow_iso_weeks() -> None:
    assert week_key(dt.date(2026, 3, 2)) == "2026-W10"
    assert week_key(dt.date(2027, 1, 1)) == "2026-W53"
