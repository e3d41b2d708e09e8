"""The organisation overview (/organisatie, and weekly on Monday 09:00) as a coordinator gets it:
counts and aliases of her own organisation, small numbers as "< 5", one chart, never a family's
name, an answer or free text; refused to anyone else; logged per placement counted."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select, update

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox.people import Person as ChatPerson
from bot.sandbox.server import Sandbox
from flows.invites import create_staff_invite
from flows.settings import RouteSettings
from storage.db import Database
from storage.models import (
    AccessLog,
    Answer,
    Checkin,
    EndingReason,
    OutboxMessage,
    Participant,
    Person,
    Phase,
    Placement,
    PlacementEnding,
    Role,
    StaffMember,
    TelegramLink,
)
from tests.e2e.conftest import at, snapshot
from tests.seed import seed

UTC = dt.UTC
MARKER = "GEHEIM-ANTWOORD-7Q"  # free text an ouder wrote: must never reach the coordinator
ONLY_COORDINATOR = "Dit kan alleen een coördinator"


async def _organisation(db: Database, clock: FakeClock) -> dict[str, object]:
    """Twelve open placements of "Seed 100000" with 8 weeks of check-ins (three stalling, two
    silent, two with a blocked gezinshuisouder, two new), one breakdown this quarter, one
    ending last quarter, free text; and another organisation of three placements."""
    now = clock.now()
    ours = await seed(db, now=now, placements=12, weeks=8, begeleider_user_id=99_999)
    await seed(db, now=now, placements=3, weeks=8, first_user_id=200_000, begeleider_user_id=1)
    async with db.session() as session:
        staff = await session.scalar(
            select(StaffMember).where(StaffMember.person_id == ours.begeleider_person_id)
        )
        assert staff is not None
        ended = []
        for closed_at, planned, reason in (
            (dt.datetime(2026, 2, 10, 12, tzinfo=UTC), False, EndingReason.BREAKDOWN),
            (dt.datetime(2025, 12, 20, 12, tzinfo=UTC), True, EndingReason.RETURN_HOME),
        ):
            placement = Placement(
                organisation_id=staff.organisation_id,
                youth_name="Gesloten",
                gezinshuis_name="Huis gesloten",
                phase=Phase.AFGESLOTEN,
                phase_since=closed_at,
                start_date=dt.date(2025, 1, 1),
                begeleider_id=staff.id,
                created_at=closed_at - dt.timedelta(days=300),
                closed_at=closed_at,
            )
            session.add(placement)
            await session.flush()
            session.add(
                PlacementEnding(
                    placement_id=placement.id,
                    reason=reason,
                    planned=planned,
                    talks=[],
                    handover=False,
                    closed_at=closed_at,
                )
            )
            ended.append(placement.id)
        sam = ours.placements["calm"][0]
        olga = await session.scalar(
            select(Participant).where(
                Participant.placement_id == sam, Participant.role == Role.OUDER
            )
        )
        assert olga is not None
        checkin = await session.scalar(
            select(Checkin.id)
            .where(Checkin.participant_id == olga.id)
            .order_by(Checkin.due_at.desc())
            .limit(1)
        )
        await session.execute(
            insert(Answer),
            [
                {
                    "checkin_id": checkin,
                    "placement_id": sam,
                    "person_id": olga.person_id,
                    "role": Role.OUDER,
                    "question_id": "open",
                    "value": None,
                    "score": None,
                    "text": MARKER,
                    "answered_at": now - dt.timedelta(days=5),
                    "changed_at": None,
                }
            ],
        )
        family_names = set(
            await session.scalars(
                select(Person.first_name).join(Participant, Participant.person_id == Person.id)
            )
        )
        houses = set(await session.scalars(select(Placement.gezinshuis_name)))
        open_ids = set(
            await session.scalars(
                select(Placement.id).where(
                    Placement.organisation_id == staff.organisation_id,
                    Placement.phase != Phase.AFGESLOTEN,
                )
            )
        )
        invite = await create_staff_invite(
            session,
            organisation_name="Seed 100000",
            role=Role.COORDINATOR,
            name="Cora",
            now=now,
            settings=RouteSettings(),
        )
    return {
        "code": invite.code,
        "family": family_names,
        "houses": houses,
        "open": open_ids,
        "breakdown": ended[0],
    }


async def _coordinator(sandbox: Sandbox, code: object) -> ChatPerson:
    cora = sandbox.person(5001, "Cora")
    await cora.send(f"/start {code}")
    await cora.click("✅ Ja, ik doe mee")
    return cora


def _nothing_private(messages: list[str], seeded: dict[str, object]) -> None:
    everything = "\n".join(messages)
    assert MARKER not in everything
    for name in seeded["family"]:  # type: ignore[attr-defined]
        assert name not in everything, name
    for house in seeded["houses"]:  # type: ignore[attr-defined]
        assert house not in everything, house


async def test_on_demand_overview_counts_suppresses_and_logs(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    seeded = await _organisation(db, clock)
    cora = await _coordinator(sandbox, seeded["code"])
    before = len(cora.bot_messages)
    replies = await cora.send("/organisatie")
    [text_message] = [m for m in replies if m.photo is None]
    [chart] = [m for m in replies if m.photo is not None]
    text = text_message.text
    assert "Seed 100000: zo gaat het" in text
    # Twelve open placements, all in the stabilisatiefase (the other organisation's three and
    # the closed ones are not counted).
    assert "Open plaatsingen: 12" in text
    assert "• Installatiefase: 0" in text
    assert "• Stabilisatiefase: 12" in text
    # Last 4 weeks: 40 asked per side (10 placements with history), 4 missed on each side.
    assert "• Ouders: 90%" in text
    assert "• Gezinshuisouders: 90%" in text
    assert "Beantwoord of overgeslagen met een reden telt als antwoord." in text
    # Seven need attention (three stalling, two silent, two blocked): reasons as counts, small
    # ones as "< 5"; the aliases with their begeleider, but no reason next to an alias.
    assert "Plaatsingen die aandacht vragen: 7" in text
    assert "• Weekvragen blijven onbeantwoord: < 5" in text
    assert "• Bot bereikt iemand niet: < 5" in text
    assert "Welke: " in text
    assert "(Bea)" in text
    # Endings this quarter (since 1 January): one breakdown; the one in December not counted.
    assert "• Volgens plan: 0" in text
    assert "• Voortijdig: < 5" in text
    assert "Voortijdig gestopt (breakdown): < 5" in text
    # Caseload: staff are named.
    assert "• Bea: 12" in text
    assert chart.photo is not None
    assert chart.photo.data.startswith(b"\x89PNG")
    assert chart.caption is not None
    assert "Grijs" in chart.caption
    _nothing_private([m.text for m in cora.bot_messages[before:]], seeded)
    async with db.session() as session:
        logged = list(
            await session.scalars(
                select(AccessLog.placement_id).where(AccessLog.action == "organisation_overview")
            )
        )
    assert sorted(logged) == sorted([*seeded["open"], seeded["breakdown"]])  # type: ignore[misc]


async def test_a_begeleider_is_refused_and_nothing_changes(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    await _organisation(db, clock)
    bea = sandbox.person(99_999, "Bea")
    before = await snapshot(db)
    [reply] = await bea.send("/organisatie")
    assert ONLY_COORDINATOR in reply.text
    assert "Seed" not in reply.text
    assert await snapshot(db) == before


async def test_weekly_overview_arrives_monday_nine_once(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    seeded = await _organisation(db, clock)
    cora = await _coordinator(sandbox, seeded["code"])
    async with db.session() as session:
        # The seeded begeleiders never opened a chat: their own digests stay out of this test.
        await session.execute(
            update(TelegramLink)
            .where(TelegramLink.telegram_user_id.in_([1, 99_999]))
            .values(reachable=False)
        )
    before = len(cora.bot_messages)
    # Monday 9 March, 09:00 in Amsterdam is 08:00 UTC.
    await at(app, clock, dt.datetime(2026, 3, 9, 7, 59, tzinfo=UTC))
    assert len(cora.bot_messages) == before
    await at(app, clock, dt.datetime(2026, 3, 9, 8, 0, tzinfo=UTC))
    await at(app, clock, dt.datetime(2026, 3, 9, 8, 30, tzinfo=UTC))
    await at(app, clock, dt.datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    arrived = cora.bot_messages[before:]
    overviews = [m for m in arrived if "Seed 100000: zo gaat het" in m.text]
    charts = [m for m in arrived if m.photo is not None]
    assert len(overviews) == 1
    assert len(charts) == 1
    assert "Open plaatsingen: 12" in overviews[0].text
    _nothing_private([m.text for m in arrived], seeded)
    async with db.session() as session:
        keys = list(
            await session.scalars(
                select(OutboxMessage.key).where(OutboxMessage.key.like("org_overview:%"))
            )
        )
    assert sorted(k.rsplit(":", 1)[1] for k in keys) == ["0", "chart"]
    assert all(":2026-W11:" in k for k in keys)
