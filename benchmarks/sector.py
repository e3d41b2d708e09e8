"""The whole sector on one PostgreSQL database: planning, digests and memory at 4,000 placements.

Run from the project root (PostgreSQL only; the database is emptied first)::

    python -m benchmarks.sector --url postgresql://postgres@127.0.0.1:5432/NAME
    python -m benchmarks.sector --url ... --reuse        # keep the data set of the last run
    python -m benchmarks.sector --url ... --only digests planning
    python -m benchmarks.sector --url ... --small-url postgresql://.../NAME2   # memory 100 vs all

The data set (benchmarks/sector_data.py): 4,000 placements, ~12,400 ouders and
gezinshuisouders, 250 begeleiders (16 placements each), 50 behandelaars, a year of history.
"Now" is this week's Monday 08:30 in Amsterdam, so the bot process that the memory part starts
(on the real clock) sees a live week, not an old one. Measured and printed:

- digests: the Monday digests for every begeleider as the clock makes them
  (bot.digest.plan_weekly: build, render with the chart, queue), total wall and CPU time,
  SQL statements per digest (counted with an engine event listener; must be constant: no N+1).
  Target: under 60 s in total.
- planning: the Sunday check-in fan-out, planned at the coming Sunday 20:00 (both roles due):
  checkins.plan_weekly in pages (flows.planning.in_pages), then a second beat with nothing left
  to plan (what every beat of the clock costs), the reminders' and the tips' pages; time,
  statements and the outbox rows made.
- memory: VmRSS/VmHWM of `python -m bot run` (this worktree's code, a process of its own)
  against the sandbox, on the small and on the sector database (target: flat within 10 %).
- fanout (`--instances K --latency 0.05 --rate R --send N`): N of the planned check-ins sent by
  K bot processes at once through the sandbox with its flood limit at R/s and a network
  latency; achieved rate, 429s, anybody twice. Before h6 (one shared flood limit) each process
  paces itself at SAMENOPVOEDEN_MESSAGES_PER_SECOND, so K processes together try K x R.
  With `--webhook` the processes run `bot run --webhook` on ports of their own (started 2 s
  apart) and the sandbox posts updates to them in turn; without it they poll (and, being
  several on one token, get Telegram's getUpdates Conflict, which does not stop delivery).

Times are wall time on a machine shared with other work; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import itertools
import os
import socket
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, event, func, select, text, update
from sqlalchemy.exc import ProgrammingError

from benchmarks.fanout import machine
from benchmarks.sector_data import DATA_KEY, counts, fresh, generate
from bot.digest import chart_sections, render_messages, weekly_parts
from bot.render import Renderer
from bot.sandbox import FloodLimits, Sandbox
from flows import checkins, digest_plan, prompts
from flows.digest_plan import RenderedDigest
from flows.planning import in_pages
from flows.settings import CheckinRules
from storage.db import Database
from storage.models import AccessLog, Checkin, OutboxMessage, OutboxStatus, Person, Placement

ZONE = ZoneInfo("Europe/Amsterdam")
ROOT = Path(__file__).resolve().parent.parent  # the worktree whose code the processes run
TOKEN = "123456:SANDBOX-TOKEN-FOR-THE-SECTOR-BENCHMARK"  # noqa: S105 - a fake for the sandbox
DIGEST_TARGET = 60.0
WEBHOOK_SECRET = "sector_benchmark_secret_" + "0123456789abcdef" * 2  # a fake, for the sandbox
STAGGER = 2.0  # seconds between starting webhook instances
PARTS = ("digests", "planning", "memory", "fanout")


def this_monday() -> dt.datetime:
    """Monday 08:30 in Amsterdam of the current week, in UTC (the digest moment)."""
    today = dt.datetime.now(ZONE).date()
    monday = today - dt.timedelta(days=today.weekday())
    return dt.datetime.combine(monday, dt.time(8, 30), tzinfo=ZONE).astimezone(dt.UTC)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


class Statements:
    """Counts the SQL statements an engine sends (before_cursor_execute)."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine.sync_engine
        self.count = 0

    def _seen(self, *_: object) -> None:
        self.count += 1

    @contextmanager
    def counting(self) -> Iterator[Statements]:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._seen)


