"""The Dutch gezinshuis sector as one PostgreSQL database, generated fast (for benchmarks.sector).

4,000 placements in 25 organisations, 250 begeleiders with 16 placements each (and 50
behandelaars), per placement 1-2 ouders and 1-2 gezinshuisouders (~12,400 people in all), and a
year of history: weekly check-ins for everyone (mostly answered, some skipped, some missed) with
their answers and their sent outbox rows, two measurement rounds per placement, route meetings
with invitees, and goals. The shapes follow tests/seed.py (the digest's patterns) but nothing
goes through the ORM or the chat: the ids are given here, the rows are written with PostgreSQL's
COPY (asyncpg's `copy_records_to_table` on the engine's own connection, foreign-key triggers
off), and the sequences
are moved past them afterwards, so the bot can go on inserting.

The placements are as old as their history (a year and four weeks), so route meetings and plan
reviews are due or overdue where the data says so, as in life.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from flows.questions import MEASUREMENT_QUESTIONS, QUESTIONS
from flows.route import GOAL_SUGGESTIONS, MEETING_TYPES, weekly_questions
from storage.db import Database
from storage.models import Base, GoalSide, Phase, Role

ORGANISATIONS = 25
BEGELEIDERS = 250
PER_BEGELEIDER = 16
BEHANDELAARS = 50
WEEKS = 52
# The key that encrypts typed text at rest (a fake, as the tests' own); the bot processes the
# benchmark starts get it as SAMENOPVOEDEN_DATA_KEY.
DATA_KEY = "bg5wp2ql1cejsHHnYF3De4tMX6NOg8N1Iwc5mCWQXFA="
FIRST_USER = 10_000_000  # Telegram user ids of the generated people start here
OUDER_NAMES = ("Olga", "Piet", "Fatma", "Ruud", "Anouk", "Said", "Wendy", "Karin", "Hans")
GHO_NAMES = ("Kees", "Mia", "Joost", "Ineke", "Bram", "Nadia", "Henk", "Tineke", "Wim")
YOUTHS = ("Sam", "Noor", "Lars", "Yara", "Daan", "Lina", "Milan", "Zoë", "Finn", "Eva")
PATTERNS = ("calm", "calm", "calm", "stalling", "calm", "silent", "calm", "blocked", "calm")


@dataclass
class Sector:
    placements: int
    people: int  # ouders and gezinshuisouders
    staff: int
    begeleider_chats: list[int]
    participant_chats: list[int]
    rows: dict[str, int]  # table -> rows written


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _answer(question: str, rng: random.Random, low: bool) -> tuple[str, int | None]:
    known = QUESTIONS.get(question)
    if known is None:  # the measurement's dimensions: faces
        score = rng.randint(2, 5)
        return str(score), score
    values = known.values
    if low:
        value = values[0] if question != "contact" else "geen"
    else:
        value = values[-1 - rng.randint(0, min(1, len(values) - 1))]
        if question == "contact":
            value = rng.choice(("gesproken", "app"))
    return value, known.score(value)


class Writer:
    """Rows per table, written with COPY when a table's batch is full (and at the end)."""

    def __init__(self, connection: Any, batch: int = 50_000) -> None:
        self.connection = connection  # asyncpg's connection
        self.batch = batch
        # Parents before children (the foreign keys are checked row by row).
        self.order = [table.name for table in Base.metadata.sorted_tables]
        self.pending: dict[str, list[tuple[Any, ...]]] = {}
        self.columns: dict[str, tuple[str, ...]] = {}
        self.written: dict[str, int] = {}

    async def add(self, table: str, row: dict[str, Any]) -> None:
        if table not in self.columns:
            self.columns[table] = tuple(row)
        self.pending.setdefault(table, []).append(tuple(row.values()))
        if len(self.pending[table]) >= self.batch:
            await self.flush_all()

    async def flush(self, table: str) -> None:
        rows = self.pending.pop(table, [])
        if rows:
            await self.connection.copy_records_to_table(
                table, records=rows, columns=list(self.columns[table])
            )
            self.written[table] = self.written.get(table, 0) + len(rows)

    async def flush_all(self) -> None:
        for table in self.order:
            await self.flush(table)


