"""The plan review around the twice-yearly talks of the stabilisatiefase.

Before the talk (`route.REVIEW_AHEAD`) the begeleider gets the plan in one message: intensity,
goals per side with their last progress, the latest questionnaire result. One `PlanReview` row
per meeting says it went (`sent_at`), so it goes once, also after restarts. Only staff get it.

After the talk (`route.REVIEW_AFTER`) she is asked how the review went; [Plan bespreken] (or
/planbespreking, if she missed the question) opens the steps in the chat: per open goal
[Houden] [Aanpassen] [Bereikt] [Laten vallen], [Doel toevoegen] (side, then typed words),
[Klaar] -> next review date (button or typed) -> optional note -> the review is recorded.
Every goal change goes through `flows.plan.changes` with the review's id. The steps are in
`conversation_state` (flow "plan_review"); each press is checked against it and against the
placement (hers, open).

`overdue` gives, in one query, the placements whose review is late (the digest's reason).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flows import access, guards
from flows.authz import Action
from flows.buttons import (
    REVIEW_ACT,
    REVIEW_NEXT,
    REVIEW_SIDE,
    REVIEW_START,
    REVIEW_STEP,
)
from flows.dates import parse_date
from flows.outbox import enqueue
from flows.people import Caller, Me, clear_state, get_state, set_state, staff_link
from flows.plan import changes
from flows.plan.read import goal_context, goals, latest_estimate
from flows.questions import DIMENSIONS
from flows.replies import Button, Outcome, Say
from flows.route import (
    REVIEW_AFTER,
    REVIEW_AHEAD,
    REVIEW_FIRST_DUE,
    REVIEW_NEXT_MONTHS,
    REVIEW_PROMPT_UNTIL,
    REVIEW_TALKS,
)
from storage.models import (
    Answer,
    Checkin,
    Goal,
    GoalSide,
    GoalStatus,
    MeasurementRound,
    Meeting,
    MeetingStatus,
    Person,
    Phase,
    Placement,
    PlanReview,
)

FLOW = "plan_review"
GOAL_MAX = 300  # typed goal words
NOTE_MAX = 1000  # the review's note
GAPS_SHOWN = 2
GOAL_QUESTION = "doel"  # progress answers about a goal (Answer.question_id)
SIDES = (GoalSide.OUDER, GoalSide.GEZINSHUISOUDER, GoalSide.SAMEN)
SIDE_CODES = {"o": GoalSide.OUDER, "g": GoalSide.GEZINSHUISOUDER, "s": GoalSide.SAMEN}
ACTS = {"k": "kept", "a": "adjust", "r": "reached", "d": "dropped"}


# --- The clock: before and after the talk ------------------------------------------------------


async def plan(session: AsyncSession, now: dt.datetime) -> int:
    """Send the plan before each review talk and ask about it after; return messages queued."""
    return await _plan_before(session, now) + await _plan_after(session, now)


async def _plan_before(session: AsyncSession, now: dt.datetime) -> int:
    rows = await session.execute(
        select(Meeting, Placement)
        .join(Placement, Placement.id == Meeting.placement_id)
        .outerjoin(PlanReview, PlanReview.meeting_id == Meeting.id)
        .where(
            Meeting.type.in_(REVIEW_TALKS),
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.starts_at > now,
            Meeting.starts_at <= now + REVIEW_AHEAD,
            PlanReview.id.is_(None),
            guards.is_open(),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )
    queued = 0
    seen: list[dict[str, object]] = []
    for meeting, placement in list(rows):
        if placement.begeleider_id is None:
            continue
        link = await staff_link(session, placement.begeleider_id)
        if link is None:
            continue  # tried again at the next beat: she may link in time
        review = PlanReview(
            placement_id=placement.id, meeting_id=meeting.id, sent_at=now, created_at=now
        )
        session.add(review)
        await session.flush()
        context = await plan_context(session, placement)
        context["meeting"] = {
            "type": meeting.type,
            "at": meeting.starts_at.astimezone(ZoneInfo(link.time_zone)),
        }
        sent = await enqueue(
            session,
            key=f"plan_review_before:{meeting.id}",
            person_id=link.person_id,
            kind="plan_review",
            say=Say("plan/review_before", context),
            due_at=now,
            expires_at=meeting.starts_at,
            now=now,
            placement_id=placement.id,
            subject_id=meeting.id,
        )
        queued += sent
        staff_person = await session.get(Person, link.person_id)
        if sent and staff_person is not None:
            seen.extend(access.placement_rows(staff_person, "plan_review", [placement.id], now))
    await access.write(session, seen)
    return queued


async def _plan_after(session: AsyncSession, now: dt.datetime) -> int:
    rows = await session.execute(
        select(Meeting, Placement, PlanReview)
        .join(Placement, Placement.id == Meeting.placement_id)
        .outerjoin(PlanReview, PlanReview.meeting_id == Meeting.id)
        .where(
            Meeting.type.in_(REVIEW_TALKS),
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.starts_at <= now - REVIEW_AFTER,
            Meeting.starts_at > now - REVIEW_PROMPT_UNTIL,
            guards.is_open(),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )
    queued = 0
    for meeting, placement, review in list(rows):
        if review is not None and review.recorded_at is not None:
            continue
        if placement.begeleider_id is None:
            continue
        link = await staff_link(session, placement.begeleider_id)
        if link is None:
            continue
        if review is None:  # planned too late for the plan to go before it
            review = PlanReview(placement_id=placement.id, meeting_id=meeting.id, created_at=now)
            session.add(review)
            await session.flush()
        say = Say(
            "plan/review_after",
            {"youth": placement.youth_name, "meeting": meeting.type},
            buttons=((REVIEW_START.button("review_open", placement=placement.id),),),
        )
        queued += await enqueue(
            session,
            key=f"plan_review_after:{meeting.id}",
            person_id=link.person_id,
            kind="plan_review_after",
            say=say,
            due_at=now,
            now=now,
            placement_id=placement.id,
            subject_id=meeting.id,
        )
    return queued


# --- What the begeleider sees of the plan ------------------------------------------------------


async def plan_context(session: AsyncSession, placement: Placement) -> dict[str, object]:
    """The plan of one placement for staff: intensity, goals per side, last questionnaire."""
    estimate = await latest_estimate(session, placement.id)
    all_goals = await goals(session, placement.id)
    progress = await _last_progress(session, placement.id, [g.id for g in all_goals])
    sides = [
        {
            "side": str(side),
            "goals": [
                {**goal_context(g), "progress": progress.get(g.id, [])}
                for g in all_goals
                if g.side == side
            ],
        }
        for side in SIDES
    ]
    return {
        "youth": placement.youth_name,
        "estimate": (
            {"intensity": str(estimate.intensity), "date": estimate.created_at.date()}
            if estimate is not None
            else None
        ),
        "sides": sides,
        "questionnaire": await _questionnaire(session, placement.id),
    }


async def _last_progress(
    session: AsyncSession, placement_id: int, goal_ids: list[int]
) -> dict[int, list[dict[str, object]]]:
    """Per goal the last progress score of each side that answered (staff see both)."""
    if not goal_ids:
        return {}
    last: dict[tuple[int, str], dict[str, object]] = {}
    for goal_id, role, score, at in await session.execute(
        select(Answer.goal_id, Answer.role, Answer.score, Answer.answered_at)
        .where(
            Answer.placement_id == placement_id,
            Answer.question_id == GOAL_QUESTION,
            Answer.goal_id.in_(goal_ids),
            Answer.score.is_not(None),
        )
        .order_by(Answer.answered_at, Answer.id)
    ):
        if goal_id is None:
            continue
        last[(goal_id, str(role))] = {"role": str(role), "score": score, "date": at.date()}
    found: dict[int, list[dict[str, object]]] = defaultdict(list)
    for (goal_id, _role), item in sorted(last.items()):
        found[goal_id].append(item)
    return found


async def _questionnaire(session: AsyncSession, placement_id: int) -> dict[str, object] | None:
    """The latest reported questionnaire: each side's mean and the biggest gaps."""
    round_ = await session.scalar(
        select(MeasurementRound)
        .where(
            MeasurementRound.placement_id == placement_id,
            MeasurementRound.reported_at.is_not(None),
        )
        .order_by(MeasurementRound.created_at.desc(), MeasurementRound.id.desc())
        .limit(1)
    )
    if round_ is None:
        return None
    scores: dict[tuple[str, str], list[int]] = defaultdict(list)
    for question_id, role, score in await session.execute(
        select(Answer.question_id, Answer.role, Answer.score)
        .join(Checkin, Checkin.id == Answer.checkin_id)
        .where(Checkin.round_id == round_.id, Answer.score.is_not(None))
    ):
        if score is not None and question_id.startswith("dim_"):
            scores[(question_id[4:], str(role))].append(score)

    def mean(values: list[int]) -> float | None:
        return round(sum(values) / len(values), 1) if values else None

    sides = {
        side: mean([s for (_d, r), v in scores.items() if r == side for s in v])
        for side in ("ouder", "gezinshuisouder")
    }
    gaps = []
    for dimension in DIMENSIONS:
        o = mean(scores.get((dimension, "ouder"), []))
        g = mean(scores.get((dimension, "gezinshuisouder"), []))
        if o is not None and g is not None and abs(o - g) >= 1:
            gaps.append({"dimension": dimension, "ouder": o, "gezinshuisouder": g})
    gaps.sort(key=lambda x: -abs(float(x["ouder"]) - float(x["gezinshuisouder"])))  # type: ignore[arg-type]
    return {"date": round_.created_at.date(), **sides, "gaps": gaps[:GAPS_SHOWN]}


