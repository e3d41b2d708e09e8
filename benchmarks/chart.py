"""Chart benchmark: CPU time of one digest chart (bot.digest.chart_png), median of N.

Run: python -m benchmarks.chart [--repeat 30] [--save DIR] [--profile]
The digests are the golden caseload (20 placements, 3 of them charted) and a 200-placement
caseload (the chart shows its first 6), and the first of them alone (1 chart): the image grows
with the placements shown (1, 3 or 6), never with the caseload. The first chart drawn in the
process (matplotlib's import and font cache) is printed apart; the median of the others counts,
as a bot draws Monday's 250 charts in one process. Times are CPU time of this process
(`time.process_time`). --save writes the PNGs (to compare by eye, or pixel by pixel with the
ones of an earlier version); --profile prints cProfile's top functions for the 6-chart image.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import os
import platform
import pstats
import resource
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from bot.digest import chart_png
from bot.render import Renderer
from flows import digest as digests
from flows.digest import Digest
from storage.db import Database
from storage.models import StaffMember
from tests.seed import seed, seed_caseload

NOW = dt.datetime(2026, 3, 16, 7, 30, tzinfo=dt.UTC)  # Monday 08:30 in Amsterdam


async def _digest(path: Path, caseload: bool) -> Digest:
    db = Database(f"sqlite:///{path}")
    await db.upgrade()
    if caseload:
        await seed_caseload(db, now=NOW)
    else:
        await seed(db, now=NOW, placements=200, weeks=8)
    async with db.session() as session:
        staff = list(await session.scalars(select(StaffMember.id)))
        digest = await digests.build(session, staff, NOW, "Europe/Amsterdam")
    await db.dispose()
    return digest


async def digests_to_draw() -> dict[str, Digest]:
    with tempfile.TemporaryDirectory() as tmp:
        golden = await _digest(Path(tmp) / "golden.db", caseload=True)
        big = await _digest(Path(tmp) / "big.db", caseload=False)
    charted = [s for s in golden.sections if s.chart is not None]
    return {
        "1 chart": Digest(golden.header, charted[:1]),
        "3 charts (golden, 20 placements)": golden,
        "6 charts (200 placements)": big,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.2f}"
    )
    drawn = asyncio.run(digests_to_draw())
    renderer = Renderer()
    begin = time.process_time()
    chart_png(renderer, "nl", drawn["1 chart"])
    print(
        f"first chart in the process (imports, font cache): "
        f"{(time.process_time() - begin) * 1000:.0f} ms"
    )
    for name, digest in drawn.items():
        times = []
        png = b""
        for _ in range(args.repeat):
            begin = time.process_time()
            png = chart_png(renderer, "nl", digest) or b""
            times.append(time.process_time() - begin)
        print(
            f"{name}: {statistics.median(times) * 1000:.0f} ms CPU/chart (median of "
            f"{args.repeat}; min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}), "
            f"{len(png) / 1024:.0f} KiB"
        )
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            (args.save / f"{name.split()[0]}.png").write_bytes(png)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MB")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(chart_png, renderer, "nl", drawn["6 charts (200 placements)"])
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
