"""A placement closed longer ago than the retention period is erased by the clock's beat."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from bot.app import build_application, plan
from bot.clock import FakeClock
from flows.outbox import enqueue
from flows.replies import Say
from flows.settings import RouteSettings
from storage.db import Database
from storage.models import (
    Answer,
    Checkin,
    ConsentDecision,
    ConsentRecord,
    ConversationState,
    Invite,
    OutboxMessage,
    Participant,
    Person,
    Phase,
    Placement,
    Role,
    StaffMember,
    TelegramLink,
)
from tests.seed import seed

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)  # a Wednesday: no digests due
TOKEN = "123456:RETENTION-TEST"


async def count(db: Database, model: type, *where: object) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def test_a_placement_closed_over_a_year_ago_is_erased_with_its_people(
    db: Database,
) -> None:
    seeded = await seed(db, now=NOW, placements=3, weeks=4, patterns=("calm",))
    old, recent, open_ = seeded.placements["calm"]
    async with db.session() as session:
        people = {
            (p.placement_id, p.role): p.person_id
            for p in await session.scalars(select(Participant))
        }
        await session.execute(
            update(Placement)
            .where(Placement.id == old)
            .values(phase=Phase.AFGESLOTEN, phase_since=NOW - dt.timedelta(days=400))
        )
        await session.execute(
            update(Placement)
            .where(Placement.id == recent)
            .values(phase=Phase.AFGESLOTEN, phase_since=NOW - dt.timedelta(days=100))
        )
        # The old placement's house parent also looks after the open placement's youth.
        kees = people[(old, Role.GEZINSHUISOUDER)]
        session.add(
            Participant(
                placement_id=open_, person_id=kees, role=Role.GEZINSHUISOUDER, joined_at=NOW
            )
        )
        olga = people[(old, Role.OUDER)]
        olga_account = await session.scalar(
            select(TelegramLink.telegram_user_id).where(TelegramLink.person_id == olga)
        )
        assert olga_account is not None
        organisation = await session.scalar(
            select(Placement.organisation_id).where(Placement.id == old)
        )
        assert organisation is not None
        session.add_all(
            [
                Invite(
                    code_hash="a" * 64,
                    role=Role.OUDER,
                    organisation_id=organisation,
                    placement_id=old,
                    created_at=NOW - dt.timedelta(days=500),
                    expires_at=NOW - dt.timedelta(days=486),
                ),
                ConsentRecord(
                    person_id=olga,
                    decision=ConsentDecision.GIVEN,
                    notice_version="1",
                    decided_at=NOW - dt.timedelta(days=500),
                ),
                ConversationState(
                    telegram_user_id=olga_account,
                    flow="checkin_text",
                    step="open",
                    data={},
                    updated_at=NOW - dt.timedelta(days=401),
                ),
            ]
        )
        await enqueue(
            session,
            key="old-notice",
            person_id=olga,
            kind="notice",
            say=Say("common/button_expired"),
            due_at=NOW - dt.timedelta(days=401),
            now=NOW - dt.timedelta(days=401),
            placement_id=old,
        )
    answers_kept = await count(db, Answer, Answer.placement_id.in_([recent, open_]))
    assert await count(db, Answer, Answer.placement_id == old) > 0

    application = build_application(
        token=TOKEN, db=db, route=RouteSettings(), clock=FakeClock(NOW), clock_jobs=False
    )
    await plan(application)  # the clock's beat

    # The old placement and everything about it are gone ...
    assert await count(db, Placement, Placement.id == old) == 0
    for model in (Checkin, Answer, Participant, Invite, OutboxMessage):
        assert await count(db, model, model.placement_id == old) == 0, model
    # ... and so is Olga, who was only there; her consent record stays, anonymous.
    assert await count(db, Person, Person.id == olga) == 0
    assert await count(db, TelegramLink, TelegramLink.person_id == olga) == 0
    assert await count(db, ConversationState) == 0
    async with db.session() as session:
        consent = list(await session.scalars(select(ConsentRecord)))
    assert [(c.person_id, c.decision) for c in consent] == [(None, ConsentDecision.GIVEN)]
    # Kees still looks after another youth: he stays, with that placement's answers.
    assert await count(db, Person, Person.id == kees) == 1
    # The recently closed and the open placement are untouched; the begeleider stays.
    assert await count(db, Placement, Placement.id.in_([recent, open_])) == 2
    assert await count(db, Answer, Answer.placement_id.in_([recent, open_])) == answers_kept
    assert await count(db, StaffMember) == 1

    # A second beat has nothing more to erase.
    await plan(application)
    assert await count(db, Placement) == 2