# --- After the talk: the steps in the chat ------------------------------------------------------


async def _review_press(
    session: AsyncSession, caller: Caller, review_id: int
) -> tuple[Me, Placement, PlanReview] | Outcome:
    """The review of this press, if it is of her own open placement and not recorded yet."""
    me = await guards.who(session, caller, pressed=True)
    if isinstance(me, Outcome):
        return me
    review = await session.get(PlanReview, review_id)
    if review is None:
        return guards.refuse(me.language, guards.EXPIRED)
    found = await guards.placement_press(
        session, caller, review.placement_id, Action.REVIEW_PLAN, open_only=True
    )
    if isinstance(found, Outcome):
        return found
    _me, placement = found
    if review.recorded_at is not None:
        await clear_state(session, caller.telegram_user_id)
        return Outcome(me.language).say("plan/review_reply", what="already")
    return me, placement, review


async def _state_review(
    session: AsyncSession, caller: Caller, review_id: int
) -> dict[str, Any] | None:
    state = await get_state(session, caller.telegram_user_id)
    if state is None or state.flow != FLOW or state.data.get("review") != review_id:
        return None
    return {**state.data, "step": state.step}


async def choose(session: AsyncSession, caller: Caller, now: dt.datetime) -> Outcome:
    """/planbespreking: her open placements, to record a review without waiting for the prompt."""
    me = await guards.staff(session, caller, Action.REVIEW_PLAN)
    if isinstance(me, Outcome):
        return me
    placements = await guards.open_placements_of(session, me, Action.REVIEW_PLAN)
    if not placements:
        return Outcome(me.language).say("phase/none")
    buttons = tuple(
        (
            REVIEW_START.button(
                "phase_placement", {"youth": p.youth_name, "phase": str(p.phase)}, placement=p.id
            ),
        )
        for p in placements
    )
    return Outcome(me.language).add(Say("plan/review_ask", {"what": "choose"}, buttons=buttons))


