"""Reflections of the evaluatiefase: three questions to each ouder and gezinshuisouder.

When a placement moves to the evaluatiefase (flows/phases.py) each reachable, unpaused ouder and
gezinshuisouder gets the first of `route.REFLECTION_QUESTIONS`; a typed answer (stored encrypted
in `Reflection.text`) or the skip button brings the next. A `Reflection` row is made when its
question is asked (`answered_at` None: open); answered is text + answered_at, skipped is
answered_at without text. The open question is also the conversation state, so a restart resumes
it; a person who already has rows for the placement is never asked again. A paused person is
skipped and told nothing (they get the questions when they resume: `ask_on_resume`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from flows.buttons import REFLECT_SKIP
from flows.people import Caller, Me, clear_state, load_me, recipient, set_state
from flows.replies import Outcome, Say
from flows.route import REFLECTION_QUESTIONS
from storage.models import Participant, Phase, Placement, Reflection, Role, TelegramLink

FLOW = "reflect"
TEXT_MAX = 2000
PARTICIPANTS = (Role.OUDER, Role.GEZINSHUISOUDER)


def _question(placement: Placement, role: Role, index: int, name: str) -> Say:
    return Say(
        "plan/reflect_question",
        {
            "name": name,
            "youth": placement.youth_name,
            "role": str(role),
            "question": REFLECTION_QUESTIONS[index],
            "number": index + 1,
            "total": len(REFLECTION_QUESTIONS),
        },
        buttons=((REFLECT_SKIP.button("reflect_skip", placement=placement.id, index=index),),),
    )


async def _ask(
    session: AsyncSession,
    placement: Placement,
    participant: Participant,
    link: TelegramLink,
    index: int,
    now: dt.datetime,
) -> Say:
    """Make the open row for question `index`, remember it as the state, return the question."""
    session.add(
        Reflection(
            placement_id=placement.id,
            person_id=participant.person_id,
            role=participant.role,
            question=REFLECTION_QUESTIONS[index],
            text=None,
            asked_at=now,
            answered_at=None,
        )
    )
    await set_state(
        session,
        link.telegram_user_id,
        FLOW,
        REFLECTION_QUESTIONS[index],
        {"placement_id": placement.id, "index": index},
        now,
    )
    return _question(placement, participant.role, index, participant.person.first_name)


async def start(session: AsyncSession, placement: Placement, now: dt.datetime) -> list[Say]:
    """Ask each ouder and gezinshuisouder of the placement the first question (once ever)."""
    rows = await session.execute(
        select(Participant, TelegramLink)
        .join(TelegramLink, TelegramLink.person_id == Participant.person_id)
        .where(Participant.placement_id == placement.id, Participant.role.in_(PARTICIPANTS))
        .options(selectinload(Participant.person))
        .order_by(Participant.id)
    )
    out: list[Say] = []
    for participant, link in rows:
        if participant.person.paused or not link.reachable:
            continue
        if await _has_rows(session, placement.id, participant.person_id):
            continue
        say = await _ask(session, placement, participant, link, 0, now)
        out.append(
            Say(say.template, say.context, buttons=say.buttons, to=recipient(link), kind="reflect")
        )
    return out


async def ask_on_resume(session: AsyncSession, me: Me, now: dt.datetime) -> list[Say]:
    """After a pause: the first question for each placement in its evaluatiefase not yet asked."""
    out: list[Say] = []
    for participant in me.participations:
        placement = participant.placement
        if participant.role not in PARTICIPANTS or placement.phase != Phase.EVALUATIEFASE:
            continue
        if await _has_rows(session, placement.id, participant.person_id):
            continue
        await session.refresh(participant, ["person"])
        out.append(await _ask(session, placement, participant, me.link, 0, now))
        break  # one open question at a time; the next placement follows on a later resume
    return out


async def _has_rows(session: AsyncSession, placement_id: int, person_id: int) -> bool:
    found = await session.scalar(
        select(Reflection.id).where(
            Reflection.placement_id == placement_id, Reflection.person_id == person_id
        )
    )
    return found is not None


async def _open_row(
    session: AsyncSession, placement_id: int, person_id: int, index: int
) -> Reflection | None:
    return await session.scalar(
        select(Reflection).where(
            Reflection.placement_id == placement_id,
            Reflection.person_id == person_id,
            Reflection.question == REFLECTION_QUESTIONS[index],
            Reflection.answered_at.is_(None),
        )
    )


async def _next(
    session: AsyncSession, me: Me, placement_id: int, index: int, now: dt.datetime, out: Outcome
) -> Outcome:
    """After question `index`: ask the next one, or thank and end."""
    participant = next((p for p in me.participations if p.placement_id == placement_id), None)
    placement = participant.placement if participant is not None else None
    if (
        participant is None
        or placement is None
        or placement.phase != Phase.EVALUATIEFASE
        or index + 1 >= len(REFLECTION_QUESTIONS)
    ):
        await clear_state(session, me.link.telegram_user_id)
        youth = placement.youth_name if placement is not None else ""
        return out.say("plan/reflect_done", name=me.person.first_name, youth=youth)
    await session.refresh(participant, ["person"])
    return out.add(await _ask(session, placement, participant, me.link, index + 1, now))


async def typed(
    session: AsyncSession, me: Me, data: dict[str, object], message: str, now: dt.datetime
) -> Outcome:
    """A typed answer to the open question."""
    out = Outcome(me.language)
    placement_id, index = int(str(data["placement_id"])), int(str(data["index"]))
    row = await _open_row(session, placement_id, me.person.id, index)
    if row is None:  # the placement closed, or the question was skipped elsewhere
        await clear_state(session, me.link.telegram_user_id)
        return out.say("common/nothing_asked")
    words = message.strip()
    if not words:
        return out.say("plan/reflect_empty")
    row.text, row.answered_at = words[:TEXT_MAX], now
    return await _next(session, me, placement_id, index, now, out.say("plan/reflect_saved"))


async def skip(
    session: AsyncSession, caller: Caller, placement_id: int, index: int, now: dt.datetime
) -> Outcome:
    """The skip button under question `index`; a second press or someone else's press: stale."""
    me = await load_me(session, caller.telegram_user_id)
    if me is None:
        return Outcome(caller.telegram_language).say("common/button_expired")
    out = Outcome(me.language)
    row = await _open_row(session, placement_id, me.person.id, index)
    if row is None:
        out.close_pressed = True
        return out.say("plan/reflect_already")
    row.answered_at = now  # skipped: no text
    out.close_pressed = True
    return await _next(session, me, placement_id, index, now, out)
