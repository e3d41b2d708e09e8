"""The digest for a fixed fixture: golden text, ordering, and no N+1 queries."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from sqlalchemy import event, select

from bot.digest import TELEGRAM_LIMIT, chart_png, render_parts, telegram_length
from bot.render import Renderer
from bot.sandbox.html import parse_html
from flows import digest as digests
from storage.db import Database
from storage.models import StaffMember
from tests.seed import seed

GOLDEN = Path(__file__).parent.parent / "golden"
# Monday 16 March 2026, 08:30 in Amsterdam: the digest looks at 9-15 March.
NOW = dt.datetime(2026, 3, 16, 7, 30, tzinfo=dt.UTC)


async def _staff_ids(db: Database) -> list[int]:
    async with db.session() as session:
        return list(await session.scalars(select(StaffMember.id)))


async def test_golden_digest(db: Database) -> None:
    seeded = await seed(db, now=NOW, placements=5, weeks=8)
    async with db.session() as session:
        digest = await digests.build(session, await _staff_ids(db), NOW, "Europe/Amsterdam")
    stalling_id = seeded.placements["stalling"][0]
    assert digest.sections[0].placement_id == stalling_id  # the stalling one leads
    assert digest.sections[0].stalling
    assert not digest.sections[-1].needs_attention  # calm and new placements come last
    text = "\n\n=====\n\n".join(render_parts(Renderer(), "nl", digest))
    golden = GOLDEN / "digest_nl.html"
    if os.environ.get("UPDATE_GOLDEN") or not golden.exists():
        golden.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == golden.read_text(encoding="utf-8")
    for part in render_parts(Renderer(), "en", digest):
        parse_html(part)  # valid Telegram HTML in English too


async def test_thirty_placements_split_on_boundaries(db: Database) -> None:
    await seed(db, now=NOW, placements=30, weeks=8)
    async with db.session() as session:
        digest = await digests.build(session, await _staff_ids(db), NOW, "Europe/Amsterdam")
    parts = render_parts(Renderer(), "nl", digest)
    assert len(parts) >= 2
    for part in parts:
        parsed = parse_html(part)
        assert telegram_length(part) <= TELEGRAM_LIMIT
        assert len(parsed.text.encode("utf-16-le")) // 2 <= TELEGRAM_LIMIT
    assert sum(part.count("</b> –") for part in parts) == 30  # every placement exactly once
    png = chart_png(Renderer(), "nl", digest)
    assert png is not None
    assert png.startswith(b"\x89PNG")


async def test_statements_per_digest_do_not_grow_with_placements(
    tmp_path: Path, db: Database
) -> None:
    counts = []
    for placements, first in ((5, 100_000), (25, 200_000)):
        await seed(
            db,
            now=NOW,
            placements=placements,
            weeks=4,
            first_user_id=first,
            begeleider_user_id=first - 1,
        )
        staff = await _staff_ids(db)
        statements = 0

        def count(*_: object) -> None:
            nonlocal statements
            statements += 1

        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            async with db.session() as session:
                await digests.build(session, staff[-1:], NOW, "Europe/Amsterdam")
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        counts.append(statements)
    assert counts[0] == counts[1], counts
