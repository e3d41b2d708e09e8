"""Meetings: plan, move and cancel in the chat; reminders at local times; RSVPs; route due."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from storage.db import Database
from storage.models import Meeting, MeetingInvitee, MeetingStatus, Rsvp
from tests.e2e.conftest import at, create_placement, join, join_as_begeleider, snapshot

UTC = dt.UTC


@pytest.fixture
async def team(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> tuple[ChatPerson, ChatPerson, ChatPerson, ChatPerson]:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    kees = await join(sandbox, codes["gezinshuisouder"], 3001, "Kees")
    ben = await join(sandbox, codes["behandelaar"], 4001, "Ben")
    return bea, olga, kees, ben


async def plan(
    bea: ChatPerson,
    kind: str,
    when: str,
    where: str | None = "kantoor Zuid",
    youth_label: str = "Sam · installatiefase",
    leave_out: tuple[str, ...] = (),
) -> None:
    await bea.send("/afspraak")
    await bea.click(youth_label)
    if kind:
        await bea.click(kind)
    await bea.send(when)
    if where is None:
        await bea.click("Geen plaats nodig")
    else:
        await bea.send(where)
    for label in leave_out:
        await bea.click(label)
    await bea.click("Klaar")
    await bea.click("📅 Plannen")


async def test_plan_move_and_cancel_tell_everyone_invited(
    app: AnyApplication, team: tuple[ChatPerson, ...], db: Database, clock: FakeClock
) -> None:
    bea, olga, kees, ben = team
    await bea.send("/afspraak")
    await bea.click("Sam · installatiefase")
    [ask_when] = await bea.click("Kennismakingsgesprek")
    assert ask_when.text.startswith("Kennismakingsgesprek: wanneer is het?")
    before = await snapshot(db)
    for bad, says in (
        ("banaan", "Dat kan ik niet lezen."),
        ("2-3 08:00", "Dat is al voorbij: maandag 2 maart om 08:00."),
        ("32-3 10:00", "Die datum bestaat niet: 32-3."),
        ("vandaag 9:00", "Dat is al voorbij: maandag 2 maart om 09:00."),
    ):
        [reply] = await bea.send(bad)
        assert reply.text.startswith(says), bad
    await bea.send("12-3 14:00")
    [reply] = await bea.send("Hoofdstraat 12, 1234 AB Utrecht")
    assert "zonder adres of postcode" in reply.text
    [who] = await bea.send("kantoor <Zuid> & co")
    labels = [label for row in who.buttons for label, _ in row]
    assert labels == [
        "✓ Olga (ouder)",
        "✓ Kees (gezinshuisouder)",
        "✓ Bea (begeleider)",
        "✓ Ben (behandelaar)",
        "Klaar",
    ]
    await bea.click("✓ Ben (behandelaar)")
    assert "○ Ben (behandelaar)" in [label for row in bea.last.buttons for label, _ in row]
    await bea.click("Klaar")
    confirm = bea.last
    assert "Wanneer: donderdag 12 maart om 14:00" in confirm.text
    assert "Waar: kantoor <Zuid> & co" in confirm.text
    after = await snapshot(db)
    assert {k: v for k, v in after.items() if k != "conversation_state"} == {
        k: v for k, v in before.items() if k != "conversation_state"
    }  # nothing but the open question is stored before "Plannen"
    replies = await bea.click("📅 Plannen")
    assert "Gepland: kennismakingsgesprek, donderdag 12 maart om 14:00" in replies[-1].text

    for person in (olga, kees):
        assert "Er is een nieuwe afspraak gepland" in person.last.text
        assert "Waar: kantoor <Zuid> & co" in person.last.text
    assert all("afspraak" not in m.text for m in ben.bot_messages)
    async with db.session() as session:
        meeting = await session.scalar(select(Meeting))
        assert meeting is not None
        assert meeting.starts_at == dt.datetime(2026, 3, 12, 13, 0, tzinfo=UTC)  # 14:00 CET

    await olga.click("✅ Ik kom")
    assert "Je begeleider weet dat je komt" in olga.last.text
    assert bea.last.text == (
        "✅ Olga (ouder) komt: kennismakingsgesprek, donderdag 12 maart om 14:00."
    )
    await kees.click("🕓 Andere tijd nodig")
    assert "Kees (gezinshuisouder) heeft een andere tijd nodig" in bea.last.text

    [listing] = await bea.send("/afspraken")
    assert "✅ Olga (ouder)" in listing.text
    assert "🕓 Kees (gezinshuisouder)" in listing.text
    await bea.click("Verzetten (12/3)")
    [moved] = await bea.send("13-3 10:00")
    assert "nu vrijdag 13 maart om 10:00 (was donderdag 12 maart om 14:00)" in moved.text
    assert "verzet naar een andere tijd" in olga.last.text
    assert "vrijdag 13 maart om 10:00" in kees.last.text
    async with db.session() as session:
        rsvps = set(await session.scalars(select(MeetingInvitee.rsvp)))
        assert rsvps == {None}  # a new time needs a new answer

    [olga_list] = await olga.send("/afspraken")
    assert "vrijdag 13 maart om 10:00" in olga_list.text
    assert olga_list.buttons == []  # only the planner moves or cancels
    await bea.send("/afspraken")
    await bea.click("Afzeggen (13/3)")
    replies = await bea.click("Ja, zeg af")
    assert "Afgezegd: kennismakingsgesprek" in replies[-1].text
    assert "Deze afspraak gaat niet door" in olga.last.text
    assert "Deze afspraak gaat niet door" in kees.last.text
    async with db.session() as session:
        meeting = await session.scalar(select(Meeting))
        assert meeting is not None
        assert meeting.status == MeetingStatus.CANCELLED
    [late] = await olga.click("✅ Ik kom")  # on the "moved" message, after the cancel
    assert "voorbij of gaat niet door" in late.text


async def test_reminders_at_local_times_across_the_march_change(
    app: AnyApplication, team: tuple[ChatPerson, ...], db: Database, clock: FakeClock
) -> None:
    bea, olga, kees, _ = team
    clock.set(dt.datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    # Tuesday 31 March 10:00, summer time (the clocks go forward on Sunday 29 March).
    await plan(bea, "Kennismaking met de ouders", "31-3 10:00", where=None)

    def reminders(person: ChatPerson) -> int:
        return sum(m.text.startswith("⏰") for m in person.bot_messages)

    # First reminder: two days before at 18:00 local = Sunday 29 March 16:00 UTC (CEST).
    await at(app, clock, dt.datetime(2026, 3, 29, 15, 59, tzinfo=UTC))
    assert reminders(olga) == 0
    await at(app, clock, dt.datetime(2026, 3, 29, 16, 0, tzinfo=UTC))
    assert reminders(olga) == 1
    assert "Binnenkort een afspraak" in olga.last.text
    assert "dinsdag 31 maart om 10:00" in olga.last.text
    assert reminders(kees) == 0  # not invited to this one
    # Second reminder: two hours before = 08:00 local = 06:00 UTC.
    await at(app, clock, dt.datetime(2026, 3, 31, 5, 59, tzinfo=UTC))
    assert reminders(olga) == 1
    await at(app, clock, dt.datetime(2026, 3, 31, 6, 0, tzinfo=UTC))
    assert reminders(olga) == 2
    assert "Zo meteen een afspraak" in olga.last.text
    for hour in (7, 9, 12):
        await at(app, clock, dt.datetime(2026, 3, 31, hour, 0, tzinfo=UTC))
    assert reminders(olga) == 2  # never twice
    assert reminders(bea) == 2  # the planner is invited too


async def test_no_reminder_for_a_meeting_that_has_started(
    app: AnyApplication, team: tuple[ChatPerson, ...], db: Database, clock: FakeClock
) -> None:
    bea, olga, _, _ = team
    await plan(bea, "Kennismaking met de ouders", "4-3 10:00", where=None)
    # The bot was down from Monday until Wednesday 10:30: the meeting has started.
    await at(app, clock, dt.datetime(2026, 3, 4, 9, 30, tzinfo=UTC))
    assert not any(m.text.startswith("⏰") for m in olga.bot_messages)


async def test_a_due_route_meeting_is_told_once_a_week_in_the_digest_only(
    app: AnyApplication, team: tuple[ChatPerson, ...], db: Database, clock: FakeClock
) -> None:
    bea, _, _, ben = team
    for days in (0, 1, 2, 7):
        await at(app, clock, dt.datetime(2026, 3, 2, 9, tzinfo=UTC) + dt.timedelta(days=days))
    # No separate message: the begeleider reads route meetings in the Monday digests. The
    # placement started this Monday, so the first digest is the next Monday's.
    due = [m.text for m in bea.bot_messages if "Nog te plannen" in m.text]
    assert len(due) == 1
    assert all(text.startswith("Weekoverzicht") for text in due)
    digest = due[-1]
    assert "📋 Nog te plannen (route, met /afspraak)" in digest
    assert "• Kennismakingsgesprek: Sam (vóór 23/3)" in digest
    assert "• Kennismaking met de ouders: Sam (vóór 23/3)" in digest
    assert digest.count("Kennismakingsgesprek") == 1  # each fact once
    # The behandelaar gets no digest and no route reminders (they use /overzicht).
    assert not any("Nog te plannen" in m.text for m in ben.bot_messages)


async def test_a_monitoring_meeting_sends_the_questionnaire_a_week_ahead(
    app: AnyApplication, team: tuple[ChatPerson, ...], db: Database, clock: FakeClock
) -> None:
    bea, olga, kees, _ = team
    await bea.send("/fase")
    await bea.click("Sam · installatiefase")
    await bea.click("Ja, naar de stabilisatiefase")
    await plan(bea, "Samenwerkingsgesprek", "20-3 15:00", youth_label="Sam · stabilisatiefase")
    await at(app, clock, dt.datetime(2026, 3, 13, 13, 0, tzinfo=UTC))
    assert not any("1/10" in m.text for m in olga.bot_messages)
    await at(app, clock, dt.datetime(2026, 3, 13, 14, 0, tzinfo=UTC))
    assert any("1/10" in m.text for m in olga.bot_messages)
    assert any("1/10" in m.text for m in kees.bot_messages)


async def test_intervisie_for_house_parents_of_several_placements(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    sam = await create_placement(bea, youth="Sam")
    noor = await create_placement(bea, youth="Noor")
    kees = await join(sandbox, sam["gezinshuisouder"], 3001, "Kees")
    mia = await join(sandbox, noor["gezinshuisouder"], 3002, "Mia")
    olga = await join(sandbox, sam["ouder"], 2001, "Olga")
    await plan(bea, "", "10-3 19:30", youth_label="👥 Intervisie (meerdere gezinshuizen)")
    for person in (kees, mia):
        assert "Intervisie gezinshuisouders" in person.last.text
    assert not any("Intervisie" in m.text for m in olga.bot_messages)
    async with db.session() as session:
        meeting = await session.scalar(select(Meeting))
        assert meeting is not None
        assert meeting.placement_id is None


async def test_staff_only_and_foreign_buttons(
    app: AnyApplication, team: tuple[ChatPerson, ...], db: Database, clock: FakeClock
) -> None:
    bea, olga, kees, _ = team
    [reply] = await olga.send("/afspraak")
    assert "voor begeleiders en behandelaars" in reply.text
    await plan(bea, "Kennismaking met de ouders", "12-3 14:00", where=None)
    async with db.session() as session:
        meeting_id = await session.scalar(select(Meeting.id))
    before = await snapshot(db)
    [reply] = await kees.click_data(f"rs:{meeting_id}:y", kees.last.message_id)
    assert "Deze knop werkt niet meer" in reply.text  # Kees is not invited to this one
    [reply] = await olga.click_data(f"mc:{meeting_id}:y", olga.last.message_id)
    assert "Deze knop werkt niet meer" in reply.text
    [reply] = await olga.click_data(f"mv:{meeting_id}", olga.last.message_id)
    assert "Alleen wie hem plande" in reply.text
    assert await snapshot(db) == before
    async with db.session() as session:
        invitee = await session.scalar(
            select(MeetingInvitee).where(MeetingInvitee.role == "ouder")
        )
        assert invitee is not None
        assert invitee.rsvp is None
    await olga.click("❌ Ik kan niet")
    async with db.session() as session:
        assert (
            await session.scalar(select(MeetingInvitee.rsvp).where(MeetingInvitee.role == "ouder"))
            == Rsvp.NO
        )
