"""/afspraak: plan a meeting step by step in the chat.

Choose the placement (or intervisie), the type the route offers in its phase, the moment, the
place (never an address: places.py), who is invited (the type's roles by default); then confirm.
The steps are kept in `conversation_state`; every press is checked again against that state.
Types and who is invited by default are the route's (flows/route.py).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows import guards
from flows.authz import Action
from flows.buttons import MEETING_PICK, MEETING_QUIT, MEETING_STEP
from flows.callbacks import BadNumber, parse_id, small_number
from flows.dates import NO_DAY, NO_TIME, PAST, TOO_FAR, Moment, Problem, read_moment
from flows.meetings.manage import move
from flows.meetings.notices import FLOW, tell_invitees
from flows.meetings.places import is_address
from flows.meetings.reminders import start_questionnaire
from flows.people import (
    Caller,
    Me,
    clear_state,
    get_state,
    set_state,
)
from flows.replies import Outcome, Say
from flows.route import BEG, BEH, GHO, INTERVISIE, MEETING_TYPES, MONITORING
from flows.settings import MeetingRules
from storage.models import (
    Meeting,
    MeetingInvitee,
    MeetingStatus,
    Participant,
    Person,
    Placement,
    Role,
    StaffMember,
)

LOCATION_MAX = 120
AHEAD_MAX = dt.timedelta(days=366)  # a meeting is planned at most this far ahead
KEPT = ("day", "time", "daypart")  # what an earlier answer to "when?" left open


def _read_when(text: str, local_now: dt.datetime, data: dict[str, object]) -> Moment | Problem:
    """Read the typed moment, completed with a day or time kept from the answer before."""
    day, time, daypart = (data.get(key) for key in KEPT)
    read = read_moment(
        text,
        local_now,
        day=dt.date.fromisoformat(day) if isinstance(day, str) else None,
        time=dt.time.fromisoformat(time) if isinstance(time, str) else None,
        daypart=daypart if isinstance(daypart, str) else None,
    )
    if isinstance(read, Moment) and read.at > local_now + AHEAD_MAX:
        return Problem(TOO_FAR, at=read.at)
    return read


def _keep(data: dict[str, object], problem: Problem) -> None:
    """Keep the day (and dagdeel) or the time that was understood, for the next answer."""
    for key in KEPT:
        data.pop(key, None)
    if problem.day is not None:
        data["day"] = problem.day.isoformat()
    if problem.time is not None:
        data["time"] = problem.time.isoformat(timespec="minutes")
    if problem.daypart is not None:
        data["daypart"] = problem.daypart


def _problem_say(problem: Problem, local_now: dt.datetime) -> Say:
    """Say which part of the typed moment is wrong, or ask for the part that is missing."""
    if problem.code == NO_TIME:
        return Say("meeting/ask_time", {"day": problem.day, "daypart": problem.daypart})
    if problem.code == NO_DAY:
        return Say("meeting/ask_day", {"time": problem.time})
    return Say(
        "meeting/bad_when",
        {
            "problem": problem.code,
            "part": problem.part,
            "day": problem.day,
            "at": problem.at,
            "today": local_now.date(),
        },
    )


async def begin(session: AsyncSession, caller: Caller, now: dt.datetime) -> Outcome:
    """/afspraak: choose the placement (or intervisie for several)."""
    me = await guards.staff(session, caller, Action.PLAN_MEETING)
    if isinstance(me, Outcome):
        return me
    placements = await guards.open_placements_of(session, me, Action.PLAN_MEETING)
    if not placements:
        return Outcome(me.language).say("phase/none")
    rows = [
        (
            MEETING_PICK.button(
                "phase_placement",
                {"youth": p.youth_name, "phase": str(p.phase)},
                step="p",
                choice=str(p.id),
            ),
        )
        for p in placements
    ]
    if me.staff_as(BEG):
        rows.append((MEETING_PICK.button("intervisie_choice", step="p", choice="iv"),))
    await set_state(session, caller.telegram_user_id, FLOW, "placement", {}, now)
    return Outcome(me.language).add(Say("meeting/ask_placement", buttons=tuple(rows)))


async def press(
    session: AsyncSession,
    caller: Caller,
    args: list[str],
    now: dt.datetime,
    rules: MeetingRules,
) -> Outcome:
    """Handle a button of the /afspraak steps."""
    me = await guards.who(session, caller, pressed=True)
    if isinstance(me, Outcome):
        return me
    out = Outcome(me.language)
    state = await _state(session, me)
    if state is None:
        return out.say(guards.EXPIRED)
    data = dict(state)
    what = args[0]
    if what == "p" and len(args) == 2:
        return await _chose_placement(session, me, args[1], now, out)
    offered = data.get("types")
    if what == "t" and len(args) == 2 and isinstance(offered, list):
        if args[1] not in offered:
            return out.say(guards.EXPIRED)
        data["type"] = args[1]
        data["who"] = await _default_invitees(session, me, data)
        await set_state(session, me.link.telegram_user_id, FLOW, "when", data, now)
        return out.add(Say("meeting/ask_when", {"type": args[1]}, edit=True))
    if what == "nowhere" and "at" in data:
        data["where"] = None
        return await _ask_who(session, me, data, now, out, edit=True)
    if what == "w" and len(args) == 2 and "who" in data:
        person_id = small_number(args[1])
        if person_id is None or str(person_id) not in _options(data):
            return out.say(guards.EXPIRED)
        data["who"] = sorted(set(_who(data)) ^ {person_id})
        return await _ask_who(session, me, data, now, out, edit=True)
    if what == "done" and "who" in data:
        if not _who(data):
            return out.say("meeting/nobody")
        await set_state(session, me.link.telegram_user_id, FLOW, "confirm", data, now)
        return out.add(_confirm_say(data, me))
    if what == "ok" and data.get("step") == "confirm":
        return await _create(session, me, data, now, rules, out)
    return out.say(guards.EXPIRED)


def _who(data: dict[str, object]) -> list[int]:
    """The invited person ids kept in the conversation state."""
    value = data.get("who", [])
    return [int(v) for v in value] if isinstance(value, list) else []


def _options(data: dict[str, object]) -> dict[str, list[str]]:
    """Who can be invited, kept in the conversation state: person id -> [name, role]."""
    value = data.get("options", {})
    return (
        {str(k): [str(x) for x in v] for k, v in value.items()} if isinstance(value, dict) else {}
    )


async def _state(session: AsyncSession, me: Me) -> dict[str, object] | None:
    state = await get_state(session, me.link.telegram_user_id)
    if state is None or state.flow != FLOW:
        return None
    return {**state.data, "step": state.step}


async def _chose_placement(
    session: AsyncSession, me: Me, choice: str, now: dt.datetime, out: Outcome
) -> Outcome:
    if choice == "iv":
        if not me.staff_as(BEG):
            return out.say(guards.EXPIRED)
        data: dict[str, object] = {"placement": None, "types": [INTERVISIE], "type": INTERVISIE}
        data["who"] = await _default_invitees(session, me, data)
        await set_state(session, me.link.telegram_user_id, FLOW, "when", data, now)
        return out.add(Say("meeting/ask_when", {"type": INTERVISIE}, edit=True))
    try:
        placement_id = parse_id(choice)
    except BadNumber:
        return out.say(guards.EXPIRED)
    placement = await guards.own_placement(session, me, placement_id, Action.PLAN_MEETING)
    if isinstance(placement, Outcome):
        return placement
    types = [
        t.code
        for t in MEETING_TYPES.values()
        if placement.phase in t.phases and t.code != INTERVISIE
    ]
    data = {"placement": placement.id, "types": types}
    await set_state(session, me.link.telegram_user_id, FLOW, "type", data, now)
    buttons = tuple(
        (MEETING_PICK.button("meeting_type", {"type": code}, step="t", choice=code),)
        for code in types
    )
    return out.add(
        Say("meeting/ask_type", {"youth": placement.youth_name}, buttons=buttons, edit=True)
    )


async def _candidates(
    session: AsyncSession, me: Me, data: dict[str, object]
) -> list[tuple[int, str, Role, int | None]]:
    """Everyone who could be invited: (person id, first name, role, placement id)."""
    found: list[tuple[int, str, Role, int | None]] = []
    placement_id = data.get("placement")
    if placement_id is None:
        # Intervisie: house parents of this begeleider's open placements.
        rows = await session.execute(
            select(Person.id, Person.first_name, Participant.placement_id)
            .join(Participant, Participant.person_id == Person.id)
            .join(Placement, Placement.id == Participant.placement_id)
            .where(
                guards.of_staff(me, guards.BEGELEIDER),
                guards.is_open(),
                Participant.role == GHO,
            )
            .order_by(Person.first_name, Person.id)
        )
        seen: set[int] = set()
        for person_id, name, pid in rows:
            if person_id not in seen:
                seen.add(person_id)
                found.append((person_id, name, GHO, pid))
        found.append((me.person.id, me.person.first_name, BEG, None))
        return found
    assert isinstance(placement_id, int)  # set from a button
    placement = await session.get(Placement, placement_id)
    assert placement is not None  # checked when chosen
    participants = await session.execute(
        select(Person.id, Person.first_name, Participant.role)
        .join(Participant, Participant.person_id == Person.id)
        .where(Participant.placement_id == placement_id)
        .order_by(Participant.id)
    )
    found.extend((pid, name, role, placement_id) for pid, name, role in participants)
    for staff_id, role in ((placement.begeleider_id, BEG), (placement.behandelaar_id, BEH)):
        if staff_id is None:
            continue
        person = await session.scalar(
            select(Person)
            .join(StaffMember, StaffMember.person_id == Person.id)
            .where(StaffMember.id == staff_id)
        )
        if person is not None:
            found.append((person.id, person.first_name, role, placement_id))
    return found


async def _default_invitees(session: AsyncSession, me: Me, data: dict[str, object]) -> list[int]:
    kind = MEETING_TYPES[str(data["type"])] if "type" in data else None
    candidates = await _candidates(session, me, data)
    data["options"] = {str(pid): [name, str(role)] for pid, name, role, _ in candidates}
    if kind is None:
        return []
    return sorted({pid for pid, _, role, _ in candidates if role in kind.roles})


async def _ask_who(
    session: AsyncSession,
    me: Me,
    data: dict[str, object],
    now: dt.datetime,
    out: Outcome,
    *,
    edit: bool,
) -> Outcome:
    await set_state(session, me.link.telegram_user_id, FLOW, "who", data, now)
    options, who = _options(data), set(_who(data))
    rows = tuple(
        (
            MEETING_PICK.button(
                "invitee",
                {"name": name, "kind": role, "on": int(pid) in who},
                step="w",
                choice=pid,
            ),
        )
        for pid, (name, role) in options.items()
    )
    return out.add(
        Say(
            "meeting/ask_who",
            {"type": data["type"]},
            buttons=(*rows, (MEETING_STEP.button("done_inviting", step="done"),)),
            edit=edit,
        )
    )


def _confirm_say(data: dict[str, object], me: Me) -> Say:
    options = _options(data)
    who = [options[str(pid)] for pid in _who(data)]
    at = dt.datetime.fromisoformat(str(data["at"]))
    return Say(
        "meeting/confirm",
        {
            "type": data["type"],
            "at": at,
            "where": data.get("where"),
            "who": [{"name": n, "role": r} for n, r in who],
        },
        buttons=(
            (MEETING_STEP.button("plan_it", step="ok"),),
            (MEETING_QUIT.button("never_mind"),),
        ),
    )


async def typed(
    session: AsyncSession,
    me: Me,
    step: str,
    data: dict[str, object],
    text: str,
    now: dt.datetime,
) -> Outcome:
    """Read the typed date and time, or the place; re-ask kindly when unclear."""
    out = Outcome(me.language)
    zone = ZoneInfo(me.link.time_zone)
    local_now = now.astimezone(zone).replace(tzinfo=None)
    if step in ("when", "move"):
        read = _read_when(text, local_now, data)
        if isinstance(read, Problem):
            if read.code in (NO_TIME, NO_DAY):
                _keep(data, read)
                await set_state(session, me.link.telegram_user_id, FLOW, step, data, now)
            return out.add(_problem_say(read, local_now))
        moment = read.at
        for key in KEPT:
            data.pop(key, None)
        if step == "move":
            return await move(session, me, data, moment, now)
        data["at"] = moment.isoformat()
        await set_state(session, me.link.telegram_user_id, FLOW, "where", data, now)
        return out.add(
            Say("meeting/ask_where", buttons=((MEETING_STEP.button("no_place", step="nowhere"),),))
        )
    if step == "where":
        place = " ".join(text.split())
        if not place or len(place) > LOCATION_MAX or is_address(place):
            return out.say("meeting/bad_where", max=LOCATION_MAX)
        data["where"] = place
        return await _ask_who(session, me, data, now, out, edit=False)
    if step in ("who", "confirm", "type", "placement"):
        return out.say("meeting/use_buttons")
    await clear_state(session, me.link.telegram_user_id)
    return out.say("common/nothing_asked")


async def _create(
    session: AsyncSession,
    me: Me,
    data: dict[str, object],
    now: dt.datetime,
    rules: MeetingRules,
    out: Outcome,
) -> Outcome:
    zone = ZoneInfo(me.link.time_zone)
    starts_at = dt.datetime.fromisoformat(str(data["at"])).replace(tzinfo=zone).astimezone(dt.UTC)
    if starts_at <= now:
        local_now = now.astimezone(zone).replace(tzinfo=None)
        moment = starts_at.astimezone(zone).replace(tzinfo=None)
        return out.add(_problem_say(Problem(PAST, at=moment, day=moment.date()), local_now))
    placement_id = data.get("placement")
    organisation_id = me.staff[0].organisation_id
    if isinstance(placement_id, int):
        placement = await session.get(Placement, placement_id)
        assert placement is not None  # chosen from own placements
        organisation_id = placement.organisation_id
    meeting = Meeting(
        organisation_id=organisation_id,
        placement_id=placement_id if isinstance(placement_id, int) else None,
        type=str(data["type"]),
        starts_at=starts_at,
        location=str(data["where"]) if data.get("where") else None,
        status=MeetingStatus.PLANNED,
        planned_by_person_id=me.person.id,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(meeting)
    await session.flush()
    candidates = {pid: (role, pl) for pid, _, role, pl in await _candidates(session, me, data)}
    for person_id in _who(data):
        role, pl = candidates[person_id]
        session.add(
            MeetingInvitee(meeting_id=meeting.id, person_id=person_id, role=role, placement_id=pl)
        )
    await session.flush()
    await clear_state(session, me.link.telegram_user_id)
    await tell_invitees(session, meeting, "meeting/planned", me.person.id, out, rsvp=True)
    if meeting.type == MONITORING and starts_at - rules.questionnaire_ahead <= now:
        await start_questionnaire(session, meeting, now)
        out.kick_outbox = True
    out.close_pressed = True
    local = starts_at.astimezone(zone)
    return out.say("meeting/planned_ok", type=meeting.type, at=local, count=len(_who(data)))
