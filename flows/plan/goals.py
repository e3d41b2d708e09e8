"""/plan: the begeleidingsplan of one placement for its staff, its goals, and their confirmation.

The begeleider (or the placement's behandelaar) opens the plan, fills in the estimate
(estimate.py), adds goals per side for the current phase (a suggestion of the route table or typed
words), adjusts them, marks them reached or dropped, or opens them again; every change goes
through changes.py so the history is kept. "Stuur naar ouders en gezinshuisouders" sends each
participant ONE message with only the goals that are new or changed for them (their own side's and
the shared ones, read.py decides), asking "Klopt dit voor jou?". Their answer (Ja, or a typed word)
is stored per goal that message showed (`GoalResponse`), so the plan view can show it.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flows import guards
from flows.access import log_placements
from flows.authz import Action
from flows.buttons import (
    GOAL_ACT,
    GOAL_CONFIRM,
    PLAN_ADD,
    PLAN_ESTIMATE,
    PLAN_FOR,
    PLAN_SEND,
    PLAN_SIDE,
    PLAN_SUGGEST,
    PLAN_TYPE,
)
from flows.outbox import enqueue
from flows.people import Caller, Me, clear_state, recipient, set_state
from flows.plan import changes, estimate, read
from flows.replies import Button, Outcome, Say
from flows.route import GOAL_SUGGESTIONS, VISIBLE_SIDES
from storage.models import (
    Goal,
    GoalEvent,
    GoalResponse,
    GoalSide,
    GoalStatus,
    OutboxMessage,
    Participant,
    Person,
    Placement,
    Role,
    TelegramLink,
)

FLOW = estimate.FLOW  # the staff's typed steps of the plan
WORD_FLOW = "plan_word"  # a participant's typed word about their goals
SENT_KIND = "plan_goals"  # the outbox kind of the goals message to a participant
GOAL_MAX = 300  # characters of a typed goal
WORD_MAX = 500  # characters of a participant's word
_ROLE_CODE = {Role.OUDER: "o", Role.GEZINSHUISOUDER: "g"}
_CODE_ROLE = {code: role for role, code in _ROLE_CODE.items()}


# --- The plan view ----------------------------------------------------------------------------


async def choose(session: AsyncSession, caller: Caller, now: dt.datetime) -> Outcome:
    """/plan: open the plan of the only open placement, or choose one."""
    me = await guards.staff(session, caller, Action.VIEW_PLAN)
    if isinstance(me, Outcome):
        return me
    placements = await guards.open_placements_of(session, me, Action.VIEW_PLAN)
    if not placements:
        return Outcome(me.language).say("phase/none")
    if len(placements) == 1:
        return await view(session, me, placements[0], now, edit=False)
    rows = tuple(
        (
            PLAN_FOR.button(
                "phase_placement", {"youth": p.youth_name, "phase": str(p.phase)}, placement=p.id
            ),
        )
        for p in placements
    )
    return Outcome(me.language).add(Say("plan/goals_choose_placement", buttons=rows))


async def open_plan(
    session: AsyncSession, caller: Caller, placement_id: int, now: dt.datetime
) -> Outcome:
    """A placement chosen: show its plan."""
    found = await guards.placement_press(session, caller, placement_id, Action.VIEW_PLAN)
    if isinstance(found, Outcome):
        return found
    me, placement = found
    return await view(session, me, placement, now, edit=False)


async def view(
    session: AsyncSession, me: Me, placement: Placement, now: dt.datetime, *, edit: bool
) -> Outcome:
    """The plan: estimate, goals per side with status and responses, and what can be done."""
    await log_placements(session, me.person, "plan", [placement.id], now)
    latest = await read.latest_estimate(session, placement.id)
    goals = await read.goals(session, placement.id)
    responses = await _responses(session, [g.id for g in goals])
    shown = []
    for number, goal in enumerate(goals, start=1):
        shown.append(
            {**read.goal_context(goal), "number": number, "responses": responses.get(goal.id, [])}
        )
    context = {
        "youth": placement.youth_name,
        "phase": str(placement.phase),
        "estimate": None
        if latest is None
        else {
            "intensity": str(latest.intensity),
            "version": latest.version,
            "date": latest.created_at.date(),
            "scores": dict(latest.scores),
            "note": latest.note,
        },
        "goals": shown,
        "closed": placement.phase == "afgesloten",
    }
    rows: list[tuple[Button, ...]] = []
    if placement.phase != "afgesloten":
        for item in shown:
            gid = int(str(item["id"]))
            if item["status"] == GoalStatus.OPEN:
                rows.append(
                    (
                        GOAL_ACT.button(
                            "goal_adjust", {"n": item["number"]}, goal=gid, action="adjust"
                        ),
                        GOAL_ACT.button(
                            "goal_reached", {"n": item["number"]}, goal=gid, action="reached"
                        ),
                        GOAL_ACT.button(
                            "goal_dropped", {"n": item["number"]}, goal=gid, action="dropped"
                        ),
                    )
                )
            else:
                rows.append(
                    (
                        GOAL_ACT.button(
                            "goal_reopen", {"n": item["number"]}, goal=gid, action="open"
                        ),
                    )
                )
        rows.append(
            (
                PLAN_ESTIMATE.button(
                    "plan_estimate", {"again": latest is not None}, placement=placement.id
                ),
            )
        )
        rows.append((PLAN_ADD.button("plan_add", placement=placement.id),))
        rows.append((PLAN_SEND.button("plan_send", placement=placement.id),))
    return Outcome(me.language).add(Say("plan/goals_view", context, tuple(rows), edit=edit))


async def _responses(
    session: AsyncSession, goal_ids: list[int]
) -> dict[int, list[dict[str, object]]]:
    """Per goal: who answered "Klopt dit voor jou?" (first name, role) and their word."""
    found: dict[int, list[dict[str, object]]] = {}
    if not goal_ids:
        return found
    rows = await session.execute(
        select(GoalResponse, Person.first_name)
        .join(Person, Person.id == GoalResponse.person_id)
        .where(GoalResponse.goal_id.in_(goal_ids))
        .order_by(GoalResponse.at, GoalResponse.id)
    )
    for response, name in rows:
        found.setdefault(response.goal_id, []).append(
            {"name": name, "agreed": response.agreed, "comment": response.comment}
        )
    return found


# --- Estimate ---------------------------------------------------------------------------------


async def start_estimate(
    session: AsyncSession, caller: Caller, placement_id: int, now: dt.datetime
) -> Outcome:
    found = await guards.placement_press(
        session, caller, placement_id, Action.ESTIMATE, open_only=True
    )
    if isinstance(found, Outcome):
        return found
    me, placement = found
    return await estimate.begin(session, me, placement, now, Outcome(me.language))


# --- Adding a goal ----------------------------------------------------------------------------


async def add(
    session: AsyncSession, caller: Caller, placement_id: int, now: dt.datetime
) -> Outcome:
    """ "Doel toevoegen": for whom?"""
    found = await guards.placement_press(
        session, caller, placement_id, Action.EDIT_GOALS, open_only=True
    )
    if isinstance(found, Outcome):
        return found
    me, placement = found
    rows = tuple(
        (
            PLAN_SIDE.button(
                "plan_side", {"side": str(side)}, placement=placement.id, side=str(side)
            ),
        )
        for side in GoalSide
    )
    return Outcome(me.language).add(
        Say("plan/goals_ask_side", {"youth": placement.youth_name}, rows)
    )


async def side(
    session: AsyncSession, caller: Caller, placement_id: int, side_code: str, now: dt.datetime
) -> Outcome:
    """A side chosen: the suggestions for this phase and side, or type your own."""
    found = await guards.placement_press(
        session, caller, placement_id, Action.EDIT_GOALS, open_only=True
    )
    if isinstance(found, Outcome):
        return found
    me, placement = found
    goal_side = GoalSide(side_code)
    codes = GOAL_SUGGESTIONS.get((placement.phase, goal_side), ())
    rows: list[tuple[Button, ...]] = [
        (
            PLAN_SUGGEST.button(
                "goal_suggestion",
                {"code": code},
                placement=placement.id,
                side=side_code,
                code=code,
            ),
        )
        for code in codes
    ]
    rows.append((PLAN_TYPE.button("plan_type", placement=placement.id, side=side_code),))
    return Outcome(me.language).add(
        Say(
            "plan/goals_ask_goal",
            {"youth": placement.youth_name, "side": side_code, "suggestions": list(codes)},
            tuple(rows),
        )
    )


async def suggest(
    session: AsyncSession,
    caller: Caller,
    placement_id: int,
    side_code: str,
    code: str,
    now: dt.datetime,
) -> Outcome:
    """A suggested goal chosen: added (once; a second press finds it already there)."""
    found = await guards.placement_press(
        session, caller, placement_id, Action.EDIT_GOALS, open_only=True
    )
    if isinstance(found, Outcome):
        return found
    me, placement = found
    goal_side = GoalSide(side_code)
    if code not in GOAL_SUGGESTIONS.get((placement.phase, goal_side), ()):
        return guards.refuse(me.language, guards.EXPIRED)
    existing = await session.scalar(
        select(Goal.id).where(
            Goal.placement_id == placement.id,
            Goal.side == goal_side,
            Goal.suggestion == code,
            Goal.status == GoalStatus.OPEN,
        )
    )
    if existing is not None:
        return Outcome(me.language).say("plan/goals_already", youth=placement.youth_name)
    await changes.add_goal(
        session,
        placement_id=placement.id,
        phase=placement.phase,
        side=goal_side,
        by_person_id=me.person.id,
        now=now,
        suggestion=code,
    )
    return await _added(session, me, placement, now)


async def ask_typed(
    session: AsyncSession, caller: Caller, placement_id: int, side_code: str, now: dt.datetime
) -> Outcome:
    """ "Zelf typen": ask for the goal's words."""
    found = await guards.placement_press(
        session, caller, placement_id, Action.EDIT_GOALS, open_only=True
    )
    if isinstance(found, Outcome):
        return found
    me, placement = found
    data: dict[str, object] = {"placement": placement.id, "side": side_code}
    await set_state(session, caller.telegram_user_id, FLOW, "goal_text", data, now)
    return Outcome(me.language).add(
        Say("plan/goals_ask_text", {"side": side_code, "max": GOAL_MAX})
    )


