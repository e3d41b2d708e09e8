"""The begeleidingsplan through the real bot: estimate, goals for three sides, each person confirms
her own goals, the begeleider sees it; separation scanned over everything each person received."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.sandbox.models import ChatMessage
from bot.sandbox.people import Person as ChatPerson
from flows import buttons
from storage.db import Database
from storage.models import Goal, GoalEvent, GoalResponse, GoalStatus, PlanEstimate
from tests.e2e.conftest import snapshot

OUDER_MARK = "MARK-ouder-goal-91"
GHO_MARK = "MARK-gho-goal-37"
SAMEN_MARK = "MARK-samen-goal-55"


def received(person: ChatPerson) -> str:
    """Everything the bot ever showed this person: every version of every message and file."""
    texts: list[str] = []
    for message in person.bot_messages:
        texts.append(message.text)
        texts.extend(v.text for v in message.versions)
        if message.document is not None:
            texts.append(message.document.data.decode("utf-8", "replace"))
    return "\n".join(texts)


async def estimate(bea: ChatPerson) -> list[ChatMessage]:
    await bea.send("/plan")
    await bea.click("📋 Inschatting invullen")
    for score in ("4 · veel", "2 · weinig", "3 · gemiddeld", "4 · veel"):
        await bea.click(score)
    return await bea.click("Geen notitie")


async def add_typed(bea: ChatPerson, side: str, words: str) -> None:
    await bea.click("➕ Doel toevoegen")
    await bea.click(side)
    await bea.click("✏️ Zelf typen")
    await bea.send(words)


async def test_estimate_goals_confirm_and_separation(
    app: AnyApplication,
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
) -> None:
    bea, olga, kees = family

    # 1. The estimate: four items, no note; one item at 2 means extra support.
    saved = await estimate(bea)
    assert "extra steun" in saved[-1].text
    async with db.session() as session:
        versions = list(await session.scalars(select(PlanEstimate)))
    assert [(v.version, v.intensity) for v in versions] == [(1, "extra")]
    assert versions[0].scores["bereid_gezinshuisouders"] == 2

    # 2. Goals: a suggestion for the ouders, typed goals for each side.
    await bea.send("/plan")
    await bea.click("➕ Doel toevoegen")
    await bea.click("Voor de ouders")
    await bea.click("Gezinshuis leren kennen")
    await add_typed(bea, "Voor de ouders", f"Olga belt elke week {OUDER_MARK}")
    await add_typed(bea, "Voor de gezinshuisouders", f"Kees vraagt Olga mee {GHO_MARK}")
    view = await add_typed_and_view(bea, "Voor de samenwerking", f"Samen eten {SAMEN_MARK}")
    for mark in (OUDER_MARK, GHO_MARK, SAMEN_MARK):
        assert mark in view

    # 3. Empty and too long goals are refused kindly, nothing stored.
    await bea.click("➕ Doel toevoegen")
    await bea.click("Voor de ouders")
    await bea.click("✏️ Zelf typen")
    before = await snapshot(db)
    reply = await bea.send("x" * 2000)
    assert "Typ het doel" in reply[-1].text
    assert (await snapshot(db))["goal"] == before["goal"]
    # HTML is kept as typed and shown as text, never as markup.
    shown = await bea.send("<b>Samen</b> & zo")
    assert "<b>Samen</b> & zo" in shown[-1].text

    # 4. Send: each participant gets ONE message with only their own goals and the shared.
    await bea.send("/plan")
    sent = await bea.click("📨 Klaar, stuur naar ouders en gezinshuisouders")
    assert "Olga" in sent[-1].text
    assert "Kees" in sent[-1].text
    await olga.wait_for_message(lambda m: "Klopt dit voor jou?" in m.text)
    await kees.wait_for_message(lambda m: "Klopt dit voor jou?" in m.text)
    olga_asks = [m for m in olga.bot_messages if "Klopt dit voor jou?" in m.text]
    kees_asks = [m for m in kees.bot_messages if "Klopt dit voor jou?" in m.text]
    assert len(olga_asks) == 1
    assert len(kees_asks) == 1
    assert OUDER_MARK in olga_asks[0].text
    assert SAMEN_MARK in olga_asks[0].text
    assert "Je leert het gezinshuis" in olga_asks[0].text
    assert GHO_MARK in kees_asks[0].text
    assert SAMEN_MARK in kees_asks[0].text

    # A second send sends nothing new.
    again = await bea.click("📨 Klaar, stuur naar ouders en gezinshuisouders")
    assert "niets nieuws" in again[-1].text

    # 5. A forwarded confirm button: Kees presses Olga's data; nothing stored, nothing shown.
    olga_yes = olga_asks[0].find_button("👍 Ja, dat klopt")
    assert olga_yes is not None
    kees_ask = kees_asks[0]
    before = await snapshot(db)
    forged = await kees.click_data(olga_yes["callback_data"], kees_ask.message_id)
    assert OUDER_MARK not in forged[-1].text
    assert (await snapshot(db))["goal_response"] == before["goal_response"]

    # 6. Olga agrees (and presses twice); Kees says a word.
    await olga.click("👍 Ja, dat klopt", olga_asks[0])
    after_one = await snapshot(db)
    await olga.click_data(olga_yes["callback_data"], olga_asks[0].message_id)
    assert (await snapshot(db))["goal_response"] == after_one["goal_response"]
    await kees.click("💬 Ik wil iets zeggen", kees_ask)
    thanks = await kees.send("Eten lukt alleen op zondag")
    assert "begeleider leest" in thanks[-1].text

    async with db.session() as session:
        responses = list(await session.scalars(select(GoalResponse)))
        goals = {g.id: g for g in await session.scalars(select(Goal))}
    olga_person = {r.person_id for r in responses if r.agreed}
    kees_person = {r.person_id for r in responses if not r.agreed}
    assert len(olga_person) == 1
    assert len(kees_person) == 1
    assert sorted(str(goals[r.goal_id].side) for r in responses if r.agreed) == [
        "ouder",
        "ouder",
        "ouder",
        "samen",
    ]
    assert {r.comment for r in responses if not r.agreed} == {"Eten lukt alleen op zondag"}

    # 7. The begeleider sees who agreed and the word.
    view = (await bea.send("/plan"))[-1].text
    assert "👍 Olga" in view
    assert "Eten lukt alleen op zondag" in view

    # 8. Adjust, reach, drop: history rows.
    await bea.click("✏️ 2")
    await bea.send(f"Olga belt twee keer per week {OUDER_MARK}")
    await bea.click("✅ 1")
    await bea.click("✖️ 3")
    async with db.session() as session:
        events = [(e.goal_id, e.action) for e in await session.scalars(select(GoalEvent))]
        statuses = [g.status for g in await session.scalars(select(Goal).order_by(Goal.id))]
    assert [a for _, a in events].count("set") == 5
    assert {"adjusted", "reached", "dropped"} <= {a for _, a in events}
    assert statuses[:3] == [GoalStatus.REACHED, GoalStatus.OPEN, GoalStatus.DROPPED]

    # The adjusted goal goes to Olga again, not to Kees.
    await bea.send("/plan")
    resent = await bea.click("📨 Klaar, stuur naar ouders en gezinshuisouders")
    assert "Olga" in resent[-1].text
    assert "Kees" not in resent[-1].text

    # The plan in one line under the placement's details of /overzicht.
    await bea.send("/overzicht")
    details = await bea.click("🔎 Sam")
    assert "Plan: extra steun · doelen: 3 open, 1 bereikt" in details[-1].text

    # 9. /mijngegevens: her own goals and her own answer, never the other side's.
    await olga.send("/mijngegevens")
    await kees.send("/mijngegevens")
    olga_file = olga.bot_messages[-1].document
    kees_file = kees.bot_messages[-1].document
    assert olga_file is not None
    assert kees_file is not None
    olga_export = olga_file.data.decode()
    kees_export = kees_file.data.decode()
    assert OUDER_MARK in olga_export
    assert SAMEN_MARK in olga_export
    assert "Klopt dit voor jou: ja" in olga_export
    assert "je schreef: Eten lukt alleen op zondag" in kees_export
    assert GHO_MARK in kees_export

    # 10. Separation: scan everything each participant received.
    olga_all, kees_all = received(olga), received(kees)
    assert GHO_MARK not in olga_all
    assert "Ouders leren kennen" not in olga_all
    assert OUDER_MARK not in kees_all
    assert "gezinshuis leren kennen" not in kees_all.lower()
    assert SAMEN_MARK in olga_all
    assert SAMEN_MARK in kees_all
    assert "Eten lukt" not in olga_all


async def add_typed_and_view(bea: ChatPerson, side: str, words: str) -> str:
    await bea.click("➕ Doel toevoegen")
    await bea.click(side)
    await bea.click("✏️ Zelf typen")
    replies = await bea.send(words)
    return replies[-1].text


async def test_plan_is_staff_only_and_forged_buttons_change_nothing(
    app: AnyApplication,
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
) -> None:
    bea, olga, _kees = family
    reply = await olga.send("/plan")
    assert "begeleider" in reply[-1].text.lower() or "medewerker" in reply[-1].text.lower()
    await bea.send("/plan")
    plan_message = bea.bot_messages[-1]
    before = await snapshot(db)
    # A goal button of a placement that does not exist, and an estimate step out of turn.
    await bea.click_data(
        buttons.GOAL_ACT.data(goal=999, action="reached"), plan_message.message_id
    )
    await bea.click_data(
        buttons.PLAN_SCORE.data(placement=1, item=3, score=5), plan_message.message_id
    )
    await olga.click_data(buttons.PLAN_ADD.data(placement=1), olga.bot_messages[-1].message_id)
    assert await snapshot(db) == before
