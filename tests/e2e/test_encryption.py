"""Encryption at rest, end to end: what Olga types and where Bea plans a meeting are ciphertext
in the database, yet the begeleider's overview, Olga's export and the meeting notices read them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox.people import Person as ChatPerson
from storage.crypto import PREFIX
from storage.db import Database
from storage.models import Answer, Meeting
from tests.e2e.conftest import at

SUNDAY_1900 = dt.datetime(2026, 3, 8, 18, 0, tzinfo=dt.UTC)
TYPED = "Markeer-QV7 Sam slaapt slecht sinds het bezoek"
PLACE = "buurthuis De Markeer-PL4"


def on_disk(db: Database) -> bytes:
    """The SQLite file and its write-ahead log, as anyone who copies them would read them."""
    path = make_url(db.url).database
    assert path is not None
    return b"".join(
        Path(name).read_bytes() for name in (path, path + "-wal") if Path(name).exists()
    )


async def test_typed_answer_and_meeting_place_are_ciphertext_at_rest_and_plain_where_shown(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, kees = family
    await at(app, clock, SUNDAY_1900)
    for label in ("🤝 Elkaar gezien", "🙂", "🙂", "Ja", "🙂"):
        await olga.click(label)
    [saved] = await olga.send(TYPED)
    assert "Bea leest het" in saved.text

    await bea.send("/afspraak")
    await bea.click("Sam · installatiefase")
    await bea.click("Kennismakingsgesprek")
    await bea.send("12-3 14:00")
    await bea.send(PLACE)
    await bea.click("Klaar")
    await bea.click("📅 Plannen")
    assert f"Waar: {PLACE}" in olga.last.text  # the notice reads the place back
    assert f"Waar: {PLACE}" in kees.last.text

    # In the columns: ciphertext with the prefix, neither marker.
    async with db.session() as session:
        [raw_text] = (
            await session.execute(text("SELECT text FROM answer WHERE text IS NOT NULL"))
        ).scalars()
        [raw_place] = (await session.execute(text("SELECT location FROM meeting"))).scalars()
        stored_text = await session.scalar(select(Answer.text).where(Answer.text.is_not(None)))
        meeting = await session.scalar(select(Meeting))
    for raw in (raw_text, raw_place):
        assert raw.startswith(PREFIX)
        assert "Markeer" not in raw
    assert stored_text == TYPED  # the ORM reads them back
    assert meeting is not None
    assert meeting.location == PLACE
    if db.is_sqlite:  # what she typed is nowhere in the file or its log
        # (The place is also in the notices' outbox rows until they are blanked after
        # delivery, and in Bea's draft while she plans: not this test's columns.)
        assert b"QV7" not in on_disk(db)

    # Bea's overview the next morning shows Olga's words.
    clock.set(SUNDAY_1900 + dt.timedelta(hours=14))
    overview = await bea.send("/overzicht")
    assert any(TYPED in m.text for m in overview)
    # Olga's export shows what she typed.
    [export] = await olga.send("/mijngegevens")
    assert export.document is not None
    assert TYPED in export.document.data.decode("utf-8")
    # And her list of meetings shows the place.
    meetings = await olga.send("/afspraken")
    assert any(PLACE in m.text for m in meetings)
