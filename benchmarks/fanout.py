"""How close a weekly fan-out gets to the flood limit: the achieved send rate as a share of R.

Run from the project root::

    python -m benchmarks.fanout                    # N = 1,000 and 10,000
    python -m benchmarks.fanout --runs 1000:100    # your own N:R pairs
    python -m benchmarks.fanout --inline           # the sandbox in the bot's own process
    python -m benchmarks.fanout --instances 3 --database-url postgresql://…   # a fleet

With ``--instances K`` (K ≥ 1, PostgreSQL; default runs 2000:30, Telegram's limit): the database is
seeded as below, then K real ``python -m bot run`` processes, each told R messages/s (the bot's
total), plan and deliver it on the real clock against the sandbox process; the run ends when
the outbox holds nothing pending or sending. The database's tables are dropped and created
anew: give it a database of its own.

Each run: a fresh SQLite database with N ouders whose check-in moment is now; the real planner
(timed apart); then the real Application's deliverer, told R messages/s, against the sandbox Bot
API with its flood limit at R messages/s overall (and Telegram's 1/s per chat). The rate is
measured by the sandbox, from the first to the last accepted sendMessage. By default the sandbox
runs in a process of its own, as Telegram is not on the bot's CPU either.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select

from bot.app import build_application, deliver, plan, start_polling, stop_polling
from bot.clock import FakeClock
from bot.sandbox import FloodLimits, Sandbox
from flows.settings import RouteSettings
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from tests.conftest import data_key_env, fresh_database
from tests.e2e.test_delivery import (
    FIRST_CHAT,
    NOON,
    ROOT,
    TOKEN,
    Seeded,
    people_in,
    seed,
    zone_near_noon,
)

DEFAULT_RUNS = ((1_000, 100), (10_000, 180))


@dataclass
class Result:
    count: int
    rate: int
    plan_seconds: float
    deliver_seconds: float
    cpu_ms: float  # the bot process's CPU time per message while delivering
    achieved: float
    too_many_requests: int
    delivered: int
    doubled: int

    @property
    def ratio(self) -> float:
        return self.achieved / self.rate


@dataclass
class Observed:
    """What the sandbox saw: accepted sendMessage times and chats, and flood 429s."""

    times: list[float]
    chats: Counter[int]
    too_many_requests: int


def limits(rate: int) -> FloodLimits:
    return FloodLimits(global_per_second=rate, per_chat_per_second=1.0, per_chat_burst=3)


# --- The sandbox, here or in a process of its own -----------------------------------------------


class InlineSandbox:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.base_url = sandbox.base_url

    async def observed(self) -> Observed:
        accepted = [c for c in self.sandbox.calls_to("sendMessage") if c.ok]
        return Observed(
            [c.time for c in accepted],
            Counter(c.chat_id for c in accepted if c.chat_id is not None),
            self.sandbox.stats.too_many_requests,
        )


@asynccontextmanager
async def inline_sandbox(seeded: Seeded, rate: int) -> AsyncIterator[InlineSandbox]:
    async with Sandbox(token=TOKEN, quiet_period=0.05, flood_limits=limits(rate)) as sandbox:
        people_in(sandbox, seeded)
        yield InlineSandbox(sandbox)


class SandboxProcess:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    async def _control(self, action: str) -> Any:
        root = self.base_url.removesuffix("/bot")
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{root}/_sandbox/{action}") as response,
        ):
            return (await response.json())["result"]

    async def observed(self) -> Observed:
        calls = await self._control("calls")
        stats = await self._control("stats")
        accepted = [c for c in calls if c["method"] == "sendMessage" and c["ok"]]
        return Observed(
            [c["time"] for c in accepted],
            Counter(int(c["params"]["chat_id"]) for c in accepted),
            stats["too_many_requests"],
        )


@asynccontextmanager
async def child_sandbox(
    module: str, argument: str
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """`python -m <module> --serve <argument>`: a sandbox in a child process, which prints its
    base URL first and stops when its stdin closes. Yields the process and that URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        "--serve",
        argument,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        base_url = (await process.stdout.readline()).decode().strip()
        assert base_url.startswith("http"), "the sandbox process did not start"
        yield process, base_url
    finally:
        process.stdin.close()
        await process.wait()