async def _added(session: AsyncSession, me: Me, placement: Placement, now: dt.datetime) -> Outcome:
    out = Outcome(me.language).say("plan/goals_added", youth=placement.youth_name)
    shown = await view(session, me, placement, now, edit=False)
    out.messages.extend(shown.messages)
    return out


# --- Changing a goal --------------------------------------------------------------------------


async def act(
    session: AsyncSession, caller: Caller, goal_id: int, action: str, now: dt.datetime
) -> Outcome:
    """Adjust (ask new words), mark reached, drop or open again a goal of one's own placement."""
    me = await guards.who(session, caller, pressed=True)
    if isinstance(me, Outcome):
        return me
    goal = await session.get(Goal, goal_id)
    if goal is None:
        return guards.refuse(me.language, guards.NOT_YOURS)
    placement = await guards.own_placement(
        session, me, goal.placement_id, Action.EDIT_GOALS, open_only=True
    )
    if isinstance(placement, Outcome):
        return placement
    if action == "adjust":
        data: dict[str, object] = {"placement": placement.id, "goal": goal.id}
        await set_state(session, caller.telegram_user_id, FLOW, "goal_adjust", data, now)
        return Outcome(me.language).say("plan/goals_ask_text", side=str(goal.side), max=GOAL_MAX)
    status = {
        "reached": GoalStatus.REACHED,
        "dropped": GoalStatus.DROPPED,
        "open": GoalStatus.OPEN,
    }[action]
    changed = await changes.set_status(session, goal, status, by_person_id=me.person.id, now=now)
    if not changed:
        return Outcome(me.language).say("plan/goals_unchanged")
    if status == GoalStatus.OPEN:
        await _forget_responses(session, goal)
    return await view(session, me, placement, now, edit=True)


