"""Onboarding as people do it: invite, consent, /nieuw, links, joining — over the sandbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from storage.db import Database
from storage.models import (
    ConsentDecision,
    ConsentRecord,
    Invite,
    Participant,
    Person,
    Phase,
    Placement,
    Role,
    StaffMember,
    TelegramLink,
)
from tests.e2e.conftest import (
    create_placement,
    join,
    join_as_begeleider,
    snapshot,
    staff_invite_code,
)


async def test_begeleider_creates_placement_and_people_join(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    code = await staff_invite_code(db, clock)
    bea = sandbox.person(1001, "Beatrix")
    [invite] = await bea.send(f"/start {code}")
    assert "Hoi Bea" in invite.text
    assert "Gezinshuizen Zuid nodigt je uit als begeleider" in invite.text
    assert "Wie ziet het?" in invite.text
    assert [row[0][0] for row in invite.buttons] == ["✅ Ja, ik doe mee", "Nee, liever niet"]

    replies = await bea.click("✅ Ja, ik doe mee")
    # The notice stays readable in the chat; only its buttons are gone.
    assert "Wie ziet het?" in bea.message(invite.message_id).text
    assert bea.message(invite.message_id).buttons == []
    assert replies[-2].text == "Fijn dat je meedoet, Bea! ✅"
    # Staff are not asked the research question (only ouders and gezinshuisouders are).
    assert "Met /nieuw maak je een plaatsing" in replies[-1].text
    assert [name for name, _ in bea.commands][:4] == [
        "overzicht",
        "nieuw",
        "plaatsingen",
        "afspraak",
    ]

    codes = await create_placement(bea)
    created = bea.last.text
    assert "De plaatsing van Sam (De Linde) staat klaar, in de installatiefase" in created
    assert "Startdatum: 1 maart 2026" in created

    olga = await join(sandbox, codes["ouder"], 2001, "Olga Jansen")
    assert "Fijn dat je meedoet, Olga!" in olga.chat[-3].text
    welcome = olga.chat[-2].text
    assert "contact met de gezinshuisouders van Sam" in welcome
    assert "Je begeleider Bea leest je antwoorden. De gezinshuisouders niet." in welcome
    assert "Jansen" not in welcome
    assert "nieuw" not in [name for name, _ in olga.commands]

    kees = await join(sandbox, codes["gezinshuisouder"], 3001, "Kees")
    assert "contact met de ouders van Sam" in kees.chat[-2].text
    assert "De ouders niet." in kees.chat[-2].text

    # Bea is told who joined, with first names only.
    notices = [m.text for m in bea.bot_messages if "doet nu mee" in m.text]
    assert notices == [
        "Olga doet nu mee als ouder bij Sam.",
        "Kees doet nu mee als gezinshuisouder bij Sam.",
    ]

    overview = await bea.send("/plaatsingen")
    assert "Ouders: Olga" in overview[-1].text
    assert "Gezinshuisouders: Kees" in overview[-1].text
    assert "Behandelaar: nog niemand (1 link open)" in overview[-1].text

    async with db.session() as session:
        placement = await session.scalar(select(Placement))
        assert placement is not None
        assert (placement.youth_name, placement.gezinshuis_name) == ("Sam", "De Linde")
        assert placement.phase == Phase.INSTALLATIEFASE
        assert placement.start_date == dt.date(2026, 3, 1)
        roles = {
            (p.person.first_name, p.role)
            for p in await session.scalars(
                select(Participant)
                .where(Participant.placement_id == placement.id)
                .options(selectinload(Participant.person))
            )
        }
        assert roles == {("Olga", Role.OUDER), ("Kees", Role.GEZINSHUISOUDER)}
        given = await session.scalar(
            select(func.count(ConsentRecord.id)).where(
                ConsentRecord.decision == ConsentDecision.GIVEN
            )
        )
        assert given == 3
        # Codes exist only as hashes.
        hashes = set(await session.scalars(select(Invite.code_hash)))
        assert not set(codes.values()) & hashes


async def test_behandelaar_joins_a_placement(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    ben = await join(sandbox, codes["behandelaar"], 4001, "Ben")
    assert "Je bent nu behandelaar bij Sam." in ben.last.text
    overview = await ben.send("/plaatsingen")
    assert "jij bent behandelaar" in overview[-1].text
    assert overview[-1].buttons == []  # only the begeleider makes new links
    async with db.session() as session:
        placement = await session.scalar(select(Placement))
        staff = await session.scalar(select(StaffMember).where(StaffMember.role == "behandelaar"))
        assert placement is not None
        assert staff is not None
        assert placement.behandelaar_id == staff.id


async def test_refusal_keeps_only_the_refusal_and_the_link_still_works(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = sandbox.person(2001, "Olga")
    await olga.send(f"/start {codes['ouder']}")
    replies = await olga.click("Nee, liever niet")
    assert "Ik heb niets over jou bewaard" in replies[-1].text
    assert olga.chat[-2].buttons == []  # the question is closed
    async with db.session() as session:
        names = set(await session.scalars(select(Person.first_name)))
        assert names == {"Bea"}
        links = set(await session.scalars(select(TelegramLink.telegram_user_id)))
        assert 2001 not in links
        refusal = await session.scalar(
            select(ConsentRecord).where(ConsentRecord.decision == ConsentDecision.REFUSED)
        )
        assert refusal is not None
        assert refusal.person_id is None
    # Changing her mind later: the same link still works.
    await olga.send(f"/start {codes['ouder']}")
    await olga.click("✅ Ja, ik doe mee")
    assert "Fijn dat je meedoet, Olga!" in olga.chat[-3].text


async def test_bad_codes_get_kind_answers_and_change_nothing(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    mallory = sandbox.person(6666, "Mallory")
    before = await snapshot(db)

    cases = {
        "/start AAAAAAAAAAAAAAAAAAAA": "Deze link ken ik niet",
        "/start <script>alert(1)</script>": "Deze link ken ik niet",
        "/start " + "x" * 300: "Deze link ken ik niet",
        f"/start {codes['ouder']}": "Deze link is al gebruikt",
    }
    for typed, expected in cases.items():
        [reply] = await mallory.send(typed)
        assert expected in reply.text, typed
    [reply] = await olga.send(f"/start {codes['ouder']}")
    assert "Je hebt deze link al gebruikt" in reply.text
    assert await snapshot(db) == before

    clock.advance(dt.timedelta(days=15))
    [reply] = await mallory.send(f"/start {codes['gezinshuisouder']}")
    assert "Deze link is verlopen" in reply.text
    assert await snapshot(db) == before


async def test_consent_button_of_a_code_used_meanwhile(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    first, second = sandbox.person(2001, "Olga"), sandbox.person(2002, "Piet")
    await first.send(f"/start {codes['ouder']}")
    await second.send(f"/start {codes['ouder']}")
    await first.click("✅ Ja, ik doe mee")
    before = await snapshot(db)
    [reply] = await second.click("✅ Ja, ik doe mee")
    assert "Deze link is al gebruikt" in reply.text
    after = await snapshot(db)
    # Only Piet's pending question was dropped; nothing else changed.
    assert {k: v for k, v in after.items() if k != "conversation_state"} == {
        k: v for k, v in before.items() if k != "conversation_state"
    }


async def test_a_house_parent_in_two_placements_is_one_person(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    sam = await create_placement(bea, youth="Sam")
    noor = await create_placement(bea, youth="Noor")
    kees = await join(sandbox, sam["gezinshuisouder"], 3001, "Kees")
    await kees.send(f"/start {noor['gezinshuisouder']}")
    await kees.click("✅ Ja, ik doe mee")
    assert "ouders van Noor" in kees.chat[-2].text
    [again] = await kees.send(f"/start {noor['ouder']}")
    assert "Je doet al mee bij Noor" in again.text
    async with db.session() as session:
        assert await session.scalar(select(func.count(Person.id))) == 2  # Bea and Kees
        assert await session.scalar(select(func.count(Participant.id))) == 2


async def test_new_placement_re_asks_kindly_and_cancel_stores_nothing(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    before = await snapshot(db)
    [ask] = await bea.send("/nieuw")
    assert "voornaam of roepnaam" in ask.text
    for bad in ("Sam Jansen de Vries van Dam", "12345", "😀😀", "<b>Sam</b>", "x" * 5000, "Sam2"):
        [reply] = await bea.send(bad)
        assert "Typ alleen een voornaam of roepnaam" in reply.text, bad
    [ask_house] = await bea.send("Anne-Fleur")
    assert "Hoe heet het gezinshuis van Anne-Fleur?" in ask_house.text
    [reply] = await bea.send("!")
    assert "Typ de naam van het gezinshuis" in reply.text
    await bea.send("<i>De & Linde</i>")
    for bad in ("gisteren-ish", "31-2-2026", "1-1-1990", "1-1-2099"):
        [reply] = await bea.send(bad)
        assert "Die datum kan ik niet lezen" in reply.text, bad
    [stopped] = await bea.send("/annuleer")
    assert "Ik heb niets van deze vraag bewaard" in stopped.text
    assert await snapshot(db) == before
    [after] = await bea.send("Sam")
    assert "Ik stel nu geen vraag" in after.text


async def test_typed_html_comes_back_escaped(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    await create_placement(bea, gezinshuis="<i>De & Linde</i> 🏡")
    assert "(<i>De & Linde</i> 🏡)" in bea.last.text  # shown literally, message not broken
    overview = await bea.send("/plaatsingen")
    assert "<i>De & Linde</i> 🏡" in overview[-1].text


async def test_roles_are_kept_apart(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    stranger = sandbox.person(7777, "Stranger")
    before = await snapshot(db)
    [reply] = await olga.send("/nieuw")
    assert "Dit kan alleen een begeleider" in reply.text
    [reply] = await olga.send("/plaatsingen")
    assert "voor begeleiders en behandelaars" in reply.text
    [reply] = await stranger.send("/nieuw")
    assert "Ik ken je nog niet" in reply.text
    assert await snapshot(db) == before


async def test_a_begeleider_cannot_reach_another_begeleiders_placement(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    await create_placement(bea)
    code = await staff_invite_code(db, clock, Role.BEGELEIDER, "Carla")
    carla = sandbox.person(1002, "Carla")
    await carla.send(f"/start {code}")
    await carla.click("✅ Ja, ik doe mee")
    async with db.session() as session:
        sam = await session.scalar(select(Placement.id))
    overview = await carla.send("/plaatsingen")
    assert "Je hebt nog geen plaatsingen" in overview[-1].text
    before = await snapshot(db)
    last = carla.last.message_id
    [reply] = await carla.click_data(f"pl:{sam}", last)
    assert "Deze plaatsing hoort niet bij jou" in reply.text
    [reply] = await carla.click_data(f"iv:{sam}:o", last)
    assert "Deze plaatsing hoort niet bij jou" in reply.text
    [reply] = await carla.click_data("nonsense:1:2:3", last)
    assert "Deze knop werkt niet meer" in reply.text
    after = await snapshot(db)
    assert {k: v for k, v in after.items() if k != "access_log"} == {
        k: v for k, v in before.items() if k != "access_log"
    }


async def test_a_second_ouder_link_from_the_overview(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    await create_placement(bea)
    await bea.send("/plaatsingen")
    await bea.click("➕ Nieuwe link voor Sam")
    [link] = await bea.click("Ouder")
    assert "Nieuwe link voor een ouder bij Sam" in link.text
    code = link.text.split("start=")[1].split()[0]
    piet = await join(sandbox, code, 2002, "Piet")
    assert "gezinshuisouders van Sam" in piet.chat[-2].text


async def test_text_and_photos_when_nothing_is_asked(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    stranger = sandbox.person(7777, "Stranger")
    before = await snapshot(db)
    [reply] = await stranger.send("hallo?")
    assert "alleen meedoen met een uitnodiging" in reply.text
    [reply] = await bea.send("Goedemorgen!")
    assert "Ik stel nu geen vraag" in reply.text
    [reply] = await bea.send_photo()
    assert "Ik kan alleen tekst en knoppen lezen" in reply.text
    [reply] = await bea.send("/bestaatniet")
    assert "Dat commando ken ik niet" in reply.text
    [reply] = await bea.send("   ")
    assert reply.text
    assert await snapshot(db) == before
