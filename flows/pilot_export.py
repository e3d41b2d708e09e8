"""The pilot export for researchers: a zip of pseudonymised CSV files, one per entity.

Rules (also in the zip's README.txt and codebook.csv):
- Only people with `Person.research_consent` are in it: their participant rows, check-ins, answers
  and questionnaire answers. Placement-level rows (placement, goals without text, meetings,
  endings) only for placements with at least one such person. A begeleider's or behandelaar's
  pseudonym only if she consented too; otherwise the cell is empty.
- Pseudonyms: HMAC-SHA256 with the organisation's own secret (`Organisation.pseudonym_key`, made
  with `secrets` at the first export and stored encrypted, never exported), truncated, with a
  prefix per kind. The same person gets the same pseudonym in every export of that organisation.
- Dates are ISO weeks ("2026-W49", Amsterdam time). No names, aliases, gezinshuis names, free
  text, typed goal text, meeting places, Telegram ids or database ids.
- Every export writes the access log (`pilot_export`, one row per placement exported).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import os
import re
import secrets
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flows import access, guards
from flows.authz import Action
from flows.invites import FlowError
from flows.people import Caller
from flows.questions import (
    DIMENSIONS,
    MEASUREMENT_QUESTIONS,
    QUESTIONS,
    RETIRED,
    SKIP_REASONS,
    Kind,
)
from flows.replies import Document, Outcome, Say
from flows.route import CLOSING_TALKS, MEETING_TYPES
from storage.models import (
    Answer,
    Checkin,
    CheckinKind,
    EndingReason,
    Goal,
    GoalSide,
    GoalStatus,
    Meeting,
    MeetingInvitee,
    MeetingStatus,
    Organisation,
    Participant,
    Person,
    Phase,
    Placement,
    PlacementEnding,
    Role,
    Rsvp,
    StaffMember,
)

ACTION = "pilot_export"
COMMAND_LINE = "command line (admin)"  # the actor label when an admin exports from the shell
ZONE = ZoneInfo("Europe/Amsterdam")
DIGITS = 10  # hex digits of the keyed hash kept: 40 bits, plenty for a pilot, still readable
PREFIX = {
    "person": "P",
    "placement": "PL",
    "checkin": "C",
    "round": "R",
    "goal": "G",
    "meeting": "M",
}
OWN_GOAL = "eigen doel"  # the suggestion cell of a goal typed in the person's own words

# The weekly questions as columns of weekly_results.csv: every question of the bank except the
# questionnaire's dimensions and goal progress (their own files).
WEEKLY_QUESTIONS = tuple(q for q in QUESTIONS if q not in MEASUREMENT_QUESTIONS and q != "doel")


def pseudonym(key: str, kind: str, number: int) -> str:
    """The keyed pseudonym of one row: the same key and row give the same text, always."""
    digest = hmac.new(key.encode(), f"{kind}:{number}".encode(), hashlib.sha256).hexdigest()
    return f"{PREFIX[kind]}-{digest[:DIGITS]}"


def week(moment: dt.datetime | dt.date | None) -> str:
    """The ISO week of a moment (in Amsterdam) or a date, e.g. "2026-W49"; "" for none."""
    if moment is None:
        return ""
    day = moment.astimezone(ZONE).date() if isinstance(moment, dt.datetime) else moment
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


@dataclass(frozen=True)
class Column:
    name: str
    meaning: str
    type: str  # "id", "text", "integer", "week", "yes/no", "code"
    values: str = ""
    question: str = ""  # the question bank's id this column holds the answers to


def _yes(value: bool | None) -> str:
    if value is None:
        return ""
    return "yes" if value else "no"


def _codes(values: Iterable[str]) -> str:
    return "; ".join(values)


PHASES = _codes(p for p in Phase)
SIDES = "ouder; gezinshuisouder"

FILES: dict[str, tuple[Column, ...]] = {
    "placements.csv": (
        Column("placement", "the placement (pseudonym)", "id"),
        Column("start_week", "week the placement started", "week"),
        Column("phase", "phase at the time of the export", "code", PHASES),
        Column("phase_since_week", "week the current phase began", "week"),
        Column("closed_week", "week the placement was closed; empty while open", "week"),
        Column("begeleider", "the begeleider (pseudonym), empty without her consent", "id"),
        Column("behandelaar", "the behandelaar (pseudonym), empty without consent", "id"),
        Column("participants_included", "people of this placement in this export", "integer"),
    ),
    "participants.csv": (
        Column("person", "the person (pseudonym)", "id"),
        Column("placement", "the placement (pseudonym)", "id"),
        Column("side", "the person's side", "code", SIDES),
        Column("joined_week", "week the person joined the placement", "week"),
    ),
    "weekly_results.csv": (
        Column("checkin", "one weekly check-in (pseudonym)", "id"),
        Column("person", "who it was for (pseudonym)", "id"),
        Column("placement", "the placement (pseudonym)", "id"),
        Column("side", "the person's side", "code", SIDES),
        Column("week", "the week asked about", "week"),
        Column("phase", "the placement's phase that week", "code", PHASES),
        Column(
            "status",
            "what became of the check-in",
            "code",
            "open; answered; skipped; missed; cancelled",
        ),
        Column(
            "skip_reason", "why it was skipped (only when skipped)", "code", _codes(SKIP_REASONS)
        ),
        Column(
            "open_answered",
            "whether a few words were written (the words are not here)",
            "yes/no",
            "yes; no",
        ),
    ),
    "questionnaire.csv": (
        Column("round", "one questionnaire round (pseudonym)", "id"),
        Column("person", "who answered (pseudonym)", "id"),
        Column("placement", "the placement (pseudonym)", "id"),
        Column("side", "the person's side", "code", SIDES),
        Column("week", "week the questionnaire was sent", "week"),
        Column(
            "status", "what became of it", "code", "open; answered; skipped; missed; cancelled"
        ),
    ),
    "goals.csv": (
        Column("goal", "one goal (pseudonym)", "id"),
        Column("placement", "the placement (pseudonym)", "id"),
        Column("side", "whose goal", "code", _codes(s for s in GoalSide)),
        Column("phase", "phase the goal was set in", "code", PHASES),
        Column(
            "suggestion",
            f'the route\'s suggestion code, or "{OWN_GOAL}" for a goal in own words (not shown)',
            "code",
        ),
        Column("status", "the goal's status now", "code", _codes(s for s in GoalStatus)),
        Column("created_week", "week the goal was set", "week"),
        Column("changed_week", "week of the last change; empty if never changed", "week"),
    ),
    "goal_progress.csv": (
        Column("goal", "the goal (pseudonym)", "id"),
        Column("person", "who scored it (pseudonym)", "id"),
        Column("side", "the person's side", "code", SIDES),
        Column("week", "week it was scored", "week"),
        Column(
            "score",
            "progress on the goal, 1 (not at all) to 5 (very well)",
            "integer",
            "1-5",
            "doel",
        ),
    ),
    "meetings.csv": (
        Column("meeting", "one route meeting (pseudonym); place and time are not here", "id"),
        Column("placement", "the placement (pseudonym)", "id"),
        Column("type", "the route meeting's code", "code", _codes(MEETING_TYPES)),
        Column("week", "week of the meeting", "week"),
        Column("status", "planned or cancelled", "code", _codes(s for s in MeetingStatus)),
        Column("invited", "people invited", "integer"),
        Column("yes", "invited people who said they come", "integer"),
        Column("no", "invited people who said they cannot come", "integer"),
        Column("other_time", "invited people who asked for another time", "integer"),
    ),
    "endings.csv": (
        Column("placement", "the placement (pseudonym)", "id"),
        Column("closed_week", "week the placement was closed", "week"),
        Column("reason", "why it ended", "code", _codes(r for r in EndingReason)),
        Column("planned", "a planned ending (not a breakdown)", "yes/no", "yes; no"),
        Column("handover", "whether there was a handover", "yes/no", "yes; no"),
        Column("talks_held", "closing talks held", "integer", "0-3"),
        *(
            Column(f"talk_{code}", f"closing talk {code} held", "yes/no", "yes; no")
            for code in CLOSING_TALKS
        ),
    ),
}


def _question_columns() -> None:
    """Add one column per weekly question and per questionnaire dimension."""
    weekly = []
    for qid in WEEKLY_QUESTIONS:
        question = QUESTIONS[qid]
        if qid in RETIRED:
            weekly.append(
                Column(
                    qid,
                    "the answer: 1 (😞) to 5 (😄); retired, older weeks only",
                    "integer",
                    "1-5",
                    qid,
                )
            )
        elif question.kind == Kind.FACES:
            weekly.append(Column(qid, "the answer: 1 (😞) to 5 (😄)", "integer", "1-5", qid))
        elif any(option.score is not None for option in question.options):
            values = _codes(f"{o.score} = {o.value}" for o in question.options)
            weekly.append(
                Column(qid, "the answer's score (higher is better)", "integer", values, qid)
            )
        else:
            values = _codes(o.value for o in question.options)
            weekly.append(Column(qid, "the answer (not scored)", "code", values, qid))
    FILES["weekly_results.csv"] += tuple(weekly)
    FILES["questionnaire.csv"] += tuple(
        Column(f"dim_{d}", "the answer: 1 (😞) to 5 (😄)", "integer", "1-5", f"dim_{d}")
        for d in DIMENSIONS
    )


_question_columns()

README = """Samen Opvoeden: pilot export for research
=========================================

