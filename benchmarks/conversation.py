"""Conversation throughput and latency: button presses handled per second, end to end.

Run from the project root::

    python -m benchmarks.conversation                 # everything below
    python -m benchmarks.conversation --no-postgres   # skip PostgreSQL
    python -m benchmarks.conversation --no-profile --no-latency

Burst: 200 ouders, each with an open weekly check-in whose first question was sent by the real
planner and deliverer; then 2,000 presses (10 each, round-robin over the people) on that
question's answer buttons go straight into the sandbox's update queue at once (flood limits off).
Throughput = presses / (last answerCallbackQuery seen - injection). The same burst is handled by
(a) samenopvoeden on SQLite, (b) samenopvoeden on PostgreSQL, (c) a bare python-telegram-bot echo
bot (answers the query and edits the message; PTB's defaults: httpx, one update at a time) and
(d) the same echo bot built as samenopvoeden is (the aiohttp transport of bot/transport.py, and
different people side by side, each person's updates in order, bot/updates.py); (a) and (b) are
printed as a ratio to (c), the issue's yardstick, and to (d), which shows what samenopvoeden's
own work costs on the same plumbing. (a1) is (a) with SAMENOPVOEDEN_UPDATES_AT_ONCE=1.

Then a pyinstrument profile of (a), summed per function of our own code, and the latency of
samenopvoeden on SQLite under a steady stream (default 50 presses/s for 20 s): from injection to
the bot's answerCallbackQuery for that press (the handler answers last).

The sandbox runs in the bot's own process and event loop (updates are queued in memory), so its
HTTP work is on the same CPU as the bot for all three bots alike.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from benchmarks.fanout import child_sandbox, machine
from bot.app import build_application, deliver, plan, start_polling, stop_polling
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.transport import AiohttpRequest
from bot.updates import CONCURRENT_UPDATES, PerPersonOrder
from flows.settings import RouteSettings
from storage.crypto import new_key
from storage.db import Database
from tests.e2e.test_delivery import BEGELEIDER_CHAT, FIRST_CHAT, NOON, TOKEN, people_in, seed

PEOPLE = 200
PRESSES_EACH = 10
# The server, and the name of the throwaway database made there (two runs at once on one server
# each need their own name: BENCH_DB).
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
BENCH_DB = os.environ.get("BENCH_DB", "bench_conversation")
SKIP_LABEL = "overslaan"  # "Deze week overslaan" ends the check-in; not pressed here

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class Target:
    """One pressable button per person: the message and the callback data to cycle through."""

    message_ids: dict[int, int]  # chat -> message id
    choices: dict[int, list[str]]  # chat -> callback data on that message


@dataclass
class Burst:
    name: str
    presses: int
    seconds: float
    answered: int
    errors: int

    @property
    def rate(self) -> float:
        return self.presses / self.seconds if self.seconds > 0 else 0.0


# --- Bots -------------------------------------------------------------------------------------


async def _echo_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    count = context.bot_data["count"] = context.bot_data.get("count", 0) + 1
    await query.edit_message_text(f"Gekozen: {query.data} (#{count})")
    await query.answer()


async def _echo_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    await message.reply_text(message.text or "?")


def echo_application(base_url: str, *, our_plumbing: bool = False) -> AnyApplication:
    """PTB's defaults (httpx, one update at a time), or built as bot/app.py builds ours: the
    aiohttp transport and the per-person update processor."""
    builder = Application.builder().token(TOKEN).base_url(base_url)
    if our_plumbing:
        builder = (
            builder.concurrent_updates(PerPersonOrder())
            .request(AiohttpRequest())
            .get_updates_request(AiohttpRequest(connection_pool_size=1))
        )
    application = builder.build()
    application.add_handler(CallbackQueryHandler(_echo_button))
    application.add_handler(MessageHandler(filters.TEXT, _echo_text))
    return application


def ours_application(
    db: Database, base_url: str, at_once: int = CONCURRENT_UPDATES
) -> AnyApplication:
    return build_application(
        token=TOKEN,
        db=db,
        route=RouteSettings(),
        base_url=base_url,
        clock=FakeClock(NOON),
        clock_jobs=False,
        messages_per_second=10_000,
        updates_at_once=at_once,
    )


async def send_echo_buttons(application: AnyApplication, chats: list[int]) -> dict[int, int]:
    """The echo bot sends each person a message with three buttons; returns the message ids."""
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"e:{label}") for label in "abc"]]
    )
    ids = {}
    for chat in chats:
        sent = await application.bot.send_message(chat, "Kies", reply_markup=markup)
        ids[chat] = sent.message_id
    return ids


async def send_questions(application: AnyApplication) -> None:
    """The real planner and deliverer send everyone the check-in's first question."""
    await plan(application)
    await deliver(application)


