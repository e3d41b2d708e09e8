"""Closing a placement: the closing talks held, the reason, the handover, then a real ending.

Replaces the old "state flip" of /fase → afgesloten. The begeleider (only she: the route gives the
closing to the begeleider; the behandelaar gets not-yours) goes through four screens whose
buttons carry every choice so far (flows/buttons.py END_*), so nothing is held in memory or in a
conversation state: talks (toggles, prefilled with the meetings of those types that took place),
reason, handover, "Weet je het zeker?". The last press writes one `PlacementEnding`, closes the
placement (open check-ins cancelled, queued messages dropped, reflection states cleared), sends
each ouder and gezinshuisouder a kind last message and the begeleider a one-page summary
document (logged in the access log as `ending_summary`). A second press finds the placement
closed and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from flows import access, guards
from flows.authz import Action
from flows.buttons import END_GO, END_HANDOVER, END_REASON, END_REASONS, END_TALK, NEVER_MIND
from flows.people import Caller, recipient
from flows.plan.read import goal_context, goals, latest_estimate
from flows.replies import Document, Outcome, Say
from flows.route import CLOSING_TALKS, PLANNED_ENDINGS, REFLECTION_QUESTIONS
from flows.settings import RouteSettings
from storage.models import (
    Answer,
    ConversationState,
    EndingReason,
    Meeting,
    MeetingStatus,
    Participant,
    Phase,
    Placement,
    PlacementEnding,
    Reflection,
    Role,
    TelegramLink,
)

REASONS = tuple(str(reason) for reason in EndingReason)
TREND_WEEKS = 8


def _talk_codes(mask: int) -> list[str]:
    return [code for bit, code in enumerate(CLOSING_TALKS) if mask & (1 << bit)]


async def _held_mask(session: AsyncSession, placement_id: int, now: dt.datetime) -> int:
    """The closing talks that took place: planned meetings of those types, already begun."""
    held = set(
        await session.scalars(
            select(Meeting.type).where(
                Meeting.placement_id == placement_id,
                Meeting.type.in_(CLOSING_TALKS),
                Meeting.status == MeetingStatus.PLANNED,
                Meeting.starts_at <= now,
            )
        )
    )
    return sum(1 << bit for bit, code in enumerate(CLOSING_TALKS) if code in held)


def _talk_screen(placement: Placement, mask: int) -> Say:
    rows = tuple(
        (
            END_TALK.button(
                "end_talk",
                {"talk": code, "on": bool(mask & (1 << bit))},
                placement=placement.id,
                talks=mask,
                toggle=bit,
            ),
        )
        for bit, code in enumerate(CLOSING_TALKS)
    )
    rows += (
        (END_REASONS.button("end_next", placement=placement.id, talks=mask),),
        (NEVER_MIND.button("never_mind"),),
    )
    return Say("plan/ending_talks", {"youth": placement.youth_name}, buttons=rows, edit=True)


async def begin(
    session: AsyncSession, caller: Caller, placement_id: int, now: dt.datetime
) -> Outcome:
    """First screen: which closing talks were held (prefilled)."""
    found = await guards.placement_press(
        session, caller, placement_id, Action.END_PLACEMENT, open_only=True
    )
    if isinstance(found, Outcome):
        return found
    me, placement = found
    mask = await _held_mask(session, placement.id, now)
    return Outcome(me.language).add(_talk_screen(placement, mask))


async def toggle(
    session: AsyncSession, caller: Caller, placement_id: int, mask: int, bit: int
) -> Outcome:
    found = await guards.placement_press(
        session, caller, placement_id, Action.END_PLACEMENT, open_only=True
    )
    if isinstance(found, Outcome):
        return found
    me, placement = found
    return Outcome(me.language).add(_talk_screen(placement, mask ^ (1 << bit)))


async def reasons(session: AsyncSession, caller: Caller, placement_id: int, mask: int) -> Outcome:
    """Second screen: why the placement ends."""
    found = await guards.placement_press(
        session, caller, placement_id, Action.END_PLACEMENT, open_only=True
    )
    if isinstance(found, Outcome):
        return found
    me, placement = found
    choices = tuple(
        (
            END_REASON.button(
                "end_reason", {"reason": reason}, placement=placement.id, talks=mask, reason=reason
            ),
        )
        for reason in REASONS
    )
    rows = (*choices, (NEVER_MIND.button("never_mind"),))
    return Outcome(me.language).add(
        Say("plan/ending_reason", {"youth": placement.youth_name}, buttons=rows, edit=True)
    )


async def handover(
    session: AsyncSession, caller: Caller, placement_id: int, mask: int, reason: str
) -> Outcome:
    """Third screen: is the support handed over to someone else?"""
    found = await guards.placement_press(
        session, caller, placement_id, Action.END_PLACEMENT, open_only=True
    )
    if isinstance(found, Outcome):
        return found
    me, placement = found
    rows = (
        tuple(
            END_HANDOVER.button(
                label, placement=placement.id, talks=mask, reason=reason, handover=flag
            )
            for label, flag in (("yes", True), ("no", False))
        ),
        (NEVER_MIND.button("never_mind"),),
    )
    return Outcome(me.language).add(
        Say("plan/ending_handover", {"youth": placement.youth_name}, buttons=rows, edit=True)
    )


async def confirm(
    session: AsyncSession,
    caller: Caller,
    placement_id: int,
    mask: int,
    reason: str,
    handed_over: bool,
    settings: RouteSettings,
) -> Outcome:
    """Last screen: everything chosen, and "Weet je het zeker?"."""
    found = await guards.placement_press(
        session, caller, placement_id, Action.END_PLACEMENT, open_only=True
    )
    if isinstance(found, Outcome):
        return found
    me, placement = found
    rows = (
        (
            END_GO.button(
                "end_go",
                placement=placement.id,
                talks=mask,
                reason=reason,
                handover=handed_over,
            ),
        ),
        (NEVER_MIND.button("never_mind"),),
    )
    context = {
        "youth": placement.youth_name,
        "talks": _talk_codes(mask),
        "reason": reason,
        "handover": handed_over,
        "retention_days": settings.retention_days,
    }
    return Outcome(me.language).add(Say("plan/ending_confirm", context, buttons=rows, edit=True))


async def close(
    session: AsyncSession,
    caller: Caller,
    placement_id: int,
    mask: int,
    reason: str,
    handed_over: bool,
    now: dt.datetime,
    settings: RouteSettings,
) -> Outcome:
    """Close the placement: one ending, one set of last messages, one summary."""
    from flows.phases import stop_questions  # phases imports this module

    found = await guards.placement_press(session, caller, placement_id, Action.END_PLACEMENT)
    if isinstance(found, Outcome):
        return found
    me, placement = found
    out = Outcome(me.language)
    if placement.closed_at is not None or placement.phase == Phase.AFGESLOTEN:
        out.close_pressed = True
        return out.say("plan/ending_already", youth=placement.youth_name)
    code = EndingReason(reason)
    evaluation_since = placement.phase_since
    session.add(
        PlacementEnding(
            placement_id=placement.id,
            reason=code,
            planned=code in PLANNED_ENDINGS,
            talks=_talk_codes(mask),
            handover=handed_over,
            closed_by_person_id=me.person.id,
            closed_at=now,
        )
    )
    placement.phase, placement.phase_since, placement.closed_at = Phase.AFGESLOTEN, now, now
    await stop_questions(session, placement.id, now)
    erased_on = (now + dt.timedelta(days=settings.retention_days)).date()
    rows = await session.execute(
        select(Participant, TelegramLink)
        .join(TelegramLink, TelegramLink.person_id == Participant.person_id)
        .where(Participant.placement_id == placement.id)
        .options(selectinload(Participant.person))
        .order_by(Participant.id)
    )
    for participant, link in rows:
        # An open reflection question ends with the placement.
        await session.execute(
            delete(ConversationState).where(
                ConversationState.telegram_user_id == link.telegram_user_id,
                ConversationState.flow == "reflect",
            )
        )
        out.add(
            Say(
                "plan/ending_last",
                {
                    "name": participant.person.first_name,
                    "role": str(participant.role),
                    "youth": placement.youth_name,
                    "erased_on": erased_on,
                    "phone": await _phone(session, placement),
                },
                to=recipient(link),
                kind="ending",
            )
        )
    context = await summary_context(session, placement, code, mask, handed_over, evaluation_since)
    await access.log_placements(session, me.person, "ending_summary", [placement.id], now)
    out.close_pressed = True
    out.add(
        Say(
            "plan/ending_closed",
            {"youth": placement.youth_name},
            document=Document(
                f"afsluiting-{placement.id}.txt", "plan/ending_summary.txt", context
            ),
        )
    )
    return out


async def _phone(session: AsyncSession, placement: Placement) -> str | None:
    from storage.models import Organisation

    organisation = await session.get(Organisation, placement.organisation_id)
    return organisation.phone if organisation is not None else None


async def summary_context(
    session: AsyncSession,
    placement: Placement,
    reason: EndingReason,
    mask: int,
    handed_over: bool,
    evaluation_since: dt.datetime | None,
) -> dict[str, Any]:
    """Everything the one-page summary shows; staff see both sides."""
    estimate = await latest_estimate(session, placement.id)
    by_side: dict[str, list[dict[str, object]]] = defaultdict(list)
    for goal in await goals(session, placement.id):
        by_side[str(goal.side)].append(goal_context(goal))
    reflections: dict[str, list[dict[str, object]]] = defaultdict(list)
    found = await session.execute(
        select(Reflection, Participant)
        .join(
            Participant,
            (Participant.person_id == Reflection.person_id)
            & (Participant.placement_id == Reflection.placement_id),
        )
        .where(Reflection.placement_id == placement.id)
        .options(selectinload(Participant.person))
        .order_by(Reflection.person_id, Reflection.id)
    )
    for row, participant in found:
        reflections[str(row.role)].append(
            {
                "name": participant.person.first_name,
                "question": row.question,
                "text": row.text,
                "skipped": row.answered_at is not None and row.text is None,
            }
        )
    since = (placement.closed_at or dt.datetime.now(dt.UTC)) - dt.timedelta(weeks=TREND_WEEKS)
    trend = {
        str(role): (round(float(mean), 1) if mean is not None else None)
        for role, mean in await session.execute(
            select(Answer.role, func.avg(Answer.score))
            .where(
                Answer.placement_id == placement.id,
                Answer.score.is_not(None),
                Answer.answered_at >= since,
            )
            .group_by(Answer.role)
        )
    }
    meetings = list(
        await session.scalars(
            select(Meeting)
            .where(
                Meeting.placement_id == placement.id,
                Meeting.status == MeetingStatus.PLANNED,
                Meeting.starts_at <= (placement.closed_at or dt.datetime.now(dt.UTC)),
            )
            .order_by(Meeting.starts_at)
        )
    )
    return {
        "youth": placement.youth_name,
        "gezinshuis": placement.gezinshuis_name,
        "start_date": placement.start_date,
        "evaluation_since": evaluation_since,
        "closed_at": placement.closed_at,
        "intensity": str(estimate.intensity) if estimate is not None else None,
        "goals": {side: by_side.get(side, []) for side in ("ouder", "gezinshuisouder", "samen")},
        "reflections": {
            role: reflections.get(role, [])
            for role in (str(Role.OUDER), str(Role.GEZINSHUISOUDER))
        },
        "questions": REFLECTION_QUESTIONS,
        "trend": trend,
        "trend_weeks": TREND_WEEKS,
        "meetings": [{"type": m.type, "at": m.starts_at} for m in meetings],
        "talks": _talk_codes(mask),
        "reason": str(reason),
        "planned": reason in PLANNED_ENDINGS,
        "handover": handed_over,
    }