This zip holds pseudonymised data of one organisation's placements, for the pilot's
researchers. One CSV file per entity; codebook.csv names every column of every file.

Rules
- Only people who said yes to research are in it (their participation, weekly check-ins and
  questionnaire answers). Placement-level rows (placements, goals, meetings, endings) are only
  there for placements with at least one such person. A begeleider or behandelaar is named by a
  pseudonym only if she said yes to research too; otherwise the cell is empty.
- Pseudonyms are a keyed hash (HMAC-SHA256) with a secret of the organisation that is never
  exported: P- persons, PL- placements, C- check-ins, R- questionnaire rounds, G- goals,
  M- meetings. The same person has the same pseudonym in a later export of this organisation.
- Dates are ISO weeks (e.g. 2026-W49, Europe/Amsterdam). There are no names, no gezinshuis
  names, no free text, no typed goal text, no meeting places, no Telegram or database ids.
- weekly_results.csv is wide: one row per weekly check-in, one column per question id of the
  question bank (empty: not asked or not answered). Goal progress is in goal_progress.csv
  (long: one row per score), the questionnaire in questionnaire.csv (one row per person per
  round, one column per dimension).
- Meetings without one placement (intervisie) are not in it.

Reading it
- UTF-8, comma separated, a header row, one value per cell, empty for missing.
- Python: pandas.read_csv("weekly_results.csv")
- R: read.csv("weekly_results.csv", encoding = "UTF-8", na.strings = "")
"""


@dataclass(frozen=True)
class Export:
    data: bytes
    placement_ids: list[int]


async def pseudonym_key(session: AsyncSession, organisation_id: int) -> str:
    """The organisation's secret, made at its first export: one key, ever.

    Set only where it is still empty, in one statement, then read back: of two first exports at
    once, the second waits for the first (PostgreSQL's row lock) and finds its key.
    """
    await session.execute(
        update(Organisation)
        .where(Organisation.id == organisation_id, Organisation.pseudonym_key.is_(None))
        .values(pseudonym_key=secrets.token_hex(32))
        .execution_options(synchronize_session=False)
    )
    key = await session.scalar(
        select(Organisation.pseudonym_key).where(Organisation.id == organisation_id)
    )
    assert key is not None
    return key


async def build(
    session: AsyncSession, organisation_id: int, question_wording: dict[str, str]
) -> Export:
    """The export of one organisation as zip bytes, and the placements it holds."""
    key = await pseudonym_key(session, organisation_id)

    def ps(kind: str, number: int | None) -> str:
        return "" if number is None else pseudonym(key, kind, number)

    placements = {
        p.id: p
        for p in await session.scalars(
            select(Placement)
            .where(Placement.organisation_id == organisation_id)
            .order_by(Placement.id)
        )
    }
    # As subqueries, never long lists of ids: 200 placements of a year stay one query each.
    consenting = select(Person.id).where(Person.research_consent.is_(True))
    ours = select(Placement.id).where(Placement.organisation_id == organisation_id)
    taking_part = (
        Participant.placement_id.in_(ours),
        Participant.person_id.in_(consenting),
        Participant.role.in_((Role.OUDER, Role.GEZINSHUISOUDER)),
    )
    participants = list(
        await session.scalars(
            select(Participant)
            .where(*taking_part)
            .order_by(Participant.placement_id, Participant.id)
        )
    )
    included = sorted({p.placement_id for p in participants})
    included_sql = select(Participant.placement_id).where(*taking_part)
    # The staff of this organisation who said yes to research: staff member id -> person id.
    staff = await session.execute(
        select(StaffMember.id, StaffMember.person_id)
        .join(Person, Person.id == StaffMember.person_id)
        .where(StaffMember.organisation_id == organisation_id, Person.research_consent.is_(True))
    )
    # As pairs: dict() would take a Result (it has keys()) for a mapping.
    consenting_staff = {member: person for member, person in staff}
    counts: dict[int, int] = defaultdict(int)
    for participant in participants:
        counts[participant.placement_id] += 1
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in FILES}
    for pid in included:
        placement = placements[pid]
        rows["placements.csv"].append(
            {
                "placement": ps("placement", pid),
                "start_week": week(placement.start_date),
                "phase": str(placement.phase),
                "phase_since_week": week(placement.phase_since),
                "closed_week": week(placement.closed_at),
                "begeleider": ps("person", consenting_staff.get(placement.begeleider_id or 0)),
                "behandelaar": ps("person", consenting_staff.get(placement.behandelaar_id or 0)),
                "participants_included": counts[pid],
            }
        )
    for participant in participants:
        rows["participants.csv"].append(
            {
                "person": ps("person", participant.person_id),
                "placement": ps("placement", participant.placement_id),
                "side": str(participant.role),
                "joined_week": week(participant.joined_at),
            }
        )
    await _checkins(session, ps, consenting, included_sql, rows)
    await _goals(session, ps, included_sql, rows)
    await _meetings(session, ps, included_sql, rows)
    for ending in await session.scalars(
        select(PlacementEnding)
        .where(PlacementEnding.placement_id.in_(included_sql))
        .order_by(PlacementEnding.placement_id)
    ):
        held = set(ending.talks)
        rows["endings.csv"].append(
            {
                "placement": ps("placement", ending.placement_id),
                "closed_week": week(ending.closed_at),
                "reason": str(ending.reason),
                "planned": _yes(ending.planned),
                "handover": _yes(ending.handover),
                "talks_held": len(held & set(CLOSING_TALKS)),
                **{f"talk_{code}": _yes(code in held) for code in CLOSING_TALKS},
            }
        )
    return Export(_zip(rows, question_wording), included)


async def _checkins(
    session: AsyncSession,
    ps: Any,
    consenting: Select[int],
    included: Select[int],
    rows: dict[str, list[dict[str, Any]]],
) -> None:
    theirs = (Checkin.placement_id.in_(included), Checkin.person_id.in_(consenting))
    checkins = list(
        await session.scalars(select(Checkin).where(*theirs).order_by(Checkin.due_at, Checkin.id))
    )
    answers: dict[int, dict[str, Answer]] = defaultdict(dict)
    for answer in await session.scalars(
        select(Answer)
        .join(Checkin, Checkin.id == Answer.checkin_id)
        .where(*theirs, Answer.person_id == Checkin.person_id)
        .order_by(Answer.id)
    ):
        answers[answer.checkin_id][answer.question_id] = answer
    for checkin in checkins:
        given = answers[checkin.id]
        base = {
            "person": ps("person", checkin.person_id),
            "placement": ps("placement", checkin.placement_id),
            "side": str(checkin.role),
            "status": str(checkin.status),
        }
        if checkin.kind == CheckinKind.MEASUREMENT:
            rows["questionnaire.csv"].append(
                {
                    "round": ps("round", checkin.round_id) if checkin.round_id else "",
                    **base,
                    "week": week(checkin.sent_at or checkin.due_at),
                    **{q: _score(given.get(q)) for q in MEASUREMENT_QUESTIONS},
                }
            )
            continue
        rows["weekly_results.csv"].append(
            {
                "checkin": ps("checkin", checkin.id),
                **base,
                "week": checkin.period if _is_week(checkin.period) else week(checkin.due_at),
                "phase": str(checkin.phase),
                "skip_reason": checkin.skip_reason or "",
                "open_answered": _yes(bool(given.get("open") and given["open"].text)),
                **{q: _weekly_value(q, given.get(q)) for q in WEEKLY_QUESTIONS},
            }
        )
        for question, answer in given.items():
            if question.startswith("doel:") and answer.goal_id and answer.score is not None:
                rows["goal_progress.csv"].append(
                    {
                        "goal": ps("goal", answer.goal_id),
                        "person": ps("person", answer.person_id),
                        "side": str(answer.role),
                        "week": week(answer.answered_at),
                        "score": answer.score,
                    }
                )


def _is_week(period: str) -> bool:
    year, _, number = period.partition("-W")
    return year.isdigit() and number.isdigit() and len(number) == 2


def _score(answer: Answer | None) -> str | int:
    return "" if answer is None or answer.score is None else answer.score


def _weekly_value(question: str, answer: Answer | None) -> str | int:
    """A scored answer's score, or for an unscored choice its code (never typed words)."""
    if answer is None:
        return ""
    if answer.score is not None:
        return answer.score
    bank = QUESTIONS[question]
    if bank.kind == Kind.CHOICE and answer.value in bank.values:
        return answer.value or ""
    return ""


async def _goals(
    session: AsyncSession,
    ps: Any,
    included: Select[int],
    rows: dict[str, list[dict[str, Any]]],
) -> None:
    for goal in await session.scalars(
        select(Goal).where(Goal.placement_id.in_(included)).order_by(Goal.placement_id, Goal.id)
    ):
        rows["goals.csv"].append(
            {
                "goal": ps("goal", goal.id),
                "placement": ps("placement", goal.placement_id),
                "side": str(goal.side),
                "phase": str(goal.phase),
                "suggestion": goal.suggestion or OWN_GOAL,
                "status": str(goal.status),
                "created_week": week(goal.created_at),
                "changed_week": week(goal.changed_at),
            }
        )


async def _meetings(
    session: AsyncSession,
    ps: Any,
    included: Select[int],
    rows: dict[str, list[dict[str, Any]]],
) -> None:
    meetings = list(
        await session.scalars(
            select(Meeting)
            .where(Meeting.placement_id.in_(included))
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )
    invited: dict[int, list[Rsvp | None]] = defaultdict(list)
    for meeting_id, rsvp in await session.execute(
        select(MeetingInvitee.meeting_id, MeetingInvitee.rsvp)
        .join(Meeting, Meeting.id == MeetingInvitee.meeting_id)
        .where(Meeting.placement_id.in_(included))
    ):
        invited[meeting_id].append(rsvp)
    for meeting in meetings:
        answers = invited[meeting.id]
        rows["meetings.csv"].append(
            {
                "meeting": ps("meeting", meeting.id),
                "placement": ps("placement", meeting.placement_id),
                "type": meeting.type,
                "week": week(meeting.starts_at),
                "status": str(meeting.status),
                "invited": len(answers),
                "yes": answers.count(Rsvp.YES),
                "no": answers.count(Rsvp.NO),
                "other_time": answers.count(Rsvp.OTHER_TIME),
            }
        )


def question_wording(render: Callable[[str, dict[str, Any]], str]) -> dict[str, str]:
    """Each question's Dutch wording as a person reads it, for the codebook.

    `render(template, context)` renders a Dutch template. The jongere is "[jongere]"; where the
    two sides read different words both are given.
    """
    wording: dict[str, str] = {}
    for qid in QUESTIONS:
        sides = {
            side: _plain(render(f"checkin/q_{qid}", {"role": side, "youth": "[jongere]"}))
            for side in ("ouder", "gezinshuisouder")
        }
        if sides["ouder"] == sides["gezinshuisouder"]:
            wording[qid] = sides["ouder"]
        else:
            wording[qid] = " | ".join(f"{side}: {text}" for side, text in sides.items())
    return wording


def _plain(text: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", text).split())


def _csv(columns: Sequence[Column], rows: Iterable[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in columns])
    for row in rows:
        writer.writerow(["" if row.get(c.name) is None else row.get(c.name) for c in columns])
    return out.getvalue().encode("utf-8")


def codebook_rows(question_wording: dict[str, str]) -> list[dict[str, str]]:
    """One row per column of every file: what it means, and for answers the question asked."""
    return [
        {
            "file": name,
            "column": column.name,
            "meaning": column.meaning,
            "type": column.type,
            "values": column.values,
            "question_id": column.question,
            "question_nl": question_wording.get(column.question, ""),
        }
        for name, columns in FILES.items()
        for column in columns
    ]


CODEBOOK = (
    Column("file", "", "text"),
    Column("column", "", "text"),
    Column("meaning", "", "text"),
    Column("type", "", "text"),
    Column("values", "", "text"),
    Column("question_id", "", "text"),
    Column("question_nl", "", "text"),
)


def _zip(rows: dict[str, list[dict[str, Any]]], question_wording: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README)
        archive.writestr("codebook.csv", _csv(CODEBOOK, codebook_rows(question_wording)))
        for name, columns in FILES.items():
            archive.writestr(name, _csv(columns, rows[name]))
    return buffer.getvalue()


def filename(now: dt.datetime) -> str:
    return f"pilot-export-{week(now)}.zip"


# --- From the coordinator's chat --------------------------------------------------------------


async def press(
    session: AsyncSession,
    caller: Caller,
    organisation_id: int,
    now: dt.datetime,
    question_wording: dict[str, str],
) -> Outcome:
    """📦 Export voor onderzoek: the zip as a document, for a coordinator of this organisation."""
    me = await guards.staff(session, caller, Action.PILOT_EXPORT, pressed=True)
    if isinstance(me, Outcome):
        return me
    if organisation_id not in guards.organisations(me, Action.PILOT_EXPORT):
        # Another organisation's id, or none: the same reply as any button we cannot honour.
        return guards.refuse(me.language, guards.EXPIRED)
    export = await build(session, organisation_id, question_wording)
    await access.log_placements(session, me.person, ACTION, export.placement_ids, now)
    document = Document(filename(now), data=export.data)
    return Outcome(me.language).add(
        Say(
            "export/pilot_caption",
            {"placements": len(export.placement_ids)},
            document=document,
        )
    )


# --- From the command line --------------------------------------------------------------------


def check_out_path(out: str, suffix: str) -> Path:
    """The file to write, or FlowError: wrong suffix, missing folder, or no permission."""
    path = Path(out)
    if path.suffix.lower() != suffix:
        raise FlowError(f"--out must end in {suffix}: {out}")
    folder = path.parent.resolve()
    if not folder.is_dir():
        raise FlowError(f"cannot write {out}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FlowError(f"cannot write {out}: no permission to write in {folder}")
    if path.is_dir():
        raise FlowError(f"cannot write {out}: it is a folder")
    return path


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: a reader sees all or nothing."""
    try:
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    except OSError as error:
        raise FlowError(f"cannot write {path}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise FlowError(f"cannot write {path}: {error.strerror}") from None


async def organisation_named(session: AsyncSession, name: str) -> Organisation:
    organisation = await session.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        raise FlowError(f"no organisation named {name!r}")
    return organisation


def command_line_rows(placement_ids: Iterable[int], now: dt.datetime) -> list[dict[str, Any]]:
    """Access-log rows for an export made from the command line: no person, a fixed label."""
    return [
        {
            "actor_person_id": None,
            "actor_label": COMMAND_LINE,
            "action": ACTION,
            "subject": f"placement:{pid}",
            "placement_id": pid,
            "at": now,
        }
        for pid in dict.fromkeys(placement_ids)
    ]


async def export_to_file(
    session: AsyncSession,
    organisation_name: str,
    path: Path,
    now: dt.datetime,
    question_wording: dict[str, str],
) -> int:
    """`samenopvoeden export pilot`: write the zip and its log rows; return its placements.

    Call it inside the transaction, with a path `check_out_path` accepted. The file is renamed
    into place last; the caller removes it again if the commit then fails (`commit_or_remove`),
    so there is never a file without its log rows, nor log rows without a file.
    """
    organisation = await organisation_named(session, organisation_name)
    export = await build(session, organisation.id, question_wording)
    await access.write(session, command_line_rows(export.placement_ids, now))
    await session.flush()
    write_atomically(path, export.data)
    return len(export.placement_ids)
