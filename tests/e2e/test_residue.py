"""The residue test: after an erasure or a retention purge, nothing in the database names them.

Traces are seeded through the real bot (joins, a check-in with a typed answer, /contact, a
meeting with RSVPs, the Monday digest, an unfinished /afspraak), then every column of every
table in the models' metadata is read with `select(table)` (so a column stored encrypted comes
back as text and the scan means something; a new table is covered without touching this test)
and searched for the person's first name (a whole word, any case) and a marker from their typed
answer.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import AnyApplication, deliver
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from flows.settings import RouteSettings
from storage.db import Database
from storage.models import (
    Base,
    ConversationState,
    Person,
    Placement,
    PlanReview,
    Reflection,
    StaffMember,
)
from tests.e2e.conftest import at, create_placement, join, join_as_begeleider

UTC = dt.UTC
SUNDAY_1900 = dt.datetime(2026, 3, 8, 18, 0, tzinfo=UTC)  # 19:00 in Amsterdam
MONDAY_0830 = dt.datetime(2026, 3, 9, 7, 30, tzinfo=UTC)  # the digest's moment
MARKERS = {"Olga": "MARKER-olga-7f3a", "Kees": "MARKER-kees-2b9c"}

# Where a trace of an erased person may stay: the anonymous records the privacy notice names
# (consent_record: decision, notice version and time; access_log: "erased person", action,
# placement number). Neither has a column that holds a name or typed text, so nothing may be
# found anywhere: the allowed set is empty, on purpose, and the scan proves it.
ALLOWED: frozenset[tuple[str, str]] = frozenset()


@pytest.fixture
def route() -> RouteSettings:
    # Outbox payloads kept for ten years here: only the erasure's and the purge's own scrubbing
    # can remove the traces (the housekeeping that blanks them after a week is tested apart).
    return RouteSettings(outbox_keep_days=3650)


@dataclass
class Family:
    bea: ChatPerson
    olga: ChatPerson
    kees: ChatPerson
    ben: ChatPerson


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *_strings(v)]]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


async def scan(db: Database, words: list[str], markers: list[str]) -> list[tuple[str, str, str]]:
    """Every (table, column, value) in the database that holds one of these words or markers."""
    alternatives = [rf"(?<!\w){re.escape(w)}(?!\w)" for w in words]
    alternatives += [re.escape(m) for m in markers]
    pattern = re.compile("|".join(alternatives), re.IGNORECASE)
    found: list[tuple[str, str, str]] = []
    async with db.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    if (table.name, column) in ALLOWED:
                        continue
                    for text in _strings(value):
                        if pattern.search(text):
                            found.append((table.name, column, text[:120]))
    return found


async def answer_check_in(person: ChatPerson, typed: str) -> None:
    """Answer the newest check-in with the first button of each question, then type `typed`."""
    question = next(m for m in reversed(person.bot_messages) if "1/5" in m.text)
    replies = await person.click(question.buttons[0][0][0], question)
    for _ in range(10):
        last = replies[-1]
        if "iets kwijt" in last.text:
            break
        replies = await person.click(last.buttons[0][0][0], last)
    assert "iets kwijt" in replies[-1].text
    await person.send(typed)


async def close_placement(bea: ChatPerson) -> None:
    """Take Sam's placement through the phases to afgesloten with /fase and the closing flow."""
    for _ in range(3):
        await bea.send("/fase")
        await bea.click(
            next(label for row in bea.last.buttons for label, _ in row if "Sam" in label)
        )
        if "Verder" in bea.last.button_labels:  # the closing flow (flows/plan/ending.py)
            for label in ("Verder", "Terug naar huis", "Nee", "Ja, sluit de plaatsing af"):
                await bea.click(label)
            return
        await bea.click(
            next(label for row in bea.last.buttons for label, _ in row if label.startswith("Ja"))
        )


