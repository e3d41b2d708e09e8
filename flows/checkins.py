"""The weekly check-in: planning, asking one question at a time, answers, skips, reminders.

Buttons carry `ck:<checkin id>:<question index>:<value>`; every press is checked again against
the database (whose check-in, still open, a known value), so old or foreign buttons do nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Row,
    String,
    and_,
    bindparam,
    cast,
    exists,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from flows.outbox import drop_pending, enqueue
from flows.people import Caller, Me, clear_state, set_state
from flows.planning import PAGE_SIZE, Page, page_of
from flows.questions import FACES, QUESTIONS, SKIP_REASONS, Kind
from flows.replies import Button, Outcome, Say
from flows.route import weekly_questions
from flows.schedule import (
    checkin_moment,
    local_date,
    out_of_quiet_hours,
    week_key,
    week_number,
    weekly_due,
)
from flows.settings import CheckinRules
from storage.db import dialect_insert
from storage.models import (
    Answer,
    Checkin,
    CheckinKind,
    CheckinStatus,
    OutboxMessage,
    OutboxStatus,
    Participant,
    Person,
    Phase,
    Placement,
    Role,
    StaffMember,
    TelegramLink,
)

OPEN_TEXT_FLOW = "checkin_text"
OPEN_QUESTION = "open"  # the optional free-text question at the end


def is_paused(person: Person, now: dt.datetime) -> bool:
    if not person.paused:
        return False
    return person.paused_until is None or person.paused_until > now


def not_paused(now: dt.datetime) -> ColumnElement[bool]:
    """`is_paused` as SQL, for the planners that select columns instead of people."""
    return or_(
        Person.paused.is_(False),
        and_(Person.paused_until.is_not(None), Person.paused_until <= now),
    )


# --- Planning (run by the clock) --------------------------------------------------------------


async def tidy(session: AsyncSession, now: dt.datetime) -> None:
    """End pauses whose date has come and close check-ins that ran out (as missed)."""
    await _end_pauses(session, now)
    await _close_expired(session, now)


async def _end_pauses(session: AsyncSession, now: dt.datetime) -> None:
    await session.execute(
        update(Person)
        .where(Person.paused.is_(True), Person.paused_until.is_not(None))
        .where(Person.paused_until <= now)
        .values(paused=False, paused_until=None)
    )


async def _close_expired(session: AsyncSession, now: dt.datetime) -> None:
    expired = list(
        await session.scalars(
            select(Checkin.id).where(
                Checkin.status.in_([CheckinStatus.OPEN, CheckinStatus.ANSWERED]),
                Checkin.closed_at.is_(None),
                Checkin.closes_at <= now,
            )
        )
    )
    if not expired:
        return
    await session.execute(
        update(Checkin)
        .where(Checkin.id.in_(expired), Checkin.status == CheckinStatus.OPEN)
        .values(status=CheckinStatus.MISSED)
    )
    await session.execute(update(Checkin).where(Checkin.id.in_(expired)).values(closed_at=now))
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.kind.in_(["checkin", "checkin_reminder"]),
            OutboxMessage.subject_id.in_(expired),
        )
        .values(status=OutboxStatus.DROPPED)
    )


async def active_participants(
    session: AsyncSession, now: dt.datetime, after: int, size: int
) -> Sequence[Row[*tuple[Any, ...]]]:
    """A page of participants who may get something now: reachable, not paused, placement open.

    Columns only (no ORM objects): the planners go through every participant each beat.
    """
    statement = (
        select(
            Participant.id,
            Participant.person_id,
            Participant.role,
            Participant.joined_at,
            Person.first_name,
            Person.checkin_weekday,
            Person.checkin_time,
            TelegramLink.time_zone,
            Placement.id.label("placement_id"),
            Placement.phase,
            Placement.youth_name,
        )
        .join(Person, Participant.person_id == Person.id)
        .join(TelegramLink, TelegramLink.person_id == Person.id)
        .join(Placement, Placement.id == Participant.placement_id)
        .where(
            Participant.id > after,
            Placement.phase != Phase.AFGESLOTEN,
            TelegramLink.reachable.is_(True),
            not_paused(now),
        )
        .order_by(Participant.id)
        .limit(size)
    )
    return (await session.execute(statement)).all()


async def plan_weekly(
    session: AsyncSession,
    now: dt.datetime,
    rules: CheckinRules,
    after: int = 0,
    size: int = PAGE_SIZE,
) -> Page:
    """Create the weekly check-ins that are due now for one page of participants."""
    rows = await active_participants(session, now, after, size)
    due_now: list[tuple[Row[Any], dt.datetime, str]] = []
    for row in rows:
        weekday, at = checkin_moment(row.role, row.checkin_weekday, row.checkin_time)
        due = weekly_due(now, weekday, at, row.time_zone)
        if due > now or now - due > rules.send_late_until or row.joined_at > due:
            continue
        due_now.append((row, due, week_key(local_date(due, row.time_zone))))
    if not due_now:
        return page_of([row.id for row in rows], size, 0)
    made = {
        tuple(row)
        for row in (
            await session.execute(
                select(Checkin.participant_id, Checkin.period).where(
                    Checkin.participant_id.in_([row.id for row, _, _ in due_now]),
                    Checkin.kind == CheckinKind.WEEKLY,
                    Checkin.period.in_({period for _, _, period in due_now}),
                )
            )
        ).all()
    }
    queued = 0
    for row, due, period in due_now:
        if (row.id, period) in made:
            continue
        checkin = await _insert_checkin(session, row, period, due, rules)
        if checkin is None:
            continue  # another planner made it first
        say = question_say(checkin, 0, None, youth=row.youth_name, name=row.first_name)
        queued += await enqueue(
            session,
            key=f"checkin:{checkin.id}",
            person_id=row.person_id,
            kind="checkin",
            say=say,
            due_at=out_of_quiet_hours(due, row.time_zone, rules.quiet),
            expires_at=checkin.closes_at,
            now=now,
            placement_id=row.placement_id,
            subject_id=checkin.id,
        )
    return page_of([row.id for row in rows], size, queued)


async def _insert_checkin(
    session: AsyncSession,
    participant: Row[Any],
    period: str,
    due: dt.datetime,
    rules: CheckinRules,
) -> Checkin | None:
    """Insert this week's check-in unless it exists; return it (not loaded again) or None."""
    questions = weekly_questions(participant.role, participant.phase, week_number(due.date()))
    values = {
        "participant_id": participant.id,
        "placement_id": participant.placement_id,
        "person_id": participant.person_id,
        "role": participant.role,
        "kind": CheckinKind.WEEKLY,
        "period": period,
        "phase": participant.phase,
        "questions": list(questions),
        "status": CheckinStatus.OPEN,
        "due_at": due,
        "closes_at": due + rules.closes_after,
    }
    insert = dialect_insert(session)
    statement = (
        insert(Checkin)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["participant_id", "kind", "period"])
        .returning(Checkin.id)
    )
    inserted: int | None = await session.scalar(statement)
    if inserted is None:
        return None
    return Checkin(id=inserted, **values)  # transient: only read to word the first question