async def ensure_data(url: str, placements: int, now: dt.datetime, reuse: bool) -> Database:
    if reuse:
        db = Database(url, data_key=DATA_KEY)
        try:
            async with db.session() as session:
                found = await session.scalar(select(func.count()).select_from(Placement))
        except ProgrammingError:  # an empty database: no tables yet
            found = None
        if found == placements:
            print(f"reusing {url.rsplit('/', 1)[-1]}: {found:,} placements", flush=True)
            return db
        await db.dispose()
    db = await fresh(url)
    started, cpu = time.perf_counter(), time.process_time()
    sector = await generate(db, now, placements=placements)
    print(
        f"generated {url.rsplit('/', 1)[-1]} in {time.perf_counter() - started:.1f} s wall, "
        f"{time.process_time() - cpu:.1f} s CPU ({load()}): {sector.placements:,} placements, "
        f"{sector.people:,} ouders and gezinshuisouders, {sector.staff} staff",
        flush=True,
    )
    print(f"  rows: {counts(sector.rows)}", flush=True)
    return db


async def forget_runs(db: Database, since: dt.datetime) -> None:
    """Undo what earlier runs' planners added (outbox, access log, check-ins after `since`)."""
    async with db.session() as session:
        await session.execute(delete(OutboxMessage).where(OutboxMessage.created_at >= since))
        await session.execute(delete(AccessLog).where(AccessLog.at >= since))
        await session.execute(delete(Checkin).where(Checkin.due_at > since))
        await session.execute(update(Person).values(paused=False))


# --- digests ------------------------------------------------------------------------------------


async def digests(db: Database, now: dt.datetime, chart: bool = True) -> None:
    """The clock's digest planner for every begeleider; `chart=False` leaves the chart out
    (the same digests as text only: what the chart costs)."""
    renderer = Renderer()
    marks: list[tuple[float, float, int]] = []  # at each render: wall, CPU, statements so far
    charted: Counter[int] = Counter()  # placements in the chart -> digests
    statements = Statements(db)

    def render(language: str, digest: Any) -> Any:
        marks.append((time.perf_counter(), time.process_time(), statements.count))
        shown, more = chart_sections(digest)
        charted[len(shown)] += 1
        if chart:
            return weekly_parts(renderer, language, digest)
        return RenderedDigest(render_messages(renderer, language, digest), None, more)

    async with db.session() as session:
        begeleiders = await session.scalar(
            text("SELECT count(*) FROM staff_member WHERE role = 'begeleider'")
        )
    gc.collect()
    what = "with the chart" if chart else "WITHOUT the chart (text only)"
    print(f"Monday digests for {begeleiders} begeleiders, {what} ({load()}):", flush=True)
    with statements.counting():
        started, cpu = time.perf_counter(), time.process_time()
        queued = await digest_plan.plan_weekly(db, render, now)
        total, total_cpu = time.perf_counter() - started, time.process_time() - cpu
    verdict = "met" if total < DIGEST_TARGET else "MISSED"
    per = [b[2] - a[2] for a, b in itertools.pairwise(marks)]
    walls = [b[0] - a[0] for a, b in itertools.pairwise(marks)]
    cpus = [b[1] - a[1] for a, b in itertools.pairwise(marks)]
    print(
        f"  {len(marks)} digests, {queued} messages queued, total {total:.1f} s wall, "
        f"{total_cpu:.1f} s CPU, a transaction per begeleider "
        f"(target: under {DIGEST_TARGET:.0f} s in total: {verdict})"
    )
    print(
        "  placements in the chart: "
        + ", ".join(f"{n}: {charted[n]} digests" for n in sorted(charted)),
        flush=True,
    )
    if per:
        walls.sort()
        cpus.sort()
        print(
            f"  SQL statements per digest (from one render to the next, queueing included): "
            f"{min(per)}-{max(per)} ({'constant' if min(per) == max(per) else 'varies'}); "
            f"{statements.count} in all; per digest {walls[len(walls) // 2] * 1000:.0f} ms "
            f"wall median ({walls[int(len(walls) * 0.95)] * 1000:.0f} p95), "
            f"{cpus[len(cpus) // 2] * 1000:.0f} ms CPU median",
            flush=True,
        )


