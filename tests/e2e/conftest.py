"""End-to-end fixtures: the sandbox Bot API and the real Application polling it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import AnyApplication, build_application, start_polling, stop_polling, tick
from bot.clock import FakeClock
from bot.outbox import Report
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from flows.invites import add_organisation, create_staff_invite
from flows.settings import RouteSettings
from storage.db import Database
from storage.models import Base, Role

ORGANISATION = "Gezinshuizen Zuid"
LINK = re.compile(r"https://t\.me/samenopvoeden_bot\?start=([A-Za-z0-9_-]+)")


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(quiet_period=0.05) as running:
        yield running


@pytest.fixture
async def app(
    sandbox: Sandbox, db: Database, clock: FakeClock, route: RouteSettings
) -> AsyncIterator[AnyApplication]:
    application = build_application(
        token=sandbox.token,
        db=db,
        route=route,
        base_url=sandbox.base_url,
        clock=clock,
        clock_jobs=False,  # tests move the fake clock and call tick() themselves
    )
    track_updates(application, sandbox)
    await start_polling(application, poll_timeout=5)
    yield application
    await stop_polling(application)
    assert sandbox.bot_errors == [], "the bot made calls Telegram would refuse"


def track_updates(application: AnyApplication, sandbox: Sandbox) -> None:
    """Let the sandbox know while the bot is still handling an update (settles exactly)."""
    inflight = 0
    original = application.process_update

    async def process_update(update: object) -> None:
        nonlocal inflight
        inflight += 1
        try:
            await original(update)
        finally:
            inflight -= 1

    application.process_update = process_update  # type: ignore[method-assign]
    sandbox.busy = lambda: inflight > 0


async def staff_invite_code(
    db: Database, clock: FakeClock, role: Role = Role.BEGELEIDER, name: str = "Bea"
) -> str:
    async with db.session() as session:
        if role == Role.BEGELEIDER and name == "Bea":
            await add_organisation(session, ORGANISATION, clock.now())
        new = await create_staff_invite(
            session,
            organisation_name=ORGANISATION,
            role=role,
            name=name,
            now=clock.now(),
            settings=RouteSettings(),
        )
    return new.code


async def join_as_begeleider(
    sandbox: Sandbox, db: Database, clock: FakeClock, user_id: int = 1001, name: str = "Bea"
) -> ChatPerson:
    """An admin invites a begeleider, who taps the link and agrees."""
    code = await staff_invite_code(db, clock, Role.BEGELEIDER, name)
    person = sandbox.person(user_id, name)
    await person.send(f"/start {code}")
    await person.click("✅ Ja, ik doe mee")
    return person


async def create_placement(
    begeleider: ChatPerson,
    youth: str = "Sam",
    gezinshuis: str = "De Linde",
    start: str = "1-3-2026",
) -> dict[str, str]:
    """Run /nieuw and return the invite codes per role from the final message."""
    await begeleider.send("/nieuw")
    await begeleider.send(youth)
    await begeleider.send(gezinshuis)
    replies = await begeleider.send(start)
    text = replies[-1].text
    codes = {}
    for role, label in (
        ("ouder", "Ouder:"),
        ("gezinshuisouder", "Gezinshuisouder:"),
        ("behandelaar", "Behandelaar:"),
    ):
        line = next(line for line in text.splitlines() if line.startswith(label))
        match = LINK.search(line)
        assert match, line
        codes[role] = match[1]
    return codes


async def join(
    sandbox: Sandbox, code: str, user_id: int, first_name: str, language_code: str = "nl"
) -> ChatPerson:
    person = sandbox.person(user_id, first_name, language_code=language_code)
    await person.send(f"/start {code}")
    label = "✅ Ja, ik doe mee" if language_code == "nl" else "✅ Yes, I'll join"
    await person.click(label)
    return person


@pytest.fixture
async def family(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> tuple[ChatPerson, ChatPerson, ChatPerson]:
    """Bea with Sam's placement; Olga (ouder) and Kees (gezinshuisouder) joined on Monday."""
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    kees = await join(sandbox, codes["gezinshuisouder"], 3001, "Kees")
    return bea, olga, kees


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show that bad input changed nothing."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with db.session() as session:
        for table in Base.metadata.sorted_tables:
            result = await session.execute(select(table))
            rows[table.name] = sorted((tuple(r) for r in result), key=repr)
    return rows


async def at(app: AnyApplication, clock: FakeClock, when: dt.datetime) -> Report:
    """Move the clock to `when` and let it beat once (plan, then deliver)."""
    clock.set(when)
    return await tick(app)