async def plan_reminders(
    session: AsyncSession,
    now: dt.datetime,
    rules: CheckinRules,
    after: int = 0,
    size: int = PAGE_SIZE,
) -> Page:
    """Queue the one gentle reminder for open check-ins sent a day ago (a page of them)."""
    reminder_key = literal("checkin_reminder:") + cast(Checkin.id, String)
    rows = (
        await session.execute(
            select(
                Checkin.id,
                Checkin.kind,
                Checkin.closes_at,
                Checkin.person_id,
                Checkin.placement_id,
                Person.first_name,
                TelegramLink.time_zone,
                Placement.youth_name,
            )
            .join(Person, Person.id == Checkin.person_id)
            .join(TelegramLink, TelegramLink.person_id == Person.id)
            .join(Placement, Placement.id == Checkin.placement_id)
            .where(
                Checkin.id > after,
                Checkin.status == CheckinStatus.OPEN,
                Checkin.sent_at.is_not(None),
                Checkin.sent_at <= now - rules.reminder_after,
                Checkin.closes_at > now,
                TelegramLink.reachable.is_(True),
                not_paused(now),
                # Reminded already (the usual case after the first beat): not even loaded.
                ~exists().where(OutboxMessage.key == reminder_key),
            )
            .order_by(Checkin.id)
            .limit(size)
        )
    ).all()
    queued = 0
    for row in rows:
        say = Say(
            "checkin/reminder",
            {
                "name": row.first_name,
                "youth": row.youth_name,
                "measurement": row.kind == CheckinKind.MEASUREMENT,
            },
            buttons=((Button("continue_checkin", f"ck:{row.id}:go"),),),
        )
        queued += await enqueue(
            session,
            key=f"checkin_reminder:{row.id}",
            person_id=row.person_id,
            kind="checkin_reminder",
            say=say,
            due_at=out_of_quiet_hours(now, row.time_zone, rules.quiet),
            expires_at=row.closes_at,
            now=now,
            placement_id=row.placement_id,
            subject_id=row.id,
        )
    return page_of([row.id for row in rows], size, queued)


