"""Organisation overview benchmark: /organisatie for 20, 200 and 1,000 open placements.

Run: python -m benchmarks.org_overview [--weeks 8] [--rounds 3] [--database URL]
Each size is one organisation seeded with tests/seed.py (8 weeks of check-ins, one begeleider
per 20 placements), on a temporary SQLite database unless a URL is given. The overview is built
(flows.org_overview) and rendered into its message and chart (bot.org_overview). Prints the CPU
time of the build and of the rendering (median of the rounds), the SQL statements per build
(they must not grow with the number of placements: no N+1) and the message's length in
Telegram's units (at most 4,096). Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, select, update

from bot import org_overview as view
from bot.digest import telegram_length
from bot.render import Renderer
from flows import org_overview
from storage.db import Database
from storage.models import Placement, StaffMember
from tests.seed import seed

NOW = dt.datetime(2026, 3, 16, 8, 0, tzinfo=dt.UTC)  # Monday 09:00 in Amsterdam
SIZES = (20, 200, 1000)
PER_BEGELEIDER = 20


async def seeded(url: str, placements: int, weeks: int) -> tuple[Database, int]:
    """One organisation with `placements` open placements, 20 per begeleider."""
    db = Database(url)
    await db.upgrade()
    first = await seed(db, now=NOW, placements=PER_BEGELEIDER, weeks=weeks, begeleider_user_id=10)
    async with db.session() as session:
        organisation = await session.scalar(
            select(StaffMember.organisation_id).where(
                StaffMember.person_id == first.begeleider_person_id
            )
        )
    assert organisation is not None
    for index in range(1, placements // PER_BEGELEIDER):
        more = await seed(
            db,
            now=NOW,
            placements=PER_BEGELEIDER,
            weeks=weeks,
            begeleider_user_id=10 + index,
            first_user_id=100_000 + index * 1_000,
        )
        ids = [pid for found in more.placements.values() for pid in found]
        async with db.session() as session:
            # Move the seeded placements and their begeleider into the one organisation.
            await session.execute(
                update(Placement).where(Placement.id.in_(ids)).values(organisation_id=organisation)
            )
            await session.execute(
                update(StaffMember)
                .where(StaffMember.person_id == more.begeleider_person_id)
                .values(organisation_id=organisation)
            )
    return db, organisation


async def measure(db: Database, organisation: int, rounds: int) -> dict[str, float]:
    renderer = Renderer()
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    builds, renders, length, open_placements = [], [], 0, 0
    for _ in range(rounds):
        statements = 0
        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            start = time.process_time()
            async with db.session() as session:
                found = await org_overview.build(session, organisation, NOW, "Europe/Amsterdam")
            builds.append(time.process_time() - start)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        start = time.process_time()
        rendered = view.render(renderer, "nl", found)
        renders.append(time.process_time() - start)
        length = telegram_length(rendered.messages[0][0])
        open_placements = found.open_placements
    return {
        "placements": open_placements,
        "build": statistics.median(builds),
        "render": statistics.median(renders),
        "statements": statements,
        "length": length,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", help="an empty database per size: URL with {size}")
    args = parser.parse_args()
    print("placements  build (s)  render+chart (s)  statements  message length")
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            url = (
                args.database.format(size=size)
                if args.database
                else f"sqlite:///{Path(tmp) / f'org{size}.db'}"
            )
            db, organisation = await seeded(url, size, args.weeks)
            try:
                row = await measure(db, organisation, args.rounds)
            finally:
                await db.dispose()
            print(
                f"{row['placements']:>10}  {row['build']:>9.3f}  {row['render']:>16.3f}"
                f"  {row['statements']:>10}  {row['length']:>14}"
            )


if __name__ == "__main__":
    asyncio.run(main())
