"""Reading dates as people type them."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from flows.dates import (
    BAD_TIME,
    NO_DAY,
    NO_SUCH_DAY,
    NO_TIME,
    OTHER_WEEKDAY,
    PAST,
    UNREADABLE,
    Moment,
    Problem,
    easter,
    parse_date,
    parse_moment,
    read_moment,
    read_time,
)

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


# --- Dutch as people type it: one fixed now, Thursday 3 December 2026, 13:20 local time. ---

THURSDAY = dt.datetime(2026, 12, 3, 13, 20)


def _at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute)


MOMENTS = [
    # What the old parser read keeps reading the same.
    ("morgen 14:00", _at(12, 4, 14)),
    ("11-12 om 10 uur", _at(12, 11, 10)),
    ("14 dec 13u", _at(12, 14, 13)),
    ("12-3 14:00", _at(3, 12, 14, year=2027)),  # passed this year: next year
    ("12 maart 14.00", _at(3, 12, 14, year=2027)),
    ("dinsdag 9u", _at(12, 8, 9)),
    ("di 9 uur", _at(12, 8, 9)),
    ("vandaag om 15:30", _at(12, 3, 15, 30)),
    ("donderdag 16:00", _at(12, 3, 16)),  # today, still ahead
    ("donderdag 9:00", _at(12, 10, 9)),  # today's 9:00 has passed: next week
    ("Friday 13h", _at(12, 4, 13)),
    ("tomorrow 10:00", _at(12, 4, 10)),
    ("tomorrow 2pm", _at(12, 4, 14)),
    ("14 dec 1pm", _at(12, 14, 13)),
    ("monday 10am", _at(12, 7, 10)),
    # Punctuation and capitals.
    ("Morgen 14:00.", _at(12, 4, 14)),
    ("MORGEN 14:00!", _at(12, 4, 14)),
    ("morgen, 14:00", _at(12, 4, 14)),
    ("(morgen) 14:00?", _at(12, 4, 14)),
    ("Morgen  om  14u.", _at(12, 4, 14)),
    # half, kwart, over and voor.
    ("donderdag om half vier", _at(12, 3, 15, 30)),
    ("morgen half vier", _at(12, 4, 15, 30)),
    ("kwart over drie morgen", _at(12, 4, 15, 15)),
    ("morgen kwart voor vier", _at(12, 4, 15, 45)),
    ("morgen tien voor half vier", _at(12, 4, 15, 20)),
    ("morgen vijf over half drie", _at(12, 4, 14, 35)),
    ("morgen vijf voor half drie", _at(12, 4, 14, 25)),
    ("morgen tien over drie", _at(12, 4, 15, 10)),
    ("morgen tien voor drie", _at(12, 4, 14, 50)),
    ("morgen half tien", _at(12, 4, 9, 30)),
    ("morgen half 10", _at(12, 4, 9, 30)),
    ("morgen half een", _at(12, 4, 12, 30)),
    ("morgen kwart over twaalf", _at(12, 4, 12, 15)),
    ("morgen half acht 's avonds", _at(12, 4, 19, 30)),
    ("morgen half acht 's ochtends", _at(12, 4, 7, 30)),
    # Hours as digits or words; 1 to 7 without a dagdeel are afternoon for a meeting.
    ("morgen 2 uur", _at(12, 4, 14)),
    ("morgen twee uur", _at(12, 4, 14)),
    ("morgen om drie", _at(12, 4, 15)),
    ("morgen om 3", _at(12, 4, 15)),
    ("morgen 7 uur", _at(12, 4, 19)),
    ("morgen 8 uur", _at(12, 4, 8)),
    ("morgen 12 uur", _at(12, 4, 12)),
    ("morgen 07:30", _at(12, 4, 7, 30)),  # a leading zero is meant as typed
    ("morgen 7:30", _at(12, 4, 19, 30)),
    ("morgen elf uur", _at(12, 4, 11)),
    ("morgen negentien uur", _at(12, 4, 19)),
    ("morgen 14u30", _at(12, 4, 14, 30)),
    # Dagdelen, alone and glued to a day.
    ("maandagmiddag 2 uur", _at(12, 7, 14)),
    ("dinsdagavond 8 uur", _at(12, 8, 20)),
    ("morgenochtend 7 uur", _at(12, 4, 7)),
    ("morgenochtend 9:30", _at(12, 4, 9, 30)),
    ("morgenmiddag half drie", _at(12, 4, 14, 30)),
    ("morgen 's avonds 8 uur", _at(12, 4, 20)),
    ("morgen 8 uur 's avonds", _at(12, 4, 20)),
    ("vanavond 8 uur", _at(12, 3, 20)),
    ("vanmiddag 3 uur", _at(12, 3, 15)),
    ("vrijdagochtend 10 uur", _at(12, 4, 10)),
    ("vrijdagmorgen 9 uur", _at(12, 4, 9)),
    ("zaterdag in de middag om 2 uur", _at(12, 5, 14)),
    ("maandag 's middags 1 uur", _at(12, 7, 13)),
    # Weeks and days ahead.
    ("volgende week dinsdag 15:00", _at(12, 8, 15)),
    ("volgende week donderdag 10:00", _at(12, 10, 10)),
    ("over twee weken maandag 10:00", _at(12, 14, 10)),
    ("over 2 weken maandag 10:00", _at(12, 14, 10)),
    ("over een week 10:00", _at(12, 10, 10)),
    ("over 3 dagen 10:00", _at(12, 6, 10)),
    ("over drie dagen om 11 uur", _at(12, 6, 11)),
    ("overmorgen 10:00", _at(12, 5, 10)),
    ("volgende maandag 10:00", _at(12, 7, 10)),
    ("komende vrijdag 10:00", _at(12, 4, 10)),
    # Weekday names and abbreviations.
    ("ma 10:00", _at(12, 7, 10)),
    ("wo 10:00", _at(12, 9, 10)),
    ("do. 14:00", _at(12, 3, 14)),
    ("vr 10:00", _at(12, 4, 10)),
    ("za 10:00", _at(12, 5, 10)),
    ("zo 10:00", _at(12, 6, 10)),
    ("Woensdag 10:00", _at(12, 9, 10)),
    # Day and month name, with or without a year.
    ("vrijdag 11 december 9.30", _at(12, 11, 9, 30)),
    ("11 dec 10:00", _at(12, 11, 10)),
    ("11 dec. 10:00", _at(12, 11, 10)),
    ("11 december 2026 10:00", _at(12, 11, 10)),
    ("11e december 10:00", _at(12, 11, 10)),
    ("3 januari 10:00", _at(1, 3, 10, year=2027)),
    ("1 februari 2027 10:00", _at(2, 1, 10, year=2027)),
    # Numeric dates with - / . and ISO.
    ("11-12 10:00", _at(12, 11, 10)),
    ("11/12/2026 10:00", _at(12, 11, 10)),
    ("11.12.26 10:00", _at(12, 11, 10)),
    ("11.12 10:00", _at(12, 11, 10)),
    ("2026-12-11 10:00", _at(12, 11, 10)),
    ("2026-12-11T10:00", _at(12, 11, 10)),
    ("4-1 9:00", _at(1, 4, 9, year=2027)),
    # Dutch holidays by name.
    ("eerste kerstdag 11:00", _at(12, 25, 11)),
    ("kerst 10:00", _at(12, 25, 10)),
    ("kerstmis 10:00", _at(12, 25, 10)),
    ("1e kerstdag 10:00", _at(12, 25, 10)),
    ("tweede kerstdag 10:00", _at(12, 26, 10)),
    ("kerstavond 19:00", _at(12, 24, 19)),
    ("oudjaarsdag 14:00", _at(12, 31, 14)),
    ("oudejaarsdag 14:00", _at(12, 31, 14)),
    ("nieuwjaarsdag 14:00", _at(1, 1, 14, year=2027)),
    ("koningsdag 10:00", _at(4, 27, 10, year=2027)),
    ("koningsdag 2031 10:00", _at(4, 26, 10, year=2031)),  # 27 April 2031 is a Sunday
    ("pasen 11:00", _at(3, 28, 11, year=2027)),
    ("eerste paasdag 11:00", _at(3, 28, 11, year=2027)),
    ("tweede paasdag 11:00", _at(3, 29, 11, year=2027)),
    ("pinksteren 11:00", _at(5, 16, 11, year=2027)),
    ("tweede pinksterdag 11:00", _at(5, 17, 11, year=2027)),
    ("hemelvaart 11:00", _at(5, 6, 11, year=2027)),
    ("Hemelvaartsdag 11:00", _at(5, 6, 11, year=2027)),
    # Words around it.
    ("rond de 3 uur morgen graag", _at(12, 4, 15)),
    ("ca. 14:00 morgen", _at(12, 4, 14)),
    ("graag dinsdag om 10 uur", _at(12, 8, 10)),
    ("morgen rond 14.00 uur", _at(12, 4, 14)),
    ("morgen circa 14 h", _at(12, 4, 14)),
    ("Vrijdag 11 December om 9.30 uur, graag!", _at(12, 11, 9, 30)),
]


@pytest.mark.parametrize(("typed", "expected"), MOMENTS)
def test_dutch_moments_as_people_type_them(typed: str, expected: dt.datetime) -> None:
    assert read_moment(typed, THURSDAY) == Moment(expected)
    assert parse_moment(typed, THURSDAY) == expected


def test_the_table_is_wide_enough() -> None:
    assert len(MOMENTS) >= 80
    assert len({typed.lower() for typed, _ in MOMENTS}) == len(MOMENTS)


REFUSALS = [
    # (typed, code, part as typed after tidying, day kept, time kept)
    ("31 februari 10:00", NO_SUCH_DAY, "31 februari", None, None),
    ("30-2 10:00", NO_SUCH_DAY, "30-2", None, None),
    ("32-3 10:00", NO_SUCH_DAY, "32-3", None, None),
    ("13-13 10:00", NO_SUCH_DAY, "13-13", None, None),
    ("29 februari 2027 10:00", NO_SUCH_DAY, "29 februari 2027", None, None),
    ("gisteren 10:00", PAST, "gisteren 10:00", dt.date(2026, 12, 2), dt.time(10)),
    ("vandaag 09:00", PAST, "vandaag 09:00", dt.date(2026, 12, 3), dt.time(9)),
    ("1-1-2026 10:00", PAST, "1-1-2026 10:00", dt.date(2026, 1, 1), dt.time(10)),
    ("gisteren", PAST, "gisteren", dt.date(2026, 12, 2), None),
    ("morgen 25:00", BAD_TIME, "25:00", None, None),
    ("morgen 14:75", BAD_TIME, "14:75", None, None),
    ("morgen 24:00", BAD_TIME, "24:00", None, None),
    ("morgen 25 uur", BAD_TIME, "25 uur", None, None),
    ("zaterdag", NO_TIME, "", dt.date(2026, 12, 5), None),
    ("11 december", NO_TIME, "11 december", dt.date(2026, 12, 11), None),
    ("kerst", NO_TIME, "kerst", dt.date(2026, 12, 25), None),
    ("over twee weken", NO_TIME, "", dt.date(2026, 12, 17), None),
    ("Donderdag.", NO_TIME, "", dt.date(2026, 12, 10), None),  # today's weekday: next week's
    ("14:00", NO_DAY, "14:00", None, dt.time(14)),
    ("half vier", NO_DAY, "half vier", None, dt.time(15, 30)),
    ("volgende week 15:00", NO_DAY, "15:00", None, dt.time(15)),
    ("donderdag 11 december 10:00", OTHER_WEEKDAY, "11 december", dt.date(2026, 12, 11), None),
    ("banaan", UNREADABLE, "banaan", None, None),
    ("ooit 10:00", UNREADABLE, "ooit", None, None),
    ("", UNREADABLE, "", None, None),
    ("🙂", UNREADABLE, "", None, None),
    ("morgen 11 december 10:00", UNREADABLE, "11 december", None, None),
    ("morgen 10:00 11:00", UNREADABLE, "morgen 10:00 11:00", None, None),
]


@pytest.mark.parametrize(("typed", "code", "part", "day", "time"), REFUSALS)
def test_refusals_say_which_part_is_wrong(
    typed: str, code: str, part: str, day: dt.date | None, time: dt.time | None
) -> None:
    problem = read_moment(typed, THURSDAY)
    assert isinstance(problem, Problem)
    assert (problem.code, problem.part, problem.day, problem.time) == (code, part, day, time)
    assert parse_moment(typed, THURSDAY) is None


def test_a_dagdeel_without_a_time_is_kept() -> None:
    problem = read_moment("dinsdagavond", THURSDAY)
    assert problem == Problem(NO_TIME, "", day=dt.date(2026, 12, 8), daypart="avond")
    assert read_moment("8 uur", THURSDAY, day=problem.day, daypart=problem.daypart) == Moment(
        _at(12, 8, 20)
    )


@pytest.mark.parametrize(
    ("typed", "kept", "expected"),
    [
        ("half drie", {"day": dt.date(2026, 12, 5)}, Moment(_at(12, 5, 14, 30))),
        ("14:00", {"day": dt.date(2026, 12, 5)}, Moment(_at(12, 5, 14))),
        ("zondag 10:00", {"day": dt.date(2026, 12, 5)}, Moment(_at(12, 6, 10))),  # a new day
        ("morgen", {"time": dt.time(15, 30)}, Moment(_at(12, 4, 15, 30))),
        ("9:00", {"day": dt.date(2026, 12, 3)}, Problem(PAST, "9:00", day=dt.date(2026, 12, 3),
                                                         time=dt.time(9), at=_at(12, 3, 9))),
        ("banaan", {"day": dt.date(2026, 12, 5)}, Problem(UNREADABLE, "banaan")),
    ],
)  # fmt: skip
def test_a_follow_up_completes_what_was_kept(
    typed: str, kept: dict[str, object], expected: Moment | Problem
) -> None:
    assert read_moment(typed, THURSDAY, **kept) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("14:00", dt.time(14)),
        ("half drie", dt.time(14, 30)),
        ("Om half drie.", dt.time(14, 30)),
        ("2 uur 's middags", dt.time(14)),
        ("8 uur 's ochtends", dt.time(8)),
        ("kwart voor negen", dt.time(8, 45)),
        ("25:00", Problem(BAD_TIME, "25:00")),
        ("morgen 14:00", Problem(UNREADABLE, "morgen 14:00")),
        ("banaan", Problem(UNREADABLE, "banaan")),
    ],
)
def test_a_time_alone(typed: str, expected: dt.time | Problem) -> None:
    assert read_time(typed) == expected


def test_outside_a_meeting_an_hour_is_as_typed() -> None:
    assert read_time("half drie", meeting=False) == dt.time(2, 30)
    assert read_moment("morgen 2 uur", THURSDAY, meeting=False) == Moment(_at(12, 4, 2))


@pytest.mark.parametrize(
    ("year", "sunday"),
    [(2024, (3, 31)), (2025, (4, 20)), (2026, (4, 5)), (2027, (3, 28)), (2038, (4, 25)),
     (2285, (3, 22)), (2000, (4, 23)), (2011, (4, 24))],
)  # fmt: skip
def test_easter(year: int, sunday: tuple[int, int]) -> None:
    assert easter(year) == dt.date(year, *sunday)


def test_easter_agrees_with_dateutil_for_two_centuries() -> None:
    reference = pytest.importorskip("dateutil.easter")
    for year in range(1900, 2101):
        assert easter(year) == reference.easter(year), year


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("kerst", dt.date(2026, 12, 25)),
        ("vrijdag", dt.date(2026, 3, 6)),
        ("over 2 weken", dt.date(2026, 3, 16)),
        ("Morgen.", dt.date(2026, 3, 3)),
        ("1 maart", dt.date(2026, 3, 1)),  # no year: this year's, also when it has passed
        ("12 maart 14:00", None),  # a time is no day
        ("morgenavond", None),
    ],
)
def test_parse_date_reads_the_richer_days_too(typed: str, expected: dt.date | None) -> None:
    assert parse_date(typed, TODAY) == expected


@pytest.mark.parametrize(
    "typed",
    # The examples the meeting templates show (messages/*/meeting/ask_when.j2, bad_when.j2).
    ["morgen 14:00", "dinsdag half drie", "12 maart 10:00", "tomorrow 14:00", "Tuesday 2:30 pm",
     "12 March 10:00"],
)  # fmt: skip
def test_the_examples_we_show_are_read(typed: str) -> None:
    assert isinstance(read_moment(typed, THURSDAY), Moment)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("14:00", dt.time(14)), ("half drie", dt.time(14, 30)), ("2:30 pm", dt.time(14, 30))],
)
def test_the_time_examples_we_show_are_read(typed: str, expected: dt.time) -> None:
    assert read_time(typed) == expected


def test_any_mix_of_words_gives_an_answer_never_an_error() -> None:
    words = [
        "om", "half", "kwart", "over", "voor", "vier", "drie", "een", "twaalf", "0", "00", "7",
        "12", "13", "24", "25", "99", ":", ".", "-", "/", "2026", "26", "11-12", "31-2", "29",
        "februari", "dec", "morgen", "overmorgen", "vandaag", "gisteren", "volgende", "week",
        "weken", "dagen", "in", "de", "'s", "avonds", "middag", "nacht", "dinsdagavond",
        "morgenochtend", "vanavond", "kerst", "pasen", "koningsdag", "14:00", "9.30", "11.12",
        "14u30", "2pm", "am", "ma", "do.", "zo", "graag", "rond", "ca", "uur", "u", "banaan", "🙂",
        "<b>", "één", "tweeëntwintig", "2026-12-11", "2026-02-30",
    ]  # fmt: skip
    rng = random.Random(12)  # noqa: S311  # a fixed mix of words, not a secret
    for _ in range(3000):
        typed = " ".join(rng.choice(words) for _ in range(rng.randint(1, 6)))
        assert isinstance(read_moment(typed, THURSDAY), Moment | Problem), typed
        kept = read_moment(typed, THURSDAY, day=dt.date(2026, 12, 5), daypart="avond")
        assert isinstance(kept, Moment | Problem), typed
        assert isinstance(read_time(typed), dt.time | Problem), typed
        parse_date(typed, TODAY)  # None or a date, never an exception
