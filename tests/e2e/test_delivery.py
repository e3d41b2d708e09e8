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
import sqlite3
import sys
import time
from asyncio.subprocess import Process
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import make_url

from bot.app import (
    AnyApplication,
    build_application,
    deliver,
    plan,
    start_polling,
    stop_polling,
)
from bot.clock import FakeClock
from bot.outbox import Deliverer, RateLimiter
from bot.sandbox import ChatMessage, FloodLimits, Sandbox
from bot.sandbox import Person as ChatPerson
from flows.outbox import enqueue
from flows.replies import Button, Say
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
from tests.conftest import data_key, data_key_env
from tests.e2e.conftest import at

UTC = dt.UTC
TOKEN = "123456:SANDBOX-TOKEN-FOR-DELIVERY-TESTS"
ROOT = Path(__file__).resolve().parents[2]
# Thursday 5 March 2026, 12:00 in Amsterdam: everyone's check-in moment in the in-process tests
# (not a Monday, so no begeleider digest is due as well).
NOON = dt.datetime(2026, 3, 5, 11, 0, tzinfo=UTC)
ZONE = "Europe/Amsterdam"
BEGELEIDER_CHAT = 1001
FIRST_CHAT = 100_000
PLACEMENTS_PER_BEGELEIDER = 20


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
    begeleider_on_telegram: bool = True,
    per_placement: int | None = None,
) -> Seeded:
    """One begeleider and one placement with `count` ouders whose check-in moment is `now`
    (or, with `per_placement`, as many placements as it takes, each with that many ouders, and
    a begeleider for every 20 placements).

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
        # Not on Telegram: she gets nothing, not even her weekly digest.
        if begeleider_on_telegram:
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
        size = per_placement or count
        count_placements = len(range(0, count, size))
        begeleiders = [staff]
        if per_placement is not None and count_placements > PLACEMENTS_PER_BEGELEIDER:
            # As in life: each begeleider has a caseload; the others are not on Telegram.
            others = list(
                await session.scalars(
                    insert(Person).returning(Person.id, sort_by_parameter_order=True),
                    [
                        {"first_name": f"Begeleider{n}", "created_at": week_ago}
                        for n in range(count_placements // PLACEMENTS_PER_BEGELEIDER)
                    ],
                )
            )
            begeleiders += list(
                await session.scalars(
                    insert(StaffMember).returning(StaffMember.id, sort_by_parameter_order=True),
                    [
                        {
                            "organisation_id": organisation,
                            "person_id": person,
                            "role": Role.BEGELEIDER,
                            "created_at": week_ago,
                        }
                        for person in others
                    ],
                )
            )
        placements = list(
            await session.scalars(
                insert(Placement).returning(Placement.id, sort_by_parameter_order=True),
                [
                    {
                        "organisation_id": organisation,
                        "youth_name": "Sam",
                        "gezinshuis_name": "De Linde",
                        "phase": Phase.STABILISATIEFASE,
                        "phase_since": week_ago,
                        "start_date": week_ago.date(),
                        "begeleider_id": begeleiders[n // PLACEMENTS_PER_BEGELEIDER],
                        "created_at": week_ago,
                    }
                    for n in range(count_placements)
                ],
            )
        )
        placement = placements[0]
        people = list(
            await session.scalars(
                insert(Person).returning(Person.id, sort_by_parameter_order=True),
                [
                    {
                        "first_name": f"Ouder{chat}",
                        "created_at": week_ago,
                        "paused": False,
                        "checkin_weekday": weekday,
                        "checkin_time": at_time,
                    }
                    for chat in chats
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
                    "placement_id": placements[index // size],
                    "person_id": person,
                    "role": Role.OUDER,
                    "joined_at": week_ago,
                }
                for index, person in enumerate(people)
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
        return {
            chat: (status, attempts, message_id) for chat, status, attempts, message_id in rows
        }


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


async def seed_due_a_minute_ago(
    db: Database, sandbox: Sandbox, count: int, now: dt.datetime
) -> Seeded:
    """`count` ouders whose weekly moment was a minute ago, in a zone where it is about noon
    (a bot process runs on the real clock), known to the sandbox."""
    seeded = await seed(
        db,
        count,
        now=now - dt.timedelta(minutes=1),
        zone=zone_near_noon(now),
        begeleider_on_telegram=False,  # her Monday digest would depend on the weekday
    )
    people_in(sandbox, seeded)
    return seeded


async def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting until {what}")
        await asyncio.sleep(0.01)


def sent_ok(sandbox: Sandbox) -> int:
    return sum(1 for call in sandbox.calls_to("sendMessage") if call.ok)


@contextlib.asynccontextmanager
async def database(url: str) -> AsyncIterator[Database]:
    db = Database(url, data_key=data_key(url))
    try:
        await db.upgrade()
        yield db
    finally:
        await db.dispose()


@contextlib.asynccontextmanager
async def bot_process(
    sandbox: Sandbox, url: str, log: Path, rate: int = 100
) -> AsyncIterator[Process]:
    """`python -m bot run` against the sandbox; killed at the end if the test did not stop it."""
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": sandbox.base_url,
        "DATABASE_URL": url,
        "SAMENOPVOEDEN_MESSAGES_PER_SECOND": str(rate),
        # This checkout's code, not whichever `bot` package is installed (the process runs in
        # the log's folder, so its own folder is not on the path).
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        **data_key_env(url),
    }
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            cwd=log.parent,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_sigkill_in_the_middle_of_a_fan_out_sends_nothing_twice(tmp_path: Path) -> None:
    count, concurrency = 500, Deliverer.concurrency
    url = f"sqlite:///{tmp_path / 'fanout.db'}"
    log = tmp_path / "bot.log"

    def tail() -> str:
        return log.read_text()[-3000:]

    now = dt.datetime.now(UTC)
    async with database(url) as db, Sandbox(token=TOKEN, quiet_period=0.1) as sandbox:
        seeded = await seed_due_a_minute_ago(db, sandbox, count, now)
        async with bot_process(sandbox, url, log) as process:
            await wait_until(lambda: sent_ok(sandbox) >= 100, 60, "100 check-ins arrived")
            process.kill()  # SIGKILL: no cleanup, no last commit
            assert await process.wait() == -signal.SIGKILL
        assert sent_ok(sandbox) < count, "the fan-out finished before it could be killed"
        in_flight = await outbox_count(db, OutboxStatus.SENDING)
        assert in_flight <= concurrency, f"{in_flight} rows were claimed at once"
        # The dead process's leases run out (as if it stayed down for a full lease; waiting
        # the real 60 seconds would only make this test slow).
        async with db.session() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.SENDING)
                .values(lease_until=dt.datetime.now(UTC) - dt.timedelta(seconds=1))
            )

        async with bot_process(sandbox, url, log) as process:
            # Done: nothing pending or being sent, and no send for a second.
            seen, quiet_since = sent_ok(sandbox), time.monotonic()
            deadline = quiet_since + 60
            while True:
                assert process.returncode is None, tail()
                assert time.monotonic() < deadline, tail()
                if sent_ok(sandbox) != seen:
                    seen, quiet_since = sent_ok(sandbox), time.monotonic()
                busy = await outbox_count(db, OutboxStatus.PENDING, OutboxStatus.SENDING)
                if busy == 0 and time.monotonic() - quiet_since > 1.0:
                    break
                await asyncio.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), timeout=20) == 0, tail()
        assert sandbox.bot_errors == [], tail()

        got = received(sandbox, seeded.chats)
        rows = await statuses(db)
        async with db.session() as session:
            checkins = await session.scalar(select(func.count(Checkin.id)))

        # Replanning after the restart created nothing twice.
        assert checkins == count
        assert len(rows) == count
        assert max(got.values()) == 1, "someone got their check-in twice"
        unknown = [chat for chat, (status, _, _) in rows.items() if status == OutboxStatus.UNKNOWN]
        assert len(unknown) == in_flight
        for chat, (status, _, message_id) in rows.items():
            if status == OutboxStatus.UNKNOWN:
                continue  # 0 or 1 messages: killed before or after Telegram took it
            assert status == OutboxStatus.SENT, (chat, status)
            assert got[chat] == 1, chat
            assert sandbox.person(chat, "?").bot_messages[0].message_id == message_id
        assert "1/5" in sandbox.person(seeded.chats[0], "?").bot_messages[0].text
        assert sum(got.values()) == sent_ok(sandbox) >= count - len(unknown)


async def test_sigterm_in_the_middle_of_a_fan_out_stops_promptly_and_the_rest_follows(
    tmp_path: Path,
) -> None:
    # 600 check-ins at 40/s would take 15 s; a deploy stops the bot after 60 of them.
    count, rate = 600, 40
    url = f"sqlite:///{tmp_path / 'fanout.db'}"
    log = tmp_path / "bot.log"

    def tail() -> str:
        return log.read_text()[-3000:]

    now = dt.datetime.now(UTC)
    async with database(url) as db, Sandbox(token=TOKEN, quiet_period=0.1) as sandbox:
        seeded = await seed_due_a_minute_ago(db, sandbox, count, now)
        async with bot_process(sandbox, url, log, rate=rate) as process:
            await wait_until(lambda: sent_ok(sandbox) >= 60, 60, "60 check-ins arrived")
            process.send_signal(signal.SIGTERM)
            stopping = time.monotonic()
            assert await asyncio.wait_for(process.wait(), timeout=20) == 0, tail()
            took = time.monotonic() - stopping
        arrived = sent_ok(sandbox)
        assert arrived < count / 2, (
            f"the stop waited for the fan-out ({arrived} sent in {took:.1f} s)"
        )
        # Everything that went out is recorded as sent; nothing is left half-way.
        assert await outbox_count(db, OutboxStatus.SENDING, OutboxStatus.UNKNOWN) == 0
        assert await outbox_count(db, OutboxStatus.SENT) == arrived
        assert await outbox_count(db, OutboxStatus.PENDING) == count - arrived

        async with bot_process(sandbox, url, log, rate=200) as process:
            await wait_until(lambda: sent_ok(sandbox) >= count, 60, "the rest arrived")
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), timeout=20) == 0, tail()
        assert received(sandbox, seeded.chats) == Counter(dict.fromkeys(seeded.chats, 1))
        assert sandbox.bot_errors == [], tail()


# --- 2. Telegram fails one send in ten ----------------------------------------------------------


async def tick_until_done(app: AnyApplication, clock: FakeClock, db: Database) -> int:
    """Beat once a minute (past every retry backoff) until nothing waits; return the beats."""
    for beats in range(1, 21):
        await at(app, clock, clock.now() + dt.timedelta(minutes=1))
        if await outbox_count(db, OutboxStatus.PENDING, OutboxStatus.SENDING) == 0:
            return beats
    raise AssertionError("the outbox did not drain in 20 beats")


async def test_one_in_ten_sends_fails_and_each_message_still_arrives_once(
    db: Database,
) -> None:
    count = 200
    clock = FakeClock(NOON - dt.timedelta(minutes=1))
    seeded = await seed(db, count, now=NOON)
    async with Sandbox(token=TOKEN, quiet_period=0.05, read_timeout_delay=1.0) as sandbox:
        people_in(sandbox, seeded)
        # 500: Telegram did not take it, safe to send again. A read timeout: Telegram took it
        # (the person sees it) but the answer came after our 0.5 s read timeout.
        sandbox.inject("sendMessage", "500", rate=0.1, seed=1)
        sandbox.inject("sendMessage", "read_timeout", rate=0.1, seed=2)
        async with running(sandbox, db, clock, read_timeout=0.5, messages_per_second=200) as app:
            await tick_until_done(app, clock, db)
        got = received(sandbox, seeded.chats)
        faults = sandbox.stats.faults
        calls = sandbox.stats.calls["sendMessage"]
    rows = await statuses(db)

    assert faults["500"] >= 10
    assert faults["read_timeout"] >= 10
    assert got == Counter(dict.fromkeys(seeded.chats, 1)), "missing or doubled messages"
    # Each 500 cost exactly one more attempt; a read timeout is never sent again.
    assert sum(attempts for _, attempts, _ in rows.values()) == count + faults["500"]
    assert calls == count + faults["500"]
    unknown = [chat for chat, (status, _, _) in rows.items() if status == OutboxStatus.UNKNOWN]
    assert len(unknown) == faults["read_timeout"]
    assert {status for status, _, _ in rows.values()} == {OutboxStatus.SENT, OutboxStatus.UNKNOWN}
    for chat, (status, _, message_id) in rows.items():
        if status == OutboxStatus.SENT:
            assert sandbox.person(chat, "?").bot_messages[0].message_id == message_id


# --- 3. Someone blocked the bot -----------------------------------------------------------------


async def test_a_blocked_person_is_marked_unreachable_and_their_begeleider_told(
    db: Database,
) -> None:
    clock = FakeClock(NOON - dt.timedelta(minutes=1))
    seeded = await seed(db, 2, now=NOON)
    blocked_chat, other_chat = seeded.chats
    async with Sandbox(token=TOKEN, quiet_period=0.05) as sandbox:
        people_in(sandbox, seeded)
        bea, blocker = sandbox.person(BEGELEIDER_CHAT, "Bea"), sandbox.person(blocked_chat, "?")
        blocker.block()
        async with running(sandbox, db, clock) as app:
            await at(app, clock, NOON)
            [refused] = [c for c in sandbox.calls_to("sendMessage") if c.chat_id == blocked_chat]
            assert refused.error_code == 403
            async with db.session() as session:
                link = await session.scalar(
                    select(TelegramLink).where(TelegramLink.chat_id == blocked_chat)
                )
                assert link is not None
                assert link.reachable is False
                assert link.unreachable_since == NOON
            rows = await statuses(db)
            assert rows[blocked_chat][0] == OutboxStatus.FAILED
            assert rows[other_chat][0] == OutboxStatus.SENT
            [notice] = notices(bea)  # in the same beat, not a beat later
            assert notice.text.startswith(f"Ouder{blocked_chat} (ouder bij Sam)")
            assert "krijgt geen berichten meer van de bot" in notice.text

            # A week later: the other ouder gets the next check-in, nothing is tried for the
            # blocked one, and Bea is not told again.
            await at(app, clock, NOON + dt.timedelta(days=7))
        tried = [c for c in sandbox.calls_to("sendMessage") if c.chat_id == blocked_chat]
        assert tried == [refused]
        assert len(sandbox.person(other_chat, "?").bot_messages) == 2
        assert notices(bea) == [notice]
        assert blocker.bot_messages == []
        assert sandbox.bot_errors == [refused]


def notices(person: ChatPerson) -> list[ChatMessage]:
    return [m for m in person.bot_messages if "krijgt geen berichten meer" in m.text]


# --- A long write lock (SQLite) ---------------------------------------------------------------


async def test_a_database_locked_for_a_while_delays_delivery_but_loses_nothing(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite's one writer at a time; PostgreSQL locks rows")
    path = make_url(db.url).database
    assert path is not None
    count = 40
    clock = FakeClock(NOON)
    seeded = await seed(db, count, now=NOON)
    # The same file with a short busy timeout, so the test need not outwait the default.
    impatient = Database(db.url, sqlite_busy_timeout_ms=2_000, data_key=data_key(db.url))

    def hold_the_write_lock(seconds: float) -> None:
        """Another writer (a long planning transaction, say), past the busy timeout."""
        other = sqlite3.connect(path, timeout=10)
        try:
            other.execute("BEGIN IMMEDIATE")
            time.sleep(seconds)
        finally:
            other.rollback()
            other.close()

    async with Sandbox(token=TOKEN, quiet_period=0.05) as sandbox:
        people_in(sandbox, seeded)
        async with running(sandbox, impatient, clock, messages_per_second=20) as app:
            assert await plan(app) == count
            delivering = asyncio.create_task(deliver(app))
            await wait_until(lambda: sent_ok(sandbox) >= 5, 10, "the fan-out started")
            await asyncio.to_thread(hold_the_write_lock, 3.0)
            report = await delivering
        got = received(sandbox, seeded.chats)
    await impatient.dispose()
    assert "database error, trying again" in caplog.text
    assert report.sent == count
    assert got == Counter(dict.fromkeys(seeded.chats, 1))
    assert await outbox_count(db, OutboxStatus.SENDING, OutboxStatus.PENDING) == 0


# --- 4. Flood limits ------------------------------------------------------------------------


async def queue_reminders(db: Database, seeded: Seeded, now: dt.datetime) -> None:
    """One reminder (with a button) per participant, straight into the outbox."""
    async with db.session() as session:
        people = await session.execute(
            select(TelegramLink.person_id, TelegramLink.chat_id).where(
                TelegramLink.chat_id.in_(seeded.chats)
            )
        )
        for person_id, chat in people:
            say = Say(
                "checkin/reminder",
                {"name": f"Ouder{chat}", "youth": "Sam", "measurement": False},
                buttons=((Button("continue_checkin", f"ck:{chat}:go"),),),
            )
            await enqueue(
                session,
                key=f"reminder:{chat}",
                person_id=person_id,
                kind="checkin_reminder",
                say=say,
                due_at=now,
                now=now,
            )


async def test_a_fan_out_to_a_thousand_chats_stays_under_the_flood_limit(db: Database) -> None:
    count, rate = 1000, 200
    clock = FakeClock(NOON)
    seeded = await seed(db, count, now=NOON + dt.timedelta(days=1))  # check-ins come tomorrow
    await queue_reminders(db, seeded, NOON)
    limits = FloodLimits(global_per_second=rate, per_chat_per_second=1.0, per_chat_burst=3)
    async with Sandbox(token=TOKEN, quiet_period=0.05, flood_limits=limits) as sandbox:
        people_in(sandbox, seeded)
        async with running(sandbox, db, clock, messages_per_second=rate) as app:
            report = await deliver(app)
        got = received(sandbox, seeded.chats)
        assert sandbox.stats.too_many_requests == 0
        assert sandbox.bot_errors == []
    assert report.sent == count
    assert got == Counter(dict.fromkeys(seeded.chats, 1))


async def test_retry_after_holds_every_send_and_the_message_arrives_once(db: Database) -> None:
    count, retry_after = 6, 1
    clock = FakeClock(NOON - dt.timedelta(minutes=1))
    seeded = await seed(db, count, now=NOON)
    async with Sandbox(token=TOKEN, quiet_period=0.05) as sandbox:
        people_in(sandbox, seeded)
        sandbox.inject("sendMessage", "429", times=1, retry_after=retry_after)
        async with running(sandbox, db, clock, messages_per_second=20) as app:
            first = await at(app, clock, NOON)
            assert (first.sent, first.retried) == (count - 1, 1)
            second = await at(app, clock, NOON + dt.timedelta(seconds=retry_after))
            assert second.sent == 1
        sends = sandbox.calls_to("sendMessage")
        got = received(sandbox, seeded.chats)
    [refused] = [c for c in sends if c.error_code == 429]
    assert got == Counter(dict.fromkeys(seeded.chats, 1))
    assert [c.chat_id for c in sends].count(refused.chat_id) == 2
    # Nothing was sent while Telegram said to wait (a send already on its way aside).
    held = [c for c in sends if refused.time + 0.1 < c.time < refused.time + retry_after]
    assert held == []
    assert len([c for c in sends if c.time > refused.time]) == count


async def test_sends_held_up_by_a_busy_event_loop_do_not_burst_over_the_limit() -> None:
    rate, senders = 50, 8
    limiter = RateLimiter(rate)
    loop = asyncio.get_running_loop()
    sent: list[float] = []
    chats = iter(range(10_000))

    async def sender() -> None:
        while loop.time() < start + 2.5:
            await limiter.acquire(next(chats))
            sent.append(loop.time())

    start = loop.time()
    # Half a second in, the loop is blocked for 0.4 s (a slow query, a big render, GC).
    loop.call_later(0.5, time.sleep, 0.4)
    await asyncio.gather(*(sender() for _ in range(senders)))
    busiest = max(sum(1 for t in sent if begin <= t < begin + 1.0) for begin in sent)
    assert busiest <= rate * 0.95
    assert len(sent) >= 2 * rate * 0.9 - 20  # the stall costs its 0.4 s, no more


async def test_a_claim_never_takes_more_rows_than_it_asks_for(db: Database) -> None:
    # PostgreSQL may run an UPDATE's `LIMIT … SKIP LOCKED` subquery more than once; the
    # claim must still mark at most `limit` rows `sending` (the concurrency bound rests on it).
    seeded = await seed(db, 40, now=NOON + dt.timedelta(days=1))
    await queue_reminders(db, seeded, NOON)
    async with Sandbox(token=TOKEN) as sandbox, running(sandbox, db, FakeClock(NOON)) as app:
        deliverer: Deliverer = app.bot_data["services"].deliverer
        async with db.session() as session:
            claimed = await deliverer._claim(session, 8)
    assert len(claimed) == 8
    assert await outbox_count(db, OutboxStatus.SENDING) == 8
    assert await outbox_count(db, OutboxStatus.PENDING) == 32
