"""Statements per update on the hot paths: a check-in press, text to the open question, /start of
a known person. Counted with an engine event (`before_cursor_execute`), a fact rather than a
timing. Each statement is a round trip to PostgreSQL; the transaction's BEGIN and COMMIT are two
more that no path can avoid (they are not cursor executes and are not counted)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event, select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from storage.db import Database
from storage.models import Answer, Checkin, CheckinStatus
from tests.e2e.conftest import at

UTC = dt.UTC
SUNDAY_1900 = dt.datetime(2026, 3, 8, 18, 0, tzinfo=UTC)  # Olga's check-in


@contextlib.contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split())[:90])

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def edited(person: ChatPerson, message_id: int, text: str) -> None:
    """Wait until the message shows `text` (an edit is no new message to wait for)."""
    for _ in range(500):
        if text in person.message(message_id).text:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(person.message(message_id).text)


async def test_the_hot_paths_in_few_statements(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
    sandbox: Sandbox,
) -> None:
    _, olga, _ = family
    await at(app, clock, SUNDAY_1900)
    first = olga.last
    postgres = not db.is_sqlite

    with statements(db) as new_answer:
        await olga.click("🤝 Elkaar gezien", first)
    second = olga.last
    with statements(db) as changed_answer:
        await olga.click("📱 App of telefoon", first, expect_reply=False)
        await edited(olga, first.message_id, "Jouw antwoord: 📱 App of telefoon")
    with statements(db) as face:
        await olga.click("🙂", second)
    await olga.click("🙂")  # 3/5
    await olga.click("Een beetje")  # 4/5
    with statements(db) as last_answer:
        await olga.click("😄")  # 5/5: the check-in is answered, the open question comes
    with statements(db) as open_text:
        [saved] = await olga.send("Het gaat best goed")
    with statements(db) as known_start:
        await olga.send("/start")

    print("new", new_answer, "\nchanged", changed_answer, "\nface", face)
    print("last", last_answer, "\ntext", open_text, "\nstart", known_start)
    async with db.session() as session:
        rows = await session.execute(select(Answer.question_id, Answer.value))
        values = {question: value for question, value in rows}
        status = await session.scalar(select(Checkin.status).where(Checkin.role == "ouder"))
    assert values["contact"] == "app"  # the changed answer
    assert len(values) == 6, values  # five questions and the typed one
    assert "open" in values
    assert "Het gaat best goed" not in saved.text  # a confirmation, not an echo
    assert status == CheckinStatus.ANSWERED
    # Before: 5 statements for /start of a known person (link, person, roles, participations,
    # placements), 11 for text to the open question, 3 for a press on PostgreSQL.
    assert len(known_start) == 1, known_start
    assert len(open_text) <= 4, open_text  # person+state, clear the state, check-in, answer
    if postgres:
        # Read, check and write in one statement; the next question needs nothing more.
        assert len(new_answer) == 1, new_answer
        assert len(changed_answer) == 1, changed_answer
        assert len(face) == 1, face
        # The last answer also marks the check-in answered and opens the typed question.
        assert len(last_answer) <= 4, last_answer
    else:
        # SQLite runs in the process: statements are calls, not round trips; unchanged.
        assert len(new_answer) <= 3, new_answer
