"""`samenopvoeden demo`: one timeline in time order, as the people in it saw it."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import re
import tempfile
from pathlib import Path

import pytest

from bot.demo import run_demo
from bot.render import Renderer
from bot.route_overview import plain
from bot.sandbox.timeline import MONTHS, WEEKDAYS
from flows import route

DAY = re.compile(r"^── (\w+) (\d+) (\w+) ──$")
TIME = re.compile(r"^(\d\d):(\d\d)  ")
CLICK = re.compile(r"^(?:\d\d:\d\d)?\s+↳ (\w+) tikt: (.+)$")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="module")
def demo(folder: Path) -> str:
    """The demo's output, played once for this module (it takes some seconds)."""
    temporary = folder / "tmp"
    temporary.mkdir()
    output = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(output):
        patch.chdir(folder)
        patch.setattr(tempfile, "tempdir", str(temporary))
        assert asyncio.run(run_demo()) == 0
    return output.getvalue()


def moments(output: str) -> list[tuple[int, int, int]]:
    """(how many days into the story, hour, minute) of every day marker and every time shown."""
    found: list[tuple[int, int, int]] = []
    days: list[tuple[int, dt.date]] = []  # (weekday, date) per marker
    for line in output.splitlines():
        if marker := DAY.match(line):
            weekday, number, month = marker.groups()
            day = dt.date(2000, MONTHS.index(month) + 1, int(number))  # a leap year
            if days and day < days[-1][1]:
                day = day.replace(year=2001)  # the story crossed New Year
            days.append((WEEKDAYS.index(weekday), day))
            first_weekday, first_day = days[0]
            elapsed = (day - first_day).days
            # The weekday names fit the dates: as many days on in the week as in the story.
            assert (days[-1][0] - first_weekday) % 7 == elapsed % 7, line
            found.append((elapsed, 0, 0))
        elif clock := TIME.match(line):
            found.append(((days[-1][1] - days[0][1]).days, int(clock[1]), int(clock[2])))
    return found


def test_the_demo_is_one_timeline_in_time_order(demo: str) -> None:
    seen = moments(demo)
    assert sum(1 for line in demo.splitlines() if DAY.match(line)) >= 3  # Monday … Monday
    assert len(seen) > 10
    assert seen == sorted(seen), "the timeline goes back in time"
    assert "Every message was accepted by the sandbox" in demo


def test_kees_sees_his_first_question_before_he_skips(demo: str) -> None:
    question = route.QUESTIONS[(route.GHO, route.INSTALL)].base[0]
    first = plain(
        Renderer().render("nl", f"checkin/q_{question}", {"youth": "Sam", "role": str(route.GHO)})
    )
    lines = demo.splitlines()
    asked = [i for i, line in enumerate(lines) if first.splitlines()[0] in line]
    assert asked, "Kees's first question is not in the demo"
    heading = max(i for i in range(asked[0]) if "Bot →" in lines[i])
    assert "Kees" in lines[heading]
    # His skip comes after it, under that same message.
    assert any("↳ Kees tikt" in line for line in lines[asked[0] :])


def test_every_click_stands_under_the_message_it_was_made_on(demo: str) -> None:
    lines = demo.splitlines()
    clicks = [(i, CLICK.match(line)) for i, line in enumerate(lines)]
    found = [(i, match) for i, match in clicks if match is not None]
    assert len(found) >= 8  # three consents, Olga's answers, Kees's skip
    for index, match in found:
        name, label = match.groups()
        # Up the lines to the message this click belongs to: its buttons hold the label.
        heading = max(i for i in range(index) if "Bot →" in lines[i])
        assert name in lines[heading], (name, lines[heading])
        block = lines[heading:index]
        assert any(f"[{label}]" in line for line in block), (label, block)


def test_the_chart_goes_to_a_fresh_temporary_file(demo: str, folder: Path) -> None:
    [path] = re.findall(r"The chart in Bea's digest is saved as: (.+)$", demo, re.MULTILINE)
    chart = Path(path)
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert chart.parent.parent == folder / "tmp"  # a new folder in the temporary folder
    assert not list(folder.glob("*.png"))  # nothing in the working directory