async def _forget_responses(session: AsyncSession, goal: Goal) -> None:
    """New words (or a goal open again): earlier answers were about something else, so each
    person is asked again; the history keeps the old words."""
    await session.execute(delete(GoalResponse).where(GoalResponse.goal_id == goal.id))


async def typed(
    session: AsyncSession,
    me: Me,
    step: str,
    data: dict[str, object],
    text: str,
    now: dt.datetime,
) -> Outcome:
    """Typed text in the plan's staff steps: the estimate's note, a new goal, new words."""
    if step == "estimate_note":
        return await estimate.typed_note(session, me, data, text, now)
    if step not in ("goal_text", "goal_adjust"):
        await clear_state(session, me.link.telegram_user_id)
        return Outcome(me.language).say("common/nothing_asked")
    words = " ".join(text.split())
    if not words or len(words) > GOAL_MAX:
        return Outcome(me.language).say("plan/goals_bad_text", max=GOAL_MAX, empty=not words)
    placement_id = data.get("placement")
    placement = await guards.own_placement(
        session,
        me,
        placement_id if isinstance(placement_id, int) else 0,
        Action.EDIT_GOALS,
        open_only=True,
    )
    if isinstance(placement, Outcome):
        await clear_state(session, me.link.telegram_user_id)
        return placement
    await clear_state(session, me.link.telegram_user_id)
    if step == "goal_text":
        side_code = str(data.get("side"))
        if side_code not in {str(s) for s in GoalSide}:
            return guards.refuse(me.language, guards.EXPIRED)
        await changes.add_goal(
            session,
            placement_id=placement.id,
            phase=placement.phase,
            side=GoalSide(side_code),
            by_person_id=me.person.id,
            now=now,
            text=words,
        )
        return await _added(session, me, placement, now)
    goal_id = data.get("goal")
    goal = await session.get(Goal, goal_id) if isinstance(goal_id, int) else None
    if goal is None or goal.placement_id != placement.id or goal.status != GoalStatus.OPEN:
        return guards.refuse(me.language, guards.EXPIRED)
    await changes.adjust_goal(session, goal, text=words, by_person_id=me.person.id, now=now)
    await _forget_responses(session, goal)
    out = Outcome(me.language).say("plan/goals_adjusted")
    out.messages.extend((await view(session, me, placement, now, edit=False)).messages)
    return out