async def after_delivery(
    session: AsyncSession, kind: str, subject_id: int | None, now: dt.datetime
) -> None:
    """Note when a check-in actually reached the person (reminders count from then)."""
    if kind == "checkin" and subject_id is not None:
        await session.execute(
            update(Checkin)
            .where(Checkin.id == subject_id, Checkin.sent_at.is_(None))
            .values(sent_at=now)
        )


# --- Showing a question ----------------------------------------------------------------------


class CheckinFacts(Protocol):
    """What showing and changing a check-in needs: an ORM Checkin, or a press's columns."""

    @property
    def id(self) -> int: ...
    @property
    def placement_id(self) -> int: ...
    @property
    def person_id(self) -> int: ...
    @property
    def role(self) -> Role: ...
    @property
    def kind(self) -> CheckinKind: ...
    @property
    def status(self) -> CheckinStatus: ...
    @property
    def questions(self) -> list[str]: ...
    @property
    def due_at(self) -> dt.datetime: ...
    @property
    def closes_at(self) -> dt.datetime: ...
    @property
    def closed_at(self) -> dt.datetime | None: ...


def question_say(
    checkin: CheckinFacts,
    index: int,
    chosen: str | None,
    *,
    youth: str,
    name: str,
    edit: bool = False,
) -> Say:
    """One question as a message: its text, the answer buttons, the current choice."""
    question = QUESTIONS[checkin.questions[index]]
    is_open = checkin.status in (CheckinStatus.OPEN, CheckinStatus.ANSWERED)
    rows: list[tuple[Button, ...]] = []
    if is_open:
        if question.kind == Kind.FACES:
            rows.append(
                tuple(
                    Button(
                        "face",
                        f"ck:{checkin.id}:{index}:{value}",
                        args={"face": face, "picked": value == chosen},
                    )
                    for value, face in zip(question.values, FACES, strict=True)
                )
            )
        else:
            rows.extend(
                (
                    Button(
                        option.label,
                        f"ck:{checkin.id}:{index}:{option.value}",
                        args={"picked": option.value == chosen},
                    ),
                )
                for option in question.options
            )
        if checkin.status == CheckinStatus.OPEN and index == 0:
            rows.append((Button("skip_week", f"ck:{checkin.id}:skip"),))
    chosen_label = None
    if chosen is not None:
        chosen_label = (
            FACES[int(chosen) - 1]
            if question.kind == Kind.FACES
            else next(o.label for o in question.options if o.value == chosen)
        )
    context = {
        "question": question.id,
        "kind": str(question.kind),
        "number": index + 1,
        "total": len(checkin.questions),
        "youth": youth,
        "name": name,
        "role": str(checkin.role),
        "intro": _variant(checkin) if index == 0 else None,
        "measurement": checkin.kind == CheckinKind.MEASUREMENT,
        "chosen_face": chosen_label if question.kind == Kind.FACES else None,
        "chosen_label": chosen_label if question.kind != Kind.FACES else None,
        "closed": not is_open,
    }
    return Say("checkin/question", context, buttons=tuple(rows), edit=edit)


