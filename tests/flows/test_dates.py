"""Reading dates as people type them."""

from __future__ import annotations

import datetime as dt

import pytest

from flows.dates import parse_date

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
