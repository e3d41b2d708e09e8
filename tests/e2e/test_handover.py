"""/overdragen: a coordinator (or a begeleider herself) hands placements to a colleague; the
meetings move along, the families and both staff members hear it once, the old begeleider loses
access at once; and a begeleider who wants to be erased is sent to /overdragen."""

from __future__ import annotations

import asyncio
import datetime as dt
import os

import pytest
from sqlalchemy import select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from flows import buttons, handover
from flows.invites import add_organisation, create_staff_invite
from flows.outbox import enqueue
from flows.people import Caller
from flows.replies import Say
from flows.settings import RouteSettings
from storage.db import Database
from storage.models import (
    AccessLog,
    ConversationState,
    Meeting,
    MeetingInvitee,
    OutboxMessage,
    OutboxStatus,
    Participant,
    Person,
    Phase,
    Placement,
    Role,
    StaffMember,
)
from tests.e2e.conftest import (
    at,
    create_placement,
    join,
    join_as_begeleider,
    snapshot,
    staff_invite_code,
)
from tests.e2e.test_double_press import Presser
from tests.e2e.test_meetings import plan

UTC = dt.UTC
EXPIRED = "Deze knop werkt niet meer"
NOT_YOURS = "Deze plaatsing hoort niet bij jou"
FAMILY_NOTICE = "Je hebt een nieuwe begeleider"
RECEIVED = "📥 Je bent nu begeleider van"
CONSENT = "✅ Ja, ik doe mee"

requires_postgres = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="row locks are PostgreSQL's (set TEST_DATABASE_URL)",
)

Org = dict[str, ChatPerson]


async def _staff(
    sandbox: Sandbox, db: Database, clock: FakeClock, role: str, name: str, user_id: int
) -> ChatPerson:
    code = await staff_invite_code(db, clock, Role(role), name)
    person = sandbox.person(user_id, name)
    await person.send(f"/start {code}")
    await person.click(CONSENT)
    return person


@pytest.fixture
async def org(app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock) -> Org:
    """Bea leads Sam, Lina and Noor; Olga is ouder of Sam and Lina, Kees gezinshuisouder of Sam;
    Bert is another begeleider, Carla the coordinator."""
    bea = await join_as_begeleider(sandbox, db, clock)
    sam = await create_placement(bea, youth="Sam")
    lina = await create_placement(bea, youth="Lina", gezinshuis="De Eik")
    await create_placement(bea, youth="Noor", gezinshuis="De Wilg")
    olga = await join(sandbox, sam["ouder"], 2001, "Olga")
    await olga.send(f"/start {lina['ouder']}")
    await olga.click(CONSENT)
    kees = await join(sandbox, sam["gezinshuisouder"], 3001, "Kees")
    bert = await _staff(sandbox, db, clock, "begeleider", "Bert", 1002)
    carla = await _staff(sandbox, db, clock, "coordinator", "Carla", 5001)
    return {"bea": bea, "olga": olga, "kees": kees, "bert": bert, "carla": carla}


async def _ids(db: Database) -> dict[str, int]:
    """Placement ids by youth, staff ids by first name (begeleider rows)."""
    async with db.session() as session:
        found = {
            y: i for i, y in await session.execute(select(Placement.id, Placement.youth_name))
        }
        for member_id, name in await session.execute(
            select(StaffMember.id, Person.first_name).join(
                Person, Person.id == StaffMember.person_id
            )
        ):
            found[name] = member_id
    return found


async def _holders(db: Database) -> dict[str, int | None]:
    async with db.session() as session:
        return {
            y: b
            for y, b in await session.execute(
                select(Placement.youth_name, Placement.begeleider_id)
            )
        }


def _count(person: ChatPerson, text: str) -> int:
    return sum(text in m.text for m in person.bot_messages)


