"""Seed a database with placements and weeks of check-ins, fast (for digest tests and benchmarks).

Each placement follows a pattern, so the digest has something to say:
- "calm": both sides answer 4-5, contact every week;
- "stalling": the ouder drops to 2 this week, no contact three weeks running, tension noticed;
- "new": everyone joined this week, no answers yet;
- "silent": the ouder missed the last two weeks;
- "blocked": the gezinshuisouder blocked the bot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from itertools import count

from sqlalchemy import delete, insert, select, update

from storage.db import Database
from storage.models import (
    Answer,
    Checkin,
    CheckinKind,
    CheckinStatus,
    ContactRequest,
    Organisation,
    Participant,
    Person,
    Phase,
    Placement,
    Role,
    StaffMember,
    TelegramLink,
)

PATTERNS = ("calm", "stalling", "new", "silent", "blocked")
NAMES = {
    "ouder": ("Olga", "Piet", "Fatma", "Ruud", "Anouk", "Said"),
    "gezinshuisouder": ("Kees", "Mia", "Joost", "Ineke", "Bram", "Nadia"),
}
YOUTHS = ("Sam", "Noor", "Lars", "Yara", "Daan", "Lina", "Milan", "Zoë", "Finn", "Eva")


@dataclass
class Seeded:
    begeleider_user_id: int
    begeleider_person_id: int
    placements: dict[str, list[int]] = field(default_factory=dict)  # pattern -> placement ids
    participant_users: list[int] = field(default_factory=list)


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


async def seed(
    db: Database,
    *,
    now: dt.datetime,
    placements: int,
    weeks: int,
    patterns: tuple[str, ...] = PATTERNS,
    begeleider_user_id: int = 1001,
    first_user_id: int = 100_000,
    age_weeks: int | None = None,
) -> Seeded:
    """Create one begeleider with `placements` placements and `weeks` weeks of history.

    The placements started `age_weeks` ago (default: four weeks before their history), so a
    benchmark can give short and long histories the same placements: same phase week, same
    route meetings due, the same digest to say.
    """
    users = count(first_user_id)
    this_week = monday(now.date()) - dt.timedelta(days=7)  # the week the digest looks at
    async with db.session() as session:
        organisation = Organisation(name=f"Seed {first_user_id}", created_at=now)
        begeleider = Person(first_name="Bea", created_at=now, paused=False)
        begeleider.telegram = TelegramLink(
            telegram_user_id=begeleider_user_id,
            chat_id=begeleider_user_id,
            language="nl",
            time_zone="Europe/Amsterdam",
            reachable=True,
            linked_at=now,
        )
        session.add_all([organisation, begeleider])
        await session.flush()
        staff = StaffMember(
            organisation_id=organisation.id,
            person_id=begeleider.id,
            role=Role.BEGELEIDER,
            created_at=now,
        )
        session.add(staff)
        await session.flush()
        result = Seeded(begeleider_user_id, begeleider.id)
        started = now - dt.timedelta(weeks=weeks + 4 if age_weeks is None else age_weeks)
        checkin_rows: list[dict[str, object]] = []
        answer_plan: list[tuple[int, str, list[tuple[str, str, int | None]], dt.datetime]] = []
        for index in range(placements):
            pattern = patterns[index % len(patterns)]
            joined = now - dt.timedelta(days=2) if pattern == "new" else started
            placement = Placement(
                organisation_id=organisation.id,
                youth_name=YOUTHS[index % len(YOUTHS)],
                gezinshuis_name=f"Huis {index}",
                phase=Phase.STABILISATIEFASE,
                phase_since=joined,
                start_date=joined.date(),
                begeleider_id=staff.id,
                behandelaar_id=None,
                created_at=joined,
            )
            session.add(placement)
            await session.flush()
            result.placements.setdefault(pattern, []).append(placement.id)
            for role in (Role.OUDER, Role.GEZINSHUISOUDER):
                user_id = next(users)
                result.participant_users.append(user_id)
                person = Person(
                    first_name=NAMES[str(role)][index % 6], created_at=joined, paused=False
                )
                person.telegram = TelegramLink(
                    telegram_user_id=user_id,
                    chat_id=user_id,
                    language="nl",
                    time_zone="Europe/Amsterdam",
                    reachable=not (pattern == "blocked" and role == Role.GEZINSHUISOUDER),
                    linked_at=joined,
                )
                session.add(person)
                await session.flush()
                participant = Participant(
                    placement_id=placement.id, person_id=person.id, role=role, joined_at=joined
                )
                session.add(participant)
                await session.flush()
                if pattern == "new":
                    continue
                for back in range(weeks - 1, -1, -1):
                    week = this_week - dt.timedelta(weeks=back)
                    status, answers = _week(pattern, role, back)
                    due = dt.datetime.combine(
                        week + dt.timedelta(days=6), dt.time(18), tzinfo=dt.UTC
                    )
                    year, number, _ = week.isocalendar()
                    checkin_rows.append(
                        {
                            "participant_id": participant.id,
                            "placement_id": placement.id,
                            "person_id": person.id,
                            "role": role,
                            "kind": CheckinKind.WEEKLY,
                            "period": f"{year}-W{number:02d}",
                            "phase": Phase.STABILISATIEFASE,
                            "questions": ["contact", "samenwerken"],
                            "status": status,
                            "due_at": due,
                            "sent_at": due,
                            "closes_at": due + dt.timedelta(days=4),
                            "closed_at": due + dt.timedelta(days=4) if back else None,
                            "skip_reason": None,
                        }
                    )
                    answer_plan.append((len(checkin_rows) - 1, str(role), answers, due))
        if checkin_rows:
            await session.execute(insert(Checkin), checkin_rows)
            ids = list(await session.scalars(select(Checkin.id).order_by(Checkin.id)))
            ids = ids[-len(checkin_rows) :]
            answer_rows = []
            for row_index, role, answers, due in answer_plan:
                row = checkin_rows[row_index]
                for question, value, score in answers:
                    answer_rows.append(
                        {
                            "checkin_id": ids[row_index],
                            "placement_id": row["placement_id"],
                            "person_id": row["person_id"],
                            "role": role,
                            "question_id": question,
                            "value": value,
                            "score": score,
                            "text": None,
                            "answered_at": due + dt.timedelta(minutes=5),
                            "changed_at": None,
                        }
                    )
            if answer_rows:
                await session.execute(insert(Answer), answer_rows)
    return result


def _week(
    pattern: str, role: Role, back: int
) -> tuple[CheckinStatus, list[tuple[str, str, int | None]]]:
    """One person's answers `back` weeks before the digest week (0 = that week)."""
    if pattern == "silent" and role == Role.OUDER and back < 2:
        return CheckinStatus.MISSED, []
    if pattern == "blocked" and role == Role.GEZINSHUISOUDER and back < 2:
        return CheckinStatus.MISSED, []
    if pattern == "stalling":
        score = 2 if (role == Role.OUDER and back == 0) else 4
        contact = "geen" if back < 3 else "app"
        answers = [("contact", contact, None), ("samenwerken", str(score), score)]
        if role == Role.GEZINSHUISOUDER:
            answers.append(("spanning", "ja" if back < 2 else "nee", 1 if back < 2 else 5))
        return CheckinStatus.ANSWERED, answers
    score = 4 + (back % 2)
    return CheckinStatus.ANSWERED, [
        ("contact", "gesproken", None),
        ("samenwerken", str(score), score),
    ]


