"""Forged button data with huge or odd numbers gets the kind "expired" reply, changes nothing and
logs no error (on PostgreSQL an id beyond its integer range made asyncpg raise)."""

from __future__ import annotations

import logging

import pytest

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox.people import Person as ChatPerson
from flows.callbacks import BadNumber, parse_id, small_number
from storage.db import Database
from tests.e2e.conftest import snapshot

HUGE = "99999999999999999999"
EXPIRED = "Deze knop werkt niet meer"

# Every kind of button, with numbers out of range, signed, padded, in other notations or
# other scripts' digits, and with parts too many.
FORGED = [
    f"pl:{HUGE}",
    "pl:-1",
    "pl:0",
    "pl:007",
    "pl:1e9",
    "pl:²",
    "pl:٣",
    "pl:1:2",
    f"pl:{2**31}",
    f"iv:{HUGE}:o",
    f"cs:y:{HUGE}",
    "cs:n:-3",
    "ck:-1:q1:3",
    f"ck:{HUGE}:0:3",
    f"ck:1:{HUGE}:3",
    "ck:1:²:3",
    "ck:1:0:3:4",
    "fa:007",
    f"fa:{HUGE}",
    f"fa:{HUGE}:stabilisatiefase",
    "fa:1:stabilisatiefase:x",
    f"me:{HUGE}",
    f"me:{HUGE}:go",
    "mv:1e9",
    f"mv:{HUGE}",
    f"mc:{HUGE}",
    f"mc:{HUGE}:y",
    f"rs:{HUGE}:y",
    "rs:+1:y",
    f"cr:{HUGE}",
    "cr: 1",
    "in:d:²",
    "in:d:-1",
    f"in:z:{HUGE}",
    "in:p:²",
    "in:od:٣",
    "st:erase:now",
    "xx:1",
]
# Raw arguments the /afspraak flow reads itself, pressed while its question is open.
FORGED_IN_MEETING = [f"mt:p:{HUGE}", "mt:p:007", "mt:p:²", f"mt:p:{2**31}", "mt:p:1:2"]
FORGED_IN_INVITEES = [f"mt:w:{HUGE}", "mt:w:²", "mt:w:-1", "mt:w:1:2"]


@pytest.mark.parametrize(
    ("text", "ok"),
    [("1", True), (str(2**31 - 1), True), (str(2**31), False), ("0", False), ("01", False)]
    + [(t, False) for t in ("", "-1", "+1", " 1", "1 ", "1\n", "1e9", "²", "٣", "1.0", HUGE)],
)
def test_parse_id_accepts_only_plain_ids_in_range(text: str, ok: bool) -> None:
    if ok:
        assert parse_id(text) == int(text)
    else:
        with pytest.raises(BadNumber):
            parse_id(text)


def test_small_number_reads_plain_digits_up_to_a_limit() -> None:
    assert small_number("0") == 0
    assert small_number("6", 6) == 6
    assert small_number("7", 6) is None
    assert small_number("²") is None
    assert small_number(None) is None
    assert small_number("06") is None


async def press_all(person: ChatPerson, message_id: int, forged: list[str]) -> None:
    for data in forged:
        [reply] = await person.click_data(data, message_id)
        assert EXPIRED in reply.text, data


async def test_forged_numbers_get_the_expired_reply_and_change_nothing(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bea, olga, _ = family
    caplog.set_level(logging.ERROR)
    before = await snapshot(db)
    for person in (bea, olga):
        await press_all(person, person.last.message_id, FORGED)
    assert await snapshot(db) == before

    # The meeting steps parse their own arguments: press them with the question open.
    await bea.send("/afspraak")
    before = await snapshot(db)
    await press_all(bea, bea.last.message_id, FORGED_IN_MEETING)
    assert await snapshot(db) == before
    await bea.click("Sam · installatiefase")
    await bea.click("Kennismakingsgesprek")
    await bea.send("12-3 14:00")
    await bea.send("kantoor Zuid")
    before = await snapshot(db)
    await press_all(bea, bea.last.message_id, FORGED_IN_INVITEES)
    assert await snapshot(db) == before

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