async def start(
    session: AsyncSession, caller: Caller, placement_id: int, now: dt.datetime
) -> Outcome:
    """[Plan bespreken] under the prompt after a talk, or a placement chosen with /planbespreking:
    its newest review not yet recorded (the talk's), or a new one without a talk."""
    found = await guards.placement_press(
        session, caller, placement_id, Action.REVIEW_PLAN, open_only=True
    )
    if isinstance(found, Outcome):
        return found
    _me, placement = found
    review = await session.scalar(
        select(PlanReview)
        .where(PlanReview.placement_id == placement.id, PlanReview.recorded_at.is_(None))
        .order_by(PlanReview.created_at.desc(), PlanReview.id.desc())
        .limit(1)
    )
    if review is None:
        review = PlanReview(placement_id=placement.id, created_at=now)
        session.add(review)
        await session.flush()
    return await open_review(session, caller, review.id, now)


async def open_review(
    session: AsyncSession, caller: Caller, review_id: int, now: dt.datetime
) -> Outcome:
    """Start (or start again) the review's steps with the open goals."""
    found = await _review_press(session, caller, review_id)
    if isinstance(found, Outcome):
        return found
    me, placement, review = found
    data = await _state_review(session, caller, review_id) or {"review": review.id, "done": []}
    data.pop("step", None)
    await set_state(session, caller.telegram_user_id, FLOW, "goals", data, now)
    return await _goals_message(session, me, placement, review, data)