# --- planning -----------------------------------------------------------------------------------


async def planning(db: Database, monday: dt.datetime) -> None:
    sunday = monday + dt.timedelta(days=6)
    # 20:00:30 local on Sunday: the ouders' moment (19:00) has passed, the gezinshuisouders'
    # (20:00) has just come: the whole fan-out of the week in one beat.
    now = dt.datetime.combine(sunday.astimezone(ZONE).date(), dt.time(20, 0, 30), tzinfo=ZONE)
    now = now.astimezone(dt.UTC)
    rules = CheckinRules()
    statements = Statements(db)
    async with db.session() as session:
        participants = await session.scalar(text("SELECT count(*) FROM participant"))
        before = await session.scalar(select(func.count()).select_from(OutboxMessage))
    print(
        f"Sunday fan-out planning at {now.astimezone(ZONE):%a %Y-%m-%d %H:%M} Amsterdam, "
        f"{participants:,} participants ({load()}):",
        flush=True,
    )

    async def timed(label: str, run: Callable[[], Any]) -> None:
        gc.collect()
        with statements.counting():
            start_count = statements.count
            started, cpu = time.perf_counter(), time.process_time()
            queued = await run()
            wall, used = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"  {label:<34} {wall:6.2f} s wall {used:6.2f} s CPU  "
            f"{statements.count - start_count:6,} statements  {queued:6,} queued",
            flush=True,
        )

    async def tidy() -> int:
        async with db.session() as session:
            await checkins.tidy(session, now)
        return 0

    await timed("tidy (close expired check-ins)", tidy)
    await timed(
        "check-ins, pages of 500",
        lambda: in_pages(db, lambda s, after: checkins.plan_weekly(s, now, rules, after)),
    )
    async with db.session() as session:
        made = await session.scalar(select(func.count()).select_from(OutboxMessage))
        pending = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
        )
    print(f"  outbox rows made: {made - before:,} ({pending:,} pending in all)", flush=True)
    await timed(
        "check-ins again (nothing new)",
        lambda: in_pages(db, lambda s, after: checkins.plan_weekly(s, now, rules, after)),
    )
    await timed(
        "reminders, pages",
        lambda: in_pages(db, lambda s, after: checkins.plan_reminders(s, now, rules, after)),
    )
    await timed(
        "tips (prompts), pages", lambda: in_pages(db, lambda s, a: prompts.plan(s, now, rules, a))
    )


# --- a bot process: memory, fan-out -------------------------------------------------------------


def status(pid: int) -> tuple[int, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


async def chats(db: Database) -> list[tuple[int, str]]:
    async with db.session() as session:
        rows = await session.execute(
            text(
                "SELECT telegram_link.chat_id, person.first_name FROM telegram_link "
                "JOIN person ON person.id = telegram_link.person_id"
            )
        )
        return [(int(chat), str(name)) for chat, name in rows]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_env(port: int) -> dict[str, str]:
    """Webhook mode on `port` (the sandbox posts there; the public URL is only registered)."""
    return {
        "SAMENOPVOEDEN_WEBHOOK_URL": "https://samenopvoeden.example/telegram",
        "SAMENOPVOEDEN_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SAMENOPVOEDEN_WEBHOOK_LISTEN": "127.0.0.1",
        "SAMENOPVOEDEN_WEBHOOK_PORT": str(port),
    }


async def start_bot(
    url: str,
    sandbox: Sandbox,
    log: Path,
    extra: dict[str, str] | None = None,
    webhook: bool = False,
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": sandbox.base_url,
        "DATABASE_URL": url,
        "SAMENOPVOEDEN_DATA_KEY": DATA_KEY,
        **(extra or {}),
    }
    with log.open("w") as stderr:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            *(["--webhook"] if webhook else []),
            env=env,
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=20)
        except TimeoutError:
            process.kill()
            await process.wait()


