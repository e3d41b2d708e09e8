"""/afspraak refuses street addresses as a meeting place, kindly, and stores none of them."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox.people import Person as ChatPerson
from storage.db import Database
from storage.models import ConversationState, Meeting
from tests.e2e.conftest import snapshot

REFUSED = ["Hoofdstraat 12 Utrecht", "Kerkstraat 5", "Stationsplein 1", "Laan van Meerdervoort 50"]


async def test_afspraak_refuses_addresses_and_accepts_a_place(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, _ = family
    await bea.send("/afspraak")
    await bea.click("Sam · installatiefase")
    await bea.click("Kennismakingsgesprek")
    await bea.send("12-3 14:00")
    before = await snapshot(db)
    for place in REFUSED:
        [reply] = await bea.send(place)
        assert "zonder adres of postcode" in reply.text, place
    assert await snapshot(db) == before  # not even in the open question's state
    [who] = await bea.send("Buurthuis De Linde")
    assert "Klaar" in [label for row in who.buttons for label, _ in row]
    await bea.click("Klaar")
    await bea.click("📅 Plannen")
    assert "Waar: Buurthuis De Linde" in olga.last.text
    async with db.session() as session:
        meeting = await session.scalar(select(Meeting))
        assert meeting is not None
        assert meeting.location == "Buurthuis De Linde"
        assert await session.scalar(select(ConversationState)) is None