async def echo_prepare(application: AnyApplication, sandbox: Sandbox, chats: list[int]) -> Target:
    ids = await send_echo_buttons(application, chats)
    return Target(ids, {chat: ["e:a", "e:b", "e:c"] for chat in chats})


async def ours_prepare(application: AnyApplication, sandbox: Sandbox, chats: list[int]) -> Target:
    await send_questions(application)
    target = targets_in(sandbox, chats)
    for chat in chats:
        assert target.choices[chat], sandbox.person(chat, "?").last.buttons
        assert all(d.startswith("ck:") for d in target.choices[chat])
    return target


def targets_in(sandbox: Sandbox, chats: list[int]) -> Target:
    """Each person's last message with buttons, and the buttons to cycle through on it."""
    ids, choices = {}, {}
    for chat in chats:
        message = sandbox.person(chat, "?").last
        ids[chat] = message.message_id
        choices[chat] = [
            d
            for row in message.buttons
            for label, d in row
            if isinstance(d, str) and SKIP_LABEL not in label
        ]
    return Target(ids, choices)


# --- Databases --------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def sqlite_database(folder: Path, name: str) -> AsyncIterator[Database]:
    db = Database(f"sqlite:///{folder / name}.db")
    try:
        await db.upgrade()
        yield db
    finally:
        await db.dispose()


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[Database]:
    """A database of its own on the server (dropped afterwards), so no one else's is touched."""
    import asyncpg  # type: ignore[import-untyped]

    admin_url = POSTGRES.replace("postgresql://", "postgres://")
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{BENCH_DB}"')
    finally:
        await admin.close()
    # A throwaway database: a fresh data key (PostgreSQL needs one given).
    db = Database(POSTGRES.rsplit("/", 1)[0] + f"/{BENCH_DB}", data_key=new_key())
    try:
        await db.upgrade()
        yield db
    finally:
        await db.dispose()
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        finally:
            await admin.close()


# --- Running a bot ----------------------------------------------------------------------------


Prepare = Callable[[AnyApplication, Sandbox, list[int]], Awaitable[Target]]


@contextlib.asynccontextmanager
async def running_bot(
    db: Database | None,
    count: int,
    echo_ours: bool = False,
    at_once: int = CONCURRENT_UPDATES,
) -> AsyncIterator[tuple[Sandbox, AnyApplication, Target, list[int]]]:
    """Seed (for ours), start the sandbox and the bot, and send the messages to press on."""
    async with contextlib.AsyncExitStack() as stack:
        if db is not None:
            seeded = await seed(db, count, now=NOON)
            chats = seeded.chats
        else:
            chats = list(range(100_000, 100_000 + count))
        sandbox = await stack.enter_async_context(
            Sandbox(token=TOKEN, quiet_period=0.05, flood_limits=False)
        )
        if db is not None:
            people_in(sandbox, seeded)
            application = ours_application(db, sandbox.base_url, at_once)
            prepare: Prepare = ours_prepare
        else:
            for chat in chats:
                sandbox.person(chat, f"Ouder{chat}", started=True)
            application = echo_application(sandbox.base_url, our_plumbing=echo_ours)
            prepare = echo_prepare
        if db is not None:
            await start_polling(application, poll_timeout=5)
        else:
            await start_plain(application)
        stack.push_async_callback(stop_polling, application)
        target = await prepare(application, sandbox, chats)
        yield sandbox, application, target, chats


async def start_plain(application: AnyApplication) -> None:
    """Start a bare PTB application with long polling, as bot.app.start_polling does."""
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0, timeout=5, allowed_updates=Update.ALL_TYPES
    )


def press(sandbox: Sandbox, target: Target, chat: int, n: int) -> str:
    """Queue one press (without waiting for the reply); return its callback query id."""
    person = sandbox.person(chat, "?")
    message = person.message(target.message_ids[chat])
    choices = target.choices[chat]
    data = choices[n % len(choices)]
    queued = sandbox.api.person_click(person._chat, message, data, data)
    sandbox.notify()
    assert queued.callback_query_id is not None
    return queued.callback_query_id


def answered(sandbox: Sandbox) -> int:
    return sandbox.stats.calls["answerCallbackQuery"]