async def wait_until(condition: Callable[[], object], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.1)


async def memory_of(url: str, watch: float, latency: float, folder: Path) -> tuple[int, int, int]:
    """Start the bot on `url`, let it run `watch` s after its first poll; (people, RSS, HWM)."""
    db = Database(url, data_key=DATA_KEY)
    try:
        known = await chats(db)
    finally:
        await db.dispose()
    async with Sandbox(
        token=TOKEN, quiet_period=0.05, flood_limits=False, latency=latency
    ) as sandbox:
        for chat, name in known:
            sandbox.person(chat, name, started=True)
        process = await start_bot(url, sandbox, folder / "memory.log")
        try:
            await wait_until(lambda: sandbox.calls_to("getUpdates"), 60, "the bot never polled")
            await asyncio.sleep(watch)
            rss, hwm = status(process.pid)
        finally:
            await stop(process)
        sent = len([c for c in sandbox.calls_to("sendMessage") if c.ok])
        print(f"    (it sent {sent:,} messages meanwhile)", flush=True)
    return len(known), rss, hwm


async def memory(urls: list[str], watch: float, latency: float, folder: Path) -> None:
    print(f"memory of `python -m bot run` ({watch:.0f} s after its first poll; {load()}):")
    readings = []
    for url in urls:
        people, rss, hwm = await memory_of(url, watch, latency, folder)
        readings.append(hwm)
        print(
            f"  {people:>6,} people: VmRSS {rss / 1024:6.1f} MiB  VmHWM {hwm / 1024:6.1f} MiB",
            flush=True,
        )
    if len(readings) > 1:
        print(f"  VmHWM largest / smallest: {max(readings) / min(readings):.3f} (target <= 1.10)")


async def fanout(
    db: Database,
    url: str,
    monday: dt.datetime,
    *,
    instances: int,
    rate: int,
    send: int,
    latency: float,
    within: float,
    folder: Path,
    webhook: bool = False,
) -> None:
    """Send `send` of the planned check-ins (the rest dropped) with `instances` bot processes."""
    now = dt.datetime.now(dt.UTC)
    async with db.session() as session:
        pending = list(
            await session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.status == OutboxStatus.PENDING)
                .order_by(OutboxMessage.id)
            )
        )
        if len(pending) < send:
            print(f"fanout: only {len(pending)} pending; run the planning part first")
            return
        keep = pending[:send]
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(pending[send:]))
            .values(status=OutboxStatus.DROPPED)
        )
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(keep)).values(due_at=now)
        )
    known = await chats(db)
    limits = FloodLimits(global_per_second=rate, per_chat_per_second=1.0, per_chat_burst=3)
    print(
        f"fan-out of {send:,} check-ins by {instances} bot process(es), sandbox flood limit "
        f"{rate}/s, latency {latency * 1000:.0f} ms, each process told {rate}/s "
        f"(before h6: no shared limit; {load()}):",
        flush=True,
    )
    async with Sandbox(token=TOKEN, quiet_period=0.05, flood_limits=limits, latency=latency) as sb:
        for chat, name in known:
            sb.person(chat, name, started=True)
        extra = {"SAMENOPVOEDEN_MESSAGES_PER_SECOND": str(rate)}
        processes = []
        if webhook:
            ports = [free_port() for _ in range(instances)]
            sb.set_webhook_targets([f"http://127.0.0.1:{port}/telegram" for port in ports])
            for n, port in enumerate(ports):
                log = folder / f"fanout-{n}.log"
                env = {**extra, **webhook_env(port)}
                processes.append(await start_bot(url, sb, log, env, webhook=True))
                # One after the other: before h6/h7 a second setWebhook within a second gets
                # 429 and the instance exits (issue #15).
                await asyncio.sleep(STAGGER)
        else:
            for n in range(instances):
                processes.append(await start_bot(url, sb, folder / f"fanout-{n}.log", extra))
        try:

            def accepted() -> list[Any]:
                return [c for c in sb.calls_to("sendMessage") if c.ok]

            try:
                await wait_until(lambda: len(accepted()) >= send, within, "not all sent")
            except TimeoutError:
                print(f"  not all sent within {within:.0f} s", flush=True)
        finally:
            exited = [p.returncode for p in processes if p.returncode is not None]
            for process in processes:
                await stop(process)
        if exited:
            print(f"  {len(exited)} process(es) had exited early, codes {exited}", flush=True)
        done = accepted()
        times = sorted(c.time for c in done)
        twice = sum(1 for n in Counter(c.chat_id for c in done).values() if n > 1)
        spread = times[-1] - times[0] if len(times) > 1 else 0.0
        achieved = (len(times) - 1) / spread if spread else 0.0
        print(
            f"  delivered {len(done):,}, achieved {achieved:.1f}/s = {achieved / rate:.3f} of "
            f"the limit, {sb.stats.too_many_requests} x 429, {twice} chats twice",
            flush=True,
        )
        for n in range(instances):
            lines = (folder / f"fanout-{n}.log").read_text(errors="replace").splitlines()
            # The last line of each traceback (what went wrong), counted by kind; and the
            # lines logged at ERROR.
            found: list[str] = []
            for index, line in enumerate(lines):
                if line.startswith("Traceback"):
                    rest = (x for x in lines[index + 1 :] if x and not x.startswith(" "))
                    found.append(next(rest, "?"))
                elif " ERROR " in line:
                    found.append("ERROR " + line.split(" ERROR ", 1)[1])
            kinds = Counter(x[:110] for x in found)
            for kind, times in kinds.most_common(3):
                print(f"  process {n}: {times} x {kind}")