async def _goals_message(
    session: AsyncSession,
    me: Me,
    placement: Placement,
    review: PlanReview,
    data: dict[str, Any],
) -> Outcome:
    done = {int(g) for g in data.get("done", [])}
    # The open goals and those done in this review, so the numbers stay as they were.
    open_goals = [
        g
        for g in await goals(session, placement.id)
        if g.status == GoalStatus.OPEN or g.id in done
    ]
    rows: list[tuple[Button, ...]] = []
    listed = []
    for number, goal in enumerate(open_goals, 1):
        listed.append({**goal_context(goal), "number": number, "done": goal.id in done})
        if goal.id in done:
            continue
        rows.extend(
            tuple(
                REVIEW_ACT.button(
                    f"review_{ACTS[a]}", {"n": number}, review=review.id, goal=goal.id, act=a
                )
                for a in pair
            )
            for pair in (("k", "a"), ("r", "d"))
        )
    rows.append((REVIEW_STEP.button("review_add", review=review.id, step="add"),))
    rows.append((REVIEW_STEP.button("review_done", review=review.id, step="done"),))
    context = {"youth": placement.youth_name, "goals": listed}
    return Outcome(me.language).add(Say("plan/review_goals", context, buttons=tuple(rows)))


async def act(
    session: AsyncSession,
    caller: Caller,
    review_id: int,
    goal_id: int,
    action: str,
    now: dt.datetime,
) -> Outcome:
    """[Houden] [Aanpassen] [Bereikt] [Laten vallen] on one goal of the review."""
    found = await _review_press(session, caller, review_id)
    if isinstance(found, Outcome):
        return found
    me, placement, review = found
    data = await _state_review(session, caller, review_id)
    goal = await session.get(Goal, goal_id)
    if data is None or goal is None or goal.placement_id != placement.id:
        return guards.refuse(me.language, guards.EXPIRED)
    done = [int(g) for g in data.get("done", [])]
    if goal.id in done or goal.status != GoalStatus.OPEN:
        return Outcome(me.language).say("plan/review_reply", what="done_before")
    by = me.person.id
    if ACTS[action] == "adjust":
        data.pop("step", None)
        data["goal"] = goal.id
        await set_state(session, caller.telegram_user_id, FLOW, "adjust", data, now)
        return Outcome(me.language).say("plan/review_ask", what="adjust", goal=goal_context(goal))
    if ACTS[action] == "kept":
        await changes.keep_goal(session, goal, by_person_id=by, now=now, review_id=review.id)
    else:
        status = GoalStatus.REACHED if ACTS[action] == "reached" else GoalStatus.DROPPED
        await changes.set_status(
            session, goal, status, by_person_id=by, now=now, review_id=review.id
        )
    return await _goal_done(session, caller, me, placement, review, data, goal, ACTS[action], now)


async def _goal_done(
    session: AsyncSession,
    caller: Caller,
    me: Me,
    placement: Placement,
    review: PlanReview,
    data: dict[str, Any],
    goal: Goal,
    what: str,
    now: dt.datetime,
) -> Outcome:
    data = {k: v for k, v in data.items() if k not in ("step", "goal", "side")}
    data["done"] = [*data.get("done", []), goal.id]
    await set_state(session, caller.telegram_user_id, FLOW, "goals", data, now)
    outcome = Outcome(me.language).say("plan/review_reply", what=what, goal=goal_context(goal))
    outcome.messages.extend((await _goals_message(session, me, placement, review, data)).messages)
    return outcome