@asynccontextmanager
async def sandbox_process(seeded: Seeded, rate: int) -> AsyncIterator[SandboxProcess]:
    """The fan-out's sandbox in a child process (`--serve`)."""
    options = json.dumps({"count": len(seeded.chats), "rate": rate})
    async with child_sandbox("benchmarks.fanout", options) as (_process, base_url):
        yield SandboxProcess(base_url)


async def serve(options: dict[str, int]) -> None:
    """Child process: run a sandbox with the benchmark's people until stdin closes."""
    seeded = Seeded(0, 1001, list(range(FIRST_CHAT, FIRST_CHAT + options["count"])))
    async with Sandbox(
        token=TOKEN, quiet_period=0.05, flood_limits=limits(options["rate"])
    ) as sandbox:
        people_in(sandbox, seeded)
        print(sandbox.base_url, flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


# --- One run --------------------------------------------------------------------------------


async def fan_out(count: int, rate: int, folder: Path, *, inline: bool) -> Result:
    """Plan and deliver `count` check-ins with the flood limit at `rate` messages/s."""
    db = Database(f"sqlite:///{folder / f'fanout-{count}-{rate}.db'}")
    try:
        await db.upgrade()
        seeded = await seed(db, count, now=NOON)
        chosen = inline_sandbox if inline else sandbox_process
        async with chosen(seeded, rate) as sandbox:
            application = build_application(
                token=TOKEN,
                db=db,
                route=RouteSettings(),
                base_url=sandbox.base_url,
                clock=FakeClock(NOON),
                clock_jobs=False,
                messages_per_second=rate,
            )
            await start_polling(application, poll_timeout=5)
            try:
                started = time.perf_counter()
                queued = await plan(application)
                planned, cpu = time.perf_counter(), time.process_time()
                await deliver(application)
                delivered, cpu = time.perf_counter(), time.process_time() - cpu
            finally:
                await stop_polling(application)
            assert queued >= count, f"planned {queued} of {count}"
            seen = await sandbox.observed()
    finally:
        await db.dispose()
    span = max(seen.times) - min(seen.times)
    per_chat = [seen.chats[chat] for chat in seeded.chats]
    return Result(
        count=count,
        rate=rate,
        plan_seconds=planned - started,
        deliver_seconds=delivered - planned,
        cpu_ms=cpu / count * 1000,
        achieved=(len(seen.times) - 1) / span if span > 0 else 0.0,
        too_many_requests=seen.too_many_requests,
        delivered=sum(1 for n in per_chat if n >= 1),
        doubled=sum(1 for n in per_chat if n > 1),
    )


async def fleet_fan_out(count: int, rate: int, instances: int, url: str, folder: Path) -> Result:
    """Plan and deliver `count` check-ins with `instances` bot processes on PostgreSQL `url`."""
    db = await fresh_database(url)
    try:
        now = dt.datetime.now(dt.UTC)
        seeded = await seed(
            db,
            count,
            now=now - dt.timedelta(minutes=1),
            zone=zone_near_noon(now),
            begeleider_on_telegram=False,
        )
        async with sandbox_process(seeded, rate) as sandbox:
            env = {
                **os.environ,
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": sandbox.base_url,
                "DATABASE_URL": url,
                "SAMENOPVOEDEN_MESSAGES_PER_SECOND": str(rate),
                "PYTHONPATH": str(ROOT),
                **data_key_env(url),
            }
            processes = []
            started = time.perf_counter()
            try:
                for n in range(instances):
                    with (folder / f"bot{n}.log").open("ab") as log:
                        processes.append(
                            await asyncio.create_subprocess_exec(
                                *(sys.executable, "-m", "bot", "run"),
                                env=env,
                                cwd=folder,
                                stdout=log,
                                stderr=asyncio.subprocess.STDOUT,
                            )
                        )
                while await _busy(db) or not await _sent(db):
                    assert all(p.returncode is None for p in processes), "an instance stopped"
                    await asyncio.sleep(0.2)
                delivered = time.perf_counter()
            finally:
                for process in processes:
                    with contextlib.suppress(ProcessLookupError):
                        process.terminate()
                for process in processes:
                    await process.wait()
            sent = await _sent(db)
            assert sent >= count, f"sent {sent} of {count}"
            seen = await sandbox.observed()
    finally:
        await db.dispose()
    span = max(seen.times) - min(seen.times)
    per_chat = [seen.chats[chat] for chat in seeded.chats]
    return Result(
        count=count,
        rate=rate,
        plan_seconds=float("nan"),  # the instances plan on their clock, while delivering
        deliver_seconds=delivered - started,  # from the processes' start
        cpu_ms=float("nan"),
        achieved=(len(seen.times) - 1) / span if span > 0 else 0.0,
        too_many_requests=seen.too_many_requests,
        delivered=sum(1 for n in per_chat if n >= 1),
        doubled=sum(1 for n in per_chat if n > 1),
    )


async def _busy(db: Database) -> int:
    async with db.session() as session:
        busy = OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
        return int(await session.scalar(select(func.count()).where(busy)) or 0)


async def _sent(db: Database) -> int:
    async with db.session() as session:
        sent = OutboxMessage.status == OutboxStatus.SENT
        return int(await session.scalar(select(func.count()).where(sent)) or 0)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    return (
        f"{platform.system()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )


async def main(
    runs: list[tuple[int, int]], inline: bool, instances: int = 0, url: str | None = None
) -> None:
    where = "in the bot's process" if inline else "in its own process"
    print(f"machine: {machine()}; load {os.getloadavg()[0]:.1f}; sandbox {where}")
    if instances:
        print(f"{instances} `bot run` processes on one PostgreSQL; 'send s' from their start")
    header = (
        f"{'N':>7} {'R/s':>5} {'plan s':>7} {'send s':>7} {'CPU ms/msg':>10} "
        f"{'achieved/s':>10} {'of R':>6} {'429s':>5} {'arrived':>8} {'twice':>5}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as folder:
        for count, rate in runs:
            if instances:
                assert url is not None
                r = await fleet_fan_out(count, rate, instances, url, Path(folder))
            else:
                r = await fan_out(count, rate, Path(folder), inline=inline)
            print(
                f"{r.count:>7} {r.rate:>5} {r.plan_seconds:>7.1f} {r.deliver_seconds:>7.1f} "
                f"{r.cpu_ms:>10.2f} {r.achieved:>10.1f} {r.ratio:>6.3f} {r.too_many_requests:>5} "
                f"{r.delivered:>8} {r.doubled:>5}",
                flush=True,
            )


def _pair(text: str) -> tuple[int, int]:
    count, _, rate = text.partition(":")
    return int(count), int(rate)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--runs",
        nargs="+",
        type=_pair,
        default=list(DEFAULT_RUNS),
        metavar="N:R",
        help="check-ins and flood limit (messages/s) per run; default: 1000:100 10000:180",
    )
    parser.add_argument("--inline", action="store_true", help="run the sandbox in this process")
    parser.add_argument(
        "--instances",
        type=int,
        help="K real bot processes sharing one PostgreSQL (needs --database-url)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="PostgreSQL for --instances (its tables are replaced); default $TEST_DATABASE_URL",
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(json.loads(args.serve)))
    elif args.instances is not None:
        if not (args.database_url or "").startswith("postgres"):
            parser.error("--instances needs --database-url postgresql://…")
        runs = args.runs if args.runs != list(DEFAULT_RUNS) else [(2_000, 30)]
        asyncio.run(main(runs, False, args.instances, args.database_url))
    else:
        asyncio.run(main(args.runs, args.inline))