async def main(args: argparse.Namespace) -> None:
    import tempfile

    monday = this_monday()
    print(f"machine: {machine()}; {load()}")
    print(f"PostgreSQL: {args.url.rsplit('@', 1)[-1]}; 'now' = {monday:%Y-%m-%d %H:%M} UTC")
    db = await ensure_data(args.url, args.placements, monday, args.reuse)
    try:
        await forget_runs(db, monday)
        if "digests" in args.only:
            await digests(db, monday)
            await forget_runs(db, monday)
            await digests(db, monday, chart=False)
        if "planning" in args.only or "fanout" in args.only:
            await forget_runs(db, monday)
            await planning(db, monday)
        with tempfile.TemporaryDirectory() as name:
            if "fanout" in args.only:
                await fanout(
                    db,
                    args.url,
                    monday,
                    instances=args.instances,
                    rate=args.rate,
                    send=args.send,
                    latency=args.latency,
                    within=args.within,
                    folder=Path(name),
                    webhook=args.webhook,
                )
            await forget_runs(db, monday)
            if "memory" in args.only:
                urls = [args.url]
                if args.small_url:
                    small = await ensure_data(args.small_url, 32, monday, args.reuse)
                    await forget_runs(small, monday)
                    await small.dispose()
                    urls.insert(0, args.small_url)
                await memory(urls, args.watch, args.latency, Path(name))
    finally:
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("SECTOR_DATABASE_URL"), required=False)
    parser.add_argument("--small-url", help="a second database for the 100-people memory run")
    parser.add_argument("--placements", type=int, default=4000)
    parser.add_argument("--reuse", action="store_true", help="keep a data set of this size")
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--watch", type=float, default=45.0, help="memory: seconds to run")
    parser.add_argument("--instances", type=int, default=1, help="fanout: bot processes")
    parser.add_argument("--rate", type=int, default=30, help="fanout: flood limit, per second")
    parser.add_argument("--send", type=int, default=2000, help="fanout: check-ins to send")
    parser.add_argument("--latency", type=float, default=0.0, help="sandbox latency, seconds")
    parser.add_argument("--webhook", action="store_true", help="fanout: webhook mode")
    parser.add_argument("--within", type=float, default=180.0, help="fanout: give up after")
    arguments = parser.parse_args()
    if not arguments.url:
        parser.error("--url (or SECTOR_DATABASE_URL) is required: a PostgreSQL database")
    asyncio.run(main(arguments))