async def step(
    session: AsyncSession, caller: Caller, review_id: int, which: str, now: dt.datetime
) -> Outcome:
    """[Doel toevoegen], [Klaar] and [Geen notitie]."""
    found = await _review_press(session, caller, review_id)
    if isinstance(found, Outcome):
        return found
    me, placement, review = found
    data = await _state_review(session, caller, review_id)
    if data is None:
        return guards.refuse(me.language, guards.EXPIRED)
    data.pop("step", None)
    if which == "add":
        buttons = tuple(
            (REVIEW_SIDE.button(f"review_side_{code}", review=review.id, side=code),)
            for code in SIDE_CODES
        )
        return Outcome(me.language).add(Say("plan/review_ask", {"what": "side"}, buttons=buttons))
    if which == "done":
        await set_state(session, caller.telegram_user_id, FLOW, "next", data, now)
        buttons = (
            (
                REVIEW_NEXT.button(
                    "review_next",
                    {"n": REVIEW_NEXT_MONTHS},
                    review=review.id,
                    months=REVIEW_NEXT_MONTHS,
                ),
            ),
        )
        return Outcome(me.language).add(
            Say("plan/review_ask", {"what": "next", "months": REVIEW_NEXT_MONTHS}, buttons=buttons)
        )
    # "nonote": record without a note
    if data.get("next") is None:
        return guards.refuse(me.language, guards.EXPIRED)
    return await _record(session, caller, me, placement, review, data, None, now)


async def side(
    session: AsyncSession, caller: Caller, review_id: int, code: str, now: dt.datetime
) -> Outcome:
    """The side of a goal to add; its words come typed."""
    found = await _review_press(session, caller, review_id)
    if isinstance(found, Outcome):
        return found
    me, _placement, _review = found
    data = await _state_review(session, caller, review_id)
    if data is None:
        return guards.refuse(me.language, guards.EXPIRED)
    data.pop("step", None)
    data["side"] = code
    await set_state(session, caller.telegram_user_id, FLOW, "add", data, now)
    return Outcome(me.language).say("plan/review_ask", what="add", side=str(SIDE_CODES[code]))


async def next_in(
    session: AsyncSession, caller: Caller, review_id: int, months: int, now: dt.datetime
) -> Outcome:
    """[Over 6 maanden]: the next review date, then the note."""
    found = await _review_press(session, caller, review_id)
    if isinstance(found, Outcome):
        return found
    me, _placement, _review = found
    data = await _state_review(session, caller, review_id)
    if data is None or data.get("step") != "next":
        return guards.refuse(me.language, guards.EXPIRED)
    today = now.astimezone(ZoneInfo(me.link.time_zone)).date()
    return await _ask_note(session, caller, me, data, _add_months(today, months), now)


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - every month has a 28th


async def _ask_note(
    session: AsyncSession,
    caller: Caller,
    me: Me,
    data: dict[str, Any],
    next_review: dt.date,
    now: dt.datetime,
) -> Outcome:
    data = {k: v for k, v in data.items() if k != "step"}
    data["next"] = next_review.isoformat()
    await set_state(session, caller.telegram_user_id, FLOW, "note", data, now)
    buttons = ((REVIEW_STEP.button("review_no_note", review=int(data["review"]), step="nonote"),),)
    return Outcome(me.language).add(
        Say("plan/review_ask", {"what": "note", "next": next_review}, buttons=buttons)
    )


