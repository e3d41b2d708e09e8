"""The access log (NEN 7513): one row per placement a staff member saw, written in one statement.

Actions: `weekly_digest` (a digest was produced for a begeleider), `overview` (/overzicht),
`list_placements` (/plaatsingen), `measurement_results` (questionnaire results sent to a
behandelaar or begeleider), `plan_review` (the plan sent to a begeleider before a review
talk), `organisation_overview` (/organisatie and the coordinator's weekly overview: one row
per placement counted, open or ended this quarter; counts only, no answers), `hand_over`
(/overdragen: the one who handed a placement over; subject "placement:<id>
staff:<from>-><to>"), `handover_received` (the plan and recent weeks sent to the new begeleider
or behandelaar), `export_own_data` (/mijngegevens: one row about the person themselves, subject
"person:<id>", no placement), `pilot_export` (the pseudonymised export for research, one row per
placement in it; from the command line actor "command line (admin)", no person) and
`access_log_export` (the privacy officer's export of this log, subject
"organisation:<id> <from>..<to>", no placement). The coordinator's /team (flows/team.py) writes
`list_staff` (subject "organisation:<id>", once per organisation shown, no placement) and
`deactivate_staff` (subject "staff:<id>", no placement). Rows outlive erasures: the actor becomes
"erased person", and a placement is a bare number without a foreign key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AccessLog, Person

LABEL_MAX = 80  # access_log.actor_label


def actor_label(person: Person) -> str:
    """Name the actor as "Bea (person 12)", short enough for the column whatever the name."""
    suffix = f" (person {person.id})"
    return f"{person.first_name[: LABEL_MAX - len(suffix)]}{suffix}"


def placement_rows(
    person: Person, action: str, placement_ids: Iterable[int], now: dt.datetime
) -> list[dict[str, Any]]:
    """One row per placement seen (each once, in the order given)."""
    label = actor_label(person)
    return [
        {
            "actor_person_id": person.id,
            "actor_label": label,
            "action": action,
            "subject": f"placement:{placement_id}",
            "placement_id": placement_id,
            "at": now,
        }
        for placement_id in dict.fromkeys(placement_ids)
    ]


async def write(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows with one executemany, however many placements they cover."""
    if rows:
        await session.execute(insert(AccessLog), list(rows))


async def log_placements(
    session: AsyncSession,
    person: Person,
    action: str,
    placement_ids: Iterable[int],
    now: dt.datetime,
) -> None:
    """Write who saw which placements, and when: one row per placement."""
    await write(session, placement_rows(person, action, placement_ids, now))


def own_data_row(person: Person, action: str, now: dt.datetime) -> AccessLog:
    """A row about the person themselves (their export): no placement."""
    return AccessLog(
        actor_person_id=person.id,
        actor_label=actor_label(person),
        action=action,
        subject=f"person:{person.id}",
        placement_id=None,
        at=now,
    )
