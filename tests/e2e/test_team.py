"""The coordinator: joining from the admin's invite, /team with caseloads, inviting a colleague,
putting one on non-active (and getting her back with a new invite)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.app import AnyApplication
from bot.cli import main
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from flows import buttons, team
from flows.invites import add_organisation, create_staff_invite
from flows.people import Caller
from flows.settings import RouteSettings
from storage.db import Database
from storage.models import (
    AccessLog,
    Invite,
    Organisation,
    OutboxMessage,
    OutboxStatus,
    Person,
    Phase,
    Placement,
    Role,
    StaffMember,
)
from tests.conftest import data_key_env, database_url
from tests.e2e.conftest import (
    LINK,
    ORGANISATION,
    create_placement,
    join,
    snapshot,
    staff_invite_code,
)
from tests.e2e.test_double_press import Presser

YES = "✅ Ja, ik doe mee"
EXPIRED = "Deze knop werkt niet meer"
ONLY_COORDINATOR = "Dit kan alleen een coördinator"
ONLY_STAFF = "Dit overzicht is voor begeleiders en behandelaars"


async def _coordinator(
    sandbox: Sandbox, db: Database, clock: FakeClock, user_id: int = 5001, name: str = "Cora"
) -> ChatPerson:
    async with db.session() as session:
        if await session.scalar(select(Organisation.id)) is None:
            await add_organisation(session, ORGANISATION, clock.now())
    code = await staff_invite_code(db, clock, Role.COORDINATOR, name)
    return await join(sandbox, code, user_id, name)


async def _staff(db: Database, name: str) -> StaffMember:
    async with db.session() as session:
        member = await session.scalar(
            select(StaffMember).join(Person).where(Person.first_name == name)
        )
    assert member is not None, name
    return member


async def test_the_admin_invites_a_coordinator_who_joins_and_gets_her_menu(
    app: AnyApplication,
    sandbox: Sandbox,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = database_url(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    for name, value in data_key_env(url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    # The CLI runs its own event loop: in a thread, as an operator's shell would beside the bot.
    assert await asyncio.to_thread(main, ["admin", "add-organisation", ORGANISATION]) == 0
    capsys.readouterr()
    argv = ["admin", "invite", "--organisation", ORGANISATION, "--role", "coordinator"]
    assert await asyncio.to_thread(main, [*argv, "--name", "Cora", "--json"]) == 0
    code = json.loads(capsys.readouterr().out)["code"]

    cora = sandbox.person(5001, "Telegramnaam")
    [request] = await cora.send(f"/start {code}")
    assert "Cora" in request.text
    replies = await cora.click(YES)
    texts = [m.text for m in replies]
    assert any("Je bent hier coördinator" in t for t in texts), texts
    commands = [name for name, _ in cora.commands]
    assert commands[:3] == ["team", "overdragen", "organisatie"]
    assert {"help", "instellingen", "privacy", "mijngegevens", "taal", "stop"} <= set(commands)
    assert "nieuw" not in commands
    async with db.session() as session:
        member = await session.scalar(select(StaffMember))
        person = await session.scalar(select(Person))
    assert member is not None
    assert person is not None
    assert (member.role, member.active, person.first_name) == (Role.COORDINATOR, True, "Cora")
    [reply] = await cora.send("/team")
    assert "Team van Gezinshuizen Zuid" in reply.text
    assert "Cora (jij), coördinator" in reply.text


async def test_team_lists_staff_with_open_caseloads_and_logs_the_organisation_once(
    app: AnyApplication,
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
) -> None:
    bea, olga, _kees = family
    codes = await create_placement(bea, youth="Lina")
    await join(sandbox, codes["behandelaar"], 4001, "Henk")
    await create_placement(bea, youth="Noor")
    async with db.session() as session:
        # A closed placement does not count.
        await session.execute(
            update(Placement).where(Placement.youth_name == "Noor").values(phase=Phase.AFGESLOTEN)
        )
    cora = await _coordinator(sandbox, db, clock)
    [reply] = await cora.send("/team")
    text = reply.text
    assert "(3 actief)" in text
    assert "Bea, begeleider: 2 / 0" in text
    assert "Henk, behandelaar: 0 / 1" in text
    assert "Cora (jij), coördinator" in text
    for private in ("Olga", "Kees", "Sam", "Lina", "De Linde"):
        assert private not in text
    assert "Niet meer actief" not in text
    assert reply.button_labels == ["➕ Collega uitnodigen", "Iemand op non-actief zetten"]
    async with db.session() as session:
        organisation_id = await session.scalar(select(Organisation.id))
        rows = list(
            await session.scalars(select(AccessLog).where(AccessLog.action == "list_staff"))
        )
    assert [(r.subject, r.placement_id) for r in rows] == [
        (f"organisation:{organisation_id}", None)
    ]
    # Others get the refusal, and nothing is written.
    before = await snapshot(db)
    for person in (bea, olga):
        [refusal] = await person.send("/team")
        assert ONLY_COORDINATOR in refusal.text
    assert await snapshot(db) == before


async def test_two_hundred_staff_fit_in_messages_telegram_accepts(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    cora = await _coordinator(sandbox, db, clock)
    async with db.session() as session:
        organisation_id = await session.scalar(select(Organisation.id))
        assert organisation_id is not None
        for i in range(200):
            person = Person(first_name=f"Medewerker{i:03d}" + "x" * 50, created_at=clock.now())
            session.add(person)
            await session.flush()
            session.add(
                StaffMember(
                    organisation_id=organisation_id,
                    person_id=person.id,
                    role=Role.BEGELEIDER if i % 2 else Role.BEHANDELAAR,
                    created_at=clock.now(),
                    active=i >= 30,
                    deactivated_at=None if i >= 30 else clock.now(),
                )
            )
    replies = await cora.send("/team")
    assert len(replies) == 6  # 171 active: 30 a message
    assert all(len(m.text) <= 4096 for m in replies)
    assert "en nog 141" in replies[0].text
    assert "Niet meer actief:" in replies[-1].text
    assert "en nog 10" in replies[-1].text
    assert replies[-1].button_labels  # the buttons under the last one
    assert not replies[0].button_labels
    # Choosing whom to put on non-active pages too, 30 at a time.
    [choose] = await cora.click("Iemand op non-actief zetten")
    assert len(choose.button_labels) == 31
    [more] = await cora.click("Meer collega's ›")
    assert more.message_id == choose.message_id


async def test_a_coordinator_invites_a_colleague_by_first_name(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    cora = await _coordinator(sandbox, db, clock)
    p = Presser(sandbox, db)
    await cora.send("/team")
    await p.twice(cora, buttons.TEAM_INVITE, repeats=True)
    await p.twice(cora, buttons.TEAM_ROLE, lambda v: v["role"] == "b", restates=True)
    assert "voornaam van de nieuwe begeleider" in cora.last.text
    [bad] = await cora.send("x" * 70)
    assert "Dat lukt niet als naam" in bad.text
    [link] = await cora.send("Dirk")
    assert "Link voor Dirk als begeleider" in link.text
    assert "Stuur hem alleen naar Dirk" in link.text
    assert "14 dagen geldig" in link.text
    match = LINK.search(link.text)
    assert match
    async with db.session() as session:
        invite = await session.scalar(select(Invite).where(Invite.invitee_name == "Dirk"))
        cora_id = await session.scalar(select(Person.id).where(Person.first_name == "Cora"))
    assert invite is not None
    assert (invite.role, invite.created_by_person_id) == (Role.BEGELEIDER, cora_id)
    dirk = sandbox.person(6001, "D")
    await dirk.send(f"/start {match[1]}")
    replies = await dirk.click(YES)
    assert any("begeleider" in m.text for m in replies)
    assert (await _staff(db, "Dirk")).active

    # /annuleer stops the question: the name typed after it makes nothing.
    await cora.send("/team")
    await cora.click("➕ Collega uitnodigen")
    await cora.click("Coördinator")
    await cora.send("/annuleer")
    before = await snapshot(db)
    [reply] = await cora.send("Eva")
    assert "Link" not in reply.text
    assert await snapshot(db) == before


async def test_put_on_non_active_only_without_open_placements_and_never_herself(
    app: AnyApplication,
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
) -> None:
    _bea, _olga, _ = family
    code = await staff_invite_code(db, clock, Role.BEGELEIDER, "Dirk")
    dirk = await join(sandbox, code, 6001, "Dirk")
    await create_placement(dirk, youth="Mo")
    async with db.session() as session:
        mo = await session.scalar(select(Placement).where(Placement.youth_name == "Mo"))
        assert mo is not None
        mo.phase = Phase.AFGESLOTEN  # closed: Dirk leads no open placement any more
    await dirk.send("/fase")
    cora = await _coordinator(sandbox, db, clock)
    await cora.send("/team")
    [choose] = await cora.click("Iemand op non-actief zetten")
    assert choose.button_labels == ["Bea (begeleider)", "Dirk (begeleider)"]  # not Cora herself

    # Bea still leads Sam's placement: refused, with the count and the way out.
    [refusal] = await cora.click("Bea (begeleider)")
    assert "Bea heeft nog 1 open plaatsing" in refusal.text
    assert "/overdragen" in refusal.text
    assert (await _staff(db, "Bea")).active

    # Herself, by a forged press: refused kindly, nothing changes.
    me = await _staff(db, "Cora")
    before = await snapshot(db)
    [reply] = await cora.click_data(f"tm:x:{me.id}", choose.message_id)
    assert "Jezelf kun je niet op non-actief zetten" in reply.text
    assert await snapshot(db) == before

    # Dirk: confirm, then done in one press; the second press changes nothing.
    await cora.send("/team")
    await cora.click("Iemand op non-actief zetten")
    [confirm] = await cora.click("Dirk (begeleider)")
    assert "Dirk (begeleider) op non-actief zetten?" in confirm.text
    async with db.session() as session:
        person_id = (await _staff(db, "Dirk")).person_id
        # A pending staff message of Dirk's is dropped; nothing else of anyone's.
        session.add(
            OutboxMessage(
                key="digest:test",
                person_id=person_id,
                kind="digest",
                payload={},
                status=OutboxStatus.PENDING,
                due_at=clock.now() + dt.timedelta(days=2),
                attempts=0,
                created_at=clock.now(),
            )
        )
    p = Presser(sandbox, db)
    [done] = await p.twice(cora, buttons.TEAM_OFF_GO)
    assert "Dirk is niet meer actief als begeleider" in done.text
    notice = await dirk.wait_for_message(lambda m: "is gestopt" in m.text)
    assert "/mijngegevens" in notice.text
    assert "nieuw" not in [name for name, _ in dirk.commands]
    assert "/stop" in notice.text
    member = await _staff(db, "Dirk")
    assert (member.active, member.deactivated_at) == (False, clock.now())
    async with db.session() as session:
        status = await session.scalar(
            select(OutboxMessage.status).where(OutboxMessage.key == "digest:test")
        )
        logged = list(
            await session.scalars(
                select(AccessLog.subject).where(AccessLog.action == "deactivate_staff")
            )
        )
    assert status == OutboxStatus.DROPPED
    assert logged == [f"staff:{member.id}"]
    [twice] = await cora.click_data(f"tm:x:{member.id}", done.message_id)
    assert "Dirk is al niet meer actief" in twice.text

    # /team shows him apart.
    [listing] = await cora.send("/team")
    assert "Niet meer actief: Dirk." in listing.text
    assert "Dirk, begeleider" not in listing.text

    # His old role does nothing any more: commands and buttons get the ordinary refusal.
    before = await snapshot(db)
    [overview] = await dirk.send("/overzicht")
    [listed] = await dirk.send("/plaatsingen")
    [phase] = await dirk.send("/fase")
    assert ONLY_STAFF in overview.text
    assert ONLY_STAFF in listed.text
    assert "Dit kan alleen een begeleider" in phase.text
    old = dirk.bot_messages[-1]  # a forged or remembered staff button on any message of his
    [pressed] = await dirk.click_data(f"fa:{mo.id}", old.message_id)
    assert "Deze plaatsing hoort niet bij jou" in pressed.text
    assert await snapshot(db) == before

    # Invited again, he gets his role back: the same row, active again.
    code = await staff_invite_code(db, clock, Role.BEGELEIDER, "Dirk")
    await dirk.send(f"/start {code}")
    await dirk.click(YES)
    again_member = await _staff(db, "Dirk")
    assert (again_member.id, again_member.active, again_member.deactivated_at) == (
        member.id,
        True,
        None,
    )
    [listed] = await dirk.send("/plaatsingen")
    assert ONLY_STAFF not in listed.text


async def test_team_buttons_refuse_others_and_reveal_nothing_of_another_organisation(
    app: AnyApplication,
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
) -> None:
    bea, olga, _ = family
    cora = await _coordinator(sandbox, db, clock)
    async with db.session() as session:
        other = Organisation(name="Andere Zorg", created_at=clock.now())
        session.add(other)
        await session.flush()
        person = Person(first_name="Xandra", created_at=clock.now())
        session.add(person)
        await session.flush()
        stranger = StaffMember(
            organisation_id=other.id,
            person_id=person.id,
            role=Role.BEGELEIDER,
            created_at=clock.now(),
        )
        session.add(stranger)
        await session.flush()
        other_id, stranger_id = other.id, stranger.id
    bea_id = (await _staff(db, "Bea")).id
    [listing] = await cora.send("/team")
    assert "Xandra" not in listing.text
    before = await snapshot(db)
    forged = [
        f"tm:i:{other_id}",
        f"tm:r:{other_id}:c",
        f"tm:o:{other_id}:0",
        f"tm:p:{stranger_id}",
        f"tm:x:{stranger_id}",
        "tm:p:999999",
        "tm:x:999999",
    ]
    for data in forged:
        [reply] = await cora.click_data(data, listing.message_id)
        assert EXPIRED in reply.text, data
        assert "Xandra" not in reply.text
        assert "Andere" not in reply.text
    organisation_id = (await _staff(db, "Cora")).organisation_id
    for person in (bea, olga):
        for data in (
            f"tm:i:{organisation_id}",
            f"tm:r:{organisation_id}:b",
            f"tm:o:{organisation_id}:0",
            f"tm:p:{bea_id}",
            f"tm:x:{bea_id}",
        ):
            [reply] = await person.click_data(data, person.last.message_id)
            assert ONLY_COORDINATOR in reply.text, (person.first_name, data)
    assert await snapshot(db) == before


async def test_pressing_through_the_team_buttons_twice_changes_nothing(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    cora = await _coordinator(sandbox, db, clock)
    code = await staff_invite_code(db, clock, Role.BEHANDELAAR, "Henk")
    await join(sandbox, code, 4001, "Henk")
    p = Presser(sandbox, db)
    await cora.send("/team")
    await p.twice(cora, buttons.TEAM_OFF)
    await p.twice(cora, buttons.TEAM_PICK)
    await p.twice(cora, buttons.TEAM_OFF_GO)
    assert {buttons.TEAM_OFF, buttons.TEAM_PICK, buttons.TEAM_OFF_GO} <= p.pressed


async def test_two_coordinators_deactivating_one_person_at_once_one_wins(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    cora = await _coordinator(sandbox, db, clock)
    cara = await _coordinator(sandbox, db, clock, user_id=5002, name="Cara")
    code = await staff_invite_code(db, clock, Role.BEHANDELAAR, "Henk")
    await join(sandbox, code, 4001, "Henk")
    henk = await _staff(db, "Henk")

    async def press(chat: ChatPerson) -> list[str]:
        caller = Caller(telegram_user_id=chat.user_id, chat_id=chat.user_id, first_name="x")
        async with db.session() as session:
            out = await team.deactivate(session, caller, henk.id, clock.now())
        return [say.template for say in out.messages]

    if db.is_sqlite:
        # SQLite writes take turns: one press after the other gives the same story.
        results = [await press(cora), await press(cara)]
    else:
        results = list(await asyncio.gather(press(cora), press(cara)))
    assert sorted(results, key=len) == [
        ["team/already_inactive"],
        ["team/ended_notice", "team/deactivated"],
    ]
    async with db.session() as session:
        logged = await session.scalars(
            select(AccessLog.actor_label).where(AccessLog.action == "deactivate_staff")
        )
        assert len(list(logged)) == 1
    assert not (await _staff(db, "Henk")).active


async def test_a_coordinator_of_two_organisations_sees_one_section_each(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    cora = await _coordinator(sandbox, db, clock)
    async with db.session() as session:
        await add_organisation(session, "Andere Zorg", clock.now())
        new = await create_staff_invite(
            session,
            organisation_name="Andere Zorg",
            role=Role.COORDINATOR,
            name="Cora",
            now=clock.now(),
            settings=RouteSettings(),
        )
    await cora.send(f"/start {new.code}")
    await cora.click(YES)
    first, second = await cora.send("/team")
    assert "Team van Gezinshuizen Zuid" in first.text
    assert "Team van Andere Zorg" in second.text
    async with db.session() as session:
        subjects = sorted(
            await session.scalars(
                select(AccessLog.subject).where(AccessLog.action == "list_staff")
            )
        )
        ids = sorted(await session.scalars(select(Organisation.id)))
    assert subjects == sorted(f"organisation:{i}" for i in ids)
    # Each section's buttons name its own organisation.
    [role] = await cora.click("➕ Collega uitnodigen", second)
    await cora.click("Behandelaar", role)
    await cora.send("Ben")
    async with db.session() as session:
        invite = await session.scalar(select(Invite).where(Invite.invitee_name == "Ben"))
    assert invite is not None
    assert invite.organisation_id == ids[1]


async def test_a_deactivated_begeleider_with_a_closed_placement_can_be_erased(
    app: AnyApplication,
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
) -> None:
    """Her staff row is inactive (not loaded as a role), but her closed placement still points at
    it: the erasure must find it, or deleting her breaks the placement's foreign key."""
    code = await staff_invite_code(db, clock, Role.BEGELEIDER, "Dirk")
    dirk = await join(sandbox, code, 6001, "Dirk")
    await create_placement(dirk, youth="Mo")
    async with db.session() as session:
        mo = await session.scalar(select(Placement).where(Placement.youth_name == "Mo"))
        assert mo is not None
        mo.phase = Phase.AFGESLOTEN
    cora = await _coordinator(sandbox, db, clock)
    await cora.send("/team")
    await cora.click("Iemand op non-actief zetten")
    await cora.click("Dirk (begeleider)")
    await cora.click("Ja, zet Dirk op non-actief")
    assert not (await _staff(db, "Dirk")).active

    await dirk.send("/stop")
    await dirk.click("🗑 Mijn gegevens wissen")
    [erased] = await dirk.click("Ja, wis alles")
    assert "gewist" in erased.text
    async with db.session() as session:
        assert await session.scalar(select(Person.id).where(Person.first_name == "Dirk")) is None
        mo_after = await session.scalar(select(Placement).where(Placement.youth_name == "Mo"))
        assert mo_after is not None
        assert mo_after.begeleider_id is None
    assert sandbox.bot_errors == []