def _variant(checkin: CheckinFacts) -> int:
    """Which opening line: it changes from week to week so the message does not feel the same."""
    return week_number(checkin.due_at.date()) % 4


# --- Answering -----------------------------------------------------------------------------


@dataclass
class _Pressed:
    """A check-in as a button press reads it: plain columns, no ORM object.

    A press is what the bot handles most. Loading four ORM objects and letting the unit of
    work write them back took about a quarter of a press's database time (1.6 against 1.2 ms),
    so the press path reads columns and writes with plain statements, on the session's own
    connection and transaction.
    """

    id: int
    placement_id: int
    person_id: int
    role: Role
    kind: CheckinKind
    status: CheckinStatus
    questions: list[str]
    due_at: dt.datetime
    closes_at: dt.datetime
    closed_at: dt.datetime | None


@dataclass
class _Loaded:
    connection: AsyncConnection
    telegram_user_id: int
    first_name: str
    youth: str
    checkin: _Pressed
    answers: dict[str, tuple[int, str | None]]  # question id -> (answer id, value)


# Built once: building a statement (not running it) was a noticeable part of a press.
_PRESSED = (
    select(
        TelegramLink.language,
        Person.first_name,
        Placement.youth_name,
        Checkin.id,
        Checkin.placement_id,
        Checkin.person_id,
        Checkin.role,
        Checkin.kind,
        Checkin.status,
        Checkin.questions,
        Checkin.due_at,
        Checkin.closes_at,
        Checkin.closed_at,
    )
    .join(Person, Person.id == TelegramLink.person_id)
    .join(Checkin, Checkin.person_id == Person.id)
    .join(Placement, Placement.id == Checkin.placement_id)
    .where(TelegramLink.telegram_user_id == bindparam("user"))
    .where(Checkin.id == bindparam("checkin"))
)
_ANSWERS = select(Answer.question_id, Answer.id, Answer.value).where(
    Answer.checkin_id == bindparam("checkin")
)
_LANGUAGE = select(TelegramLink.language).where(TelegramLink.telegram_user_id == bindparam("user"))
_NEW_ANSWER = insert(Answer)
_CHANGED_ANSWER = (
    update(Answer)
    .where(Answer.id == bindparam("answer_id"))
    .values(value=bindparam("new_value"), score=bindparam("new_score"), changed_at=bindparam("at"))
)


async def _load(
    session: AsyncSession, caller: Caller, checkin_id: int
) -> tuple[_Loaded | None, Outcome]:
    """The presser's own check-in with its placement and answers (two statements)."""
    connection = await session.connection()
    user = caller.telegram_user_id
    found = (await connection.execute(_PRESSED, {"user": user, "checkin": checkin_id})).first()
    if found is None:  # not theirs, gone, or someone we do not know: say it in their language
        language = await connection.scalar(_LANGUAGE, {"user": user})
        return None, Outcome(language or caller.telegram_language).say("common/button_expired")
    language, first_name, youth, *columns = found
    answers = {
        question_id: (answer_id, value)
        for question_id, answer_id, value in await connection.execute(
            _ANSWERS, {"checkin": checkin_id}
        )
    }
    loaded = _Loaded(connection, user, first_name, youth, _Pressed(*columns), answers)
    return loaded, Outcome(language)


