"""The timeline: several chats as one story in time order, each message as it was then."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import Application

from bot.sandbox import Sandbox
from bot.sandbox.timeline import day_marker
from tests.sandbox.conftest import TOKEN

ZONE = ZoneInfo("Europe/Amsterdam")
MONDAY = dt.datetime(2026, 12, 7, 9, 0, tzinfo=ZONE)


class Clock:
    def __init__(self) -> None:
        self.now = MONDAY

    def __call__(self) -> float:
        return self.now.timestamp()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sandbox(clock: Clock) -> AsyncIterator[Sandbox]:
    """The sandbox on the test's clock (overrides the package's fixture)."""
    async with Sandbox(TOKEN, quiet_period=0.08, settle_timeout=5.0, clock=clock) as running:
        yield running


def test_day_marker_names_the_day_in_dutch() -> None:
    assert day_marker(dt.date(2026, 12, 7)) == "── maandag 7 december ──"
    assert day_marker(dt.date(2026, 12, 25)) == "── vrijdag 25 december ──"


async def test_each_message_as_it_was_then_clicks_under_it_and_edits_later(
    sandbox: Sandbox,
    app: Application,  # type: ignore[type-arg]
    clock: Clock,
) -> None:
    bea = sandbox.person(1001, "Bea")
    olga = sandbox.person(2001, "Olga")
    await bea.send("/start abc")
    clock.now += dt.timedelta(minutes=5)
    await olga.send("/start xyz")
    clock.now += dt.timedelta(days=1)
    await bea.click("Ja")  # on Monday's message, the day after

    text = sandbox.timeline(labels={1001: "Bea (begeleider)"}, zone=ZONE)
    assert text.splitlines() == [
        "── maandag 7 december ──",
        "",
        "09:00  Bea typt: /start abc",
        "       Bot → Bea (begeleider):",
        "         Welkom Bea!",  # as it was then, not "Je koos ja."
        "         code: abc",
        "         [Ja] [Nee]",
        "09:05  Olga typt: /start xyz",
        "       Bot → Olga:",
        "         Welkom Olga!",
        "         code: xyz",
        "         [Ja] [Nee]",
        "",
        "── dinsdag 8 december ──",
        "",
        "09:05    ↳ Bea tikt op een eerder bericht (“Welkom Bea!”): Ja",
        "         ↳ melding voor Bea: Gekozen: ja",
        "         ✎ Bot past aan: Je koos ja.",
    ]
    # The per-person transcript still shows each chat's final state.
    assert "Je koos ja. (bewerkt)" in sandbox.transcript([1001])


async def test_a_click_on_the_latest_message_stands_right_under_it(
    sandbox: Sandbox,
    app: Application,  # type: ignore[type-arg]
    clock: Clock,
) -> None:
    bea = sandbox.person(1001, "Bea")
    await bea.send("/start abc")
    await bea.click("Nee")
    lines = sandbox.timeline(zone=ZONE).splitlines()
    assert lines[-5:] == [
        "         code: abc",
        "         [Ja] [Nee]",
        "         ↳ Bea tikt: Nee",
        "         ↳ melding voor Bea: Gekozen: nee",
        "         ✎ Bot past aan: Je koos nee.",
    ]
