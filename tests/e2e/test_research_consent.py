"""The optional research agreement: asked after joining (off unless she says yes), switched in
/instellingen, each change one ConsentRecord(purpose="research"), shown in /mijngegevens."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from flows import buttons, research
from flows.people import Caller
from flows.settings import RouteSettings
from storage.db import Database
from storage.models import ConsentDecision, ConsentRecord, Person
from tests.e2e.conftest import create_placement, join, join_as_begeleider, snapshot
from tests.e2e.test_double_press import Presser

QUESTION = "Mogen je antwoorden ook gebruikt worden voor onderzoek?"


async def _research(db: Database, name: str) -> tuple[bool, list[ConsentDecision]]:
    async with db.session() as session:
        person = await session.scalar(select(Person).where(Person.first_name == name))
        assert person is not None
        records = await session.scalars(
            select(ConsentRecord.decision)
            .where(ConsentRecord.person_id == person.id, ConsentRecord.purpose == "research")
            .order_by(ConsentRecord.id)
        )
        return person.research_consent, list(records)


async def test_the_question_comes_after_consent_and_each_answer_is_recorded_once(
    app: AnyApplication,
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
) -> None:
    bea, olga, kees = family
    # Every ouder and gezinshuisouder who joined was asked, after the welcome, nothing chosen.
    for person in (olga, kees):
        [question] = [m for m in person.bot_messages if QUESTION in m.text]
        welcome = next(m for m in person.bot_messages if "Fijn dat je meedoet" in m.text)
        assert welcome.message_id + 1 < question.message_id, person.first_name
        assert "Nooit je naam" in question.text
        assert "/instellingen" in question.text
        assert question.button_labels == ["Ja, dat mag", "Nee, liever niet"]
    assert await _research(db, "Olga") == (False, [])

    p = Presser(sandbox, db)
    [yes] = await p.twice(olga, buttons.RESEARCH, lambda v: v["agreed"])
    assert "Je doet mee met het onderzoek" in yes.text
    assert not yes.buttons
    assert await _research(db, "Olga") == (True, [ConsentDecision.GIVEN])

    [no] = await kees.click("Nee, liever niet")
    assert "Je doet niet mee met het onderzoek" in no.text
    assert await _research(db, "Kees") == (False, [ConsentDecision.REFUSED])

    # Staff answer no check-ins: they are not asked when they join (they may opt in in
    # /instellingen); not answering is no: nothing recorded, nothing used.
    assert not any(QUESTION in m.text for m in bea.bot_messages)
    assert await _research(db, "Bea") == (False, [])

    # Joining a second placement does not ask again once she answered.
    codes = await create_placement(bea, youth="Lina")
    await olga.send(f"/start {codes['ouder']}")
    replies = await olga.click("✅ Ja, ik doe mee")
    assert not any(QUESTION in m.text for m in replies)


async def test_a_choice_is_changed_and_withdrawn_in_settings(
    app: AnyApplication,
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
) -> None:
    _, olga, kees = family
    await olga.click("Ja, dat mag")
    [menu] = await olga.send("/instellingen")
    assert "Onderzoek: je antwoorden mogen gebruikt worden, zonder je naam" in menu.text
    assert "🔬 Onderzoek: niet meer meedoen" in menu.button_labels

    clock.advance(dt.timedelta(days=3))
    p = Presser(sandbox, db)
    replies = await p.twice(olga, buttons.RESEARCH, lambda v: v["where"] == "s")
    assert any("Je doet nu niet mee met het onderzoek" in m.text for m in replies)
    assert "Onderzoek: je doet niet mee" in olga.message(menu.message_id).text
    assert "🔬 Onderzoek: toch meedoen" in olga.message(menu.message_id).button_labels
    assert await _research(db, "Olga") == (
        False,
        [ConsentDecision.GIVEN, ConsentDecision.WITHDRAWN],
    )

    # Saying yes again is recorded as given; Kees, who said no, may still say yes later.
    await olga.click("🔬 Onderzoek: toch meedoen")
    assert await _research(db, "Olga") == (
        True,
        [ConsentDecision.GIVEN, ConsentDecision.WITHDRAWN, ConsentDecision.GIVEN],
    )
    await kees.click("Nee, liever niet")
    await kees.send("/instellingen")
    await kees.click("🔬 Onderzoek: toch meedoen")
    assert await _research(db, "Kees") == (
        True,
        [ConsentDecision.REFUSED, ConsentDecision.GIVEN],
    )

    # An old or forged "o" press after a change records nothing new.
    before = await snapshot(db)
    await olga.click_data("rc:o:y", menu.message_id, expect_reply=False)
    assert (await snapshot(db))["consent_record"] == before["consent_record"]


async def test_my_data_shows_the_research_choice_with_its_date_and_privacy_names_it(
    app: AnyApplication,
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
) -> None:
    _, olga, kees = family
    await olga.click("Ja, dat mag")
    [reply] = await olga.send("/mijngegevens")
    assert reply.document is not None
    content = reply.document.data.decode("utf-8")
    assert "Je antwoorden voor onderzoek gebruiken (zonder naam): ja" in content
    consents = content.split("TOESTEMMING\n")[1].split("\n\n")[0]
    assert "- 2 maart 2026: onderzoek (zonder naam): gegeven" in consents
    assert "- 2 maart 2026: gegeven (privacytekst versie" in consents

    [other] = await kees.send("/mijngegevens")
    assert other.document is not None
    content = other.document.data.decode("utf-8")
    assert "Je antwoorden voor onderzoek gebruiken (zonder naam): nee" in content
    assert "onderzoek (zonder naam)" not in content  # he never answered

    [privacy] = await kees.send("/privacy")
    assert "Onderzoek?" in privacy.text
    assert "zonder je naam" in privacy.text


async def test_in_english_too(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga", language_code="en")
    assert "May your answers also be used for research?" in olga.bot_messages[-1].text
    [yes] = await olga.click("Yes, that is fine")
    assert "You take part in the research" in yes.text


async def test_two_presses_at_once_record_one_decision(
    app: AnyApplication,
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
) -> None:
    _, olga, _ = family
    caller = Caller(telegram_user_id=olga.user_id, chat_id=olga.user_id, first_name="Olga")
    if db.is_sqlite:
        pytest.skip("SQLite writes take turns; the row lock is PostgreSQL's")

    async def press() -> None:
        async with db.session() as session:
            await research.answer(session, caller, "o", True, clock.now(), RouteSettings())

    # The first press holds its transaction open; the second must wait for it, then see the
    # choice made and write nothing.
    async with db.session() as first:
        await research.answer(first, caller, "o", True, clock.now(), RouteSettings())
        second = asyncio.create_task(press())
        await asyncio.sleep(0.5)
        assert not second.done(), "the second press did not wait for the first"
    await second
    assert await _research(db, "Olga") == (True, [ConsentDecision.GIVEN])