# --- Sending the goals to the participants ----------------------------------------------------


async def _pending(
    session: AsyncSession, placement_id: int, person_id: int, role: Role
) -> list[Goal]:
    """The open goals this person may see that they have not answered since they last changed."""
    goals = await read.goals(session, placement_id, role=role, statuses=read.ACTIVE)
    if not goals:
        return []
    answered = {
        r.goal_id: r.at
        for r in await session.scalars(
            select(GoalResponse).where(
                GoalResponse.person_id == person_id,
                GoalResponse.goal_id.in_([g.id for g in goals]),
            )
        )
    }
    return [g for g in goals if g.id not in answered]


async def _changed_since(session: AsyncSession, placement_id: int, person_id: int) -> set[int]:
    """The goals set, adjusted or reopened since the last goals message to this person."""
    last = await session.scalar(
        select(func.max(OutboxMessage.subject_id)).where(
            OutboxMessage.person_id == person_id,
            OutboxMessage.kind == SENT_KIND,
            OutboxMessage.placement_id == placement_id,
        )
    )
    return set(
        await session.scalars(
            select(GoalEvent.goal_id)
            .join(Goal, Goal.id == GoalEvent.goal_id)
            .where(
                Goal.placement_id == placement_id,
                GoalEvent.id > (last or 0),
                GoalEvent.action.in_(
                    [changes.Action.SET, changes.Action.ADJUSTED, changes.Action.REOPENED]
                ),
            )
        )
    )


async def send(
    session: AsyncSession, caller: Caller, placement_id: int, now: dt.datetime
) -> Outcome:
    """ "Klaar, stuur naar ouders en gezinshuisouders": one message per participant, only
    their own new or changed goals. A second press sends nothing new."""
    found = await guards.placement_press(
        session, caller, placement_id, Action.EDIT_GOALS, open_only=True
    )
    if isinstance(found, Outcome):
        return found
    me, placement = found
    out = Outcome(me.language)
    rows = await session.execute(
        select(Participant, TelegramLink)
        .join(TelegramLink, TelegramLink.person_id == Participant.person_id)
        .where(Participant.placement_id == placement.id, Participant.role.in_(list(VISIBLE_SIDES)))
        .order_by(Participant.id)
    )
    sent: list[str] = []
    newest = await session.scalar(
        select(func.max(GoalEvent.id))
        .join(Goal, Goal.id == GoalEvent.goal_id)
        .where(Goal.placement_id == placement.id)
    )
    for participant, link in rows:
        if not link.reachable:
            continue
        pending = await _pending(session, placement.id, participant.person_id, participant.role)
        if not pending:
            continue
        code = _ROLE_CODE[participant.role]
        buttons = (
            (GOAL_CONFIRM.button("goal_yes", placement=placement.id, role=code, agreed=True),),
            (GOAL_CONFIRM.button("goal_word", placement=placement.id, role=code, agreed=False),),
        )
        unsent = await _changed_since(session, placement.id, participant.person_id)
        pending = [g for g in pending if g.id in unsent]
        if not pending:
            continue
        say = Say(
            "plan/goals_confirm",
            {
                "youth": placement.youth_name,
                "role": str(participant.role),
                "goals": [read.goal_context(g) for g in pending],
            },
            buttons,
            to=recipient(link),
            kind=SENT_KIND,
        )
        # The newest goal event this message covers: a second press sends only what is newer.
        await enqueue(
            session,
            key=f"{SENT_KIND}:{participant.person_id}:{uuid.uuid4().hex}",
            person_id=participant.person_id,
            kind=SENT_KIND,
            say=say,
            due_at=now,
            now=now,
            placement_id=placement.id,
            subject_id=newest,
        )
        out.kick_outbox = True
        name = await session.scalar(select(Person.first_name).where(Person.id == link.person_id))
        sent.append(str(name))
    return out.add(Say("plan/goals_sent", {"names": sent}, edit=False))


