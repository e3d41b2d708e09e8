"""Reading dates as people type them."""

from __future__ import annotations

import datetime as dt

import pytest

from flows.dates import parse_date, parse_moment

TODAY = dt.date(2026, 3, 2)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12-3-2026", dt.date(2026, 3, 12)),
        ("12-03-2026", dt.date(2026, 3, 12)),
        ("12/3/26", dt.date(2026, 3, 12)),
        ("12.3", dt.date(2026, 3, 12)),
        ("2026-03-12", dt.date(2026, 3, 12)),
        ("12 maart 2026", dt.date(2026, 3, 12)),
        ("12 Maart", dt.date(2026, 3, 12)),
        ("1 sept 2025", dt.date(2025, 9, 1)),
        ("3 okt.", dt.date(2026, 10, 3)),
        ("12 march 2026", dt.date(2026, 3, 12)),
        ("vandaag", TODAY),
        ("  Gisteren ", dt.date(2026, 3, 1)),
        ("morgen", dt.date(2026, 3, 3)),
    ],
)
def test_readable_dates(typed: str, expected: dt.date) -> None:
    assert parse_date(typed, TODAY) == expected


@pytest.mark.parametrize(
    "typed", ["", "31-2-2026", "12 smurf 2026", "volgende week", "13-13", "<b>1-1</b>", "🙂"]
)
def test_unclear_dates_are_none(typed: str) -> None:
    assert parse_date(typed, TODAY) is None


NOW = dt.datetime(2026, 3, 2, 10, 0)  # Monday morning, local time


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12-3 14:00", dt.datetime(2026, 3, 12, 14, 0)),
        ("12 maart 14.00", dt.datetime(2026, 3, 12, 14, 0)),
        ("morgen 10:00", dt.datetime(2026, 3, 3, 10, 0)),
        ("dinsdag 9u", dt.datetime(2026, 3, 3, 9, 0)),
        ("di 9 uur", dt.datetime(2026, 3, 3, 9, 0)),
        ("maandag 9:00", dt.datetime(2026, 3, 9, 9, 0)),  # today's 9:00 has passed
        ("maandag 16:00", dt.datetime(2026, 3, 2, 16, 0)),
        ("vandaag om 15:30", dt.datetime(2026, 3, 2, 15, 30)),
        ("1 februari 10:00", dt.datetime(2027, 2, 1, 10, 0)),  # passed this year: next year
        ("12-03-2026 14:00", dt.datetime(2026, 3, 12, 14, 0)),
        ("Friday 13h", dt.datetime(2026, 3, 6, 13, 0)),
    ],
)
def test_readable_moments(typed: str, expected: dt.datetime) -> None:
    assert parse_moment(typed, NOW) == expected


@pytest.mark.parametrize(
    "typed", ["", "14:00", "morgen", "12-3 25:00", "31-2 10:00", "ooit 10:00", "12-3 14:75"]
)
def test_unclear_moments_are_none(typed: str) -> None:
    assert parse_moment(typed, NOW) is None