# A caseload of twenty, as a begeleider has it: three stall, one is silent, one cannot be
# reached, one is new, the rest are calm (one skipped a week, one wrote something).
CASELOAD = (
    "calm", "stalling", "calm", "calm", "silent", "calm", "calm", "stalling", "calm", "calm",
    "blocked", "calm", "calm", "calm", "stalling", "calm", "calm", "new", "calm", "calm",
)  # fmt: skip
CASELOAD_YOUTHS = (
    "Sam", "Noor", "Lars", "Yara", "Daan", "Lina", "Milan", "Zoë", "Finn", "Eva",
    "Jesse", "Amira", "Bo", "Sem", "Tess", "Mees", "Liv", "Ravi", "Fenna", "Gijs",
)  # fmt: skip
CASELOAD_NAMES = (
    "Olga", "Piet", "Fatma", "Ruud", "Anouk", "Said", "Wendy", "Karin", "Hans", "Esra",
    "Marco", "Sanne", "Ilse", "Youssef", "Petra", "Rob", "Naima", "Dirk", "Lotte", "Gert",
    "Kees", "Mia", "Joost", "Ineke", "Bram", "Nadia", "Henk", "Tineke", "Wim", "Ayla",
    "Jan", "Marloes", "Ahmed", "Els", "Ria", "Theo", "Greet", "Koen", "Miriam", "Frank",
)  # fmt: skip