async def generate(
    db: Database, now: dt.datetime, *, placements: int = 4000, seed: int = 15
) -> Sector:
    """Fill an EMPTY, upgraded PostgreSQL database with the sector; `now` is the digest Monday.

    Placement count scales begeleiders (16 each) and organisations (160 placements each)."""
    assert db.engine.dialect.name == "postgresql", "the sector data set is for PostgreSQL"
    rng = random.Random(seed)  # noqa: S311 - made-up data, repeatable
    begeleiders = max(1, placements // PER_BEGELEIDER)
    organisations = max(1, min(ORGANISATIONS, begeleiders // 10 or 1))
    behandelaars = max(1, begeleiders // 5)
    this_week = monday(now.date()) - dt.timedelta(days=7)  # the week the digest looks at
    started = now - dt.timedelta(weeks=WEEKS + 4)
    ids: dict[str, int] = {}

    def next_id(table: str) -> int:
        ids[table] = ids.get(table, 0) + 1
        return ids[table]

    user = iter(range(FIRST_USER, FIRST_USER + 10_000_000))
    begeleider_chats: list[int] = []
    participant_chats: list[int] = []
    json_null = json.dumps({})
    async with db.engine.connect() as sa_connection:
        raw = await sa_connection.get_raw_connection()
        connection = raw.driver_connection
        # The foreign keys are right by construction: not checked row by row (PostgreSQL's
        # triggers for them are off for this session only; needs a superuser, as in the tests).
        await connection.execute("SET session_replication_role = replica")
        writer = Writer(connection)

        async def person(
            name: str, created: dt.datetime, reachable: bool = True
        ) -> tuple[int, int]:
            person_id = next_id("person")
            chat = next(user)
            await writer.add(
                "person",
                {
                    "id": person_id,
                    "first_name": name,
                    "created_at": created,
                    "paused": False,
                    "research_consent": False,
                },
            )
            await writer.add(
                "telegram_link",
                {
                    "id": next_id("telegram_link"),
                    "person_id": person_id,
                    "telegram_user_id": chat,
                    "chat_id": chat,
                    "language": "nl",
                    "time_zone": "Europe/Amsterdam",
                    "reachable": reachable,
                    "linked_at": created,
                },
            )
            return person_id, chat

        for org in range(organisations):
            await writer.add(
                "organisation",
                {
                    "id": next_id("organisation"),
                    "name": f"Zorgaanbieder {org + 1}",
                    "created_at": started,
                },
            )
        staff: list[tuple[int, int, int]] = []  # (staff id, person id, organisation id)
        for index in range(begeleiders):
            person_id, chat = await person(f"Bea{index}", started)
            begeleider_chats.append(chat)
            staff_id = next_id("staff_member")
            organisation_id = 1 + index % organisations
            await writer.add(
                "staff_member",
                {
                    "id": staff_id,
                    "organisation_id": organisation_id,
                    "person_id": person_id,
                    "role": Role.BEGELEIDER.value,
                    "created_at": started,
                    "active": True,
                },
            )
            staff.append((staff_id, person_id, organisation_id))
        treaters: dict[int, list[int]] = {}
        for index in range(behandelaars):
            person_id, _ = await person(f"Bart{index}", started)
            staff_id = next_id("staff_member")
            organisation_id = 1 + index % organisations
            await writer.add(
                "staff_member",
                {
                    "id": staff_id,
                    "organisation_id": organisation_id,
                    "person_id": person_id,
                    "role": Role.BEHANDELAAR.value,
                    "created_at": started,
                    "active": True,
                },
            )
            treaters.setdefault(organisation_id, []).append(staff_id)

        for index in range(placements):
            staff_id, staff_person, organisation_id = staff[index % begeleiders]
            pattern = PATTERNS[index % len(PATTERNS)]
            placement_id = next_id("placement")
            phase = Phase.STABILISATIEFASE
            await writer.add(
                "placement",
                {
                    "id": placement_id,
                    "organisation_id": organisation_id,
                    "youth_name": YOUTHS[index % len(YOUTHS)],
                    "gezinshuis_name": f"Huis {index}",
                    "phase": phase.value,
                    "phase_since": started + dt.timedelta(weeks=8),
                    "start_date": started.date(),
                    "begeleider_id": staff_id,
                    "behandelaar_id": rng.choice(treaters.get(organisation_id, [None])),  # type: ignore[list-item]
                    "created_at": started,
                },
            )
            members: list[tuple[int, int, Role]] = []  # (participant id, person id, role)
            ouders = 1 if index % 5 == 4 else 2
            ghos = 2 if index % 10 < 3 else 1
            for role, many, names in (
                (Role.OUDER, ouders, OUDER_NAMES),
                (Role.GEZINSHUISOUDER, ghos, GHO_NAMES),
            ):
                for _ in range(many):
                    blocked = pattern == "blocked" and role == Role.GEZINSHUISOUDER
                    person_id, chat = await person(
                        names[rng.randrange(len(names))], started, reachable=not blocked
                    )
                    participant_chats.append(chat)
                    participant_id = next_id("participant")
                    await writer.add(
                        "participant",
                        {
                            "id": participant_id,
                            "placement_id": placement_id,
                            "person_id": person_id,
                            "role": role.value,
                            "joined_at": started,
                        },
                    )
                    members.append((participant_id, person_id, role))
            # A year of weekly check-ins, their answers and the outbox rows that sent them.
            for participant_id, person_id, role in members:
                for back in range(WEEKS - 1, -1, -1):
                    week = this_week - dt.timedelta(weeks=back)
                    year, number, _ = week.isocalendar()
                    due = dt.datetime.combine(
                        week + dt.timedelta(days=6), dt.time(18), tzinfo=dt.UTC
                    )
                    questions = list(weekly_questions(role, phase, number))
                    roll = rng.random()
                    silent = pattern == "silent" and role == Role.OUDER and back < 2
                    blocked = pattern == "blocked" and role == Role.GEZINSHUISOUDER and back < 2
                    if silent or blocked or roll < 0.08:
                        status, skip = "missed", None
                    elif roll < 0.12:
                        status, skip = "skipped", rng.choice(("druk", "liever_niet"))
                    else:
                        status, skip = "answered", None
                    checkin_id = next_id("checkin")
                    await writer.add(
                        "checkin",
                        {
                            "id": checkin_id,
                            "participant_id": participant_id,
                            "placement_id": placement_id,
                            "person_id": person_id,
                            "role": role.value,
                            "kind": "weekly",
                            "period": f"{year}-W{number:02d}",
                            "phase": phase.value,
                            "questions": json.dumps(questions),
                            "status": status,
                            "due_at": due,
                            "sent_at": due,
                            "closes_at": due + dt.timedelta(days=4),
                            "closed_at": due + dt.timedelta(days=4) if back else None,
                            "skip_reason": skip,
                        },
                    )
                    await writer.add(
                        "outbox",
                        {
                            "id": next_id("outbox"),
                            "key": f"checkin:{checkin_id}",
                            "person_id": person_id,
                            "kind": "checkin",
                            "placement_id": placement_id,
                            "subject_id": checkin_id,
                            "payload": json_null,
                            "status": "sent",
                            "due_at": due,
                            "urgent": False,
                            "attempts": 1,
                            "sent_at": due,
                            "created_at": due,
                            "ephemeral": False,
                            "payload_cleared_at": due + dt.timedelta(days=30),
                        },
                    )
                    if status != "answered":
                        continue
                    low = pattern == "stalling" and back < 3
                    for question in questions:
                        value, score = _answer(question, rng, low)
                        await writer.add(
                            "answer",
                            {
                                "id": next_id("answer"),
                                "checkin_id": checkin_id,
                                "placement_id": placement_id,
                                "person_id": person_id,
                                "role": role.value,
                                "question_id": question,
                                "value": value,
                                "score": score,
                                "answered_at": due + dt.timedelta(minutes=5),
                            },
                        )
            # Two measurement rounds (half-yearly), everyone asked, most answered.
            for weeks_ago in (45, 19):
                created = now - dt.timedelta(weeks=weeks_ago)
                round_id = next_id("measurement_round")
                await writer.add(
                    "measurement_round",
                    {
                        "id": round_id,
                        "placement_id": placement_id,
                        "requested_by_person_id": staff_person,
                        "created_at": created,
                        "closes_at": created + dt.timedelta(days=14),
                        "reported_at": created + dt.timedelta(days=14),
                    },
                )
                for participant_id, person_id, role in members:
                    checkin_id = next_id("checkin")
                    answered = rng.random() < 0.85
                    await writer.add(
                        "checkin",
                        {
                            "id": checkin_id,
                            "participant_id": participant_id,
                            "placement_id": placement_id,
                            "person_id": person_id,
                            "role": role.value,
                            "kind": "measurement",
                            "period": f"round-{round_id}",
                            "phase": phase.value,
                            "questions": json.dumps(list(MEASUREMENT_QUESTIONS)),
                            "status": "answered" if answered else "missed",
                            "due_at": created,
                            "sent_at": created,
                            "closes_at": created + dt.timedelta(days=14),
                            "closed_at": created + dt.timedelta(days=14),
                            "skip_reason": None,
                            "round_id": round_id,
                        },
                    )
                    if not answered:
                        continue
                    for question in MEASUREMENT_QUESTIONS:
                        value, score = _answer(question, rng, False)
                        await writer.add(
                            "answer",
                            {
                                "id": next_id("answer"),
                                "checkin_id": checkin_id,
                                "placement_id": placement_id,
                                "person_id": person_id,
                                "role": role.value,
                                "question_id": question,
                                "value": value,
                                "score": score,
                                "answered_at": created + dt.timedelta(hours=3),
                            },
                        )
            # Route meetings of the past year (held), with their invitees.
            for weeks_ago, code in (
                (48, "kennismakingsgesprek"),
                (30, "begeleidingsgesprek_ouders"),
                (24, "samenwerkingsgesprek"),
            ):
                if code not in MEETING_TYPES:
                    continue
                at = now - dt.timedelta(weeks=weeks_ago)
                meeting_id = next_id("meeting")
                await writer.add(
                    "meeting",
                    {
                        "id": meeting_id,
                        "organisation_id": organisation_id,
                        "placement_id": placement_id,
                        "type": code,
                        "starts_at": at,
                        "status": "planned",
                        "planned_by_person_id": staff_person,
                        "version": 1,
                        "created_at": at - dt.timedelta(days=10),
                        "updated_at": at - dt.timedelta(days=10),
                    },
                )
                invited = MEETING_TYPES[code].roles
                for _, person_id, role in members:
                    if role in invited:
                        await writer.add(
                            "meeting_invitee",
                            {
                                "id": next_id("meeting_invitee"),
                                "meeting_id": meeting_id,
                                "person_id": person_id,
                                "role": role.value,
                                "placement_id": placement_id,
                                "rsvp": "yes",
                                "rsvp_at": at - dt.timedelta(days=9),
                            },
                        )
            # Goals: one per side, one of them reached.
            for number, side in enumerate(
                (GoalSide.OUDER, GoalSide.GEZINSHUISOUDER, GoalSide.SAMEN)
            ):
                suggestions = GOAL_SUGGESTIONS.get((phase, side), ())
                await writer.add(
                    "goal",
                    {
                        "id": next_id("goal"),
                        "placement_id": placement_id,
                        "phase": phase.value,
                        "side": side.value,
                        "suggestion": suggestions[0] if suggestions else None,
                        "status": "reached" if number == index % 3 else "open",
                        "created_by_person_id": staff_person,
                        "created_at": started + dt.timedelta(weeks=9),
                    },
                )
        await writer.flush_all()
        for table in ids:
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {ids[table]})"
            )
        await connection.execute("SET session_replication_role = DEFAULT")
        await sa_connection.commit()
        await connection.execute("ANALYZE")
    people = len(participant_chats)
    return Sector(
        placements,
        people,
        begeleiders + behandelaars,
        begeleider_chats,
        participant_chats,
        dict(writer.written),
    )


async def fresh(url: str) -> Database:
    """An empty, upgraded database at `url` (every table dropped first)."""
    db = Database(url, data_key=DATA_KEY)
    async with db.engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await db.upgrade()
    return db


def counts(rows: dict[str, int]) -> str:
    return ", ".join(f"{table} {n:,}" for table, n in sorted(rows.items(), key=lambda x: -x[1]))


__all__: Sequence[str] = ("Sector", "counts", "fresh", "generate")
