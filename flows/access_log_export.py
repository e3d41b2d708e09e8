"""The access-log export for the privacy officer: who saw which placement of an organisation.

`access_log` has no organisation column. A row belongs to an organisation when
- its placement is one of the organisation's placements; or
- it names no placement, or a placement that no longer exists (erased), and its actor is (or
  was, deactivated too) staff of the organisation; or
- it is an access-log export of this organisation itself (subject "organisation:<id> ...").
Rows of an erased actor (actor_person_id emptied) about an erased placement can no longer be tied
to any organisation and are not in any organisation's export.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from flows import access
from flows.invites import FlowError
from flows.pilot_export import COMMAND_LINE, organisation_named, write_atomically
from storage.models import AccessLog, Placement, StaffMember

ACTION = "access_log_export"
COLUMNS = ("at", "actor", "action", "subject", "placement")
HELP = (
    "Columns: at (UTC instant, ISO 8601), actor (who: a label such as 'Bea (person 12)', "
    "'erased person' or 'command line (admin)'), action (what was done, e.g. weekly_digest, "
    "overview, pilot_export), subject (what it was about, e.g. placement:7 or person:12), "
    "placement (the placement number, empty for rows about no placement)"
)


def parse_day(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FlowError(f"{option} must be a date as YYYY-MM-DD, not {text!r}") from None


def period(start: str, end: str) -> tuple[dt.date, dt.date]:
    """The inclusive days asked for, or FlowError for a bad date or a period backwards."""
    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    if first > last:
        raise FlowError(f"--from {first} is after --to {last}")
    return first, last


def subject(organisation_id: int, first: dt.date, last: dt.date) -> str:
    return f"organisation:{organisation_id} {first}..{last}"


async def rows(
    session: AsyncSession, organisation_id: int, first: dt.date, last: dt.date
) -> list[AccessLog]:
    """The organisation's access-log rows from `first` to `last` inclusive (UTC days)."""
    start = dt.datetime.combine(first, dt.time(0), tzinfo=dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)
    ours = select(Placement.id).where(Placement.organisation_id == organisation_id)
    existing = select(Placement.id)
    staff = select(StaffMember.person_id).where(StaffMember.organisation_id == organisation_id)
    belongs = or_(
        AccessLog.placement_id.in_(ours),
        and_(
            AccessLog.actor_person_id.in_(staff),
            or_(AccessLog.placement_id.is_(None), AccessLog.placement_id.not_in(existing)),
        ),
        and_(
            AccessLog.action == ACTION,
            AccessLog.subject.like(f"organisation:{organisation_id} %"),
        ),
    )
    return list(
        await session.scalars(
            select(AccessLog)
            .where(belongs, AccessLog.at >= start, AccessLog.at < end)
            .order_by(AccessLog.at, AccessLog.id)
        )
    )


def to_csv(log: list[AccessLog]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in log:
        at = row.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        placement: Any = "" if row.placement_id is None else row.placement_id
        writer.writerow([at, row.actor_label, row.action, row.subject, placement])
    return out.getvalue().encode("utf-8")


async def export_to_file(
    session: AsyncSession,
    organisation_name: str,
    first: dt.date,
    last: dt.date,
    path: Path,
    now: dt.datetime,
) -> int:
    """`samenopvoeden export access-log`: write the CSV and log the export; return its rows.

    Call it inside the transaction, with a period `period` and a path `check_out_path`
    accepted; the file is renamed into place last (the caller removes it if the commit fails).
    """
    organisation = await organisation_named(session, organisation_name)
    log = await rows(session, organisation.id, first, last)
    data = to_csv(log)
    await access.write(
        session,
        [
            {
                "actor_person_id": None,
                "actor_label": COMMAND_LINE,
                "action": ACTION,
                "subject": subject(organisation.id, first, last),
                "placement_id": None,
                "at": now,
            }
        ],
    )
    await session.flush()
    write_atomically(path, data)
    return len(log)
