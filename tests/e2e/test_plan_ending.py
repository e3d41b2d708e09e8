"""The real ending: reflections in the evaluatiefase, the closing flow, last messages, summary."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox.people import Person as ChatPerson
from flows.plan import changes
from storage.db import Database
from storage.models import (
    AccessLog,
    ConversationState,
    GoalSide,
    GoalStatus,
    Phase,
    Placement,
    PlacementEnding,
    Reflection,
)
from tests.e2e.conftest import snapshot


def received(person: ChatPerson) -> str:
    """Everything the bot ever showed this person: every version of every text, and documents."""
    parts: list[str] = []
    for message in person.bot_messages:
        parts.append(message.html)
        parts.extend(version.text for version in message.versions)
        if message.document is not None:
            parts.append(message.document.data.decode("utf-8"))
    return "\n".join(parts)


def label_starting(person: ChatPerson, start: str) -> str:
    return next(
        label
        for message in reversed(person.bot_messages)
        for row in message.buttons
        for label, _ in row
        if label.startswith(start)
    )


async def to_evaluation(bea: ChatPerson) -> None:
    for _ in range(2):
        await bea.send("/fase")
        await bea.click(label_starting(bea, "Sam ·"))
        await bea.click(label_starting(bea, "Ja, naar"))


async def reflect(olga: ChatPerson, kees: ChatPerson) -> None:
    """Olga answers all three; Kees answers the first, skips the second, answers the third."""
    assert "Vraag 1 van 3" in olga.last.text
    assert "Vraag 1 van 3" in kees.last.text
    assert "Wat ging goed in het samenwerken?" in olga.last.text
    await olga.send("OLGA-GOED wij belden elke week")
    assert "Vraag 2 van 3" in olga.last.text
    await olga.send("OLGA-LASTIG de eerste maand")
    await olga.send("OLGA-MEE open zijn helpt")
    assert "Dank je wel, Olga" in olga.last.text
    await kees.send("KEES-GOED samen naar school")
    second = kees.last
    assert "Vraag 2 van 3" in second.text
    await kees.click("Deze vraag overslaan", second)
    assert "Vraag 3 van 3" in kees.last.text
    await kees.send("KEES-MEE rust geven")
    assert "Dank je wel, Kees" in kees.last.text


async def test_reflections_are_asked_stored_per_side_and_never_crossed(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, kees = family
    await to_evaluation(bea)
    await reflect(olga, kees)
    # The skip button pressed again, and typed text after the last question, change nothing.
    skipped = next(m for m in kees.bot_messages if "Vraag 2 van 3" in m.text)
    before = await snapshot(db)
    [again] = await kees.click_data("rf:1:1", skipped.message_id)
    assert "al klaar" in again.text
    [nothing] = await kees.send("nog iets")
    assert "KEES" not in nothing.text
    assert await snapshot(db) == before
    # Olga cannot press Kees's skip button (a forwarded button): nothing of hers is open.
    [refused] = await olga.click_data("rf:1:1", olga.last.message_id)
    assert "al klaar" in refused.text
    async with db.session() as session:
        rows = list(await session.scalars(select(Reflection).order_by(Reflection.id)))
        states = list(await session.scalars(select(ConversationState)))
    by_role = {(str(r.role), r.question): r.text for r in rows}
    assert by_role == {
        ("ouder", "goed"): "OLGA-GOED wij belden elke week",
        ("ouder", "lastig"): "OLGA-LASTIG de eerste maand",
        ("ouder", "meenemen"): "OLGA-MEE open zijn helpt",
        ("gezinshuisouder", "goed"): "KEES-GOED samen naar school",
        ("gezinshuisouder", "lastig"): None,
        ("gezinshuisouder", "meenemen"): "KEES-MEE rust geven",
    }
    assert all(r.answered_at is not None for r in rows)
    assert states == []
    # /mijngegevens holds one's own reflections, never the other side's.
    [export] = await olga.send("/mijngegevens")
    assert export.document is not None
    content = export.document.data.decode("utf-8")
    assert "OLGA-LASTIG de eerste maand" in content
    assert "KEES" not in content
    [export] = await kees.send("/mijngegevens")
    assert export.document is not None
    content = export.document.data.decode("utf-8")
    assert '"Wat vond je lastig in het samenwerken?": overgeslagen' in content
    assert "OLGA" not in content
    # A second move is impossible, and the questions are never asked twice.
    assert sum("Vraag 1 van 3" in m.text for m in olga.bot_messages) == 1
    assert "KEES" not in received(olga)
    assert "OLGA" not in received(kees)


async def close_as(bea: ChatPerson, reason: str) -> None:
    await bea.send("/fase")
    [talks] = await bea.click("Sam · evaluatiefase")
    assert "Welke afsluitende gesprekken" in talks.text
    await bea.click("○ afsluitend gesprek samen")
    assert "✓ afsluitend gesprek samen" in bea.last.button_labels
    await bea.click("Verder")
    await bea.click(reason)
    await bea.click("Nee")
    assert "Weet je het zeker? Daarna stopt alles voor deze plaatsing." in bea.last.text
    assert "samen\nReden: Voortijdig gestopt (breakdown)" in bea.last.text


async def test_closing_stores_the_ending_tells_each_and_sends_one_summary(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, kees = family
    now = clock.now()
    async with db.session() as session:
        placement = await session.scalar(select(Placement))
        assert placement is not None
        olga_goal = await changes.add_goal(
            session,
            placement_id=placement.id,
            phase=Phase.INSTALLATIEFASE,
            side=GoalSide.OUDER,
            by_person_id=None,
            now=now,
            text="OUDERDOEL elke week bellen",
        )
        await changes.add_goal(
            session,
            placement_id=placement.id,
            phase=Phase.INSTALLATIEFASE,
            side=GoalSide.GEZINSHUISOUDER,
            by_person_id=None,
            now=now,
            text="GHODOEL ouders uitnodigen",
        )
        await session.flush()
        await changes.set_status(
            session, olga_goal, GoalStatus.REACHED, by_person_id=None, now=now
        )
    await to_evaluation(bea)
    await reflect(olga, kees)
    await close_as(bea, "Voortijdig gestopt (breakdown)")
    confirm = bea.last
    go = confirm.buttons[0][0][1] or ""
    replies = await bea.click("Ja, sluit de plaatsing af")
    [summary] = [r for r in replies if r.document is not None]
    assert summary.document is not None
    content = summary.document.data.decode("utf-8")
    for expected in (
        "OUDERDOEL elke week bellen: bereikt",
        "GHODOEL ouders uitnodigen: open",
        "OLGA-GOED wij belden elke week",
        "KEES-GOED samen naar school",
        "Olga, Wat was lastig: OLGA-LASTIG",
        "Kees, Wat was lastig: (overgeslagen)",
        "Voortijdig gestopt (breakdown) (niet gepland)",
        "Afsluitende gesprekken: afsluitend gesprek samen",
    ):
        assert expected in content, expected
    for person in (olga, kees):
        last = person.last.text
        assert f"Hoi {person.first_name}" in last
        assert "geen vragen meer" in last
        assert "Je gegevens blijven bewaard tot" in last
        assert "/mijngegevens" in last
    async with db.session() as session:
        ending = await session.scalar(select(PlacementEnding))
        placement = await session.scalar(select(Placement))
        logged = list(
            await session.scalars(select(AccessLog).where(AccessLog.action == "ending_summary"))
        )
    assert ending is not None
    assert placement is not None
    assert (str(ending.reason), ending.planned, ending.handover) == ("breakdown", False, False)
    assert ending.talks == ["afsluitend_gesprek"]
    assert placement.phase == Phase.AFGESLOTEN
    assert placement.closed_at is not None
    assert len(logged) == 1
    # The final confirm pressed again: nothing changes, no second set of last messages.
    counts = (len(olga.bot_messages), len(kees.bot_messages))
    before = await snapshot(db)
    [again] = await bea.click_data(go, confirm.message_id)
    assert "al afgesloten" in again.text
    assert await snapshot(db) == before
    assert (len(olga.bot_messages), len(kees.bot_messages)) == counts
    # Separation: no one received the other side's words or goal.
    assert "KEES" not in received(olga)
    assert "GHODOEL" not in received(olga)
    assert "OLGA" not in received(kees)
    assert "OUDERDOEL" not in received(kees)


async def test_parents_cannot_close_and_a_forged_step_is_refused(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, _kees = family
    await to_evaluation(bea)
    before = await snapshot(db)
    [refused] = await olga.click_data("ed:1:0:breakdown:n:go", olga.last.message_id)
    assert "Sluit" not in refused.text
    async with db.session() as session:
        assert await session.scalar(select(PlacementEnding)) is None
    after = await snapshot(db)
    assert after["placement"] == before["placement"]


async def test_a_paused_person_is_asked_when_they_resume(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, kees = family
    await kees.send("/stop")
    await kees.click("⏸ Berichten pauzeren")
    await to_evaluation(bea)
    assert "Vraag 1 van 3" in olga.last.text
    assert not any("Vraag 1 van 3" in m.text for m in kees.bot_messages)
    replies = await kees.click("▶️ Berichten weer aanzetten")
    assert "Vraag 1 van 3" in replies[-1].text
    await kees.send("KEES-GOED na de pauze")
    assert "Vraag 2 van 3" in kees.last.text
    # Pausing and resuming again does not ask again.
    await kees.send("/stop")
    await kees.click("⏸ Berichten pauzeren")
    await kees.click("▶️ Berichten weer aanzetten")
    assert sum("Vraag 1 van 3" in m.text for m in kees.bot_messages) == 1
    async with db.session() as session:
        texts = [r.text for r in await session.scalars(select(Reflection))]
    assert "KEES-GOED na de pauze" in texts


async def test_a_placement_that_breaks_down_early_is_closed_from_any_phase(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, kees = family
    await bea.send("/fase")
    await bea.click("Sam · installatiefase")
    await bea.click("Plaatsing nu afsluiten")
    for label in ("Verder", "Voortijdig gestopt (breakdown)", "Ja", "Ja, sluit de plaatsing af"):
        await bea.click(label)
    assert bea.last.document is not None
    assert "geen vragen meer" in olga.last.text
    assert "geen vragen meer" in kees.last.text
    async with db.session() as session:
        ending = await session.scalar(select(PlacementEnding))
        assert ending is not None
        assert (str(ending.reason), ending.handover, ending.talks) == ("breakdown", True, [])
        assert await session.scalar(select(Reflection)) is None  # never asked: no evaluatiefase
