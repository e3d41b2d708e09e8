"""Invites that reach the wrong person, many presses at once, and names with hidden characters.

One person holds one role per placement, whatever link reaches them; one single-use link makes
one person join however many press it at the same moment; the limits per side hold then too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from storage.db import Database
from storage.models import (
    ConsentDecision,
    ConsentRecord,
    ConversationState,
    Invite,
    Participant,
    Person,
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
from tests.e2e.test_delivery import wait_until

YES = "✅ Ja, ik doe mee"
WRONG_PERSON = "Deze link is niet voor jou bedoeld"
NOTICE = "opende een link"


async def _join_family(sandbox: Sandbox, codes: dict[str, str]) -> tuple[ChatPerson, ChatPerson]:
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    kees = await join(sandbox, codes["gezinshuisouder"], 3001, "Kees")
    return olga, kees


async def new_links(bea: ChatPerson, youth: str, role_label: str, count: int) -> list[str]:
    """Bea makes `count` fresh links for one role of one placement through /plaatsingen."""
    codes = []
    for _ in range(count):
        await bea.send("/plaatsingen")
        await bea.click(f"➕ Nieuwe link voor {youth}")
        [reply] = await bea.click(role_label)
        codes.append(reply.text.split("?start=")[1].split()[0])
    return codes


def _differences(
    before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]
) -> set[str]:
    return {table for table in before if before[table] != after[table]}


def _notices_to(person: ChatPerson) -> list[str]:
    return [m.text for m in person.bot_messages if NOTICE in m.text]


# --- Role integrity -------------------------------------------------------------------------


async def test_ouder_forwarded_the_behandelaar_link_is_refused_and_the_begeleider_told(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga, kees = await _join_family(sandbox, codes)
    before = await snapshot(db)

    [reply] = await olga.send(f"/start {codes['behandelaar']}")
    assert WRONG_PERSON in reply.text
    assert "Er is niets veranderd" in reply.text
    assert "begeleider" in reply.text
    assert reply.buttons == []  # no consent to give
    [notice] = _notices_to(bea)
    assert "een nieuwe behandelaar." in notice
    assert "Sam" in notice
    assert "/plaatsingen" in notice
    assert "Olga" not in notice
    assert "Kees" not in notice

    # Nothing changed but the notice in the outbox.
    after = await snapshot(db)
    assert _differences(before, after) == {"outbox"}
    assert all(row in after["outbox"] for row in before["outbox"])
    assert len(after["outbox"]) == len(before["outbox"]) + 1
    async with db.session() as session:
        olga_person = await session.scalar(
            select(Person).join(TelegramLink).where(TelegramLink.telegram_user_id == 2001)
        )
        assert olga_person is not None
        staff = await session.scalar(
            select(func.count())
            .select_from(StaffMember)
            .where(StaffMember.person_id == olga_person.id)
        )
        placement = await session.scalar(select(Placement))
        invite = await session.scalar(select(Invite).where(Invite.role == Role.BEHANDELAAR))
    assert staff == 0
    assert placement is not None
    assert placement.behandelaar_id is None
    assert invite is not None
    assert invite.used_at is None  # still there for the real behandelaar

    [overview] = await olga.send("/overzicht")
    assert "Kees" not in overview.text
    assert "voor begeleiders en behandelaars" in overview.text

    # The other side's link: the same kind refusal, the same notice without names.
    [gezinshuisouder_link] = await new_links(bea, "Sam", "Gezinshuisouder", 1)
    [ouder_link] = await new_links(bea, "Sam", "Ouder", 1)
    [reply] = await olga.send(f"/start {gezinshuisouder_link}")
    assert WRONG_PERSON in reply.text
    [reply] = await kees.send(f"/start {ouder_link}")
    assert WRONG_PERSON in reply.text
    notices = _notices_to(bea)
    assert len(notices) == 3
    assert "een nieuwe gezinshuisouder." in notices[1]
    assert "een nieuwe ouder." in notices[2]
    for text in notices:
        assert "Olga" not in text
        assert "Kees" not in text
    async with db.session() as session:
        roles = [
            (p.person_id, p.role)
            for p in await session.scalars(select(Participant).order_by(Participant.id))
        ]
    assert [role for _, role in roles] == [Role.OUDER, Role.GEZINSHUISOUDER]

    # A link for the role she holds: the plain "already in", no notice.
    [reply] = await olga.send(f"/start {ouder_link}")
    assert "Je doet al mee bij Sam" in reply.text
    assert len(_notices_to(bea)) == 3


async def test_staff_of_the_placement_cannot_join_it_as_family(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    hans = await join(sandbox, codes["behandelaar"], 4001, "Hans")
    [ouder_link] = await new_links(bea, "Sam", "Ouder", 1)
    [behandelaar_link] = await _fresh_behandelaar_link(db, clock)
    before = await snapshot(db)

    # Bea herself: refused, and she is not told about her own try.
    [reply] = await bea.send(f"/start {codes['ouder']}")
    assert WRONG_PERSON in reply.text
    assert _notices_to(bea) == []

    # The behandelaar: refused; Bea is told, without his name.
    [reply] = await hans.send(f"/start {ouder_link}")
    assert WRONG_PERSON in reply.text
    [notice] = _notices_to(bea)
    assert "Hans" not in notice
    assert "een nieuwe ouder." in notice

    # Bea with a behandelaar link of her own placement: refused too.
    [reply] = await bea.send(f"/start {behandelaar_link}")
    assert WRONG_PERSON in reply.text
    assert len(_notices_to(bea)) == 1

    after = await snapshot(db)
    assert _differences(before, after) == {"outbox"}
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Participant)) == 0


async def _fresh_behandelaar_link(db: Database, clock: FakeClock) -> list[str]:
    """A behandelaar link for Sam made directly (the slot is taken, so /plaatsingen won't)."""
    from flows.invites import create_invite
    from flows.settings import RouteSettings

    async with db.session() as session:
        placement = await session.scalar(select(Placement))
        assert placement is not None
        new = await create_invite(
            session,
            role=Role.BEHANDELAAR,
            organisation_id=placement.organisation_id,
            placement_id=placement.id,
            now=clock.now(),
            settings=RouteSettings(),
        )
    return [new.code]


async def test_role_is_checked_again_when_consent_is_pressed(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    lisa = await create_placement(bea, youth="Lisa", gezinshuis="De Eik")
    olga = await join(sandbox, lisa["ouder"], 2001, "Olga")
    # Olga opens Sam's ouder link: allowed, she does not take part for Sam yet.
    [screen] = await olga.send(f"/start {codes['ouder']}")
    assert screen.buttons
    # Meanwhile she became Sam's gezinshuisouder (the state changed between screen and press).
    async with db.session() as session:
        person_id = await session.scalar(
            select(TelegramLink.person_id).where(TelegramLink.telegram_user_id == 2001)
        )
        sam = await session.scalar(select(Placement).where(Placement.youth_name == "Sam"))
        assert person_id is not None
        assert sam is not None
        session.add(
            Participant(
                placement_id=sam.id,
                person_id=person_id,
                role=Role.GEZINSHUISOUDER,
                joined_at=clock.now(),
            )
        )
    replies = await olga.click(YES)
    assert WRONG_PERSON in replies[-1].text
    async with db.session() as session:
        sam_roles = list(
            await session.scalars(
                select(Participant.role).where(Participant.placement_id == sam.id)
            )
        )
        invite = await session.scalar(
            select(Invite).where(Invite.placement_id == sam.id, Invite.role == Role.OUDER)
        )
        given = await session.scalar(
            select(func.count())
            .select_from(ConsentRecord)
            .where(ConsentRecord.person_id == person_id)
        )
    assert sam_roles == [Role.GEZINSHUISOUDER]
    assert invite is not None
    assert invite.used_at is None
    assert given == 1  # only the consent for Lisa
    [notice] = _notices_to(bea)
    assert "Olga" not in notice


async def test_one_person_may_be_ouder_of_two_placements(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    sam = await create_placement(bea)
    lisa = await create_placement(bea, youth="Lisa", gezinshuis="De Eik")
    olga = await join(sandbox, sam["ouder"], 2001, "Olga")
    await olga.send(f"/start {lisa['ouder']}")
    replies = await olga.click(YES)
    assert "Fijn dat je meedoet, Olga!" in replies[-3].text
    assert _notices_to(bea) == []
    async with db.session() as session:
        youths = list(
            await session.scalars(
                select(Placement.youth_name)
                .join(Participant, Participant.placement_id == Placement.id)
                .order_by(Placement.youth_name)
            )
        )
    assert youths == ["Lisa", "Sam"]


# --- Many presses at once -------------------------------------------------------------------


async def press_at_once(sandbox: Sandbox, people: list[ChatPerson], label: str = YES) -> None:
    """Queue each person's press on their last consent screen, then let the bot take them all."""
    answered = len(sandbox.calls_to("answerCallbackQuery"))
    for person in people:
        message = next(m for m in reversed(person.bot_messages) if m.find_button(label))
        button = message.find_button(label)
        assert button is not None
        data = button["callback_data"]
        sandbox.api.person_click(person._chat, message, data, label)
    sandbox.notify()
    await wait_until(
        lambda: len(sandbox.calls_to("answerCallbackQuery")) >= answered + len(people),
        30,
        "every press was answered",
    )
    await sandbox.settle()


async def screens(sandbox: Sandbox, codes: list[str], first_id: int) -> list[ChatPerson]:
    people = []
    for i, code in enumerate(codes):
        person = sandbox.person(first_id + i, f"Mens{i}")
        await person.send(f"/start {code}")
        people.append(person)
    return people


async def test_six_presses_on_one_link_make_one_person_join(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    people = await screens(sandbox, [codes["ouder"]] * 6, 5001)
    await press_at_once(sandbox, people)

    async with db.session() as session:
        participants = list(await session.scalars(select(Participant)))
        given = list(
            await session.scalars(
                select(ConsentRecord).where(ConsentRecord.decision == ConsentDecision.GIVEN)
            )
        )
        persons = await session.scalar(select(func.count()).select_from(Person))
        links = await session.scalar(select(func.count()).select_from(TelegramLink))
        invite = await session.scalar(select(Invite).where(Invite.role == Role.OUDER))
    assert len(participants) == 1
    assert persons == 2  # Bea and the one who joined
    assert links == 2
    winner = participants[0].person_id
    assert invite is not None
    assert invite.used_by_person_id == winner
    assert [c.person_id for c in given if c.invite_id == invite.id] == [winner]
    joined = [p for p in people if any("Fijn dat je meedoet" in m.text for m in p.bot_messages)]
    used = [p for p in people if any("al gebruikt" in m.text for m in p.bot_messages)]
    assert len(joined) == 1
    assert len(used) == 5


async def test_six_presses_on_six_links_make_two_ouders(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    await create_placement(bea)
    codes = await new_links(bea, "Sam", "Ouder", 6)
    people = await screens(sandbox, codes, 5001)
    await press_at_once(sandbox, people)

    async with db.session() as session:
        ouders = await session.scalar(select(func.count()).select_from(Participant))
        persons = await session.scalar(select(func.count()).select_from(Person))
        used = await session.scalar(
            select(func.count()).select_from(Invite).where(Invite.used_at.is_not(None))
        )
        states = await session.scalar(select(func.count()).select_from(ConversationState))
    assert ouders == 2
    assert persons == 3  # Bea and two ouders: the others left nothing behind
    assert used == 3  # Bea's own invite and two ouder links
    assert states == 0
    full = [p for p in people if any("al twee mensen" in m.text for m in p.bot_messages)]
    assert len(full) == 4


async def test_three_presses_on_three_behandelaar_links_make_one_behandelaar(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    first = await create_placement(bea)
    codes = [first["behandelaar"], *(await _extra_behandelaar_links(db, clock, 2))]
    people = await screens(sandbox, codes, 6001)
    await press_at_once(sandbox, people)

    async with db.session() as session:
        placement = await session.scalar(select(Placement))
        staff = list(
            await session.scalars(select(StaffMember).where(StaffMember.role == Role.BEHANDELAAR))
        )
        persons = await session.scalar(select(func.count()).select_from(Person))
    assert placement is not None
    assert len(staff) == 1
    assert placement.behandelaar_id == staff[0].id
    assert persons == 2
    joined = [p for p in people if any("Fijn dat je meedoet" in m.text for m in p.bot_messages)]
    taken = [p for p in people if any("al een behandelaar" in m.text for m in p.bot_messages)]
    assert len(joined) == 1
    assert len(taken) == 2


async def test_six_presses_on_one_staff_link_make_one_begeleider(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    # No placement to lock here: the conditional update of the invite alone decides.
    code = await staff_invite_code(db, clock)
    people = await screens(sandbox, [code] * 6, 7001)
    await press_at_once(sandbox, people)

    async with db.session() as session:
        staff = list(await session.scalars(select(StaffMember)))
        persons = await session.scalar(select(func.count()).select_from(Person))
        given = await session.scalar(
            select(func.count())
            .select_from(ConsentRecord)
            .where(ConsentRecord.decision == ConsentDecision.GIVEN)
        )
        invite = await session.scalar(select(Invite))
    assert len(staff) == 1
    assert persons == 1
    assert given == 1
    assert invite is not None
    assert invite.used_by_person_id == staff[0].person_id
    used = [p for p in people if any("al gebruikt" in m.text for m in p.bot_messages)]
    assert len(used) == 5


async def _extra_behandelaar_links(db: Database, clock: FakeClock, count: int) -> list[str]:
    codes = []
    for _ in range(count):
        codes.extend(await _fresh_behandelaar_link(db, clock))
    return codes


# --- Names with hidden characters -----------------------------------------------------------


async def test_hidden_characters_are_taken_out_of_names(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    kees = await join(sandbox, codes["gezinshuisouder"], 3001, "K\u200bees")
    assert "Fijn dat je meedoet, Kees!" in kees.chat[-3].text
    ghost = await join(sandbox, codes["ouder"], 2001, "\u200b\u202e\u2066")
    assert "Fijn dat je meedoet, ?!" in ghost.chat[-3].text

    await bea.send("/nieuw")
    [reply] = await bea.send("\u200b\u2066")
    assert "Dat lukt zo niet. Typ alleen een voornaam" in reply.text
    await bea.send("\u202eTim")
    await bea.send("De\u200d Eik\u00ad")
    await bea.send("1-3-2026")

    async with db.session() as session:
        names = set(await session.scalars(select(Person.first_name)))
        tim = await session.scalar(select(Placement).where(Placement.youth_name == "Tim"))
    assert names == {"Bea", "Kees", "?"}
    assert tim is not None
    assert tim.gezinshuis_name == "De Eik"
