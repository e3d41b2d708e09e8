"""What everyone can do with their own data: help, privacy, export, language, pause, erase."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from storage.db import Database
from storage.models import (
    AccessLog,
    ConsentDecision,
    ConsentRecord,
    Participant,
    Person,
    TelegramLink,
)
from tests.e2e.conftest import create_placement, join, join_as_begeleider, snapshot


async def test_help_and_privacy_by_role(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    [bea_help] = await bea.send("/help")
    [olga_help] = await olga.send("/help")
    assert "/nieuw" in bea_help.text
    assert "/nieuw" not in olga_help.text
    assert "Ik stuur je elke week een paar korte vragen" in olga_help.text
    [privacy] = await olga.send("/privacy")
    assert "Gezinshuisouders zien niet wat ouders antwoorden" in privacy.text
    assert "Tot een jaar na het einde van de plaatsing" in privacy.text
    stranger = sandbox.person(9, "X")
    [reply] = await stranger.send("/help")
    assert "link van je begeleider" in reply.text


async def test_export_sends_a_readable_document_and_logs_it(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    [reply] = await olga.send("/mijngegevens")
    assert reply.document is not None
    assert reply.document.filename == "mijngegevens.txt"
    content = reply.document.data.decode("utf-8")
    assert "Voornaam: Olga" in content
    assert "Nummer van je Telegram-account (niet je telefoonnummer): 2001" in content
    assert "ouder bij Sam" in content
    assert "gegeven (privacytekst versie" in content
    assert "Hier is alles wat ik over je bewaar" in reply.text
    async with db.session() as session:
        entry = await session.scalar(
            select(AccessLog).where(AccessLog.action == "export_own_data")
        )
        assert entry is not None
        assert entry.subject.startswith("person:")
    stranger = sandbox.person(9, "X")
    [reply] = await stranger.send("/mijngegevens")
    assert "Ik bewaar niets over jou" in reply.text


async def test_language_switch_changes_messages_and_menu(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    await bea.send("/taal")
    [done] = await bea.click("🇬🇧 English")
    assert "English" in done.text
    [reply] = await bea.send("/help")
    assert "What can you do here?" in reply.text
    assert dict(bea.commands)["plaatsingen"] == "My placements"
    async with db.session() as session:
        assert await session.scalar(select(TelegramLink.language)) == "en"


async def test_english_telegram_gets_english_from_the_start(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    john = await join(sandbox, codes["ouder"], 2001, "John", language_code="en-GB")
    welcome = john.chat[-2].text  # the last is the research question
    assert "Each week" in welcome or "every week" in welcome.lower()
    # The begeleider still reads Dutch about him.
    assert bea.last.text == "John doet nu mee als ouder bij Sam."


async def test_pause_and_resume_tell_the_begeleider(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    await olga.send("/stop")
    [paused] = await olga.click("⏸ Berichten pauzeren")
    assert "Je berichten staan op pauze" in paused.text
    assert bea.last.text == "Olga (ouder bij Sam) heeft de berichten van de bot op pauze gezet."
    async with db.session() as session:
        assert await session.scalar(select(Person.paused).where(Person.first_name == "Olga"))
    await olga.send("/stop")
    await olga.click("▶️ Berichten weer aanzetten")
    assert "weer aangezet" in bea.last.text
    async with db.session() as session:
        assert not await session.scalar(select(Person.paused).where(Person.first_name == "Olga"))


RESUME = "▶️ Berichten weer aanzetten"


async def test_a_paused_person_resumes_with_one_tap(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    await olga.send("/stop")
    [paused] = await olga.click("⏸ Berichten pauzeren")
    # The confirmation carries the way back; no command to remember.
    assert paused.button_labels == [RESUME]
    assert "/stop" not in paused.text
    data = paused.buttons[0][0][1]
    assert data is not None
    told = len(bea.bot_messages)
    [resumed] = await olga.click(RESUME, paused)
    assert "Je berichten staan weer aan" in resumed.text
    assert len(bea.bot_messages) == told + 1
    assert "weer aangezet" in bea.last.text
    async with db.session() as session:
        assert not await session.scalar(select(Person.paused).where(Person.first_name == "Olga"))
    # A second press of the same button changes nothing and tells no one again.
    before = await snapshot(db)
    await olga.click_data(data, paused.message_id, expect_reply=False)
    assert await snapshot(db) == before
    assert len(bea.bot_messages) == told + 1


async def test_start_while_paused_offers_the_resume_button(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    [hello] = await olga.send("/start")
    assert hello.button_labels == []  # not paused: nothing to resume
    await olga.send("/stop")
    await olga.click("⏸ Berichten pauzeren")
    [hello] = await olga.send("/start")
    assert "Je berichten staan op pauze" in hello.text
    assert hello.button_labels == [RESUME]
    [resumed] = await olga.click(RESUME, hello)
    assert "Je berichten staan weer aan" in resumed.text
    async with db.session() as session:
        assert not await session.scalar(select(Person.paused).where(Person.first_name == "Olga"))
    # Someone else replaying the button, known or not, changes nothing.
    await olga.send("/stop")
    [paused] = await olga.click("⏸ Berichten pauzeren")
    data = paused.buttons[0][0][1]
    assert data is not None
    before = await snapshot(db)
    stranger = sandbox.person(9, "X")
    [hi] = await stranger.send("/start")
    [reply] = await stranger.click_data(data, hi.message_id)
    assert "Je berichten staan weer aan" not in reply.text
    await bea.click_data(data, bea.last.message_id)  # her own messages are on: nothing changes
    assert await snapshot(db) == before
    async with db.session() as session:
        assert await session.scalar(select(Person.paused).where(Person.first_name == "Olga"))


async def test_erase_after_confirmation_removes_the_person(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    await olga.send("/stop")
    before = await snapshot(db)
    [confirm] = await olga.click("🗑 Mijn gegevens wissen")
    assert "Dat kan niet terug" in confirm.text
    await olga.click("Toch niet")
    assert await snapshot(db) == before

    await olga.send("/stop")
    await olga.click("🗑 Mijn gegevens wissen")
    [erased] = await olga.click("Ja, wis alles")
    assert "Je gegevens zijn gewist" in erased.text
    # Told which role left, not who: the erased name is not sent on (data minimisation).
    assert "Een ouder bij Sam doet niet meer mee met de bot" in bea.last.text
    assert "Olga" not in bea.last.text
    assert olga.commands == [(c, d) for c, d in olga.commands if c != "nieuw"]
    async with db.session() as session:
        assert (
            await session.scalar(select(func.count(Person.id)).where(Person.first_name == "Olga"))
            == 0
        )
        assert await session.scalar(select(func.count(Participant.id))) == 0
        assert (
            await session.scalar(
                select(func.count(TelegramLink.id)).where(TelegramLink.telegram_user_id == 2001)
            )
            == 0
        )
        withdrawn = await session.scalar(
            select(ConsentRecord).where(ConsentRecord.decision == ConsentDecision.WITHDRAWN)
        )
        assert withdrawn is not None
        assert withdrawn.person_id is None
    [reply] = await olga.send("/mijngegevens")
    assert "Ik bewaar niets over jou" in reply.text


async def test_a_begeleider_with_placements_cannot_erase(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    await create_placement(bea)
    await bea.send("/stop")
    before = await snapshot(db)
    [reply] = await bea.click("🗑 Mijn gegevens wissen")
    assert "Je bent nog begeleider van 1 plaatsing" in reply.text
    assert await snapshot(db) == before


async def test_pressing_a_button_twice_changes_nothing_more(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = sandbox.person(2001, "Olga")
    [invite] = await olga.send(f"/start {codes['ouder']}")
    data = invite.buttons[0][0][1]
    assert data is not None
    await olga.click_data(data, invite.message_id)
    before = await snapshot(db)
    [again] = await olga.click_data(data, invite.message_id)
    assert "Deze knop werkt niet meer" in again.text
    assert await snapshot(db) == before