async def test_the_coordinator_hands_all_of_beas_placements_to_bert(
    app: AnyApplication, org: Org, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea, olga, kees, bert, carla = (org[n] for n in ("bea", "olga", "kees", "bert", "carla"))
    ids = await _ids(db)
    await plan(bea, "Kennismakingsgesprek", "12-3 14:00")  # Sam's, with Olga and Kees
    await bea.send("/fase")
    old_phase_button = bea.last

    # Bea wants to be erased first: she cannot yet, and Carla hears it once a day.
    await bea.send("/stop")
    [blocked] = await bea.click("🗑 Mijn gegevens wissen")
    assert "/overdragen" in blocked.text
    assert "coördinator laten weten" in blocked.text
    await bea.send("/stop")
    await bea.click("🗑 Mijn gegevens wissen")
    notice = "Bea wil alle gegevens laten wissen, maar heeft nog 3 open plaatsingen"
    assert _count(carla, notice) == 1
    assert "Sam" not in carla.last.text
    assert "Olga" not in carla.last.text

    [sources] = await carla.send("/overdragen")
    assert sources.button_labels == ["Bea (begeleider) · 3", "Toch niet"]
    [what] = await carla.click("Bea (begeleider) · 3")
    assert "Bea (begeleider) heeft 3 open plaatsingen" in what.text
    assert what.button_labels[0] == "Alle 3 plaatsingen"
    [targets] = await carla.click("Alle 3 plaatsingen")
    assert targets.button_labels == ["➡️ Bert", "Toch niet"]  # not Bea, not Carla
    [confirm] = await carla.click("➡️ Bert")
    assert "Overdragen van Bea aan Bert" in confirm.text
    for youth in ("Sam", "Lina", "Noor"):
        assert youth in confirm.text
    before = await _holders(db)
    assert set(before.values()) == {ids["Bea"]}
    # Bea is halfway planning a meeting for Sam, and a plan-review prompt about Sam waits for her.
    await bea.send("/afspraak")
    await bea.click("Sam · installatiefase")
    async with db.session() as session:
        assert await session.get(ConversationState, bea.user_id) is not None
        bea_id = await session.scalar(select(Person.id).where(Person.first_name == "Bea"))
        assert bea_id is not None
        await enqueue(
            session,
            key="plan_review:test",
            person_id=bea_id,
            kind="plan_review",
            say=Say("common/nothing_asked"),
            due_at=clock.now() + dt.timedelta(days=3),
            now=clock.now(),
            placement_id=ids["Sam"],
        )
    replies = await carla.click("Ja, overdragen", confirm)
    assert "✅ Overgedragen aan Bert" in replies[-1].text

    assert set((await _holders(db)).values()) == {ids["Bert"]}
    # One message per family person, however many of their placements moved.
    assert _count(olga, FAMILY_NOTICE) == 1
    olga_notice = next(m.text for m in olga.bot_messages if FAMILY_NOTICE in m.text)
    assert "Sam en Lina" in olga_notice or "Lina en Sam" in olga_notice
    assert "Nu met Bert in plaats van Bea" in olga_notice  # the meeting stays
    assert "/contact" in olga_notice
    assert _count(kees, FAMILY_NOTICE) == 1
    # Bert gets each placement's plan and recent weeks; Bea hears what went where.
    assert _count(bert, RECEIVED) == 3
    received = [m.text for m in bert.bot_messages if RECEIVED in m.text]
    assert all("Carla gaf de plaatsing van Bea aan jou" in t for t in received)
    assert all("Samenwerken, de laatste" in t and "Plan:" in t for t in received)
    assert _count(bea, "Carla heeft deze plaatsingen overgedragen aan Bert") == 1

    async with db.session() as session:
        assert await session.get(ConversationState, bea.user_id) is None
        prompt = await session.scalar(
            select(OutboxMessage.status).where(OutboxMessage.key == "plan_review:test")
        )
        assert prompt == OutboxStatus.DROPPED
    # Bea's old button on Sam: not hers any more.
    [refused] = await bea.click("Sam · installatiefase", old_phase_button)
    assert NOT_YOURS in refused.text

    # The meeting moved with the placement: Bert's seat, no answer yet, planned by him.
    async with db.session() as session:
        meeting = await session.scalar(select(Meeting))
        assert meeting is not None
        seats = {
            p: r
            for p, r in await session.execute(
                select(Person.first_name, MeetingInvitee.rsvp).join(
                    Person, Person.id == MeetingInvitee.person_id
                )
            )
        }
        assert seats == {"Bert": None, "Olga": None, "Kees": None}
        planner = await session.get(Person, meeting.planned_by_person_id)
        assert planner is not None
        assert planner.first_name == "Bert"
        logged = list(
            await session.execute(
                select(AccessLog.action, AccessLog.subject, AccessLog.actor_label).order_by(
                    AccessLog.id
                )
            )
        )
    handed = [(s, a) for action, s, a in logged if action == "hand_over"]
    assert sorted(s for s, _ in handed) == sorted(
        f"placement:{ids[y]} staff:{ids['Bea']}->staff:{ids['Bert']}"
        for y in ("Sam", "Lina", "Noor")
    )
    assert all(a.startswith("Carla") for _, a in handed)
    got = [a for action, _, a in logged if action == "handover_received"]
    assert len(got) == 3
    assert all(a.startswith("Bert") for a in got)

    # Bert's overview shows them.
    shown = await bert.send("/overzicht")
    text = "\n".join(m.text for m in shown)
    assert all(youth in text for youth in ("Sam", "Lina", "Noor"))

    # The reminders at the meeting's times go to Bert, not to Bea.
    await at(app, clock, dt.datetime(2026, 3, 10, 17, 0, tzinfo=UTC))
    await at(app, clock, dt.datetime(2026, 3, 12, 11, 0, tzinfo=UTC))
    assert sum(m.text.startswith("⏰") for m in bert.bot_messages) == 2
    assert sum(m.text.startswith("⏰") for m in bea.bot_messages) == 0
    assert sum(m.text.startswith("⏰") for m in olga.bot_messages) == 2

    # Now Bea's erasure goes through.
    await bea.send("/stop")
    await bea.click("🗑 Mijn gegevens wissen")
    await bea.click("Ja, wis alles")
    async with db.session() as session:
        assert await session.scalar(select(Person).where(Person.first_name == "Bea")) is None
        # Nothing queued or kept names her, not even in the placements she handed over.
        payloads = list(await session.scalars(select(OutboxMessage.payload)))
    assert payloads
    assert not [p for p in payloads if "Bea" in repr(p)]


async def test_a_begeleider_hands_over_one_placement_herself_and_each_press_twice(
    app: AnyApplication, org: Org, sandbox: Sandbox, db: Database
) -> None:
    bea, olga, kees, bert, carla = (org[n] for n in ("bea", "olga", "kees", "bert", "carla"))
    ids = await _ids(db)
    p = Presser(sandbox, db)
    [what] = await bea.send("/overdragen")
    assert what.button_labels[0] == "Alle 3 plaatsingen"
    await p.twice(bea, buttons.HANDOVER_WHAT, lambda v: v["placement"] == ids["Sam"])
    assert bea.last.button_labels == ["➡️ Bert", "Toch niet"]
    await p.twice(bea, buttons.HANDOVER_TO)
    assert "Overdragen van Bea aan Bert" in bea.last.text
    await p.twice(bea, buttons.HANDOVER_GO)
    assert await _holders(db) == {"Sam": ids["Bert"], "Lina": ids["Bea"], "Noor": ids["Bea"]}
    assert _count(olga, FAMILY_NOTICE) == 1
    assert _count(kees, FAMILY_NOTICE) == 1
    assert _count(bert, RECEIVED) == 1
    assert _count(bea, "overgedragen aan") == 0  # she did it herself: no message about it
    # The coordinator's first step, pressed twice.
    await carla.send("/overdragen")
    await p.twice(carla, buttons.HANDOVER_FROM, lambda v: v["source"] == ids["Bea"])
    assert carla.last.button_labels[0] == "Alle 2 plaatsingen"


async def test_bad_handovers_change_nothing_and_reveal_nothing(
    app: AnyApplication,
    org: Org,
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, bert, carla = (org[n] for n in ("bea", "olga", "bert", "carla"))
    # Another organisation with its own begeleider and placement.
    async with db.session() as session:
        await add_organisation(session, "Gezinshuizen Noord", clock.now())
        other = await create_staff_invite(
            session,
            organisation_name="Gezinshuizen Noord",
            role=Role.BEGELEIDER,
            name="Xander",
            now=clock.now(),
            settings=RouteSettings(),
        )
    xander = sandbox.person(1009, "Xander")
    await xander.send(f"/start {other.code}")
    await xander.click(CONSENT)
    await create_placement(xander, youth="Zoë", gezinshuis="Het Anker")
    ids = await _ids(db)
    bea_id, bert_id, x_id = ids["Bea"], ids["Bert"], ids["Xander"]
    sam, noor, zoe = ids["Sam"], ids["Noor"], ids["Zoë"]
    await carla.send("/overdragen")
    where = carla.last.message_id

    async def refused(person: ChatPerson, data: str, expected: str) -> None:
        before = await snapshot(db)
        replies = await person.click_data(
            data, person.last.message_id if person is not carla else where
        )
        assert expected in replies[-1].text, (data, replies[-1].text)
        for name in ("Xander", "Zoë", "Het Anker", "Noord"):
            if person is not xander:
                assert name not in replies[-1].text, data
        assert await snapshot(db) == before, data

    # Another organisation's begeleider as target, as source, or its placement: one refusal.
    await refused(carla, f"ho:g:{bea_id}:{sam}:{x_id}", EXPIRED)
    await refused(carla, f"ho:t:{bea_id}:0:{x_id}", EXPIRED)
    await refused(carla, f"ho:f:{x_id}", EXPIRED)
    await refused(carla, f"ho:w:{x_id}:{zoe}", EXPIRED)
    await refused(carla, f"ho:w:{bea_id}:{zoe}", NOT_YOURS)
    await refused(carla, f"ho:g:{bea_id}:{zoe}:{bert_id}", NOT_YOURS)
    await refused(carla, f"ho:f:{999999}", EXPIRED)
    # To the same person.
    await refused(carla, f"ho:g:{bea_id}:{sam}:{bea_id}", "niet aan dezelfde persoon")
    # A begeleider cannot start from someone else; a parent cannot hand over at all.
    await refused(bert, f"ho:f:{bea_id}", EXPIRED)
    await refused(bert, f"ho:g:{bea_id}:{sam}:{bert_id}", EXPIRED)
    await refused(olga, f"ho:g:{bea_id}:{sam}:{bert_id}", EXPIRED)
    [only] = await olga.send("/overdragen")
    assert "Kijk bij /help wat jij hier kunt doen" in only.text  # the guard's only-staff words
    # A deactivated target.
    async with db.session() as session:
        member = await session.get(StaffMember, bert_id)
        assert member is not None
        member.active = False
    await refused(carla, f"ho:g:{bea_id}:{sam}:{bert_id}", "Bert werkt hier niet meer")
    async with db.session() as session:
        member = await session.get(StaffMember, bert_id)
        assert member is not None
        member.active = True
    # A closed placement.
    async with db.session() as session:
        closed = await session.get(Placement, noor)
        assert closed is not None
        closed.phase = Phase.AFGESLOTEN
    await refused(carla, f"ho:g:{bea_id}:{noor}:{bert_id}", "De plaatsing van Noor is afgesloten")
    # A stale press: Sam went to Bert already.
    await carla.click_data(f"ho:g:{bea_id}:{sam}:{bert_id}", where)
    assert (await _holders(db))["Sam"] == bert_id
    await refused(
        carla, f"ho:g:{bea_id}:{sam}:{bert_id}", "De plaatsing van Sam is al overgedragen"
    )
    # Bea's old press for everything now finds only Lina.
    await refused(bea, f"ho:g:{bea_id}:{sam}:{bert_id}", NOT_YOURS)


@requires_postgres
async def test_two_coordinators_hand_over_the_same_placement_at_once(
    app: AnyApplication, org: Org, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    dirk = await _staff(sandbox, db, clock, "coordinator", "Dirk", 5002)
    bart = await _staff(sandbox, db, clock, "begeleider", "Bart", 1003)
    ids = await _ids(db)
    del dirk, bart

    async def press(user_id: int, name: str, target: int, placement: int) -> list[Say]:
        caller = Caller(telegram_user_id=user_id, chat_id=user_id, first_name=name)
        async with db.session() as session:
            out = await handover.go(session, caller, ids["Bea"], placement, target, clock.now())
        return out.messages

    for placement in (ids["Sam"], 0):
        first, second = await asyncio.gather(
            press(5001, "Carla", ids["Bert"], placement),
            press(5002, "Dirk", ids["Bart"], placement),
        )
        done = [m for m in (*first, *second) if m.template == "handover/done"]
        assert len(done) == 1, placement
        refusals = {m.template for m in (*first, *second) if m.to is None} - {"handover/done"}
        assert refusals <= {"handover/already", "handover/nothing_left"}, refusals
    async with db.session() as session:
        rows = list(
            await session.scalars(select(AccessLog).where(AccessLog.action == "hand_over"))
        )
        holders = set((await _holders(db)).values())
    assert len(rows) == 3  # Sam once, then Lina and Noor once
    assert ids["Bea"] not in holders


async def test_twenty_five_placements_at_once_one_message_per_family_person(
    app: AnyApplication, org: Org, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    olga, bert, carla = org["olga"], org["bert"], org["carla"]
    ids = await _ids(db)
    async with db.session() as session:
        sam = await session.get(Placement, ids["Sam"])
        olga_id = await session.scalar(select(Person.id).where(Person.first_name == "Olga"))
        assert sam is not None
        assert olga_id is not None
        for n in range(22):  # with Sam, Lina and Noor: 25, Olga ouder in 23 of them
            placement = Placement(
                organisation_id=sam.organisation_id,
                youth_name=f"Kind{n:02d}",
                gezinshuis_name="De Linde",
                phase=Phase.INSTALLATIEFASE,
                phase_since=clock.now(),
                start_date=clock.now().date(),
                begeleider_id=ids["Bea"],
                created_at=clock.now(),
            )
            session.add(placement)
            await session.flush()
            session.add(
                Participant(
                    placement_id=placement.id,
                    person_id=olga_id,
                    role=Role.OUDER,
                    joined_at=clock.now(),
                )
            )
    await carla.send("/overdragen")
    await carla.click("Bea (begeleider) · 25")
    await carla.click("Alle 25 plaatsingen")
    [confirm] = await carla.click("➡️ Bert")
    assert "en nog 5 andere" in confirm.text
    # Bert's 25 messages go out at Telegram's pace for one chat (the outbox keeps to it).
    await carla.click("Ja, overdragen", timeout=120)
    assert set((await _holders(db)).values()) == {ids["Bert"]}
    assert _count(olga, FAMILY_NOTICE) == 1
    assert _count(bert, RECEIVED) == 25
    assert sandbox.bot_errors == []  # every message within Telegram's limits


async def test_the_coordinator_hands_over_a_behandelaar_who_left_and_the_family_hears_it(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    ben = await join(sandbox, codes["behandelaar"], 4001, "Ben")
    hanna = await _staff(sandbox, db, clock, "behandelaar", "Hanna", 4002)
    carla = await _staff(sandbox, db, clock, "coordinator", "Carla", 5001)
    # Ben has left (deactivated): what he leaves behind can still be handed over.
    async with db.session() as session:
        ben_row = await session.scalar(
            select(StaffMember).join(Person).where(Person.first_name == "Ben")
        )
        assert ben_row is not None
        ben_row.active = False
    [sources] = await carla.send("/overdragen")
    assert sources.button_labels == [
        "Bea (begeleider) · 1",
        "Ben (behandelaar, gestopt) · 1",
        "Toch niet",
    ]
    await carla.click("Ben (behandelaar, gestopt) · 1")
    [targets] = await carla.click("Sam · installatiefase")
    assert targets.button_labels == ["➡️ Hanna", "Toch niet"]  # behandelaars only
    await carla.click("➡️ Hanna")
    await carla.click("Ja, overdragen")
    async with db.session() as session:
        placement = await session.scalar(select(Placement))
        hanna_id = await session.scalar(
            select(StaffMember.id).join(Person).where(Person.first_name == "Hanna")
        )
    assert placement is not None
    assert placement.behandelaar_id == hanna_id
    assert "Je hebt een nieuwe behandelaar: Hanna" in olga.last.text
    assert "/contact" not in olga.last.text
    assert "📥 Je bent nu behandelaar van Sam" in hanna.last.text
    assert "Carla heeft deze plaatsing overgedragen aan Hanna" in ben.last.text
    assert _count(bea, "Hanna") == 0  # the begeleider stays; nothing changes for her
