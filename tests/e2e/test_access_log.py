"""The access log: one row per placement seen, for every digest, /overzicht, /plaatsingen,
questionnaire result and export; and /mijngegevens shows who saw the person's data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from bot.app import AnyApplication
from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from storage.db import Database
from storage.models import AccessLog
from tests.e2e.conftest import at, create_placement, join, join_as_begeleider
from tests.seed import Seeded, seed

UTC = dt.UTC
MONDAY_0830 = dt.datetime(2026, 3, 16, 7, 30, tzinfo=UTC)  # 08:30 in Amsterdam


async def logged(db: Database, action: str) -> list[AccessLog]:
    async with db.session() as session:
        return list(
            await session.scalars(
                select(AccessLog).where(AccessLog.action == action).order_by(AccessLog.id)
            )
        )


def all_placements(seeded: Seeded) -> set[int]:
    return {pid for ids in seeded.placements.values() for pid in ids}


def assert_one_row_each(rows: list[AccessLog], placements: set[int], actor: int) -> None:
    assert len(rows) == len(placements)
    assert {r.placement_id for r in rows} == placements
    assert all(r.subject == f"placement:{r.placement_id}" for r in rows)
    assert all(r.actor_person_id == actor for r in rows)
    assert all(r.actor_label == f"Bea (person {actor})" for r in rows)


@contextmanager
def access_log_inserts(db: Database) -> Iterator[list[int]]:
    """Count INSERT statements into access_log, as sent to the database driver."""
    seen: list[int] = []

    def count(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ACCESS_LOG"):
            seen.append(len(params) if isinstance(params, list) else 1)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)


async def test_25_placements_digest_overview_and_list_log_a_row_per_placement(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    seeded = await seed(db, now=MONDAY_0830, placements=25, weeks=2)
    placements = all_placements(seeded)
    bea = sandbox.person(seeded.begeleider_user_id, "Bea", started=True)
    for user_id in seeded.participant_users:
        sandbox.person(user_id, "Ouder", started=True)

    await at(app, clock, MONDAY_0830)
    assert any("Weekoverzicht" in m.text for m in bea.bot_messages)
    assert_one_row_each(await logged(db, "weekly_digest"), placements, seeded.begeleider_person_id)

    replies = await bea.send("/overzicht")
    assert "Weekoverzicht" in replies[0].text
    assert_one_row_each(await logged(db, "overview"), placements, seeded.begeleider_person_id)

    # On PostgreSQL this failed with "value too long" when the ids went into one string.
    replies = await bea.send("/plaatsingen")
    assert "Er ging iets mis" not in " ".join(m.text for m in replies)
    assert "Noor" in " ".join(m.text for m in replies)
    assert_one_row_each(
        await logged(db, "list_placements"), placements, seeded.begeleider_person_id
    )


async def test_200_placements_in_overzicht_are_logged_in_one_statement(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    seeded = await seed(db, now=MONDAY_0830, placements=200, weeks=1)
    placements = all_placements(seeded)
    assert len(placements) == 200
    clock.set(MONDAY_0830 + dt.timedelta(hours=1))
    bea = sandbox.person(seeded.begeleider_user_id, "Bea", started=True)
    with access_log_inserts(db) as inserts:
        replies = await bea.send("/overzicht")
    assert "Weekoverzicht" in replies[0].text
    assert inserts == [200]  # one executemany with 200 rows: no string, no truncation
    assert_one_row_each(await logged(db, "overview"), placements, seeded.begeleider_person_id)


async def test_questionnaire_results_write_a_row_per_recipient(
    app: AnyApplication, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    bea = await join_as_begeleider(sandbox, db, clock)
    codes = await create_placement(bea)
    olga = await join(sandbox, codes["ouder"], 2001, "Olga")
    kees = await join(sandbox, codes["gezinshuisouder"], 3001, "Kees")
    ben = await join(sandbox, codes["behandelaar"], 4001, "Ben")
    await bea.send("/meting")
    await bea.click("Sam · installatiefase")
    await bea.click("Ja, stuur de vragenlijst")
    for person in (olga, kees):
        for _ in range(10):
            await person.click("🙂")
        await person.click("Nee, dank je")
    assert await logged(db, "measurement_results") == []
    await at(app, clock, clock.now())
    for staff in (bea, ben):
        assert any("Samenwerkingsvragenlijst Sam" in m.text for m in staff.bot_messages)
    rows = await logged(db, "measurement_results")
    assert sorted(r.actor_label.split(" ")[0] for r in rows) == ["Bea", "Ben"]
    placement_ids = {r.placement_id for r in rows}
    assert len(placement_ids) == 1
    assert {r.subject for r in rows} == {f"placement:{placement_ids.pop()}"}
    # Reported once: a later beat neither sends nor logs again.
    await at(app, clock, clock.now() + dt.timedelta(minutes=1))
    assert len(await logged(db, "measurement_results")) == 2


async def test_mijngegevens_shows_contact_requests_meetings_and_who_looked(
    app: AnyApplication,
    family: tuple[ChatPerson, ChatPerson, ChatPerson],
    db: Database,
    clock: FakeClock,
) -> None:
    bea, olga, kees = family
    await bea.send("/afspraak")
    await bea.click("Sam · installatiefase")
    await bea.click("Kennismakingsgesprek")
    await bea.send("12-3 14:00")
    await bea.send("Buurthuis De Linde")
    await bea.click("Klaar")
    await bea.click("📅 Plannen")
    await olga.click("✅ Ik kom")
    await olga.send("/contact")
    overview = await bea.send("/overzicht")
    [details] = await bea.click("🔎 Sam", overview[0])
    assert "Olga (ouder)" in details.text

    [reply] = await olga.send("/mijngegevens")
    assert reply.document is not None
    content = reply.document.data.decode("utf-8")
    contact = content.split("CONTACTVRAGEN AAN JE BEGELEIDER\n")[1].split("\n\n")[0]
    assert contact.startswith("- 2 maart 2026 ")
    assert contact.endswith("UTC, over Sam")
    assert (
        "- Kennismakingsgesprek, donderdag 12 maart om 14:00, waar: Buurthuis De Linde\n"
        "  Jouw antwoord: ik kom (op 2 maart 2026)"
    ) in content
    viewed = content.split("WIE JOUW GEGEVENS BEKEKEN HEEFT (logboek)\n")[1].split("\n\n")[0]
    first, second = viewed.split("\n")
    assert first.endswith("UTC: Bea (person 1), overzicht bekeken (/overzicht) (Sam)")
    assert second.endswith(
        "UTC: Bea (person 1), details van een plaatsing bekeken (weekoverzicht) (Sam)"
    )
    assert "WAT JIJ BEKEKEN HEBT (logboek)\n- niets" in content

    # Kees sees the same view of the placement, but not Olga's contact request or answer.
    [other] = await kees.send("/mijngegevens")
    assert other.document is not None
    theirs = other.document.data.decode("utf-8")
    assert "CONTACTVRAGEN AAN JE BEGELEIDER\n- geen" in theirs
    assert "Jouw antwoord: nog geen antwoord" in theirs
    assert "Bea (person 1), overzicht bekeken (/overzicht) (Sam)" in theirs

    # Bea's own export lists what she looked at, by the youth's name.
    [own] = await bea.send("/mijngegevens")
    assert own.document is not None
    hers = own.document.data.decode("utf-8")
    assert "overzicht bekeken (/overzicht) (Sam)" in hers.split("WAT JIJ BEKEKEN HEBT")[1]
    exports = await logged(db, "export_own_data")
    assert len(exports) == 3
    assert all(e.placement_id is None and e.subject.startswith("person:") for e in exports)
