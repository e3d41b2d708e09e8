"""The authorisation table (flows/authz.py) walked cell by cell, end to end.

Every action by every role, each tried on three placements: the actor's own (Sam: Bea's, with
Henk as behandelaar, Olga and Kees as family; the coordinator Cora's organisation), another of the
same organisation (Lina: Bert's) and one of another organisation (Noor: Britt's, coordinator Carl).
What the table allows must do what it says; what it refuses must change nothing about that
placement and show nothing of it (no alias, no gezinshuis, no family name). Cross-organisation:
never. A driver per action says how a person tries it (as they would: a command, or the press of a
button — forged with the target's id where they have no button for it) and how to see it was done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from flows import buttons
from flows.authz import PERMISSIONS, ROLES, Action, Scope, scope
from flows.invites import add_organisation, create_staff_invite
from flows.settings import RouteSettings
from storage.db import Database
from storage.models import (
    AccessLog,
    Base,
    ConversationState,
    Invite,
    MeasurementRound,
    Placement,
    Role,
    StaffMember,
)
from tests.e2e.conftest import ORGANISATION, create_placement, join

OTHER_ORGANISATION = "Jeugdzorg Noord"


@dataclass(frozen=True)
class Target:
    """A placement someone may or may not reach, with what must never leak about it."""

    name: str  # "own", "same_org", "other_org"
    placement: int
    organisation: int
    begeleider: int  # its begeleider's staff id
    spare: int  # a staff member of its organisation without placements (to deactivate)
    secrets: tuple[str, ...]  # alias, gezinshuis, family first names
    family: tuple[str, ...]  # the first names of its ouders and gezinshuisouders
    colleague: int  # another begeleider of its organisation, to hand it over to


@dataclass
class World:
    sandbox: Sandbox
    db: Database
    clock: FakeClock
    actors: dict[Role, ChatPerson]
    targets: dict[str, Target]
    people: dict[str, ChatPerson] = field(default_factory=dict)


async def _staff(
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
    organisation: str,
    role: Role,
    name: str,
    user_id: int,
) -> ChatPerson:
    async with db.session() as session:
        new = await create_staff_invite(
            session,
            organisation_name=organisation,
            role=role,
            name=name,
            now=clock.now(),
            settings=RouteSettings(),
        )
    return await join(sandbox, new.code, user_id, name)


async def _ids(db: Database, youth: str) -> tuple[int, int, int]:
    async with db.session() as session:
        row = (
            await session.execute(
                select(Placement.id, Placement.organisation_id, Placement.begeleider_id).where(
                    Placement.youth_name == youth
                )
            )
        ).one()
    assert row[2] is not None
    return row[0], row[1], row[2]


async def _staff_id(db: Database, user: ChatPerson, role: Role) -> int:
    from storage.models import TelegramLink

    async with db.session() as session:
        found = await session.scalar(
            select(StaffMember.id)
            .join(TelegramLink, TelegramLink.person_id == StaffMember.person_id)
            .where(TelegramLink.telegram_user_id == user.user_id, StaffMember.role == role)
        )
    assert found is not None
    return found


@pytest.fixture
async def world(app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock) -> World:
    async with db.session() as session:
        await add_organisation(session, ORGANISATION, clock.now())
        await add_organisation(session, OTHER_ORGANISATION, clock.now())
    a, b = ORGANISATION, OTHER_ORGANISATION
    bea = await _staff(sandbox, db, clock, a, Role.BEGELEIDER, "Bea", 1001)
    codes = await create_placement(bea, youth="Sam", gezinshuis="De Linde")
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    await olga.click("Ja, dat mag")  # research use: the pilot export includes her placement
    kees = await join(sandbox, codes["gezinshuisouder"], 3001, "Kees")
    henk = await join(sandbox, codes["behandelaar"], 4001, "Henk")
    bert = await _staff(sandbox, db, clock, a, Role.BEGELEIDER, "Bert", 1002)
    codes = await create_placement(bert, youth="Lina", gezinshuis="De Eik")
    lotte = await join(sandbox, codes["ouder"], 2002, "Lotte")
    await lotte.click("Ja, dat mag")
    dirk = await _staff(sandbox, db, clock, a, Role.BEHANDELAAR, "Dirk", 4002)
    cora = await _staff(sandbox, db, clock, a, Role.COORDINATOR, "Cora", 5001)
    britt = await _staff(sandbox, db, clock, b, Role.BEGELEIDER, "Britt", 1101)
    codes = await create_placement(britt, youth="Noor", gezinshuis="Het Anker")
    nina = await join(sandbox, codes["ouder"], 2101, "Nina")
    await nina.click("Ja, dat mag")
    dana = await _staff(sandbox, db, clock, b, Role.BEHANDELAAR, "Dana", 4102)
    bram = await _staff(sandbox, db, clock, b, Role.BEGELEIDER, "Bram", 1102)
    carl = await _staff(sandbox, db, clock, b, Role.COORDINATOR, "Carl", 5101)
    targets = {}
    for name, youth, spare, colleague, secrets, family in (
        ("own", "Sam", dirk, bert, ("Sam", "De Linde", "Olga", "Kees"), ("Olga", "Kees")),
        ("same_org", "Lina", dirk, bea, ("Lina", "De Eik", "Lotte"), ("Lotte",)),
        (
            "other_org",
            "Noor",
            dana,
            bram,
            ("Noor", "Het Anker", "Nina", "Britt", "Dana", "Bram"),
            ("Nina",),
        ),
    ):
        placement, organisation, begeleider = await _ids(db, youth)
        targets[name] = Target(
            name,
            placement,
            organisation,
            begeleider,
            await _staff_id(db, spare, Role.BEHANDELAAR),
            secrets,
            family,
            await _staff_id(db, colleague, Role.BEGELEIDER),
        )
    actors = {
        Role.OUDER: olga,
        Role.GEZINSHUISOUDER: kees,
        Role.BEGELEIDER: bea,
        Role.BEHANDELAAR: henk,
        Role.COORDINATOR: cora,
    }
    people = {"bert": bert, "britt": britt, "carl": carl, "dirk": dirk, "dana": dana}
    return World(sandbox, db, clock, actors, targets, people)


# --- Drivers: how a person tries an action, and how to see it was done --------------------------

Try = Callable[[World, ChatPerson, Target], Awaitable[None]]
Done = Callable[[World, Target, "Cell"], Awaitable[bool]]


@dataclass
class Cell:
    """What one try left behind: the texts the actor got (new or edited) and the rows."""

    actor: int  # the Telegram user id of who tried
    texts: list[str]
    before: dict[str, list[tuple[Any, ...]]]
    after: dict[str, list[tuple[Any, ...]]]

    def changed(self, table: str) -> bool:
        return self.before[table] != self.after[table]

    def says(self, word: str) -> bool:
        return any(word in text for text in self.texts)


@dataclass(frozen=True)
class Driver:
    attempt: Try
    done: Done
    # Which targets the action can be aimed at: organisation-level actions have no "same_org"
    # placement that differs from "own".
    targets: tuple[str, ...] = ("own", "same_org", "other_org")
    # Undo what an allowed try left that would stop the next allowed role (an open round).
    reset: Callable[[World], Awaitable[None]] | None = None


async def press(actor: ChatPerson, data: str) -> None:
    await actor.click_data(data, actor.last.message_id)


async def access_rows(world: World, action: str, target: Target) -> int:
    async with world.db.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(AccessLog)
            .where(AccessLog.action == action, AccessLog.placement_id == target.placement)
        )
    return count or 0


def table_changed(table: str) -> Done:
    async def done(world: World, target: Target, cell: Cell) -> bool:
        return cell.changed(table)

    return done


def shows_alias(world: World, target: Target, cell: Cell) -> Awaitable[bool]:
    async def done() -> bool:
        return cell.says(target.secrets[0])

    return done()


async def _create(world: World, actor: ChatPerson, target: Target) -> None:
    await actor.send("/nieuw")
    await actor.send("Mila")
    await actor.send("De Wilg")
    await actor.send("1-3-2026")


async def _created(world: World, target: Target, cell: Cell) -> bool:
    return len(cell.after["placement"]) > len(cell.before["placement"])


async def _list(world: World, actor: ChatPerson, target: Target) -> None:
    await actor.send("/plaatsingen")


async def _overview(world: World, actor: ChatPerson, target: Target) -> None:
    await actor.send("/overzicht")


async def _invite(world: World, actor: ChatPerson, target: Target) -> None:
    await press(actor, buttons.INVITE_ROLE.data(placement=target.placement, role="o"))


async def _phase(world: World, actor: ChatPerson, target: Target) -> None:
    await press(actor, buttons.PHASE_GO.data(placement=target.placement, phase="stabilisatiefase"))


async def _measure(world: World, actor: ChatPerson, target: Target) -> None:
    await press(actor, buttons.MEASURE_GO.data(placement=target.placement))


async def _close_rounds(world: World) -> None:
    async with world.db.session() as session:
        await session.execute(
            update(MeasurementRound).values(closes_at=world.clock.now() - dt.timedelta(seconds=1))
        )


async def _meeting(world: World, actor: ChatPerson, target: Target) -> None:
    await actor.send("/afspraak")
    await press(actor, buttons.MEETING_PICK.data(step="p", choice=str(target.placement)))


async def _meeting_started(world: World, target: Target, cell: Cell) -> bool:
    async with world.db.session() as session:
        state = await session.get(ConversationState, cell.actor)
    return state is not None and state.data.get("placement") == target.placement


async def _details(world: World, actor: ChatPerson, target: Target) -> None:
    await press(actor, buttons.DETAILS.data(placement=target.placement))


async def _details_seen(world: World, target: Target, cell: Cell) -> bool:
    return (
        cell.says(target.secrets[0]) and await access_rows(world, "placement_details", target) > 0
    )


async def _plan(world: World, actor: ChatPerson, target: Target) -> None:
    await press(actor, buttons.PLAN_FOR.data(placement=target.placement))


async def _goal(world: World, actor: ChatPerson, target: Target) -> None:
    await press(actor, buttons.PLAN_ADD.data(placement=target.placement))
    await press(actor, buttons.PLAN_SIDE.data(placement=target.placement, side="samen"))
    await press(actor, buttons.PLAN_TYPE.data(placement=target.placement, side="samen"))
    await actor.send("Elke maand samen koffie drinken")


async def _estimate(world: World, actor: ChatPerson, target: Target) -> None:
    await press(actor, buttons.PLAN_ESTIMATE.data(placement=target.placement))
    for item in range(4):
        await press(actor, buttons.PLAN_SCORE.data(placement=target.placement, item=item, score=3))
    await press(actor, buttons.PLAN_NO_NOTE.data(placement=target.placement))


async def _review(world: World, actor: ChatPerson, target: Target) -> None:
    await press(actor, buttons.REVIEW_START.data(placement=target.placement))


async def _end(world: World, actor: ChatPerson, target: Target) -> None:
    await press(
        actor,
        buttons.END_GO.data(placement=target.placement, talks=0, reason="thuis", handover=False),
    )


async def _organisation(world: World, actor: ChatPerson, target: Target) -> None:
    await actor.send("/organisatie")


async def _counted(world: World, target: Target, cell: Cell) -> bool:
    return await access_rows(world, "organisation_overview", target) > 0


async def _subject_rows(world: World, action: str, subject: str) -> int:
    async with world.db.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(AccessLog)
            .where(AccessLog.action == action, AccessLog.subject == subject)
        )
    return count or 0


async def _team(world: World, actor: ChatPerson, target: Target) -> None:
    await actor.send("/team")


async def _team_seen(world: World, target: Target, cell: Cell) -> bool:
    subject = f"organisation:{target.organisation}"
    return await _subject_rows(world, "list_staff", subject) > 0


async def _invite_staff(world: World, actor: ChatPerson, target: Target) -> None:
    await press(actor, buttons.TEAM_ROLE.data(organisation=target.organisation, role="b"))
    await actor.send("Femke")


async def _staff_invited(world: World, target: Target, cell: Cell) -> bool:
    async with world.db.session() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(Invite)
            .where(Invite.organisation_id == target.organisation, Invite.invitee_name == "Femke")
        )
    return bool(found)


async def _deactivate(world: World, actor: ChatPerson, target: Target) -> None:
    await press(actor, buttons.TEAM_OFF_GO.data(staff=target.spare))


async def _deactivated(world: World, target: Target, cell: Cell) -> bool:
    async with world.db.session() as session:
        active = await session.scalar(
            select(StaffMember.active).where(StaffMember.id == target.spare)
        )
    return active is False


async def _export(world: World, actor: ChatPerson, target: Target) -> None:
    await press(actor, buttons.PILOT_EXPORT.data(organisation=target.organisation))


async def _exported(world: World, target: Target, cell: Cell) -> bool:
    return await access_rows(world, "pilot_export", target) > 0


async def _hand_over(world: World, actor: ChatPerson, target: Target) -> None:
    data = buttons.HANDOVER_GO.data(
        source=target.begeleider, placement=target.placement, target=target.colleague
    )
    await press(actor, data)


async def _handed(world: World, target: Target, cell: Cell) -> bool:
    return _begeleider(cell.after, target) != _begeleider(cell.before, target)


def _begeleider(rows: dict[str, list[tuple[Any, ...]]], target: Target) -> Any:
    keys = list(Placement.__table__.columns.keys())
    row = next(r for r in rows["placement"] if r[keys.index("id")] == target.placement)
    return row[keys.index("begeleider_id")]


async def _hand_back(world: World) -> None:
    """Give every placement back to its first begeleider, for the next allowed try."""
    async with world.db.session() as session:
        for target in world.targets.values():
            await session.execute(
                update(Placement)
                .where(Placement.id == target.placement)
                .values(begeleider_id=target.begeleider)
            )


async def _contact(world: World, actor: ChatPerson, target: Target) -> None:
    await press(actor, buttons.CONTACT.data(placement=target.placement))


ORGANISATIONS = ("own", "other_org")

DRIVERS: dict[Action, Driver] = {
    Action.CREATE_PLACEMENT: Driver(_create, _created, targets=("own",)),
    Action.LIST_PLACEMENTS: Driver(_list, shows_alias),
    Action.INVITE_FAMILY: Driver(_invite, table_changed("invite")),
    Action.CHANGE_PHASE: Driver(_phase, table_changed("placement")),
    Action.SEND_MEASUREMENT: Driver(
        _measure, table_changed("measurement_round"), reset=_close_rounds
    ),
    Action.PLAN_MEETING: Driver(_meeting, _meeting_started),
    Action.VIEW_DIGEST: Driver(_overview, shows_alias),
    Action.VIEW_DETAILS: Driver(_details, _details_seen),
    Action.VIEW_PLAN: Driver(_plan, shows_alias),
    Action.EDIT_GOALS: Driver(_goal, table_changed("goal")),
    Action.ESTIMATE: Driver(_estimate, table_changed("plan_estimate")),
    Action.REVIEW_PLAN: Driver(_review, table_changed("plan_review")),
    Action.END_PLACEMENT: Driver(_end, table_changed("placement_ending")),
    Action.ASK_CONTACT: Driver(_contact, table_changed("contact_request")),
    Action.HAND_OVER: Driver(_hand_over, _handed, reset=_hand_back),
    Action.ORGANISATION_OVERVIEW: Driver(_organisation, _counted),
    # The organisation's own actions: aimed at an organisation, not at one placement of it.
    Action.LIST_STAFF: Driver(_team, _team_seen, targets=ORGANISATIONS),
    Action.INVITE_STAFF: Driver(_invite_staff, _staff_invited, targets=ORGANISATIONS),
    Action.DEACTIVATE_STAFF: Driver(_deactivate, _deactivated, targets=ORGANISATIONS),
    Action.PILOT_EXPORT: Driver(_export, _exported, targets=ORGANISATIONS),
}


def expected(action: Action, role: Role, target: str) -> bool:
    """What the table says about this cell on this target."""
    reach = scope(action, role)
    if reach is None or target == "other_org":
        return False
    if target == "same_org":
        return reach == Scope.ORGANISATION
    return True


async def _rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with db.session() as session:
        for table in Base.metadata.sorted_tables:
            result = await session.execute(select(table))
            rows[table.name] = sorted((tuple(r) for r in result), key=repr)
    return rows


def _about(rows: dict[str, list[tuple[Any, ...]]], target: Target) -> dict[str, Any]:
    """Every row that belongs to the target placement or its organisation."""
    found: dict[str, Any] = {}
    for table in Base.metadata.sorted_tables:
        marks: list[tuple[int, int]] = []  # (column index, the target's id it must not have)
        for i, key in enumerate(table.columns.keys()):
            if key == "placement_id" or (table.name == "placement" and key == "id"):
                marks.append((i, target.placement))
            elif key == "organisation_id" or (table.name == "organisation" and key == "id"):
                marks.append((i, target.organisation))
        found[table.name] = [
            row
            for row in rows[table.name]
            if any(row[i] == value for i, value in marks)
            or (table.name == "conversation_state" and target.placement in _values(row))
        ]
    return found


def _values(row: tuple[Any, ...]) -> list[Any]:
    return [v for item in row if isinstance(item, dict) for v in item.values()]


async def _try(world: World, actor: ChatPerson, driver: Driver, target: Target) -> Cell:
    seen = {m.message_id: m.text for m in actor.bot_messages}
    before = await _rows(world.db)
    await driver.attempt(world, actor, target)
    after = await _rows(world.db)
    texts = [m.text for m in actor.bot_messages if seen.get(m.message_id) != m.text]
    return Cell(actor.user_id, texts, before, after)


def test_every_action_has_a_driver_and_a_row() -> None:
    assert set(PERMISSIONS) == set(Action)
    assert set(DRIVERS) == set(Action)
    assert set(ROLES) == {
        Role.OUDER,
        Role.GEZINSHUISOUDER,
        Role.BEGELEIDER,
        Role.BEHANDELAAR,
        Role.COORDINATOR,
    }


# The order the actions are tried in one world (building a world per action would cost 5 s each):
# what closes or moves a placement or locks someone out comes last.
LAST = (Action.HAND_OVER, Action.DEACTIVATE_STAFF, Action.END_PLACEMENT)
ORDER: tuple[Action, ...] = tuple(a for a in Action if a not in LAST) + LAST


async def test_every_cell_of_the_table_end_to_end(world: World) -> None:
    tried = 0
    for action in ORDER:
        tried += await _walk(world, action)
    assert tried >= len(Action) * len(ROLES)
    assert world.sandbox.bot_errors == []


async def _walk(world: World, action: Action) -> int:
    """Try every role on every target of this action; return how many cells were tried."""
    driver = DRIVERS[action]
    cells = [
        (role, name, expected(action, role, name)) for role in ROLES for name in driver.targets
    ]
    # Refusals first, on the world as it was; then what is allowed, one after the other.
    for role, name, allowed in sorted(cells, key=lambda cell: cell[2]):
        actor, target = world.actors[role], world.targets[name]
        cell = await _try(world, actor, driver, target)
        where = f"{action} by {role} on {name}"
        if role == Role.COORDINATOR:
            # A coordinator sees counts and aliases, never who the families are.
            families = [n for t in world.targets.values() for n in t.family]
            assert not [n for n in families if cell.says(n)], where
        if allowed:
            assert await driver.done(world, target, cell), where
            if driver.reset is not None:
                await driver.reset(world)
            continue
        assert not await driver.done(world, target, cell), where
        assert _about(cell.after, target) == _about(cell.before, target), where
        leaked = [s for s in target.secrets if cell.says(s)]
        if name == "own" and role in (Role.OUDER, Role.GEZINSHUISOUDER):
            leaked = []  # their own placement: they know its alias and their own side
        assert leaked == [], where
    return len(cells)