def _changeable(checkin: CheckinFacts, now: dt.datetime) -> bool:
    return (
        checkin.status in (CheckinStatus.OPEN, CheckinStatus.ANSWERED)
        and checkin.closed_at is None
        and now < checkin.closes_at
    )


async def press(
    session: AsyncSession,
    caller: Caller,
    checkin_id: int,
    action: str,
    value: str | None,
    now: dt.datetime,
) -> Outcome:
    """Handle a button of a check-in: an answer, skip, a skip reason, done, or continue."""
    loaded, out = await _load(session, caller, checkin_id)
    if loaded is None:
        return out
    if not _changeable(loaded.checkin, now):
        return out.say("checkin/closed", youth=loaded.youth, status=str(loaded.checkin.status))
    if action == "skip":
        return _ask_skip_reason(loaded, out)
    if action == "why":
        return await _skip(session, loaded, value, now, out)
    if action == "done":
        await clear_state(session, caller.telegram_user_id)
        out.close_pressed = True
        return out.say(
            "checkin/thanks", variant=_variant(loaded.checkin), youth=loaded.youth, wrote=False
        )
    if action == "go":
        return _continue(loaded, out)
    if action.isdigit():
        return await _answer(session, loaded, int(action), value, now, out)
    return out.say("common/button_expired")


async def _answer(
    session: AsyncSession,
    loaded: _Loaded,
    index: int,
    value: str | None,
    now: dt.datetime,
    out: Outcome,
) -> Outcome:
    checkin, connection = loaded.checkin, loaded.connection
    if not 0 <= index < len(checkin.questions) or value is None:
        return out.say("common/button_expired")
    question = QUESTIONS[checkin.questions[index]]
    if value not in question.values:
        return out.say("common/button_expired")
    existing = loaded.answers.get(question.id)
    if existing is None:
        result = await connection.execute(
            _NEW_ANSWER,
            {
                "checkin_id": checkin.id,
                "placement_id": checkin.placement_id,
                "person_id": checkin.person_id,
                "role": checkin.role,
                "question_id": question.id,
                "value": value,
                "score": question.score(value),
                "answered_at": now,
            },
        )
        (answer_id,) = result.inserted_primary_key or (0,)
        loaded.answers[question.id] = (answer_id, value)
    elif existing[1] == value:
        return out  # the same button again (or twice quickly): nothing changes
    else:
        await connection.execute(
            _CHANGED_ANSWER,
            {
                "answer_id": existing[0],
                "new_value": value,
                "new_score": question.score(value),
                "at": now,
            },
        )
    youth, name = loaded.youth, loaded.first_name
    out.add(question_say(checkin, index, value, youth=youth, name=name, edit=True))
    if existing is not None:
        return out  # a changed answer: the next question was asked already
    unanswered = _unanswered(checkin, loaded.answers)
    if unanswered:
        if unanswered[0] > index:
            out.add(question_say(checkin, unanswered[0], None, youth=youth, name=name))
        return out
    await connection.execute(
        update(Checkin).where(Checkin.id == checkin.id).values(status=CheckinStatus.ANSWERED)
    )
    checkin.status = CheckinStatus.ANSWERED
    await set_state(
        session,
        loaded.telegram_user_id,
        OPEN_TEXT_FLOW,
        "open",
        {"checkin_id": checkin.id},
        now,
    )
    return out.add(_open_question(checkin, youth))


def _unanswered(checkin: CheckinFacts, answered: Container[str]) -> list[int]:
    return [i for i, qid in enumerate(checkin.questions) if qid not in answered]


def _open_question(checkin: CheckinFacts, youth: str) -> Say:
    return Say(
        "checkin/open_question",
        {"youth": youth, "measurement": checkin.kind == CheckinKind.MEASUREMENT},
        buttons=(
            (Button("no_thanks", f"ck:{checkin.id}:done"),),
            (Button("contact_request", f"cr:{checkin.placement_id}"),),
        ),
    )


