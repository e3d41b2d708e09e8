"""📦 Export voor onderzoek, pressed in the coordinator's chat: the zip arrives as a document.

The button lives under /organisatie (h3's); here its callback data is pressed directly, as
tests/e2e/test_guards.py does, and once on a message that carries it (pressed twice).
"""

from __future__ import annotations

import csv
import io
import zipfile

from sqlalchemy import select, update
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox.models import ChatMessage
from bot.sandbox.people import Person as ChatPerson
from bot.sandbox.server import Sandbox
from flows import buttons
from flows.invites import add_organisation
from storage.db import Database
from storage.models import (
    AccessLog,
    Organisation,
    Person,
    Placement,
    Role,
    StaffMember,
    TelegramLink,
)
from tests.e2e.conftest import ORGANISATION, snapshot
from tests.e2e.test_double_press import Presser

EXPIRED = "Deze knop werkt niet meer"
ONLY_COORDINATOR = "Dit kan alleen een coördinator"


async def _coordinator(
    app: AnyApplication,
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
    organisation: str = ORGANISATION,
    user_id: int = 4001,
    name: str = "Cora",
) -> ChatPerson:
    """A coordinator of this organisation, made in the database, with the export button in
    her chat as /organisatie shows it (the chat's own onboarding is tests/e2e/test_team.py's)."""
    now = clock.now()
    async with db.session() as session:
        organisation_id = await session.scalar(
            select(Organisation.id).where(Organisation.name == organisation)
        )
        assert organisation_id is not None
        person = Person(first_name=name, created_at=now, paused=False)
        person.telegram = TelegramLink(
            telegram_user_id=user_id, chat_id=user_id, language="nl",
            time_zone="Europe/Amsterdam", reachable=True, linked_at=now,
        )  # fmt: skip
        session.add(person)
        await session.flush()
        session.add(
            StaffMember(
                organisation_id=organisation_id, person_id=person.id,
                role=Role.COORDINATOR, created_at=now,
            )
        )  # fmt: skip
    chat = sandbox.person(user_id, name)
    await chat.send("/taal")  # opens the chat, so the bot may write in it
    data = buttons.PILOT_EXPORT.data(organisation=organisation_id)
    await app.bot.send_message(
        user_id,
        "Hoe gaat het in de organisatie?",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("📦", callback_data=data)]]),
    )
    return chat


async def _organisation(db: Database) -> int:
    async with db.session() as session:
        found = await session.scalar(select(Placement.organisation_id))
    assert found is not None
    return found


async def _consent(db: Database, *names: str) -> None:
    async with db.session() as session:
        await session.execute(
            update(Person).where(Person.first_name.in_(names)).values(research_consent=True)
        )


async def _log(db: Database) -> list[AccessLog]:
    async with db.session() as session:
        return list(
            await session.scalars(select(AccessLog).where(AccessLog.action == "pilot_export"))
        )


def _zip(message: ChatMessage) -> dict[str, list[dict[str, str]]]:
    assert message.document is not None
    assert message.document.filename is not None
    assert message.document.filename.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(message.document.data)) as archive:
        return {
            name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))
            for name in archive.namelist()
            if name.endswith(".csv")
        }


async def test_the_coordinator_gets_the_zip_as_a_document(
    app: AnyApplication,
    sandbox: Sandbox,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    cora = await _coordinator(app, sandbox, db, clock)
    await _consent(db, "Olga")  # Kees did not say yes to research
    organisation = await _organisation(db)
    [document] = await cora.click_data(f"px:{organisation}", cora.last.message_id)
    assert "Hier is de export voor onderzoek" in document.text
    assert "Er staat 1 plaatsing in" in document.text
    tables = _zip(document)
    assert [row["side"] for row in tables["participants.csv"]] == ["ouder"]
    assert len(tables["placements.csv"]) == 1
    raw = document.document.data if document.document else b""
    for name in (b"Olga", b"Kees", b"Bea", b"Sam", b"De Linde", b"Cora"):
        assert name not in raw  # deflated, so also unzipped:
    everything = "".join(str(rows) for rows in tables.values())
    for name in ("Olga", "Kees", "Bea", "Sam", "De Linde", "Cora", "2001", "3001"):
        assert name not in everything
    async with db.session() as session:
        cora_id = await session.scalar(select(Person.id).where(Person.first_name == "Cora"))
        sam = await session.scalar(select(Placement.id))
    [row] = await _log(db)
    assert (row.actor_person_id, row.placement_id, row.subject) == (
        cora_id,
        sam,
        f"placement:{sam}",
    )


async def test_a_begeleider_or_another_organisations_coordinator_gets_nothing(
    app: AnyApplication,
    sandbox: Sandbox,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, _ = family
    await _consent(db, "Olga", "Kees", "Bea")
    organisation = await _organisation(db)
    async with db.session() as session:
        await add_organisation(session, "Andere Huizen", clock.now())
        other = await session.scalar(
            select(Organisation.id).where(Organisation.name == "Andere Huizen")
        )
    otto = await _coordinator(app, sandbox, db, clock, "Andere Huizen", 5001, "Otto")
    before = await snapshot(db)
    sent = len(sandbox.calls)
    [reply] = await bea.click_data(f"px:{organisation}", bea.last.message_id)
    assert ONLY_COORDINATOR in reply.text
    [reply] = await olga.click_data(f"px:{organisation}", olga.last.message_id)
    assert ONLY_COORDINATOR in reply.text
    # Another organisation's coordinator: the same words as a made-up id, nothing named.
    for data in (f"px:{organisation}", "px:999999"):
        [reply] = await otto.click_data(data, otto.last.message_id)
        assert EXPIRED in reply.text, data
        assert "Gezinshuis" not in reply.text
    assert not [c for c in sandbox.calls[sent:] if c.method == "sendDocument"]
    assert await snapshot(db) == before  # no log row, no pseudonym key made
    # His own organisation has no placements: an empty export, nothing of ours in it.
    [own] = await otto.click_data(f"px:{other}", otto.last.message_id)
    assert "alleen kolomnamen" in own.text
    tables = _zip(own)
    assert all(rows == [] for name, rows in tables.items() if name != "codebook.csv")
    assert await _log(db) == []


async def test_pressed_twice_each_press_is_an_export_of_its_own(
    app: AnyApplication,
    sandbox: Sandbox,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    cora = await _coordinator(app, sandbox, db, clock)
    await _consent(db, "Olga", "Kees")
    presser = Presser(sandbox, db)
    # `repeats`: every press is an export of its own, logged as an access of its own.
    [first] = await presser.twice(cora, buttons.PILOT_EXPORT, repeats=True)
    documents = [m for m in cora.bot_messages if m.document is not None]
    assert len(documents) == 2
    assert _zip(documents[0]) == _zip(documents[1])  # the same pseudonyms both times
    assert len(await _log(db)) == 2
    assert first.document is not None