async def until_answered(sandbox: Sandbox, total: int, within: float = 600.0) -> None:
    deadline = time.monotonic() + within
    while answered(sandbox) < total:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{answered(sandbox)} of {total} presses answered")
        await asyncio.sleep(0.005)


async def burst(
    name: str,
    db: Database | None,
    profile: Any = None,
    echo_ours: bool = False,
    at_once: int = CONCURRENT_UPDATES,
) -> Burst:
    bot = running_bot(db, PEOPLE, echo_ours, at_once)
    async with bot as (sandbox, _application, target, chats):
        before = answered(sandbox)
        calls_before = len(sandbox.calls)
        sql: collections.Counter[str] = collections.Counter()
        if db is not None:
            engine = db.engine.sync_engine

            def statement(*_args: Any) -> None:
                sql["statements"] += 1

            def checkout(*_args: Any) -> None:
                sql["checkouts"] += 1

            event.listen(engine, "before_cursor_execute", statement)
            event.listen(engine.pool, "checkout", checkout)
        if profile is not None:
            profile.start()
        started = time.time()
        for n in range(PRESSES_EACH):
            for chat in chats:
                press(sandbox, target, chat, n)
        total = before + PRESSES_EACH * len(chats)
        await until_answered(sandbox, total)
        if profile is not None:
            profile.stop()
        if db is not None:
            event.remove(engine, "before_cursor_execute", statement)
            event.remove(engine.pool, "checkout", checkout)
            presses = PRESSES_EACH * len(chats)
            print(
                f"  {name}: per update {sql['statements'] / presses:.1f} SQL statements, "
                f"{sql['checkouts'] / presses:.1f} connection checkouts",
                flush=True,
            )
        answers = [c for c in sandbox.calls[calls_before:] if c.method == "answerCallbackQuery"]
        errors = [c for c in sandbox.calls[calls_before:] if not c.ok]
        methods = collections.Counter(c.method for c in sandbox.calls[calls_before:])
        del methods["getUpdates"]
        print(f"  {name}: Bot API calls {dict(methods)}", flush=True)
        for call in errors[:3]:
            print(f"  {name}: error {call.method}: {call.description}", file=sys.stderr)
        return Burst(
            name,
            PRESSES_EACH * len(chats),
            max(c.time for c in answers) - started,
            len(answers),
            len(errors),
        )


