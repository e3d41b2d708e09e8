"""/fase: the begeleider moves a placement on; ouders and gezinshuisouders hear what it means."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from flows import guards
from flows.authz import Action
from flows.buttons import END_BEGIN, NEVER_MIND, PHASE_FOR, PHASE_GO
from flows.outbox import drop_pending
from flows.people import Caller, load_me, recipient
from flows.plan import ending, reflections
from flows.replies import Outcome, Say
from flows.route import NEXT_PHASE
from flows.settings import RouteSettings
from storage.models import (
    Checkin,
    CheckinStatus,
    Participant,
    Phase,
    TelegramLink,
)


async def choose(session: AsyncSession, caller: Caller, now: dt.datetime) -> Outcome:
    """List the begeleider's open placements to pick one."""
    me = await guards.staff(session, caller, Action.CHANGE_PHASE)
    if isinstance(me, Outcome):
        return me
    placements = await guards.open_placements_of(session, me, Action.CHANGE_PHASE)
    if not placements:
        return Outcome(me.language).say("phase/none")
    buttons = tuple(
        (
            PHASE_FOR.button(
                "phase_placement", {"youth": p.youth_name, "phase": str(p.phase)}, placement=p.id
            ),
        )
        for p in placements
    )
    return Outcome(me.language).add(Say("phase/choose_placement", buttons=buttons))


async def confirm(
    session: AsyncSession,
    caller: Caller,
    placement_id: int,
    settings: RouteSettings,
    now: dt.datetime,
) -> Outcome:
    """Explain what the next phase means and ask to confirm; closing is its own flow."""
    found = await guards.placement_press(
        session, caller, placement_id, Action.CHANGE_PHASE, open_only=True
    )
    if isinstance(found, Outcome):
        return found
    me, placement = found
    out = Outcome(me.language)
    target = NEXT_PHASE[placement.phase]  # every open phase has a next one
    if target == Phase.AFGESLOTEN:
        return await ending.begin(session, caller, placement.id, now)
    buttons = (
        (
            PHASE_GO.button(
                "phase_go", {"phase": str(target)}, placement=placement.id, phase=target
            ),
        ),
        (END_BEGIN.button("end_begin", placement=placement.id),),
        (NEVER_MIND.button("never_mind"),),
    )
    context = {
        "youth": placement.youth_name,
        "current": str(placement.phase),
        "next": str(target),
        "retention_days": settings.retention_days,
    }
    return out.add(Say("phase/confirm", context, buttons=buttons, edit=True))


async def move(
    session: AsyncSession,
    caller: Caller,
    placement_id: int,
    target: str,
    now: dt.datetime,
    settings: RouteSettings,
) -> Outcome:
    """Move the placement to the next phase and tell its ouders and gezinshuisouders."""
    found = await guards.placement_press(session, caller, placement_id, Action.CHANGE_PHASE)
    if isinstance(found, Outcome):
        return found
    me, placement = found
    out = Outcome(me.language)
    if NEXT_PHASE.get(placement.phase) != target:
        # Pressed twice, or on an old message: the placement moved on already.
        return out.say("phase/already", youth=placement.youth_name, phase=str(placement.phase))
    if target == Phase.AFGESLOTEN:
        # An old "Ja, afsluiten" button: closing is the ending flow now (flows/plan/ending.py).
        return await ending.begin(session, caller, placement.id, now)
    placement.phase, placement.phase_since = Phase(target), now
    rows = await session.execute(
        select(Participant, TelegramLink)
        .join(TelegramLink, TelegramLink.person_id == Participant.person_id)
        .where(Participant.placement_id == placement.id)
        .options(selectinload(Participant.person))
    )
    for participant, link in rows:
        out.add(
            Say(
                "phase/notice",
                {
                    "name": participant.person.first_name,
                    "role": str(participant.role),
                    "youth": placement.youth_name,
                    "phase": target,
                    "retention_days": settings.retention_days,
                },
                to=recipient(link),
                kind="phase_change",
            )
        )
    if placement.phase == Phase.EVALUATIEFASE:
        for say in await reflections.start(session, placement, now):
            out.add(say)
    out.add(Say("phase/changed", {"youth": placement.youth_name, "phase": target}, edit=True))
    return out


async def cancelled(session: AsyncSession, caller: Caller) -> Outcome:
    me = await load_me(session, caller.telegram_user_id)
    return Outcome(me.language if me else caller.telegram_language).add(
        Say("account/stop_cancelled", edit=True)
    )


async def stop_questions(session: AsyncSession, placement_id: int, now: dt.datetime) -> None:
    """A closed placement sends nothing more: open check-ins end, queued messages are dropped."""
    await session.execute(
        update(Checkin)
        .where(Checkin.placement_id == placement_id, Checkin.status == CheckinStatus.OPEN)
        .values(status=CheckinStatus.CANCELLED, closed_at=now)
    )
    await session.execute(
        update(Checkin)
        .where(Checkin.placement_id == placement_id, Checkin.closed_at.is_(None))
        .values(closed_at=now)
    )
    await drop_pending(session, placement_id=placement_id)