def _continue(loaded: _Loaded, out: Outcome) -> Outcome:
    unanswered = _unanswered(loaded.checkin, loaded.answers)
    if not unanswered:
        return out.add(_open_question(loaded.checkin, loaded.youth))
    return out.add(
        question_say(
            loaded.checkin, unanswered[0], None, youth=loaded.youth, name=loaded.first_name
        )
    )


def _ask_skip_reason(loaded: _Loaded, out: Outcome) -> Outcome:
    if loaded.checkin.status != CheckinStatus.OPEN:
        return out.say("checkin/closed", youth=loaded.youth, status=str(loaded.checkin.status))
    buttons = tuple(
        (Button(f"skip_{reason}", f"ck:{loaded.checkin.id}:why:{reason}"),)
        for reason in SKIP_REASONS
    )
    return out.add(Say("checkin/skip_reason", {"youth": loaded.youth}, buttons=buttons, edit=True))


async def _skip(
    session: AsyncSession, loaded: _Loaded, reason: str | None, now: dt.datetime, out: Outcome
) -> Outcome:
    checkin = loaded.checkin
    if reason not in SKIP_REASONS or checkin.status != CheckinStatus.OPEN:
        return out.say("common/button_expired")
    await loaded.connection.execute(
        update(Checkin)
        .where(Checkin.id == checkin.id)
        .values(status=CheckinStatus.SKIPPED, skip_reason=reason, closed_at=now)
    )
    await drop_pending(session, kind="checkin_reminder", subject_id=checkin.id)
    return out.add(Say("checkin/skipped", {"youth": loaded.youth, "reason": reason}, edit=True))


async def open_text(
    session: AsyncSession, me: Me, checkin_id: int, text: str, now: dt.datetime
) -> Outcome:
    """Store what the person wrote for their begeleider, as typed."""
    out = Outcome(me.language)
    await clear_state(session, me.link.telegram_user_id)
    checkin = await session.get(Checkin, checkin_id)
    if checkin is None or checkin.person_id != me.person.id or not _changeable(checkin, now):
        return out.say("common/nothing_asked")
    typed = text.strip()  # stored as typed, however long; shortened only where shown
    existing = await session.scalar(
        select(Answer).where(Answer.checkin_id == checkin.id, Answer.question_id == OPEN_QUESTION)
    )
    if existing is None:
        session.add(
            Answer(
                checkin_id=checkin.id,
                placement_id=checkin.placement_id,
                person_id=checkin.person_id,
                role=checkin.role,
                question_id=OPEN_QUESTION,
                text=typed,
                answered_at=now,
            )
        )
    else:
        existing.text, existing.changed_at = typed, now
    begeleider = await session.scalar(
        select(Person.first_name)
        .join(StaffMember, StaffMember.person_id == Person.id)
        .join(Placement, Placement.begeleider_id == StaffMember.id)
        .where(Placement.id == checkin.placement_id)
    )
    return out.say("checkin/open_saved", begeleider=begeleider)


async def typed_while_open(session: AsyncSession, me: Me, now: dt.datetime) -> Outcome | None:
    """If a check-in waits for buttons, say so kindly (typing is for the last question)."""
    checkin = await session.scalar(
        select(Checkin)
        .where(
            Checkin.person_id == me.person.id,
            Checkin.status == CheckinStatus.OPEN,
            Checkin.sent_at.is_not(None),
            Checkin.closes_at > now,
        )
        .order_by(Checkin.due_at.desc())
        .limit(1)
    )
    if checkin is None:
        return None
    return Outcome(me.language).add(
        Say("checkin/use_buttons", buttons=((Button("continue_checkin", f"ck:{checkin.id}:go"),),))
    )
