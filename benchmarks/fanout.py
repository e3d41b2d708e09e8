"""How close a weekly fan-out gets to the flood limit: the achieved send rate as a share of R.

Run from the project root::

    python -m benchmarks.fanout                  # N = 1,000 and 10,000
    python -m benchmarks.fanout --runs 1000:100  # N:R pairs of your own

Each run: a fresh SQLite database with N ouders whose check-in moment is now, the real planner
(timed apart), then the real Application's deliverer against the sandbox Bot API with its flood
limit at R messages/s overall (and Telegram's 1/s per chat); the deliverer is told the same R.
The rate is measured at the sandbox, from the first to the last accepted sendMessage. The
sandbox runs in this process and shares its event loop with the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.app import build_application, deliver, plan, start_polling, stop_polling
from bot.clock import FakeClock
from bot.sandbox import FloodLimits, Sandbox
from flows.settings import RouteSettings
from storage.db import Database
from tests.e2e.test_delivery import NOON, TOKEN, people_in, seed

DEFAULT_RUNS = ((1_000, 100), (10_000, 400))


@dataclass
class Result:
    count: int
    rate: int
    plan_seconds: float
    deliver_seconds: float
    achieved: float
    too_many_requests: int
    delivered: int
    doubled: int

    @property
    def ratio(self) -> float:
        return self.achieved / self.rate


async def fan_out(count: int, rate: int, folder: Path) -> Result:
    """Plan and deliver `count` check-ins with the flood limit at `rate` messages/s."""
    db = Database(f"sqlite:///{folder / f'fanout-{count}-{rate}.db'}")
    try:
        await db.upgrade()
        seeded = await seed(db, count, now=NOON)
        clock = FakeClock(NOON)
        limits = FloodLimits(global_per_second=rate, per_chat_per_second=1.0, per_chat_burst=3)
        async with Sandbox(token=TOKEN, quiet_period=0.05, flood_limits=limits) as sandbox:
            people_in(sandbox, seeded)
            application = build_application(
                token=sandbox.token,
                db=db,
                route=RouteSettings(),
                base_url=sandbox.base_url,
                clock=clock,
                clock_jobs=False,
                messages_per_second=rate,
            )
            await start_polling(application, poll_timeout=5)
            try:
                started = time.perf_counter()
                queued = await plan(application)
                planned = time.perf_counter()
                await deliver(application)
                delivered_at = time.perf_counter()
            finally:
                await stop_polling(application)
            assert queued == count, f"planned {queued} of {count}"
            accepted = [c.time for c in sandbox.calls_to("sendMessage") if c.ok]
            per_chat = [len(sandbox.person(chat, "?").bot_messages) for chat in seeded.chats]
            span = max(accepted) - min(accepted)
            return Result(
                count=count,
                rate=rate,
                plan_seconds=planned - started,
                deliver_seconds=delivered_at - planned,
                achieved=(len(accepted) - 1) / span if span > 0 else 0.0,
                too_many_requests=sandbox.stats.too_many_requests,
                delivered=sum(1 for n in per_chat if n >= 1),
                doubled=sum(1 for n in per_chat if n > 1),
            )
    finally:
        await db.dispose()


def machine() -> str:
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores "
        f"(usable: {len(os.sched_getaffinity(0))}), Python {platform.python_version()}"
    )


async def main(runs: list[tuple[int, int]]) -> None:
    print(f"machine: {machine()}")
    header = (
        f"{'N':>7} {'R/s':>6} {'plan s':>7} {'send s':>7} {'achieved/s':>10} "
        f"{'ratio':>6} {'429s':>5} {'delivered':>9} {'twice':>5}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as folder:
        for count, rate in runs:
            r = await fan_out(count, rate, Path(folder))
            print(
                f"{r.count:>7} {r.rate:>6} {r.plan_seconds:>7.1f} {r.deliver_seconds:>7.1f} "
                f"{r.achieved:>10.1f} {r.ratio:>6.3f} {r.too_many_requests:>5} "
                f"{r.delivered:>9} {r.doubled:>5}",
                flush=True,
            )


def _pair(text: str) -> tuple[int, int]:
    count, _, rate = text.partition(":")
    return int(count), int(rate)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs",
        nargs="+",
        type=_pair,
        default=list(DEFAULT_RUNS),
        metavar="N:R",
        help="check-ins and flood limit per run (default: 1000:100 10000:400)",
    )
    asyncio.run(main(parser.parse_args().runs))
