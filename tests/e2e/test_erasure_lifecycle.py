"""The outbox keeps payloads only as long as needed; erasure reaches queued messages; visitors
who never agreed are forgotten after a day. All driven by the clock's own beat."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from bot.app import AnyApplication, deliver
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from flows.outbox import enqueue_notice
from flows.replies import Recipient, Say
from storage.db import Database
from storage.models import ConversationState, OutboxMessage, OutboxStatus, Person
from tests.e2e.conftest import at, create_placement, join_as_begeleider

DAY = dt.timedelta(days=1)


async def rows(db: Database, kind: str | None = None) -> list[OutboxMessage]:
    async with db.session() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return list(await session.scalars(query))


async def person_id(db: Database, name: str) -> int:
    async with db.session() as session:
        found = await session.scalar(select(Person.id).where(Person.first_name == name))
        assert found is not None
        return found


async def test_a_sent_payload_is_blanked_after_seven_days_and_not_before(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, _, _ = family
    joined = clock.now()
    assert any(m.text.startswith("Olga") for m in bea.bot_messages)  # "Olga doet nu mee"
    [olga_joined, kees_joined] = await rows(db, "notice")
    assert olga_joined.status == OutboxStatus.SENT
    assert "Olga" in str(olga_joined.payload)
    # A message planned for later stays whole while it waits, however long.
    bea_id = await person_id(db, "Bea")
    async with db.session() as session:
        later = Say("account/resumed_notice", {"name": "Olga", "role": "ouder", "youth": "Sam"})
        await enqueue_notice(
            session,
            Say(later.template, later.context, to=Recipient(1001, "nl", bea_id)),
            joined + 20 * DAY,
        )
    await at(app, clock, joined + 6 * DAY + dt.timedelta(hours=23))
    [olga_joined, _, waiting] = await rows(db, "notice")
    assert olga_joined.payload_cleared_at is None
    assert "Olga" in str(olga_joined.payload)

    report = await at(app, clock, joined + 7 * DAY + dt.timedelta(hours=1))
    assert report.sent == 0  # blanking sends nothing
    [olga_joined, kees_joined, waiting] = await rows(db, "notice")
    for row in (olga_joined, kees_joined):
        assert row.payload == {}
        assert row.payload_cleared_at == clock.now()
        # What proves delivery stays.
        assert row.status == OutboxStatus.SENT
        assert row.telegram_message_id is not None
        assert row.sent_at is not None
    assert waiting.status == OutboxStatus.PENDING
    assert waiting.payload_cleared_at is None
    assert "Olga" in str(waiting.payload)
    # Bea still has her message in Telegram: only our copy is gone.
    assert any(m.text.startswith("Olga") and "doet nu mee" in m.text for m in bea.bot_messages)


async def test_the_erasure_notice_is_blanked_at_once_and_queued_mentions_are_dropped(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, kees = family
    kees_id = await person_id(db, "Kees")
    async with db.session() as session:
        # A message to Kees that quotes Olga, queued for tomorrow when she erases today.
        await enqueue_notice(
            session,
            Say(
                "account/paused_notice",
                {"name": "Olga", "role": "ouder", "youth": "Sam", "until": None},
                to=Recipient(3001, "nl", kees_id),
            ),
            clock.now() + DAY,
        )
    await olga.send("/stop")
    await olga.click("🗑 Mijn gegevens wissen")
    await olga.click("Ja, wis alles")
    assert bea.last.text.startswith("Een ouder bij Sam doet niet meer mee")
    notices = await rows(db, "notice")
    [erased_notice] = [r for r in notices if r.ephemeral]
    assert erased_notice.status == OutboxStatus.SENT
    assert erased_notice.payload == {}
    assert erased_notice.payload_cleared_at == clock.now()
    assert erased_notice.telegram_message_id is not None
    [to_kees] = [r for r in notices if r.person_id == kees_id]
    assert to_kees.status == OutboxStatus.DROPPED
    assert to_kees.payload == {}
    before = len(kees.bot_messages)
    await at(app, clock, clock.now() + 2 * DAY)
    assert len(kees.bot_messages) == before  # never sent


async def test_a_blanked_pending_row_is_dropped_not_decoded(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, _, _ = family
    bea_id = await person_id(db, "Bea")
    async with db.session() as session:
        await enqueue_notice(
            session,
            Say(
                "account/resumed_notice",
                {"name": "Olga", "role": "ouder", "youth": "Sam"},
                to=Recipient(1001, "nl", bea_id),
            ),
            clock.now(),
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
            .values(payload={})
        )
    before = len(bea.bot_messages)
    report = await deliver(app)
    assert report.dropped == 1
    assert len(bea.bot_messages) == before


async def test_a_visitor_who_never_answered_the_consent_is_forgotten_after_a_day(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    opened = clock.now()
    visitor = sandbox.person(2001, "Olga")
    [consent] = await visitor.send(f"/start {codes['ouder']}")
    assert "Ja, ik doe mee" in str(consent.buttons)
    # Bea leaves a question open too: she has an account, so hers stays.
    await bea.send("/nieuw")
    async with db.session() as session:
        assert await session.get(ConversationState, 2001) is not None
    await at(app, clock, opened + DAY - dt.timedelta(minutes=5))
    async with db.session() as session:
        assert await session.get(ConversationState, 2001) is not None
    await at(app, clock, opened + DAY + dt.timedelta(hours=1))
    async with db.session() as session:
        assert await session.get(ConversationState, 2001) is None
        assert await session.get(ConversationState, 1001) is not None
    # Pressing the old consent button later is simply expired: nothing was kept.
    [late] = await visitor.click("✅ Ja, ik doe mee", consent)
    assert "Deze knop werkt niet meer" in late.text
    async with db.session() as session:
        assert await session.scalar(select(Person.id).where(Person.first_name == "Olga")) is None
