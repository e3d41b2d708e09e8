"""The digest at a real caseload: golden text and chart, bounded size, each fact once, no N+1.

Regenerate the golden text with UPDATE_GOLDEN=1. The chart of the golden digest is written to
tests/golden/out/ (not in git) and its path printed, so a reviewer can look at it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from sqlalchemy import event, select

from bot.digest import (
    MAX_MESSAGES,
    TELEGRAM_LIMIT,
    chart_png,
    chart_sections,
    render_messages,
    telegram_length,
)
from bot.render import Renderer
from bot.sandbox.html import parse_html
from flows import buttons
from flows import digest as digests
from flows.signals import Assessment, Signal
from storage.db import Database
from storage.models import StaffMember
from tests.seed import seed, seed_caseload

GOLDEN = Path(__file__).parent.parent / "golden"
# Monday 16 March 2026, 08:30 in Amsterdam: the digest looks at 9-15 March.
NOW = dt.datetime(2026, 3, 16, 7, 30, tzinfo=dt.UTC)


async def _staff_ids(db: Database) -> list[int]:
    async with db.session() as session:
        return list(await session.scalars(select(StaffMember.id)))


async def test_twenty_placements_three_stalling_fit_two_messages_and_one_chart(
    db: Database,
) -> None:
    seeded = await seed_caseload(db, now=NOW)
    async with db.session() as session:
        digest = await digests.build(session, await _staff_ids(db), NOW, "Europe/Amsterdam")
    stalling = seeded.placements["stalling"]
    assert [s.placement_id for s in digest.sections[:3]] == sorted(
        stalling, key=lambda pid: digest.placement_ids.index(pid)
    )
    assert all(s.stalling for s in digest.sections[:3])
    messages = render_messages(Renderer(), "nl", digest)
    assert len(messages) <= 2
    text = "\n\n=====\n\n".join(html for html, _ in messages)
    golden = GOLDEN / "digest_20_nl.html"
    if os.environ.get("UPDATE_GOLDEN") or not golden.exists():
        golden.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == golden.read_text(encoding="utf-8")
    # Every placement once in the text and once as a details button.
    pressed = [
        buttons.parse(button.data or "") for _, rows in messages for row in rows for button in row
    ]
    assert sorted(p.values["placement"] for p in pressed if p is not None) == sorted(
        digest.placement_ids
    )
    assert all(p is not None and p.kind is buttons.DETAILS for p in pressed)
    # Each fact once: the contact request is a reason, not also a line of its own.
    assert text.count("om contact met jou") == 1
    assert "gemist" not in text
    assert "niet geantwoord" not in text
    assert "✖" not in text
    assert "overgeslagen: wil liever niet zeggen waarom" in text
    for html, _ in messages:
        parse_html(html)
        assert telegram_length(html) <= TELEGRAM_LIMIT
    for html, _ in render_messages(Renderer(), "en", digest):
        parse_html(html)  # valid Telegram HTML in English too
    png = chart_png(Renderer(), "nl", digest)
    assert png is not None
    assert png.startswith(b"\x89PNG")
    out = GOLDEN / "out"
    out.mkdir(exist_ok=True)
    (out / "digest_20.png").write_bytes(png)
    print(f"\nchart of the golden digest: {out / 'digest_20.png'}")


async def test_two_hundred_placements_stay_within_a_few_messages(db: Database) -> None:
    await seed(db, now=NOW, placements=200, weeks=8)
    async with db.session() as session:
        digest = await digests.build(session, await _staff_ids(db), NOW, "Europe/Amsterdam")
    messages = render_messages(Renderer(), "nl", digest)
    assert 1 <= len(messages) <= MAX_MESSAGES
    for html, rows in messages:
        parsed = parse_html(html)
        assert telegram_length(html) <= TELEGRAM_LIMIT
        assert len(parsed.text.encode("utf-16-le")) // 2 <= TELEGRAM_LIMIT
        assert sum(len(row) for row in rows) <= 100
        for row in rows:
            for button in row:
                assert len((button.data or "").encode()) <= 64
    assert "Weekoverzicht" in messages[0][0]
    shown, more = chart_sections(digest)
    assert len(shown) == 6
    assert more == sum(s.needs_attention for s in digest.sections) - 6
    first = chart_png(Renderer(), "nl", digest)
    assert first is not None
    # The image grows with the placements it shows (at most six), never with the caseload.
    charted = [s for s in digest.sections if s.chart]
    six = chart_png(Renderer(), "nl", digest.__class__(digest.header, charted[:6]))
    one = chart_png(Renderer(), "nl", digest.__class__(digest.header, charted[:1]))
    assert six is not None
    assert one is not None
    assert _png_size(first) == _png_size(six) == (800, 870)
    width, height = _png_size(one)
    assert width < 800
    assert height < 870


def _png_size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


async def test_nothing_needs_attention_means_no_chart_and_one_line_each(db: Database) -> None:
    await seed(db, now=NOW, placements=4, weeks=8, patterns=("calm",))
    async with db.session() as session:
        digest = await digests.build(session, await _staff_ids(db), NOW, "Europe/Amsterdam")
    [(html, _)] = render_messages(Renderer(), "nl", digest)
    assert chart_png(Renderer(), "nl", digest) is None
    assert "alles rustig" in html
    assert html.count("✅") == 4
    _header, calm, *_ = html.split("\n\n")
    assert calm.count("\n") == 3  # four placements, one line each


def _assessment(*signals: Signal) -> Assessment:
    return Assessment(1, signals, stalling=len(signals) > 1, needs_attention=bool(signals))


def test_the_strongest_reason_leads_and_picks_the_step() -> None:
    names = {1: ("Olga", "ouder"), 2: ("Kees", "gezinshuisouder")}
    requests: list[dict[str, object]] = [{"name": "Olga", "role": "ouder"}]
    assessment = _assessment(
        Signal("silent", 2, "gezinshuisouder", {"weeks": 2}),
        Signal("no_contact", 1, "ouder", {"weeks": 3}),
        Signal("no_contact", 2, "gezinshuisouder", {"weeks": 3}),
        Signal("contact_request", None, None, {"count": 1}),
    )
    reasons = digests._reasons(assessment, names, requests, [])
    assert [r["code"] for r in reasons] == ["contact_request", "no_contact", "silent"]
    # Two people with the same fact make one line.
    assert reasons[1]["people"] == [
        {"name": "Olga", "role": "ouder"},
        {"name": "Kees", "role": "gezinshuisouder"},
    ]
    step = digests._step(reasons, [])
    assert step is not None
    assert step["code"] == "call_back"
    assert step["people"] == requests
    assert digests._step([], []) is None
    # Every reason has a step, and every step has words in both languages.
    assert set(digests.STEP_FOR) == set(digests.STRENGTH)
    renderer = Renderer()
    for code in set(digests.STEP_FOR.values()):
        for language in ("nl", "en"):
            context = {"youth": "Sam", "stalling": False, "step": {**step, "code": code}}
            text = renderer.render(language, "digest/_step", context)
            assert text.startswith(("Misschien", "Perhaps")), (code, text)


def test_a_drop_says_the_score_once() -> None:
    names = {1: ("Piet", "ouder")}
    assessment = _assessment(
        Signal("low_score", 1, "ouder", {"score": 2}),
        Signal("drop", 1, "ouder", {"score": 2, "mean": 4.0, "weeks": 4}),
    )
    reasons = digests._reasons(assessment, names, [], [])
    assert [r["code"] for r in reasons] == ["drop"]
    text = Renderer().render("nl", "digest/_reason", {"youth": "Noor", "r": reasons[0]})
    assert text == "Piet (ouder) gaf 2 voor het samenwerken (was gemiddeld 4)."


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