async def latency(db: Database, rate: float, seconds: float) -> list[float]:
    """Presses at a steady `rate`/s for `seconds`; per press, injection -> answerCallbackQuery."""
    async with running_bot(db, PEOPLE) as (sandbox, _application, target, chats):
        loop = asyncio.get_running_loop()
        injected: dict[str, float] = {}
        calls_before = len(sandbox.calls)
        total = int(rate * seconds)
        start = loop.time()
        for n in range(total):
            delay = start + n / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            chat = chats[n % len(chats)]
            injected[press(sandbox, target, chat, n // len(chats))] = time.time()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            seen = {
                c.params.get("callback_query_id")
                for c in sandbox.calls[calls_before:]
                if c.method == "answerCallbackQuery"
            }
            if all(q in seen for q in injected):
                break
            await asyncio.sleep(0.05)
        replied = {
            c.params["callback_query_id"]: c.time
            for c in sandbox.calls[calls_before:]
            if c.method == "answerCallbackQuery" and c.params.get("callback_query_id") in injected
        }
        return [replied[q] - t for q, t in injected.items() if q in replied]


# --- The sandbox in a process of its own (skipped with --no-apart) -----------------------------


async def serve(count: int) -> None:
    """Child process: a sandbox with the people; on each 'burst' line, press and report."""
    chats = list(range(FIRST_CHAT, FIRST_CHAT + count))
    async with Sandbox(token=TOKEN, quiet_period=0.05, flood_limits=False) as sandbox:
        sandbox.person(BEGELEIDER_CHAT, "Bea", started=True)
        for chat in chats:
            sandbox.person(chat, f"Ouder{chat}", started=True)
        print(sandbox.base_url, flush=True)
        loop = asyncio.get_running_loop()
        while (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "burst":
            target = targets_in(sandbox, chats)
            before, calls_before = answered(sandbox), len(sandbox.calls)
            started = time.time()
            for n in range(PRESSES_EACH):
                for chat in chats:
                    press(sandbox, target, chat, n)
            await until_answered(sandbox, before + PRESSES_EACH * len(chats))
            calls = sandbox.calls[calls_before:]
            answers = [c.time for c in calls if c.method == "answerCallbackQuery"]
            result = {
                "presses": PRESSES_EACH * len(chats),
                "seconds": max(answers) - started,
                "answered": len(answers),
                "errors": sum(1 for c in calls if not c.ok),
            }
            print(json.dumps(result), flush=True)


async def burst_apart(name: str, db: Database | None, echo_ours: bool = False) -> Burst:
    """The same burst with the sandbox in a child process (as Telegram is not on our CPU)."""
    async with child_sandbox("benchmarks.conversation", str(PEOPLE)) as (process, base_url):
        assert process.stdin is not None
        assert process.stdout is not None
        if db is not None:
            await seed(db, PEOPLE, now=NOON)
            application = ours_application(db, base_url)
            await start_polling(application, poll_timeout=5)
            await send_questions(application)
        else:
            application = echo_application(base_url, our_plumbing=echo_ours)
            await start_plain(application)
            await send_echo_buttons(application, list(range(FIRST_CHAT, FIRST_CHAT + PEOPLE)))
        try:
            process.stdin.write(b"burst\n")
            await process.stdin.drain()
            result = json.loads(await process.stdout.readline())
        finally:
            await stop_polling(application)
    return Burst(name, result["presses"], result["seconds"], result["answered"], result["errors"])


async def apart(folder: Path, postgres: bool) -> None:
    print("\nthe sandbox in a process of its own (Telegram is not on the bot's CPU either):")
    echo = await burst_apart("(c) echo bot (bare PTB)", None)
    echo_pp = await burst_apart("(d) echo bot, our plumbing", None, echo_ours=True)
    results = []
    async with sqlite_database(folder, "apart") as db:
        results.append(await burst_apart("(a) samenopvoeden SQLite", db))
    if postgres:
        async with postgres_database() as db:
            results.append(await burst_apart("(b) samenopvoeden PostgreSQL", db))
    for result in [*results, echo, echo_pp]:
        print(ratio_line(result, echo))
    print("vs (d), the echo bot on samenopvoeden's transport and update processor:")
    for result in results:
        print(ratio_line(result, echo_pp), flush=True)


# --- Profile summary --------------------------------------------------------------------------

ROOT = str(Path(__file__).resolve().parent.parent)
OURS = tuple(f"{ROOT}/{part}/" for part in ("bot", "flows", "storage", "messages"))
SANDBOX = f"{ROOT}/bot/sandbox/"
BUCKETS = (
    ("our code (bot/, flows/, storage/)", OURS),
    ("sandbox (fake Telegram)", (SANDBOX,)),
    ("SQLAlchemy", ("/sqlalchemy/",)),
    ("aiosqlite / sqlite3", ("/aiosqlite/", "/sqlite3/")),
    ("asyncpg", ("/asyncpg/",)),
    ("python-telegram-bot", ("/telegram/",)),
    ("httpx / httpcore", ("/httpx/", "/httpcore/", "/h11/")),
    ("aiohttp (sandbox server)", ("/aiohttp/", "/multidict/", "/yarl/")),
    ("jinja2 / babel", ("/jinja2/", "/babel/", "/markupsafe/")),
    ("asyncio / selectors", ("/asyncio/", "/selectors.py")),
)


def _bucket(path: str) -> str:
    if path.startswith(SANDBOX):
        return "sandbox (fake Telegram)"
    for name, parts in BUCKETS:
        if any(part in path for part in parts):
            return name
    return "other"


def summarise(session: Any, top: int) -> None:
    """Self time per library, and total time per function of our own code."""
    root = session.root_frame()
    if root is None:
        print("  (no samples)")
        return
    whole = root.time
    self_time: collections.Counter[str] = collections.Counter()
    ours: collections.Counter[str] = collections.Counter()
    calls_from_ours: collections.Counter[str] = collections.Counter()
    other: collections.Counter[str] = collections.Counter()

    def walk(frame: Any, stack: frozenset[str]) -> None:
        if frame.is_synthetic:
            return  # [self]/[await] time: already in its parent's total_self_time
        path = frame.file_path or ""
        key = f"{frame.function} ({path.removeprefix(ROOT + '/')}:{frame.line_no})"
        mine = path.startswith(OURS) and not path.startswith(SANDBOX)
        if mine and key not in stack:
            ours[key] += frame.time
            stack = stack | {key}
        bucket = _bucket(path)
        self_time[bucket] += frame.total_self_time
        if bucket == "other":
            other[f"{frame.function} ({path.rsplit('/', 2)[-2:][0]})"] += frame.total_self_time
        if mine:
            for child in frame.children:
                child_path = child.file_path or ""
                if not child_path.startswith(OURS):
                    calls_from_ours[f"{child.function} ({_bucket(child_path)})"] += child.time
        for child in frame.children:
            walk(child, stack)

    walk(root, frozenset())
    print(f"  sampled {whole:.2f} s; self time by where the CPU was:")
    for name, seconds in self_time.most_common():
        print(f"    {seconds / whole:6.1%}  {name}")
    print("  largest in 'other' (the event loop waiting in epoll is idle time):")
    for key, seconds in other.most_common(4):
        print(f"    {seconds / whole:6.1%}  {key}")
    print(f"  our functions by total time (incl. callees), top {top}:")
    for key, seconds in ours.most_common(top):
        print(f"    {seconds / whole:6.1%}  {key}")
    print(f"  library calls made directly from our code, top {top}:")
    for key, seconds in calls_from_ours.most_common(top):
        print(f"    {seconds / whole:6.1%}  {key}")


# --- Main -------------------------------------------------------------------------------------


def ratio_line(result: Burst, echo: Burst | None) -> str:
    ratio = f"{result.rate / echo.rate:7.2f}" if echo else "      -"
    return (
        f"{result.name:<28} {result.presses:>7} {result.seconds:>8.2f} {result.rate:>9.1f} "
        f"{ratio} {result.answered:>8} {result.errors:>6}"
    )


async def main(args: argparse.Namespace) -> None:
    print(f"machine: {machine()}; sandbox in the bot's process, flood limits off")
    print(f"burst: {PEOPLE} people x {PRESSES_EACH} presses = {PEOPLE * PRESSES_EACH} updates")
    header = (
        f"{'bot':<28} {'updates':>7} {'seconds':>8} {'updates/s':>9} {'vs echo':>7} "
        f"{'answered':>8} {'errors':>6}"
    )
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        results: list[Burst] = []
        echo = await burst("(c) echo bot (bare PTB)", None)
        echo_pp = await burst("(d) echo bot, our plumbing", None, echo_ours=True)
        async with sqlite_database(folder, "burst") as db:
            results.append(await burst("(a) samenopvoeden SQLite", db))
        async with sqlite_database(folder, "one") as db:
            results.append(await burst("(a1) SQLite, 1 at a time", db, at_once=1))
        if args.postgres:
            try:
                async with postgres_database() as db:
                    results.append(await burst("(b) samenopvoeden PostgreSQL", db))
            except (OSError, ConnectionError) as exc:
                print(f"PostgreSQL skipped: {exc!r}")
        print(header)
        print("-" * len(header))
        for result in results:
            print(ratio_line(result, echo))
        print(ratio_line(echo, echo))
        print(ratio_line(echo_pp, echo), flush=True)
        print("vs (d), the echo bot on samenopvoeden's transport and update processor:")
        for result in results:
            print(ratio_line(result, echo_pp))

        if args.apart:
            await apart(folder, args.postgres)

        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.002, async_mode="disabled")
            async with sqlite_database(folder, "profile") as db:
                profiled = await burst("(a) SQLite, profiled", db, profiler)
            print(f"\nprofile of (a), {profiled.rate:.1f} updates/s under the profiler:")
            assert profiler.last_session is not None
            summarise(profiler.last_session, args.top)
            if args.profile_html:
                html = profiler.output_html()
                await asyncio.to_thread(Path(args.profile_html).write_text, html)
                print(f"  full profile: {args.profile_html}")

        if args.latency:
            async with sqlite_database(folder, "latency") as db:
                seen = await latency(db, args.rate, args.seconds)
            expected = int(args.rate * args.seconds)
            ms = sorted(1000 * s for s in seen)
            p50 = statistics.median(ms)
            p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
            print(
                f"\nlatency, samenopvoeden SQLite, {args.rate:g} updates/s for {args.seconds:g} s:"
                f" {len(seen)}/{expected} answered; p50 {p50:.1f} ms, p95 {p95:.1f} ms,"
                f" max {ms[-1]:.1f} ms"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--no-postgres", dest="postgres", action="store_false")
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument("--no-latency", dest="latency", action="store_false")
    parser.add_argument("--rate", type=float, default=50.0, help="latency run: updates/s")
    parser.add_argument("--seconds", type=float, default=20.0, help="latency run: duration")
    parser.add_argument("--no-apart", dest="apart", action="store_false")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--top", type=int, default=12, help="profile lines per list")
    parser.add_argument("--profile-html", help="also write pyinstrument's HTML report here")
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    arguments = parser.parse_args()
    asyncio.run(serve(arguments.serve) if arguments.serve else main(arguments))
