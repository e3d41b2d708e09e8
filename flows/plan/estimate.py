"""The estimate (inschatting): the begeleider scores each route item 1-5, then adds a note.

Every answer is a button press, checked against the conversation state (the item asked next), so
a double press or an old button changes nothing. The note is typed (encrypted at rest) or skipped
with "Geen notitie". Each finished estimate is a new `PlanEstimate` version; none is overwritten.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flows import guards
from flows.authz import Action
from flows.buttons import PLAN_NO_NOTE, PLAN_SCORE
from flows.people import Caller, Me, clear_state, get_state, set_state
from flows.replies import Outcome, Say
from flows.route import ESTIMATE_ITEMS, intensity_for
from storage.models import Placement, PlanEstimate

FLOW = "plan"
NOTE_MAX = 1000


def item_say(placement: Placement, index: int, *, edit: bool) -> Say:
    """Ask item `index` with a 1-5 button scale (words on each button)."""
    item = ESTIMATE_ITEMS[index]
    row = tuple(
        PLAN_SCORE.button(
            "plan_score", {"score": score}, placement=placement.id, item=index, score=score
        )
        for score in range(1, 6)
    )
    return Say(
        f"plan/estimate_{item}",
        {"youth": placement.youth_name, "number": index + 1, "total": len(ESTIMATE_ITEMS)},
        buttons=tuple((button,) for button in row),
        edit=edit,
    )


async def begin(
    session: AsyncSession, me: Me, placement: Placement, now: dt.datetime, out: Outcome
) -> Outcome:
    """Start the estimate of this placement at its first item."""
    data: dict[str, object] = {"placement": placement.id, "scores": {}}
    await set_state(session, me.link.telegram_user_id, FLOW, "estimate", data, now)
    return out.add(item_say(placement, 0, edit=False))


async def score(
    session: AsyncSession,
    caller: Caller,
    placement_id: int,
    index: int,
    value: int,
    now: dt.datetime,
) -> Outcome:
    """One item answered: ask the next one, or the note after the last."""
    found = await guards.placement_press(
        session, caller, placement_id, Action.ESTIMATE, open_only=True
    )
    if isinstance(found, Outcome):
        return found
    me, placement = found
    out = Outcome(me.language)
    state = await get_state(session, caller.telegram_user_id)
    if state is None or state.flow != FLOW or state.step != "estimate":
        return out.say(guards.EXPIRED)
    data = dict(state.data)
    raw = data.get("scores")
    scores = dict(raw) if isinstance(raw, dict) else {}
    if data.get("placement") != placement.id or index != len(scores) or not 1 <= value <= 5:
        return out.say(guards.EXPIRED)
    scores[ESTIMATE_ITEMS[index]] = value
    data["scores"] = scores
    if index + 1 < len(ESTIMATE_ITEMS):
        await set_state(session, caller.telegram_user_id, FLOW, "estimate", data, now)
        return out.add(item_say(placement, index + 1, edit=True))
    await set_state(session, caller.telegram_user_id, FLOW, "estimate_note", data, now)
    button = PLAN_NO_NOTE.button("plan_no_note", placement=placement.id)
    return out.add(
        Say("plan/estimate_ask_note", {"youth": placement.youth_name}, ((button,),), edit=True)
    )


async def no_note(
    session: AsyncSession, caller: Caller, placement_id: int, now: dt.datetime
) -> Outcome:
    """ "Geen notitie": store the estimate without a note."""
    found = await guards.placement_press(
        session, caller, placement_id, Action.ESTIMATE, open_only=True
    )
    if isinstance(found, Outcome):
        return found
    me, placement = found
    state = await get_state(session, caller.telegram_user_id)
    if (
        state is None
        or state.flow != FLOW
        or state.step != "estimate_note"
        or state.data.get("placement") != placement.id
    ):
        return guards.refuse(me.language, guards.EXPIRED)
    return await save(session, me, placement, dict(state.data), None, now, edit=True)


async def typed_note(
    session: AsyncSession, me: Me, data: dict[str, object], text: str, now: dt.datetime
) -> Outcome:
    """The typed note: kept as typed (encrypted), at most NOTE_MAX characters."""
    note = text.strip()
    if not note or len(note) > NOTE_MAX:
        return Outcome(me.language).say("plan/estimate_bad_note", max=NOTE_MAX)
    placement_id = data.get("placement")
    placement = await guards.own_placement(
        session,
        me,
        int(placement_id) if isinstance(placement_id, int) else 0,
        Action.ESTIMATE,
        open_only=True,
    )
    if isinstance(placement, Outcome):
        await clear_state(session, me.link.telegram_user_id)
        return placement
    return await save(session, me, placement, data, note, now, edit=False)


async def save(
    session: AsyncSession,
    me: Me,
    placement: Placement,
    data: dict[str, object],
    note: str | None,
    now: dt.datetime,
    *,
    edit: bool,
) -> Outcome:
    """Store the estimate as a new version and say the intensity in words."""
    raw = data.get("scores")
    scores = {str(k): int(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    if set(scores) != set(ESTIMATE_ITEMS):
        await clear_state(session, me.link.telegram_user_id)
        return guards.refuse(me.language, guards.EXPIRED)
    latest = await session.scalar(
        select(func.max(PlanEstimate.version)).where(PlanEstimate.placement_id == placement.id)
    )
    intensity = intensity_for(scores)
    session.add(
        PlanEstimate(
            placement_id=placement.id,
            version=(latest or 0) + 1,
            scores=scores,
            note=note,
            intensity=intensity,
            created_by_person_id=me.person.id,
            created_at=now,
        )
    )
    await clear_state(session, me.link.telegram_user_id)
    return Outcome(me.language).add(
        Say(
            "plan/estimate_saved",
            {
                "youth": placement.youth_name,
                "intensity": str(intensity),
                "version": (latest or 0) + 1,
            },
            edit=edit,
        )
    )