async def reflect(bea: ChatPerson, olga: ChatPerson, kees: ChatPerson) -> None:
    """To the evaluatiefase: Olga and Kees each type a reflection that holds their marker."""
    for _ in range(2):
        await bea.send("/fase")
        await bea.click(
            next(label for row in bea.last.buttons for label, _ in row if "Sam" in label)
        )
        await bea.click(
            next(label for row in bea.last.buttons for label, _ in row if label.startswith("Ja"))
        )
    await olga.send(f"{MARKERS['Olga']} terugblik: we belden vaak")
    await kees.send(f"{MARKERS['Kees']} terugblik: samen naar school")
    await kees.click("Deze vraag overslaan")


async def seed_traces(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> Family:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")  # "Olga doet nu mee" to Bea
    kees = await join(sandbox, codes["gezinshuisouder"], 3001, "Kees")
    ben = await join(sandbox, codes["behandelaar"], 4001, "Ben")
    # A meeting with everyone, and RSVPs that Bea is told of.
    await bea.send("/afspraak")
    await bea.click("Sam · installatiefase")
    await bea.click("Kennismakingsgesprek")
    await bea.send("12-3 14:00")
    await bea.send("kantoor Zuid")
    await bea.click("Klaar")
    await bea.click("📅 Plannen")
    await olga.click("✅ Ik kom")
    await kees.click("🕓 Andere tijd nodig")
    await olga.send("/contact")  # an alert to Bea naming Olga
    await kees.send("/contact")
    # Sunday's check-in, each with a typed answer that the digest quotes on Monday.
    await at(app, clock, SUNDAY_1900)
    await answer_check_in(olga, f"{MARKERS['Olga']} het gaat goed met ons")
    await at(app, clock, SUNDAY_1900 + dt.timedelta(hours=1))
    await answer_check_in(kees, f"{MARKERS['Kees']} rustige week gehad")
    await at(app, clock, MONDAY_0830)
    digest = "\n".join(m.text for m in bea.bot_messages if "Weekoverzicht" in m.text)
    assert MARKERS["Olga"] in digest  # the digest quotes them: a trace to be found
    assert MARKERS["Kees"] in digest
    # A plan review whose note (typed by Bea, encrypted) names and quotes both sides.
    async with db.session() as session:
        placement = await session.scalar(select(Placement))
        assert placement is not None
        session.add(
            PlanReview(
                placement_id=placement.id,
                recorded_at=clock.now(),
                next_review=dt.date(2026, 9, 1),
                note=f"Olga ({MARKERS['Olga']}) en Kees ({MARKERS['Kees']}) waren er.",
                created_at=clock.now(),
            )
        )
    # The plan: an estimate note and goals that name them (typed by Bea, kept encrypted), the
    # words before an adjustment in the goal's history, and each one's word about their goals.
    await seed_plan(bea, olga, kees)
    # The evaluatiefase: reflections typed by each (stored encrypted in `reflection`).
    await reflect(bea, olga, kees)
    # Bea leaves an /afspraak half-way: her draft lists Olga and Kees by name.
    await bea.send("/afspraak")
    await bea.click("Sam · evaluatiefase")
    await bea.click("Afsluitend gesprek over de samenwerking")
    await bea.send("20-3 10:00")
    [who] = await bea.send("kantoor Noord")
    assert "Olga" in " ".join(label for row in who.buttons for label, _ in row)
    return Family(bea, olga, kees, ben)


async def seed_plan(bea: ChatPerson, olga: ChatPerson, kees: ChatPerson) -> None:
    await bea.send("/plan")
    await bea.click("📋 Inschatting invullen")
    for _ in range(4):
        await bea.click("3 · gemiddeld")
    await bea.send("Olga en Kees kennen elkaar al van school")
    await bea.send("/plan")
    for side, words in (
        ("Voor de ouders", "Olga belt Sam elke week"),
        ("Voor de gezinshuisouders", "Kees vraagt Olga mee naar school"),
        ("Voor de samenwerking", "Olga en Kees eten een keer samen"),
    ):
        await bea.click("➕ Doel toevoegen")
        await bea.click(side)
        await bea.click("✏️ Zelf typen")
        await bea.send(words)
    await bea.click("✏️ 3")
    await bea.send("Olga en Kees eten twee keer samen")
    await bea.click("📨 Klaar, stuur naar ouders en gezinshuisouders")
    for person in (olga, kees):
        await person.wait_for_message(lambda m: "Klopt dit voor jou?" in m.text)
        await person.click("💬 Ik wil iets zeggen")
        await person.send(f"{MARKERS[person.first_name]} bijna goed zo")


async def erase(person: ChatPerson) -> str:
    await person.send("/stop")
    await person.click("🗑 Mijn gegevens wissen")
    [erased] = await person.click("Ja, wis alles")
    return erased.text


@pytest.mark.parametrize("who", ["Olga", "Kees"])
async def test_erasing_a_participant_leaves_no_trace_of_them(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock, who: str
) -> None:
    family = await seed_traces(app, sandbox, db, clock)
    leaving = family.olga if who == "Olga" else family.kees
    before = await scan(db, [who], [MARKERS[who]])  # the traces are really there before
    assert {"goal", "goal_event", "goal_response", "plan_estimate"} <= {t for t, _, _ in before}
    async with db.session() as session:
        texts = list(await session.scalars(select(Reflection.text)))
    assert any(MARKERS[who] in (text or "") for text in texts)
    assert "Je gegevens zijn gewist" in await erase(leaving)
    # Bea is told who left; the message itself is not kept.
    assert "doet niet meer mee" in family.bea.last.text  # by role, not by name
    await deliver(app)
    assert await scan(db, [who], [MARKERS[who]]) == []
    # The other side and the placement are untouched.
    other = "Kees" if who == "Olga" else "Olga"
    assert await scan(db, [other], [MARKERS[other]])
    # Bea's half-made meeting is gone (it listed the erased person): she starts it again.
    async with db.session() as session:
        assert await session.get(ConversationState, 1001) is None
    [reply] = await family.bea.send("kantoor Noord")
    assert "Ik stel nu geen vraag" in reply.text


async def test_a_begeleider_of_closed_placements_is_erased_and_retention_follows(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    family = await seed_traces(app, sandbox, db, clock)
    bea = family.bea
    await bea.send("/annuleer")
    await close_placement(bea)
    async with db.session() as session:
        placement = await session.scalar(select(Placement))
        assert placement is not None
        assert placement.phase == "afgesloten"
    assert await scan(db, ["Bea"], [])
    assert "Je gegevens zijn gewist" in await erase(bea)
    await deliver(app)
    assert await scan(db, ["Bea"], []) == []
    async with db.session() as session:
        placement = await session.scalar(select(Placement))
        assert placement is not None  # kept, without her, until retention
        assert placement.begeleider_id is None
        assert (
            await session.scalar(select(StaffMember).where(StaffMember.role == "begeleider"))
            is None
        )
        names = set(await session.scalars(select(Person.first_name)))
    # Within retention the youth's alias and the ouders' data stay (the placement is closed,
    # not yet erased): that is what the privacy notice promises.
    assert {"Olga", "Kees"} <= names
    assert await scan(db, ["Sam"], [MARKERS["Olga"]])

    # A year and a day later the clock purges the placement, whose begeleider is gone.
    await at(app, clock, clock.now() + dt.timedelta(days=366))
    assert await scan(db, ["Olga", "Kees", "Sam"], list(MARKERS.values())) == []
    async with db.session() as session:
        assert await session.scalar(select(Placement)) is None
        assert set(await session.scalars(select(Person.first_name))) == {"Ben"}


async def test_retention_purge_leaves_no_trace_with_the_begeleider_who_stays(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    family = await seed_traces(app, sandbox, db, clock)
    await family.bea.send("/annuleer")
    await close_placement(family.bea)
    await at(app, clock, clock.now() + dt.timedelta(days=1))
    await family.olga.send("/mijngegevens")  # an access-log row with her as actor
    assert await scan(db, ["Olga", "Kees", "Sam"], list(MARKERS.values()))
    await at(app, clock, clock.now() + dt.timedelta(days=366))
    assert await scan(db, ["Olga", "Kees", "Sam"], list(MARKERS.values())) == []
    async with db.session() as session:
        assert set(await session.scalars(select(Person.first_name))) == {"Bea", "Ben"}