async def confirm(
    session: AsyncSession,
    caller: Caller,
    placement_id: int,
    role_code: str,
    agreed: bool,
    now: dt.datetime,
) -> Outcome:
    """A participant's "Ja, dat klopt" or "Ik wil iets zeggen" for their pending goals.

    Only someone who takes part in this placement in the role the message was sent to may
    press it; anyone else gets the one expired reply and nothing is stored or shown."""
    me = await guards.who(session, caller, pressed=True)
    if isinstance(me, Outcome):
        return me
    role = _CODE_ROLE[role_code]
    taking_part = any(p.placement_id == placement_id and p.role == role for p in me.participations)
    placement = await session.get(Placement, placement_id)
    if not taking_part or placement is None:
        return guards.refuse(me.language, guards.EXPIRED)
    if placement.phase == "afgesloten":
        return Outcome(me.language).add(Say("plan/goals_closed", {}, edit=True))
    pending = await _pending(session, placement_id, me.person.id, role)
    if not pending:
        return Outcome(me.language).say("plan/goals_nothing_open")
    if agreed:
        await _answer(session, me.person.id, pending, True, None, now)
        out = Outcome(me.language).say("plan/goals_thanks", word=False)
        out.close_pressed = True
        return out
    data: dict[str, object] = {"placement": placement_id, "goals": [g.id for g in pending]}
    await set_state(session, caller.telegram_user_id, WORD_FLOW, "word", data, now)
    return Outcome(me.language).say("plan/goals_ask_word", max=WORD_MAX)


async def typed_word(
    session: AsyncSession, me: Me, data: dict[str, object], text: str, now: dt.datetime
) -> Outcome:
    """The participant's word about the goals she was shown, stored with each of them."""
    word = text.strip()
    if not word or len(word) > WORD_MAX:
        return Outcome(me.language).say("plan/goals_bad_word", max=WORD_MAX)
    await clear_state(session, me.link.telegram_user_id)
    ids = data.get("goals")
    goal_ids = [int(i) for i in ids] if isinstance(ids, list) else []
    placement_id = data.get("placement")
    visible = {
        g.id: g
        for p in me.participations
        if p.placement_id == placement_id
        for g in await read.goals(session, p.placement_id, role=p.role, statuses=read.ACTIVE)
    }
    goals = [visible[i] for i in goal_ids if i in visible]
    if not goals:
        return Outcome(me.language).say("plan/goals_nothing_open")
    await _answer(session, me.person.id, goals, False, word, now)
    return Outcome(me.language).say("plan/goals_thanks", word=True)


async def _answer(
    session: AsyncSession,
    person_id: int,
    goals: list[Goal],
    agreed: bool,
    comment: str | None,
    now: dt.datetime,
) -> None:
    existing = {
        r.goal_id: r
        for r in await session.scalars(
            select(GoalResponse).where(
                GoalResponse.person_id == person_id,
                GoalResponse.goal_id.in_([g.id for g in goals]),
            )
        )
    }
    for goal in goals:
        response = existing.get(goal.id)
        if response is None:
            session.add(
                GoalResponse(
                    goal_id=goal.id, person_id=person_id, agreed=agreed, comment=comment, at=now
                )
            )
        else:
            response.agreed, response.comment, response.at = agreed, comment, now
    await session.flush()
