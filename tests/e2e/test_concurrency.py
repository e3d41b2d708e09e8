"""Many people pressing at once: handled side by side, each person's presses in their order.

The presses are queued in the sandbox all at once (as after a network hiccup, or on a Sunday
evening), so the bot has many updates of different people in hand at the same time.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.app import deliver, plan
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from storage.db import Database
from storage.models import Answer, Checkin
from tests.e2e.test_delivery import NOON, TOKEN, people_in, running, seed, wait_until

PEOPLE = 60
CHOICES = (1, 4, 0, 3)  # which answer button, in turn: each person changes their mind 3 times


async def test_everyone_pressing_at_once_keeps_each_persons_last_answer(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    seeded = await seed(db, PEOPLE, now=NOON)
    async with Sandbox(token=TOKEN, quiet_period=0.05) as sandbox:
        people_in(sandbox, seeded)
        async with running(sandbox, db, FakeClock(NOON)) as app:
            assert await plan(app) == PEOPLE
            await deliver(app)
            firsts = {chat: sandbox.person(chat, "?").last for chat in seeded.chats}
            for choice in CHOICES:
                for chat, message in firsts.items():
                    label, data = message.buttons[0][choice % len(message.buttons[0])]
                    assert isinstance(data, str)
                    sandbox.api.person_click(sandbox.person(chat, "?")._chat, message, data, label)
            sandbox.notify()
            total = PEOPLE * len(CHOICES)
            await wait_until(
                lambda: len(sandbox.calls_to("answerCallbackQuery")) >= total,
                60,
                "every press was answered",
            )
        shown = {
            chat: sandbox.person(chat, "?").message(m.message_id) for chat, m in firsts.items()
        }
    assert "error while handling" not in caplog.text
    async with db.session() as session:
        checkins = list(await session.scalars(select(Checkin)))
        answers = list(await session.scalars(select(Answer)))
    assert len(checkins) == PEOPLE
    # One answer per check-in to the first question, and it is the last one pressed.
    last_pressed = {
        chat: str(message.buttons[0][CHOICES[-1] % len(message.buttons[0])][1])
        for chat, message in firsts.items()
    }
    expected = {int(d.split(":")[1]): d.split(":")[3] for d in last_pressed.values()}
    first_question = {c.id: c.questions[0] for c in checkins}
    to_first = [a for a in answers if a.question_id == first_question[a.checkin_id]]
    assert len(to_first) == PEOPLE
    assert {a.checkin_id: a.value for a in to_first} == expected
    # And every person's message shows that last answer as the picked one.
    for chat, message in shown.items():
        picked = [d for row in message.buttons for label, d in row if label.startswith("✓")]
        assert picked == [last_pressed[chat]]
