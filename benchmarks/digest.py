"""Digest scale benchmark: all digests for 1,000 placements, with 4 and with 52 weeks of history.

Run: python -m benchmarks.digest [--placements 1000] [--per-begeleider 20]
Prints the time per digest, the SQL statements per digest (it must not grow with the number of
placements: no N+1) and the ratio 52-week / 4-week (target <= 1.5).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, select

from bot.digest import render_parts
from bot.render import Renderer
from flows import digest as digests
from storage.db import Database
from storage.models import StaffMember
from tests.seed import seed

NOW = dt.datetime(2026, 3, 16, 7, 30, tzinfo=dt.UTC)  # Monday 08:30 in Amsterdam


async def run(placements: int, per_begeleider: int, weeks: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        await db.upgrade()
        started = time.perf_counter()
        for index in range(placements // per_begeleider):
            await seed(
                db,
                now=NOW,
                placements=per_begeleider,
                weeks=weeks,
                begeleider_user_id=10 + index,
                first_user_id=100_000 + index * 1_000,
            )
        seeded = time.perf_counter() - started
        async with db.session() as session:
            staff_ids = list(await session.scalars(select(StaffMember.id)))
        statements = 0

        def count(*_: object) -> None:
            nonlocal statements
            statements += 1

        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        renderer = Renderer()
        durations, per_digest = [], []
        for staff_id in staff_ids:
            before = statements
            begin = time.perf_counter()
            async with db.session() as session:
                digest = await digests.build(session, [staff_id], NOW, "Europe/Amsterdam")
            render_parts(renderer, "nl", digest)
            durations.append(time.perf_counter() - begin)
            per_digest.append(statements - before)
        await db.dispose()
        return {
            "seed_s": seeded,
            "digests": len(staff_ids),
            "ms_per_digest": statistics.fmean(durations) * 1000,
            "p95_ms": sorted(durations)[int(len(durations) * 0.95) - 1] * 1000,
            "statements_min": min(per_digest),
            "statements_max": max(per_digest),
        }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--placements", type=int, default=1000)
    parser.add_argument("--per-begeleider", type=int, default=20)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite"
    )
    print(f"{args.placements} placements, {args.per_begeleider} per begeleider")
    results = {}
    for weeks in (4, 52):
        results[weeks] = await run(args.placements, args.per_begeleider, weeks)
        r = results[weeks]
        print(
            f"{weeks:>2} weeks: {r['digests']:.0f} digests, {r['ms_per_digest']:.1f} ms/digest "
            f"(p95 {r['p95_ms']:.1f}), SQL statements per digest "
            f"{r['statements_min']:.0f}-{r['statements_max']:.0f} "
            f"(seeding took {r['seed_s']:.0f} s)"
        )
    ratio = results[52]["ms_per_digest"] / results[4]["ms_per_digest"]
    print(f"ratio 52-week / 4-week time per digest: {ratio:.2f} (target <= 1.5)")


if __name__ == "__main__":
    asyncio.run(main())
