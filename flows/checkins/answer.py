"""A press on a check-in button: an answer, skip with its reason, done, or continue.

Buttons carry `ck:<checkin id>:<question index>:<value>`; every press is checked again against
the database (whose check-in, still open, a known value), so old or foreign buttons do nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass

from sqlalchemy import JSON, Integer, bindparam, column, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from flows import guards
from flows.buttons import CHECKIN_WHY
from flows.checkins.ask import (
    changeable,
    open_question,
    question_say,
    required_done,
    unanswered_questions,
    variant,
)
from flows.checkins.free_text import OPEN_TEXT_FLOW
from flows.outbox import drop_pending
from flows.people import Caller, clear_state, set_state
from flows.plan import progress
from flows.questions import QUESTIONS, SKIP_REASONS
from flows.replies import Outcome, Say
from storage.models import (
    Answer,
    Checkin,
    CheckinKind,
    CheckinStatus,
    Person,
    Placement,
    Role,
    TelegramLink,
)


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
    # The answer row the press's own statement wrote (PostgreSQL, _PRESS): then no other write.
    written: int | None = None


# What a press reads about its check-in, in this order (both statements below return it).
_CONTEXT = (
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
# Built once: building a statement (not running it) was a noticeable part of a press.
_PRESSED = (
    select(*_CONTEXT)
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


# PostgreSQL: a press in one statement (one round trip). It reads what `_PRESSED` and `_ANSWERS`
# read and, for an answer button, writes the answer in the same go: inserted, changed, or left
# alone when it is the same. The write happens only where the Python below would make it: the
# check-in is this person's and still changeable (`changeable`), the index names a plain question
# (not a goal entry: those take the statements below) and the value is one of its answers
# (`:scores` holds the score of the pressed value for every question that has it). The answers
# come from the statement's snapshot, so they are those from before the write; `written` is the
# row written, if any.
_PRESS = (
    text(
        """
WITH pressed AS (
    SELECT tl.language, pe.first_name, pl.youth_name,
           c.id, c.placement_id, c.person_id, c.role, c.kind, c.status, c.questions,
           c.due_at, c.closes_at, c.closed_at,
           c.questions ->> CAST(:index AS integer) AS item
    FROM telegram_link tl
    JOIN person pe ON pe.id = tl.person_id
    JOIN checkin c ON c.person_id = pe.id
    JOIN placement pl ON pl.id = c.placement_id
    WHERE tl.telegram_user_id = :user AND c.id = :checkin
), written AS (
    INSERT INTO answer (checkin_id, placement_id, person_id, role, question_id, value, score,
                        answered_at)
    SELECT id, placement_id, person_id, role, item, :value,
           CAST(CAST(:scores AS jsonb) ->> item AS integer), :now
    FROM pressed
    WHERE status IN ('open', 'answered') AND closed_at IS NULL AND closes_at > :now
      AND (CAST(:scores AS jsonb) -> item) IS NOT NULL
    ON CONFLICT (checkin_id, question_id) DO UPDATE
        SET value = excluded.value, score = excluded.score, changed_at = excluded.answered_at
        WHERE answer.value IS DISTINCT FROM excluded.value
    RETURNING id
)
SELECT pressed.language, pressed.first_name, pressed.youth_name,
       pressed.id, pressed.placement_id, pressed.person_id, pressed.role, pressed.kind,
       pressed.status, pressed.questions, pressed.due_at, pressed.closes_at, pressed.closed_at,
       (SELECT json_agg(json_build_array(a.question_id, a.id, a.value))
        FROM answer a WHERE a.checkin_id = :checkin) AS answers,
       (SELECT id FROM written) AS written
