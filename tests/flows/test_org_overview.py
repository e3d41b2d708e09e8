"""The organisation overview's numbers (flows/org_overview.py): counts per phase, response rates,
reasons, small-number suppression, quarter boundaries, one organisation only, no N+1, and the
weekly planning for coordinators."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select

from bot import org_overview as view
from bot.digest import TELEGRAM_LIMIT, telegram_length
from bot.render import Renderer
from flows import digest as digests
from flows import erasure, org_overview
from flows.org_overview import LESS_THAN_FIVE, OrgOverview, SideWeek, quarter_start, rate, small
from storage.db import Database
from storage.models import (
    EndingReason,
    OutboxMessage,
    Person,
    Phase,
    Placement,
    PlacementEnding,
    Role,
    StaffMember,
    TelegramLink,
)
from tests.seed import seed

ZONE = "Europe/Amsterdam"
# Monday 16 March 2026, 10:00 in Amsterdam: the last full week is 9-15 March.
NOW = dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("count", "shown"), [(0, 0), (1, LESS_THAN_FIVE), (4, LESS_THAN_FIVE), (5, 5), (200, 200)]
)
def test_small_numbers_are_shown_as_less_than_five(count: int, shown: int | str) -> None:
    assert small(count) == shown


@pytest.mark.parametrize(
    ("responses", "expected", "shown"),
    [(0, 0, None), (1, 1, None), (4, 4, None), (0, 5, 0), (5, 5, 100), (3, 5, 60), (2, 3, None)],
)
def test_a_rate_needs_five_asked(responses: int, expected: int, shown: int | None) -> None:
    assert rate(responses, expected) == shown


@pytest.mark.parametrize(
    ("day", "start"),
    [
        (dt.date(2026, 1, 1), dt.date(2026, 1, 1)),
        (dt.date(2026, 3, 31), dt.date(2026, 1, 1)),
        (dt.date(2026, 4, 1), dt.date(2026, 4, 1)),
        (dt.date(2026, 9, 30), dt.date(2026, 7, 1)),
        (dt.date(2026, 12, 31), dt.date(2026, 10, 1)),
    ],
)
def test_quarter_start(day: dt.date, start: dt.date) -> None:
    assert quarter_start(day) == start


async def _organisation_id(db: Database, person_id: int) -> int:
    async with db.session() as session:
        found = await session.scalar(
            select(StaffMember.organisation_id).where(StaffMember.person_id == person_id)
        )
    assert found is not None
    return found


async def test_counts_rates_and_reasons_of_a_seeded_organisation(db: Database) -> None:
    # Ten placements: two each calm, stalling, new, silent, blocked (tests/seed.py).
    ours = await seed(db, now=NOW, placements=10, weeks=6)
    theirs = await seed(
        db, now=NOW, placements=7, weeks=6, first_user_id=200_000, begeleider_user_id=2
    )
    organisation = await _organisation_id(db, ours.begeleider_person_id)
    async with db.session() as session:
        # One of ours moves on to the evaluatiefase.
        moved = await session.get(Placement, ours.placements["calm"][0])
        assert moved is not None
        moved.phase = Phase.EVALUATIEFASE
    async with db.session() as session:
        found = await org_overview.build(session, organisation, NOW, ZONE)
    assert found.phases == {"installatiefase": 0, "stabilisatiefase": 9, "evaluatiefase": 1}
    assert found.open_placements == 10
    # Never another organisation's placements.
    other = {pid for ids in theirs.placements.values() for pid in ids}
    assert set(found.placement_ids) == {pid for ids in ours.placements.values() for pid in ids}
    assert not other & set(found.placement_ids)
    # Last 4 weeks per side: 8 placements with history ask each side 4 times = 32; the silent
    # ouders (2 placements) missed 2 weeks, the blocked gezinshuisouders too.
    assert found.side_rate("ouder") == (28, 32)
    assert found.side_rate("gezinshuisouder") == (28, 32)
    assert found.side_rate("ouder", weeks=8) == (44, 48)  # 6 weeks of history
    # Reasons: counted per placement (a placement once per reason).
    assert found.reasons["silent"] == 2
    assert found.reasons["unreachable"] == 2
    assert found.reasons["drop"] == 2
    # Sam moved to the evaluatiefase long after starting: its evaluation meeting is overdue.
    assert found.reasons["meeting_overdue"] == 1
    assert sorted(found.attention) == [
        ("Daan", "Bea"), ("Eva", "Bea"), ("Finn", "Bea"), ("Milan", "Bea"), ("Noor", "Bea"),
        ("Sam", "Bea"), ("Yara", "Bea"),
    ]  # fmt: skip
    # The same placements the begeleider's own digest says need attention.
    async with db.session() as session:
        staff = await session.scalar(
            select(StaffMember.id).where(StaffMember.person_id == ours.begeleider_person_id)
        )
        assert staff is not None
        digest = await digests.build(session, [staff], NOW, ZONE)
    assert sorted(found.attention) == sorted(
        (str(s.context["youth"]), "Bea") for s in digest.sections if s.needs_attention
    )
    assert found.caseload == [("Bea", 10)]
    shown = org_overview.context(found)
    assert shown["open"] == 10
    assert shown["phases"] == [
        {"phase": "installatiefase", "count": 0},
        {"phase": "stabilisatiefase", "count": 9},
        {"phase": "evaluatiefase", "count": LESS_THAN_FIVE},
    ]
    assert shown["rates"] == {"ouder": 88, "gezinshuisouder": 88}
    reasons = {r["code"]: r["count"] for r in shown["reasons"]}  # type: ignore[attr-defined]
    assert reasons["silent"] == LESS_THAN_FIVE
    assert reasons["drop"] == LESS_THAN_FIVE


def _overview(attention: int) -> OrgOverview:
    weeks = [dt.date(2026, 1, 5) + dt.timedelta(weeks=n) for n in range(8)]
    found = OrgOverview(1, "Org", dt.date(2026, 3, 2), weeks, dt.date(2026, 1, 1))
    found.phases = {"installatiefase": 0, "stabilisatiefase": attention, "evaluatiefase": 0}
    found.reasons = {"silent": attention}
    found.attention = [(f"Jongere{n:04d}", "Begeleidersnaam") for n in range(attention)]
    for week in weeks:
        for side in org_overview.SIDES:
            found.side_weeks[(side, week)] = SideWeek(week, side, 1, 1)
    return found


def test_with_fewer_than_five_needing_attention_no_reason_is_shown() -> None:
    for attention in (1, 4):
        shown = org_overview.context(_overview(attention))
        assert shown["reasons"] == []
        assert shown["attention"] == LESS_THAN_FIVE
        assert len(shown["aliases"]) == attention  # type: ignore[arg-type]
    assert org_overview.context(_overview(5))["reasons"] == [{"code": "silent", "count": 5}]
    assert org_overview.context(_overview(0))["attention"] == 0


def test_rates_with_four_asked_are_not_shown_and_no_chart_is_drawn() -> None:
    renderer = Renderer()
    found = _overview(5)
    text = view.message(renderer, "nl", found)
    assert text.count("te weinig antwoorden om te tonen") == 2
    assert "%" not in text
    assert view.chart_png(renderer, "nl", found) is None
    found.side_weeks[("ouder", found.weeks[-1])] = SideWeek(found.weeks[-1], "ouder", 5, 4)
    assert view.chart_png(renderer, "nl", found) is not None
    assert org_overview.chart_points(found)["ouder"] == [None] * 7 + [80]


@pytest.mark.parametrize("attention", [200, 1000])
def test_the_message_fits_telegram_with_the_alias_list_cut(attention: int) -> None:
    renderer = Renderer()
    for language, more in (("nl", "en nog"), ("en", "more")):
        text = view.message(renderer, language, _overview(attention))
        assert telegram_length(text) <= TELEGRAM_LIMIT
        assert more in text
        listed = text.count("(Begeleidersnaam)")
        assert 10 < listed < attention
        assert f"{attention - listed}" in text


async def test_statements_do_not_grow_with_placements(db: Database) -> None:
    counts = []
    for placements, first in ((5, 100_000), (50, 200_000)):
        seeded = await seed(
            db, now=NOW, placements=placements, weeks=4, first_user_id=first,
            begeleider_user_id=first - 1,
        )  # fmt: skip
        organisation = await _organisation_id(db, seeded.begeleider_person_id)
        statements = 0

        def count(*_: object) -> None:
            nonlocal statements
            statements += 1

        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            async with db.session() as session:
                found = await org_overview.build(session, organisation, NOW, ZONE)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        assert found.open_placements == placements
        counts.append(statements)
    assert counts[0] == counts[1], counts


async def _end(db: Database, organisation: int, closed_at: dt.datetime, planned: bool) -> None:
    async with db.session() as session:
        placement = Placement(
            organisation_id=organisation,
            youth_name="X",
            gezinshuis_name="Y",
            phase=Phase.AFGESLOTEN,
            phase_since=closed_at,
            start_date=dt.date(2025, 1, 1),
            created_at=closed_at - dt.timedelta(days=100),
            closed_at=closed_at,
        )
        session.add(placement)
        await session.flush()
        session.add(
            PlacementEnding(
                placement_id=placement.id,
                reason=EndingReason.RETURN_HOME if planned else EndingReason.BREAKDOWN,
                planned=planned,
                talks=[],
                handover=False,
                closed_at=closed_at,
            )
        )


async def test_endings_count_from_the_local_start_of_the_quarter(db: Database) -> None:
    seeded = await seed(db, now=NOW, placements=1, weeks=1)
    organisation = await _organisation_id(db, seeded.begeleider_person_id)
    other = await seed(
        db, now=NOW, placements=1, weeks=1, first_user_id=300_000, begeleider_user_id=3
    )
    elsewhere = await _organisation_id(db, other.begeleider_person_id)
    # 1 April 00:00 in Amsterdam is 31 March 22:00 UTC (summer time).
    await _end(db, organisation, dt.datetime(2026, 3, 31, 21, 59, tzinfo=dt.UTC), False)
    await _end(db, organisation, dt.datetime(2026, 3, 31, 22, 0, tzinfo=dt.UTC), False)
    await _end(db, organisation, dt.datetime(2026, 4, 20, 12, 0, tzinfo=dt.UTC), True)
    await _end(db, elsewhere, dt.datetime(2026, 4, 2, 12, 0, tzinfo=dt.UTC), False)
    now = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)
    async with db.session() as session:
        found = await org_overview.build(session, organisation, now, ZONE)
    assert found.quarter_start == dt.date(2026, 4, 1)
    assert found.premature == {"breakdown": 1}
    assert found.planned == 1
    assert len(found.placement_ids) == 1 + 2  # the open one and the two endings counted
    shown = org_overview.context(found)
    assert shown["premature"] == LESS_THAN_FIVE
    assert shown["planned"] == LESS_THAN_FIVE


async def _coordinator(db: Database, organisation: int, *, paused: bool) -> int:
    async with db.session() as session:
        person = Person(first_name="Cora", created_at=NOW, paused=paused)
        person.telegram = TelegramLink(
            telegram_user_id=777,
            chat_id=777,
            language="nl",
            time_zone=ZONE,
            reachable=True,
            linked_at=NOW,
        )
        session.add(person)
        await session.flush()
        session.add(
            StaffMember(
                organisation_id=organisation,
                person_id=person.id,
                role=Role.COORDINATOR,
                created_at=NOW,
            )
        )
        return person.id


def _render(language: str, found: OrgOverview) -> org_overview.Rendered:
    return view.render(Renderer(), language, found)


async def _keys(db: Database) -> list[str]:
    async with db.session() as session:
        return sorted(
            await session.scalars(
                select(OutboxMessage.key).where(OutboxMessage.key.like("org_overview:%"))
            )
        )


async def test_weekly_planning_once_per_week_and_never_when_paused(db: Database) -> None:
    seeded = await seed(db, now=NOW, placements=6, weeks=4)
    organisation = await _organisation_id(db, seeded.begeleider_person_id)
    cora = await _coordinator(db, organisation, paused=True)
    monday_nine = dt.datetime(2026, 3, 16, 8, 0, tzinfo=dt.UTC)  # 09:00 in Amsterdam
    async with db.session() as session:
        assert await org_overview.plan_weekly(session, _render, monday_nine) == 0
    async with db.session() as session:
        person = await session.get(Person, cora)
        assert person is not None
        person.paused = False
    async with db.session() as session:
        early = monday_nine - dt.timedelta(minutes=1)
        assert await org_overview.plan_weekly(session, _render, early) == 0
    async with db.session() as session:
        assert await org_overview.plan_weekly(session, _render, monday_nine) == 2
    async with db.session() as session:
        later = monday_nine + dt.timedelta(hours=5)
        assert await org_overview.plan_weekly(session, _render, later) == 0
    assert await _keys(db) == [
        f"org_overview:{cora}:{organisation}:2026-W12:0",
        f"org_overview:{cora}:{organisation}:2026-W12:chart",
    ]
    # A deactivated coordinator gets nothing the next week.
    async with db.session() as session:
        staff = await session.scalar(select(StaffMember).where(StaffMember.person_id == cora))
        assert staff is not None
        staff.active = False
    async with db.session() as session:
        next_week = monday_nine + dt.timedelta(weeks=1)
        assert await org_overview.plan_weekly(session, _render, next_week) == 0


async def test_an_erased_alias_leaves_the_coordinators_queued_overview(db: Database) -> None:
    seeded = await seed(db, now=NOW, placements=6, weeks=4)
    organisation = await _organisation_id(db, seeded.begeleider_person_id)
    cora = await _coordinator(db, organisation, paused=False)
    monday_nine = dt.datetime(2026, 3, 16, 8, 0, tzinfo=dt.UTC)
    async with db.session() as session:
        assert await org_overview.plan_weekly(session, _render, monday_nine) == 2
    noor = seeded.placements["stalling"][0]  # needs attention: named in the overview

    async def payloads() -> list[str]:
        async with db.session() as session:
            rows = await session.scalars(
                select(OutboxMessage).where(OutboxMessage.person_id == cora)
            )
            return [str(row.payload) for row in rows]

    assert any("Noor" in payload for payload in await payloads())
    async with db.session() as session:
        people = await erasure.people_of(session, [noor])
        assert cora in people
        await erasure.scrub(
            session,
            erasure.Traces(words={"Noor"}),
            people=people,
            placement_ids=[],
            now=monday_nine,
        )
    assert not any("Noor" in payload for payload in await payloads())
