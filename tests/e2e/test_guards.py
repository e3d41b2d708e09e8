"""The shared guards (flows/guards.py): the same situation gets the same refusal in every flow,
and a refused press changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox.people import Person as ChatPerson
from bot.sandbox.server import Sandbox
from storage.db import Database
from storage.models import Phase, Placement, Role
from tests.e2e.conftest import snapshot, staff_invite_code

EXPIRED = "Deze knop werkt niet meer"
NOT_YOURS = "Deze plaatsing hoort niet bij jou"
ONLY_BEGELEIDER = "Dit kan alleen een begeleider"


def _staff_presses(sam: int) -> list[str]:
    """A valid-looking press of every staff button that names Sam's placement."""
    return [
        f"fa:{sam}",
        f"fa:{sam}:stabilisatiefase",
        f"pl:{sam}",
        f"iv:{sam}:o",
        f"me:{sam}",
        f"me:{sam}:go",
    ]


async def _sam(db: Database) -> int:
    async with db.session() as session:
        sam = await session.scalar(select(Placement.id))
    assert sam is not None
    return sam


async def test_a_press_from_an_unknown_account_is_expired_in_every_flow(
    app: AnyApplication,
    sandbox: Sandbox,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
) -> None:
    sam = await _sam(db)
    stranger = sandbox.person(7777, "Stranger")
    await stranger.send("/start")
    before = await snapshot(db)
    for data in [*_staff_presses(sam), f"cr:{sam}", "lang:en", "in:d", "st:pause"]:
        [reply] = await stranger.click_data(data, stranger.last.message_id)
        assert EXPIRED in reply.text, data
    assert await snapshot(db) == before


async def test_staff_buttons_refuse_family_and_other_begeleiders_alike(
    app: AnyApplication,
    sandbox: Sandbox,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    sam = await _sam(db)
    _, olga, _ = family
    code = await staff_invite_code(db, clock, Role.BEGELEIDER, "Carla")
    carla = sandbox.person(1002, "Carla")
    await carla.send(f"/start {code}")
    await carla.click("✅ Ja, ik doe mee")
    before = await snapshot(db)
    # Whoever is not staff of Sam's placement (his ouder, another begeleider) hears the same:
    # not yours, in every flow; the command itself names the role it needs.
    for person in (olga, carla):
        for data in _staff_presses(sam):
            [reply] = await person.click_data(data, person.last.message_id)
            assert NOT_YOURS in reply.text, (person.first_name, data)
    [reply] = await olga.send("/fase")
    assert ONLY_BEGELEIDER in reply.text
    assert await snapshot(db) == before


async def test_a_closed_placement_refuses_new_links_and_another_phase(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
) -> None:
    sam = await _sam(db)
    bea, _, _ = family
    # Bea opened /fase and a new link for Sam before the placement was closed elsewhere.
    await bea.send("/fase")
    choose_phase = bea.last
    await bea.send("/plaatsingen")
    await bea.click("➕ Nieuwe link voor Sam")
    choose_role = bea.last
    async with db.session() as session:
        placement = await session.get(Placement, sam)
        assert placement is not None
        placement.phase = Phase.AFGESLOTEN
    before = await snapshot(db)
    for message, label in ((choose_phase, "Sam · installatiefase"), (choose_role, "Ouder")):
        [shown] = await bea.click(label, message)
        # The refusal replaces the pressed message, so its buttons are gone.
        assert shown.message_id == message.message_id, label
        assert "De plaatsing van Sam is afgesloten" in shown.text, label
        assert not shown.buttons, label
    assert await snapshot(db) == before
