"""Digest scale benchmark: all digests for 1,000 placements, with 4, 9 and 52 weeks of history.

Run: python -m benchmarks.digest [--placements 1000] [--per-begeleider 20] [--rounds 5]
A digest is built (flows.digest) and rendered into its messages with buttons (bot.digest); the
chart is left out (it draws the same eight weeks whatever the history). The databases are seeded
first, then measured in alternating rounds (the median round counts), so a busy machine does not
favour one of them. Times are CPU time of this process (`time.process_time`): on a machine shared
with other work, wall time mostly measures the others. Prints the time per digest, the SQL
statements per digest (they must not grow with the number of placements: no N+1) and the ratios
52-week / 4-week (target <= 1.2) and 52-week / 9-week (9 weeks fill the window a digest reads).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, select

from bot.digest import render_messages
from bot.render import Renderer
from flows import digest as digests
from storage.db import Database
from storage.models import StaffMember
from tests.seed import seed

NOW = dt.datetime(2026, 3, 16, 7, 30, tzinfo=dt.UTC)  # Monday 08:30 in Amsterdam
TARGET = 1.2
# 9 weeks is exactly the window a digest reads (8 trend weeks and the week itself): from there
# on, more history must cost nothing. With 4 weeks the window is less than half full.
HISTORIES = (4, 9, 52)
# Every history belongs to placements of the same age (a placement may join the bot long after
# it started), so each database's digests say the same things and the ratio measures what the
# history costs, not a different digest: with 4-week-old placements no route meeting is overdue
# yet, with 56-week-old ones it is.
AGE_WEEKS = max(HISTORIES) + 4


async def seeded(path: Path, placements: int, per_begeleider: int, weeks: int) -> Database:
    db = Database(f"sqlite:///{path}")
    await db.upgrade()
    for index in range(placements // per_begeleider):
        await seed(
            db,
            now=NOW,
            placements=per_begeleider,
            weeks=weeks,
            begeleider_user_id=10 + index,
            first_user_id=100_000 + index * 1_000,
            age_weeks=AGE_WEEKS,
        )
    return db


async def one_round(db: Database, renderer: Renderer) -> tuple[float, list[float], list[int]]:
    """Build and render every begeleider's digest once; the mean time, each time, statements.

    The renderer lives as long as the bot does, so its compiled templates are shared by all
    rounds (a fresh one per round would time Jinja's compiler, not the digest)."""
    async with db.session() as session:
        staff_ids = list(await session.scalars(select(StaffMember.id)))
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    gc.collect()  # the previous round's garbage is not this round's cost
    durations, per_digest = [], []
    try:
        for staff_id in staff_ids:
            before = statements
            begin = time.process_time()
            async with db.session() as session:
                digest = await digests.build(session, [staff_id], NOW, "Europe/Amsterdam")
            render_messages(renderer, "nl", digest)
            durations.append(time.process_time() - begin)
            per_digest.append(statements - before)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    return statistics.fmean(durations), durations, per_digest


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--placements", type=int, default=1000)
    parser.add_argument("--per-begeleider", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite"
    )
    print(f"{args.placements} placements, {args.per_begeleider} per begeleider")
    with tempfile.TemporaryDirectory() as tmp:
        databases = {}
        for weeks in HISTORIES:
            started = time.perf_counter()
            databases[weeks] = await seeded(
                Path(tmp) / f"{weeks}.db", args.placements, args.per_begeleider, weeks
            )
            print(f"seeded {weeks} weeks in {time.perf_counter() - started:.0f} s")
        renderer = Renderer()
        rounds: dict[int, list[float]] = {weeks: [] for weeks in HISTORIES}
        last: dict[int, tuple[list[float], list[int]]] = {}
        # The first round over each database is the cold one (as on a Monday morning: SQLite's
        # page cache does not hold last week's rows); it is printed, the median of the others
        # counts for the ratio.
        for weeks, db in databases.items():
            mean, _, _ = await one_round(db, renderer)
            print(f"first (cold) round, {weeks} weeks: {mean * 1000:.1f} ms/digest")
        for _ in range(args.rounds):
            for weeks, db in databases.items():
                mean, durations, statements = await one_round(db, renderer)
                rounds[weeks].append(mean)
                last[weeks] = (durations, statements)
        for db in databases.values():
            await db.dispose()
    for weeks, means in rounds.items():
        print(f"{weeks} weeks, rounds: " + ", ".join(f"{m * 1000:.1f}" for m in means) + " ms")
    medians = {weeks: statistics.median(means) for weeks, means in rounds.items()}
    for weeks, median in medians.items():
        durations, statements = last[weeks]
        p95 = sorted(durations)[int(len(durations) * 0.95) - 1]
        print(
            f"{weeks:>2} weeks: {len(durations)} digests, {median * 1000:.1f} ms CPU/digest "
            f"(median of {args.rounds} rounds; p95 of the last {p95 * 1000:.1f}), "
            f"SQL statements per digest {min(statements)}-{max(statements)}"
        )
    ratio = medians[52] / medians[4]
    print(f"ratio 52-week / 4-week time per digest: {ratio:.2f} (target <= {TARGET})")
    full = medians[52] / medians[9]
    print(f"ratio 52-week / 9-week (a full window) time per digest: {full:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