async def typed(
    session: AsyncSession,
    me: Me,
    step_name: str,
    data: dict[str, Any],
    message: str,
    now: dt.datetime,
) -> Outcome:
    """Typed words in the review: a goal's new words, a new goal, the next date, the note."""
    caller_id = me.link.telegram_user_id
    review = await session.get(PlanReview, int(data.get("review", 0)))
    placement = await session.get(Placement, review.placement_id) if review else None
    if (
        review is None
        or placement is None
        or placement.phase == Phase.AFGESLOTEN
        or review.recorded_at is not None
        or not guards.reaches(me, placement, Action.REVIEW_PLAN)
    ):
        await clear_state(session, caller_id)
        return Outcome(me.language).say("plan/review_reply", what="stopped")
    words = " ".join(message.split())
    caller = Caller(caller_id, me.link.chat_id, me.person.first_name)
    if step_name in ("adjust", "add"):
        if not words:
            return Outcome(me.language).say("plan/review_ask", what="empty")
        if len(words) > GOAL_MAX:
            return Outcome(me.language).say("plan/review_ask", what="too_long", limit=GOAL_MAX)
        if step_name == "adjust":
            goal = await session.get(Goal, int(data.get("goal", 0)))
            if goal is None or goal.placement_id != placement.id:
                await clear_state(session, caller_id)
                return Outcome(me.language).say("plan/review_reply", what="stopped")
            await changes.adjust_goal(
                session, goal, text=words, by_person_id=me.person.id, now=now, review_id=review.id
            )
            return await _goal_done(
                session, caller, me, placement, review, data, goal, "adjusted", now
            )
        goal = await changes.add_goal(
            session,
            placement_id=placement.id,
            phase=placement.phase,
            side=SIDE_CODES[str(data.get("side", "s"))],
            by_person_id=me.person.id,
            now=now,
            text=words,
            review_id=review.id,
        )
        return await _goal_done(session, caller, me, placement, review, data, goal, "added", now)
    if step_name == "next":
        today = now.astimezone(ZoneInfo(me.link.time_zone)).date()
        day = parse_date(words, today)
        if day is None or day <= today:
            return Outcome(me.language).say("plan/review_ask", what="bad_date")
        return await _ask_note(session, caller, me, data, day, now)
    if step_name == "note":
        if len(words) > NOTE_MAX:
            return Outcome(me.language).say("plan/review_ask", what="too_long", limit=NOTE_MAX)
        return await _record(session, caller, me, placement, review, data, words or None, now)
    return Outcome(me.language).say("plan/review_ask", what="use_buttons")


async def _record(
    session: AsyncSession,
    caller: Caller,
    me: Me,
    placement: Placement,
    review: PlanReview,
    data: dict[str, Any],
    note: str | None,
    now: dt.datetime,
) -> Outcome:
    """Record the review once: a second press or a race finds it recorded already."""
    next_review = dt.date.fromisoformat(str(data["next"]))
    done = await session.execute(
        update(PlanReview)
        .where(PlanReview.id == review.id, PlanReview.recorded_at.is_(None))
        .values(recorded_at=now, recorded_by_person_id=me.person.id, next_review=next_review)
        .execution_options(synchronize_session=False)
    )
    await clear_state(session, caller.telegram_user_id)
    if getattr(done, "rowcount", 0) != 1:
        return Outcome(me.language).say("plan/review_reply", what="already")
    await session.refresh(review)
    review.note = note  # encrypted at rest (the column type)
    return Outcome(me.language).say(
        "plan/review_reply", what="recorded", youth=placement.youth_name, next=next_review
    )


# --- Overdue reviews (the digest) ---------------------------------------------------------------


async def overdue(
    session: AsyncSession, placements: list[Placement], now: dt.datetime
) -> dict[int, dt.date]:
    """Placements in the stabilisatiefase whose review is late, with the date since when.

    Late: the last recorded review's next date has passed, or no review recorded since entering
    the stabilisatiefase `REVIEW_FIRST_DUE` ago. One query for all placements.
    """
    stable = {p.id: p for p in placements if p.phase == Phase.STABILISATIEFASE}
    if not stable:
        return {}
    latest: dict[int, tuple[dt.datetime, dt.date | None]] = {}
    for pid, recorded_at, next_review in await session.execute(
        select(PlanReview.placement_id, PlanReview.recorded_at, PlanReview.next_review).where(
            PlanReview.placement_id.in_(list(stable)), PlanReview.recorded_at.is_not(None)
        )
    ):
        if recorded_at is None:
            continue
        if pid not in latest or recorded_at > latest[pid][0]:
            latest[pid] = (recorded_at, next_review)
    today = now.date()
    found: dict[int, dt.date] = {}
    for pid, placement in stable.items():
        recorded, next_review = latest.get(pid, (None, None))
        if recorded is None or recorded < placement.phase_since:
            due = (placement.phase_since + REVIEW_FIRST_DUE).date()
        elif next_review is None:
            continue
        else:
            due = next_review
        if due < today:
            found[pid] = due
    return found
