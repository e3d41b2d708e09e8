"""Showing a check-in: one question as a message with its buttons, and the open question."""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Mapping
from typing import Protocol

from flows.buttons import CHECKIN_ANSWER, CHECKIN_DONE, CHECKIN_SKIP, CONTACT
from flows.plan import progress
from flows.questions import FACES, QUESTIONS, Kind
from flows.replies import Button, Say
from flows.schedule import week_number
from storage.models import CheckinKind, CheckinStatus, Role


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
    goal: Mapping[str, object] | None = None,
    not_now: bool = False,
) -> Say:
    """One question as a message: its text, the answer buttons, the current choice.

    `goal` is the goal a goal question asks about (`plan.read.goal_context`); `not_now` shows
    that the optional goal question was passed over.
    """
    item = checkin.questions[index]
    question = QUESTIONS[progress.parse(item)[0]]
    is_open = checkin.status in (CheckinStatus.OPEN, CheckinStatus.ANSWERED)
    rows: list[tuple[Button, ...]] = []
    if is_open:
        if question.kind == Kind.FACES:
            rows.append(
                tuple(
                    CHECKIN_ANSWER.button(
                        "face",
                        {"face": face, "picked": value == chosen},
                        checkin=checkin.id,
                        index=index,
                        value=value,
                    )
                    for value, face in zip(question.values, FACES, strict=True)
                )
            )
        else:
            rows.extend(
                (
                    CHECKIN_ANSWER.button(
                        option.label,
                        {"picked": option.value == chosen},
                        checkin=checkin.id,
                        index=index,
                        value=option.value,
                    ),
                )
                for option in question.options
            )
        if progress.optional(item) and chosen is None and not not_now:
            rows.append(
                (
                    CHECKIN_ANSWER.button(
                        "goal_not_now", checkin=checkin.id, index=index, value=progress.NOT_NOW
                    ),
                )
            )
        if checkin.status == CheckinStatus.OPEN and index == 0:
            rows.append((CHECKIN_SKIP.button("skip_week", checkin=checkin.id),))
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
        "intro": variant(checkin) if index == 0 else None,
        "measurement": checkin.kind == CheckinKind.MEASUREMENT,
        "chosen_face": chosen_label if question.kind == Kind.FACES else None,
        "chosen_label": chosen_label if question.kind != Kind.FACES else None,
        "closed": not is_open,
        "goal": goal,
        "not_now": not_now,
    }
    return Say("checkin/question", context, buttons=tuple(rows), edit=edit)


def variant(checkin: CheckinFacts) -> int:
    """Which opening line: it changes from week to week so the message does not feel the same."""
    return week_number(checkin.due_at.date()) % 4


def changeable(checkin: CheckinFacts, now: dt.datetime) -> bool:
    """Whether answers may still be given or changed: open or answered, and not closed."""
    return (
        checkin.status in (CheckinStatus.OPEN, CheckinStatus.ANSWERED)
        and checkin.closed_at is None
        and now < checkin.closes_at
    )


def unanswered_questions(checkin: CheckinFacts, answered: Container[str]) -> list[int]:
    """The indexes of the questions not answered yet, in order."""
    return [
        i for i, qid in enumerate(progress.question_ids(checkin.questions)) if qid not in answered
    ]


def required_done(checkin: CheckinFacts, answered: Container[str]) -> bool:
    """Whether every question that counts is answered (the goal question is optional)."""
    return all(
        progress.optional(checkin.questions[i]) for i in unanswered_questions(checkin, answered)
    )


def open_question(checkin: CheckinFacts, youth: str) -> Say:
    """The optional last question: write something for the begeleider, or not."""
    return Say(
        "checkin/open_question",
        {"youth": youth, "measurement": checkin.kind == CheckinKind.MEASUREMENT},
        buttons=(
            (CHECKIN_DONE.button("no_thanks", checkin=checkin.id),),
            (CONTACT.button("contact_request", placement=checkin.placement_id),),
        ),
    )