async def seed_caseload(db: Database, *, now: dt.datetime, weeks: int = 8) -> Seeded:
    """Twenty placements with distinct names and a realistic spread of route meetings."""
    seeded = await seed(db, now=now, placements=len(CASELOAD), weeks=weeks, patterns=CASELOAD)
    this_week = monday(now.date()) - dt.timedelta(days=7)
    sunday = dt.datetime.combine(this_week + dt.timedelta(days=6), dt.time(18), tzinfo=dt.UTC)
    async with db.session() as session:
        placements = list(await session.scalars(select(Placement).order_by(Placement.id)))
        for index, placement in enumerate(placements):
            placement.youth_name = CASELOAD_YOUTHS[index]
            if CASELOAD[index] != "new":
                # Most started their phase six weeks ago: no route meeting due yet. Two are
                # due within the warning weeks, one stalling placement's meeting is overdue.
                ago = {2: 10, 11: 11, 14: 13}.get(index, 6)
                placement.phase_since = now - dt.timedelta(weeks=ago)
        people = await session.execute(
            select(Participant.role, Participant.placement_id, Person)
            .join(Person, Person.id == Participant.person_id)
            .order_by(Participant.id)
        )
        order = [p.id for p in placements]
        for role, placement_id, person in people:
            side = 0 if role == Role.OUDER else len(CASELOAD)
            person.first_name = CASELOAD_NAMES[side + order.index(placement_id)]
        stalling = seeded.placements["stalling"]
        members = {
            (p.placement_id, str(p.role)): p
            for p in await session.scalars(select(Participant).order_by(Participant.id))
        }
        # One parent asked for contact; one wrote in the open question; one skipped.
        asking = members[(stalling[0], "ouder")]
        session.add(
            ContactRequest(
                placement_id=stalling[0],
                person_id=asking.person_id,
                role=Role.OUDER,
                created_at=sunday + dt.timedelta(hours=1),
            )
        )
        writer = members[(stalling[1], "gezinshuisouder")]
        checkin = await session.scalar(
            select(Checkin).where(Checkin.person_id == writer.person_id, Checkin.due_at == sunday)
        )
        assert checkin is not None
        session.add(
            Answer(
                checkin_id=checkin.id,
                placement_id=stalling[1],
                person_id=writer.person_id,
                role=Role.GEZINSHUISOUDER,
                question_id="open",
                text='Het bezoek op woensdag ging niet door. Zoë vroeg "komt mama nog?" <3',
                answered_at=sunday + dt.timedelta(minutes=8),
            )
        )
        calm_id = placements[5].id
        skipper = members[(calm_id, "ouder")]
        await session.execute(
            update(Checkin)
            .where(Checkin.person_id == skipper.person_id, Checkin.due_at == sunday)
            .values(status=CheckinStatus.SKIPPED, skip_reason="liever_niet")
        )
        await session.execute(
            delete(Answer).where(
                Answer.person_id == skipper.person_id, Answer.answered_at > sunday
            )
        )
    return seeded