FROM pressed
"""
    )
    .columns(
        *_CONTEXT,
        column("answers", JSON),
        column("written", Integer),
    )
    .bindparams(
        bindparam("now", type_=Checkin.closes_at.type),
    )
)


@functools.cache
def _scores(value: str | None) -> str:
    """For `_PRESS`: the score of `value` for every plain question that has it as an answer."""
    if value is None:
        return "{}"
    return json.dumps({qid: q.score(value) for qid, q in QUESTIONS.items() if value in q.values})


async def _load(
    session: AsyncSession,
    caller: Caller,
    checkin_id: int,
    action: str,
    value: str | None,
    now: dt.datetime,
) -> tuple[_Loaded | None, Outcome]:
    """The presser's own check-in with its placement and answers: on PostgreSQL one statement
    that also writes an answer (`_PRESS`), on SQLite two (no round trips to save there)."""
    connection = await session.connection()
    user = caller.telegram_user_id
    if connection.dialect.name == "postgresql":
        index = int(action) if action.isdigit() else -1
        params = {
            "user": user,
            "checkin": checkin_id,
            "index": index,
            "value": value,
            "scores": _scores(value) if index >= 0 else "{}",
            "now": now,
        }
        row = (await connection.execute(_PRESS, params)).first()
        if row is not None:
            language, first_name, youth, *columns, answered, written = row
            answers = {qid: (answer_id, v) for qid, answer_id, v in answered or []}
            checkin = _Pressed(*columns)
            loaded = _Loaded(connection, user, first_name, youth, checkin, answers, written)
            return loaded, Outcome(language)
        language = await connection.scalar(_LANGUAGE, {"user": user})
        return None, Outcome(language or caller.telegram_language).say(guards.EXPIRED)
    found = (await connection.execute(_PRESSED, {"user": user, "checkin": checkin_id})).first()
    if found is None:  # not theirs, gone, or someone we do not know: say it in their language
        language = await connection.scalar(_LANGUAGE, {"user": user})
        return None, Outcome(language or caller.telegram_language).say(guards.EXPIRED)
    language, first_name, youth, *columns = found
    answers = {
        question_id: (answer_id, value)
        for question_id, answer_id, value in await connection.execute(
            _ANSWERS, {"checkin": checkin_id}
        )
    }
    loaded = _Loaded(connection, user, first_name, youth, _Pressed(*columns), answers)
    return loaded, Outcome(language)


async def press(
    session: AsyncSession,
    caller: Caller,
    checkin_id: int,
    action: str,
    value: str | None,
    now: dt.datetime,
) -> Outcome:
    """Handle a button of a check-in: an answer, skip, a skip reason, done, or continue."""
    loaded, out = await _load(session, caller, checkin_id, action, value, now)
    if loaded is None:
        return out
    if not changeable(loaded.checkin, now):
        return out.say("checkin/closed", youth=loaded.youth, status=str(loaded.checkin.status))
    if action == "skip":
        return _ask_skip_reason(loaded, out)
    if action == "why":
        return await _skip(session, loaded, value, now, out)
    if action == "done":
        await clear_state(session, caller.telegram_user_id)
        out.close_pressed = True
        return out.say(
            "checkin/thanks", variant=variant(loaded.checkin), youth=loaded.youth, wrote=False
        )
    if action == "go":
        return await _continue(session, loaded, out)
    if action.isdigit():
        return await _answer(session, loaded, int(action), value, now, out)
    return out.say(guards.EXPIRED)


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
        return out.say(guards.EXPIRED)
    item = checkin.questions[index]
    question_id, goal_id = progress.parse(item)
    question = QUESTIONS[question_id]
    # "Nu niet" under the optional goal question: kept as an answer without a score, so a
    # second press changes nothing and a face may still be chosen later.
    not_now = value == progress.NOT_NOW and progress.optional(item)
    if value not in question.values and not not_now:
        return out.say(guards.EXPIRED)
    score = None if not_now else question.score(value)
    existing = loaded.answers.get(question.id)
    if loaded.written is not None:  # written by the press's own statement (PostgreSQL)
        if existing is None:
            loaded.answers[question.id] = (loaded.written, value)
    elif existing is None:
        result = await connection.execute(
            _NEW_ANSWER,
            {
                "checkin_id": checkin.id,
                "placement_id": checkin.placement_id,
                "person_id": checkin.person_id,
                "role": checkin.role,
                "question_id": question.id,
                "value": value,
                "score": score,
                "answered_at": now,
                "goal_id": goal_id,
            },
        )
        (answer_id,) = result.inserted_primary_key or (0,)
        loaded.answers[question.id] = (answer_id, value)
    elif existing[1] == value:
        return out  # the same button again (or twice quickly): nothing changes
    else:
        await connection.execute(
            _CHANGED_ANSWER,
            {"answer_id": existing[0], "new_value": value, "new_score": score, "at": now},
        )
    youth, name = loaded.youth, loaded.first_name
    goal = await _goal(session, checkin, item)
    chosen = None if not_now else value
    out.add(
        question_say(
            checkin, index, chosen, youth=youth, name=name, edit=True, goal=goal, not_now=not_now
        )
    )
    if existing is not None:
        return out  # a changed answer: the next question was asked already
    unanswered = unanswered_questions(checkin, loaded.answers)
    if checkin.status == CheckinStatus.OPEN and required_done(checkin, loaded.answers):
        # Every question that counts is answered: a goal question still to come is optional.
        await connection.execute(
            update(Checkin).where(Checkin.id == checkin.id).values(status=CheckinStatus.ANSWERED)
        )
        checkin.status = CheckinStatus.ANSWERED
    if unanswered:
        if unanswered[0] > index:
            out.add(await _question(session, loaded, unanswered[0]))
        return out
    await set_state(
        session,
        loaded.telegram_user_id,
        OPEN_TEXT_FLOW,
        "open",
        {"checkin_id": checkin.id},
        now,
    )
    return out.add(open_question(checkin, youth))


async def _goal(session: AsyncSession, checkin: _Pressed, item: str) -> dict[str, object] | None:
    """The goal a goal question asks about (one statement, only for a goal question)."""
    if progress.parse(item)[1] is None:
        return None
    return await progress.goal_for_question(session, item, checkin.placement_id)


async def _question(session: AsyncSession, loaded: _Loaded, index: int) -> Say:
    checkin = loaded.checkin
    goal = await _goal(session, checkin, checkin.questions[index])
    return question_say(
        checkin, index, None, youth=loaded.youth, name=loaded.first_name, goal=goal
    )


async def _continue(session: AsyncSession, loaded: _Loaded, out: Outcome) -> Outcome:
    unanswered = unanswered_questions(loaded.checkin, loaded.answers)
    if not unanswered:
        return out.add(open_question(loaded.checkin, loaded.youth))
    return out.add(await _question(session, loaded, unanswered[0]))


def _ask_skip_reason(loaded: _Loaded, out: Outcome) -> Outcome:
    if loaded.checkin.status != CheckinStatus.OPEN:
        return out.say("checkin/closed", youth=loaded.youth, status=str(loaded.checkin.status))
    buttons = tuple(
        (CHECKIN_WHY.button(f"skip_{reason}", checkin=loaded.checkin.id, reason=reason),)
        for reason in SKIP_REASONS
    )
    return out.add(Say("checkin/skip_reason", {"youth": loaded.youth}, buttons=buttons, edit=True))


async def _skip(
    session: AsyncSession, loaded: _Loaded, reason: str | None, now: dt.datetime, out: Outcome
) -> Outcome:
    checkin = loaded.checkin
    if reason not in SKIP_REASONS or checkin.status != CheckinStatus.OPEN:
        return out.say(guards.EXPIRED)
    await loaded.connection.execute(
        update(Checkin)
        .where(Checkin.id == checkin.id)
        .values(status=CheckinStatus.SKIPPED, skip_reason=reason, closed_at=now)
    )
    await drop_pending(session, kind="checkin_reminder", subject_id=checkin.id)
    return out.add(Say("checkin/skipped", {"youth": loaded.youth, "reason": reason}, edit=True))
