"""Delivery through the outbox: a crash mid fan-out, flaky Telegram, a blocked user, flood limits.

Every message reaches its person once. What may have arrived (a read timeout, a process killed
while sending) is marked `unknown` and never sent again; what certainly did not arrive is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update

from bot.app import AnyApplication, build_application, start_polling, stop_polling
from bot.clock import FakeClock
from bot.outbox import Deliverer
from bot.sandbox import FloodLimits, Sandbox
from flows.settings import RouteSettings
from storage.db import Database
from storage.models import (
    Checkin,
    Organisation,
    OutboxMessage,
    OutboxStatus,
    Participant,
    Person,
    Phase,
    Placement,
    Role,
    StaffMember,
    TelegramLink,
)
from tests.e2e.conftest import at

UTC = dt.UTC
TOKEN = "123456:SANDBOX-TOKEN-FOR-DELIVERY-TESTS"
# Monday 2 March 2026, 12:00 in Amsterdam: everyone's check-in moment in the in-process tests.
NOON = dt.datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
ZONE = "Europe/Amsterdam"
BEGELEIDER_CHAT = 1001
FIRST_CHAT = 100_000


@dataclass
class Seeded:
    placement_id: int
    begeleider_chat: int
    chats: list[int]  # the participants' chat ids (== Telegram user ids), in person order


async def seed(
    db: Database,
    count: int,
    *,
    now: dt.datetime,
    zone: str = ZONE,
    first_chat: int = FIRST_CHAT,
) -> Seeded:
    """One begeleider and one placement with `count` ouders whose check-in moment is `now`.

    Bulk inserts (not the onboarding flow): the fan-out is what is tested here.
    """
    local = now.astimezone(ZoneInfo(zone))
    weekday, at_time = local.weekday(), local.time().replace(second=0, microsecond=0)
    week_ago = now - dt.timedelta(days=7)
    chats = list(range(first_chat, first_chat + count))
    async with db.session() as session:
        organisation = await session.scalar(
            insert(Organisation)
            .values(name="Gezinshuizen Zuid", created_at=week_ago)
            .returning(Organisation.id)
        )
        bea = await session.scalar(
            insert(Person).values(first_name="Bea", created_at=week_ago).returning(Person.id)
        )
        await session.execute(
            insert(TelegramLink).values(
                person_id=bea,
                telegram_user_id=BEGELEIDER_CHAT,
                chat_id=BEGELEIDER_CHAT,
                language="nl",
                time_zone=zone,
                reachable=True,
                linked_at=week_ago,
            )
        )
        staff = await session.scalar(
            insert(StaffMember)
            .values(
                organisation_id=organisation,
                person_id=bea,
                role=Role.BEGELEIDER,
                created_at=week_ago,
            )
            .returning(StaffMember.id)
        )
        placement = await session.scalar(
            insert(Placement)
            .values(
                organisation_id=organisation,
                youth_name="Sam",
                gezinshuis_name="De Linde",
                phase=Phase.STABILISATIEFASE,
                phase_since=week_ago,
                start_date=week_ago.date(),
                begeleider_id=staff,
                created_at=week_ago,
            )
            .returning(Placement.id)
        )
        assert placement is not None
        people = list(
            await session.scalars(
                insert(Person).returning(Person.id, sort_by_parameter_order=True),
                [
                    {
                        "first_name": f"Ouder{i}",
                        "created_at": week_ago,
                        "paused": False,
                        "checkin_weekday": weekday,
                        "checkin_time": at_time,
                    }
                    for i in range(count)
                ],
            )
        )
        await session.execute(
            insert(TelegramLink),
            [
                {
                    "person_id": person,
                    "telegram_user_id": chat,
                    "chat_id": chat,
                    "language": "nl",
                    "time_zone": zone,
                    "reachable": True,
                    "linked_at": week_ago,
                }
                for person, chat in zip(people, chats, strict=True)
            ],
        )
        await session.execute(
            insert(Participant),
            [
                {
                    "placement_id": placement,
                    "person_id": person,
                    "role": Role.OUDER,
                    "joined_at": week_ago,
                }
                for person in people
            ],
        )
    return Seeded(placement, BEGELEIDER_CHAT, chats)


def people_in(sandbox: Sandbox, seeded: Seeded) -> None:
    """The begeleider and every participant have started the bot (so their chats exist)."""
    sandbox.person(seeded.begeleider_chat, "Bea", started=True)
    for chat in seeded.chats:
        sandbox.person(chat, f"Ouder{chat}", started=True)


def received(sandbox: Sandbox, chats: list[int]) -> Counter[int]:
    """How many bot messages each chat has."""
    return Counter({chat: len(sandbox.person(chat, "?").bot_messages) for chat in chats})


async def statuses(db: Database) -> dict[int, tuple[OutboxStatus, int, int | None]]:
    """Per chat: the status, attempts and Telegram message id of its check-in outbox row."""
    async with db.session() as session:
        rows = await session.execute(
            select(
                TelegramLink.chat_id,
                OutboxMessage.status,
                OutboxMessage.attempts,
                OutboxMessage.telegram_message_id,
            )
            .join(TelegramLink, TelegramLink.person_id == OutboxMessage.person_id)
            .where(OutboxMessage.kind == "checkin")
        )
        return {chat: (status, attempts, message_id) for chat, status, attempts, message_id in rows}


@contextlib.asynccontextmanager
async def running(
    sandbox: Sandbox, db: Database, clock: FakeClock, **options: Any
) -> AsyncIterator[AnyApplication]:
    """The real Application against the sandbox; the test moves the clock and ticks."""
    application = build_application(
        token=sandbox.token,
        db=db,
        route=RouteSettings(),
        base_url=sandbox.base_url,
        clock=clock,
        clock_jobs=False,
        **options,
    )
    await start_polling(application, poll_timeout=5)
    try:
        yield application
    finally:
        await stop_polling(application)


def deliverer(application: AnyApplication) -> Deliverer:
    found = application.bot_data["services"].deliverer
    assert isinstance(found, Deliverer)
    return found


async def outbox_count(db: Database, *states: OutboxStatus) -> int:
    async with db.session() as session:
        found = await session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.status.in_(states))
        )
        return found or 0


# --- 1. A crash in the middle of a fan-out ------------------------------------------------------


def zone_near_noon(now: dt.datetime) -> str:
    """A fixed-offset zone where it is about midday now (far from quiet hours and 02:00)."""
    offset = 12 - now.hour  # -11 .. +12; Etc/GMT signs are inverted (Etc/GMT-2 is UTC+2)
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT-{offset}" if offset > 0 else f"Etc/GMT+{-offset}"


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting until {what}")
        await asyncio.sleep(0.01)


def sent_ok(sandbox: Sandbox) -> int:
    return sum(1 for call in sandbox.calls_to("sendMessage") if call.ok)


async def start_process(sandbox: Sandbox, url: str, log: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": sandbox.base_url,
        "DATABASE_URL": url,
        "SAMENOPVOEDEN_MESSAGES_PER_SECOND": "100",
    }
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            cwd=log.parent,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )


async def test_sigkill_in_the_middle_of_a_fan_out_sends_nothing_twice(tmp_path: Path) -> None:
    count, concurrency = 500, Deliverer.concurrency
    url = f"sqlite:///{tmp_path / 'fanout.db'}"
    log = tmp_path / "bot.log"
    db = Database(url)
    await db.upgrade()
    now = dt.datetime.now(UTC)
    # Their weekly moment was a minute ago, in a zone where it is about noon (the process
    # runs on the real clock).
    seeded = await seed(db, count, now=now - dt.timedelta(minutes=1), zone=zone_near_noon(now))
    async with Sandbox(token=TOKEN, quiet_period=0.1) as sandbox:
        people_in(sandbox, seeded)
        process = await start_process(sandbox, url, log)
        try:
            await wait_until(lambda: sent_ok(sandbox) >= 100, 60, "100 check-ins arrived")
            process.kill()  # SIGKILL: no cleanup, no last commit
            await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == -signal.SIGKILL
        arrived_before = sent_ok(sandbox)
        assert arrived_before < count, "the fan-out finished before it could be killed"
        in_flight = await outbox_count(db, OutboxStatus.SENDING)
        assert in_flight <= concurrency, f"{in_flight} rows were claimed at once"
        # The dead process's leases run out (as if it stayed down for a full lease;
        # waiting the real 60 seconds would only make this test slow).
        async with db.session() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.SENDING)
                .values(lease_until=dt.datetime.now(UTC) - dt.timedelta(seconds=1))
            )

        process = await start_process(sandbox, url, log)
        try:
            last = [sent_ok(sandbox), time.monotonic()]

            async def done() -> bool:
                busy = await outbox_count(db, OutboxStatus.PENDING, OutboxStatus.SENDING)
                if sent_ok(sandbox) != last[0]:
                    last[:] = [sent_ok(sandbox), time.monotonic()]
                return busy == 0 and time.monotonic() - last[1] > 1.0

            deadline = time.monotonic() + 60
            while not await done():
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                assert process.returncode is None, log.read_text()[-3000:]
                await asyncio.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), timeout=20)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert code == 0, log.read_text()[-3000:]
        assert sandbox.bot_errors == [], log.read_text()[-3000:]

        got = received(sandbox, seeded.chats)
        rows = await statuses(db)
        async with db.session() as session:
            checkins = await session.scalar(select(func.count(Checkin.id)))
    await db.dispose()

    # Replanning after the restart created nothing twice.
    assert checkins == count
    assert len(rows) == count
    assert max(got.values()) == 1, "someone got their check-in twice"
    unknown = [chat for chat, (status, _, _) in rows.items() if status == OutboxStatus.UNKNOWN]
    assert len(unknown) <= concurrency
    for chat, (status, _, message_id) in rows.items():
        if status == OutboxStatus.UNKNOWN:
            assert got[chat] <= 1
        else:
            assert status == OutboxStatus.SENT, (chat, status)
            assert got[chat] == 1, chat
            assert sandbox.person(chat, "?").bot_messages[0].message_id == message_id
    assert "1/5" in sandbox.person(seeded.chats[0], "?").bot_messages[0].text
    assert sum(got.values()) == sent_ok(sandbox)
    assert sum(got.values()) >= count - len(unknown)
