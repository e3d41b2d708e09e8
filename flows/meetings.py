"""Meetings of the route: planning in the chat, reminders, RSVPs, and route meetings that are due.

Types, who is invited by default and the route's cadence are the route's (flows/route.py).
The begeleider plans with /afspraak, step by step; /afspraken lists, moves and cancels.
Reminders are planned by the clock into the outbox with keys that include the meeting's version,
so a moved meeting never gets a reminder for its old time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.callbacks import BadNumber, parse_id, small_number
from flows.checkins import is_paused
from flows.dates import parse_moment
from flows.measurement import start_round
from flows.outbox import drop_pending, enqueue
from flows.people import (
    Caller,
    Me,
    clear_state,
    get_state,
    load_me,
    recipient,
    set_state,
    staff_link,
)
from flows.planning import Page, page_of
from flows.replies import Button, Outcome, Say
from flows.route import BEG, BEH, GHO, INTERVISIE, MEETING_TYPES, MONITORING
from flows.schedule import at_local, local_date, out_of_quiet_hours
from flows.settings import CheckinRules, MeetingRules
from storage.db import dialect_insert
from storage.models import (
    MeasurementRound,
    Meeting,
    MeetingInvitee,
    MeetingStatus,
    Participant,
    Person,
    Phase,
    Placement,
    Role,
    RouteReminder,
    Rsvp,
    StaffMember,
    TelegramLink,
)

FLOW = "meeting"


# Places, not addresses: messages on Telegram must not carry an address (domain privacy rules).
# A Dutch street name ends in (or is) one of these words: "Hoofdstraat", "Stationsplein",
# "Laan van Meerdervoort", "Weg naar Rhenen", "Oudezijds Voorburgwal". Followed by a house
# number it is an address. Street names without such a word ("Rokin 12", "Spui 21", "Weena 10")
# cannot be told from "zaal 3" or "kamer 12" without a street register; those pass.
STREET_WORDS = (
    "straat|laan|weg|plein|singel|gracht|wal|kade|dijk|dreef|hof|pad|steeg|markt|baan|haven"
    "|kanaal|vaart|vliet|plantsoen|park|allee|boulevard|brink|poort"
)  # "straatweg", "burgwal" end in "weg" and "wal"
_ADDRESS = re.compile(
    # The street word, alone or at the end of a compound (not followed by another letter) …
    rf"(?i:[^\W\d_]*(?:{STREET_WORDS}))(?![^\W\d_])"
    # … then at most three more words of the name: particles ("van", "aan de", "naar") or
    # capitalised words ("Meerdervoort", "Oost"); never a number …
    r"(?:\s+(?:(?i:van|de|der|den|het|'t|aan|op|naar|bij|in|ter|ten|te|tot|over|achter|voor"
    r"|onder|en|zuid|noord|oost|west)|[A-Z][^\W\d_]*(?:-[^\W\d_]+)*)){0,3}"
    # … then a house number: "12", "12a", "12 A", "12-2", "12 bis", "nr. 12" (not a time of
    # day: "Plein 14:00", "Markt 10 uur").
    r",?\s*(?i:nr\.?\s*|nummer\s+|no\.?\s*)?\d{1,5}(?!\d)(?![.:]\d)(?!\s*(?i:uur\b|u\b))"
)
_POSTCODE = re.compile(r"\b[1-9][0-9]{3}\s?([A-Za-z]{2})\b")
# Two-letter words after a four-digit number are usually not a postcode ("1990 en 1991").
_NOT_POSTCODE_LETTERS = {"en", "in", "op", "om", "of", "te", "de", "je", "ik", "we", "is", "na"}
_MAILBOX = re.compile(r"(?i)\b(?:postbus|antwoordnummer)\s*\d")


def is_address(place: str) -> bool:
    """Tell whether a typed meeting place contains a street address, postcode or mailbox."""
    if _ADDRESS.search(place) or _MAILBOX.search(place):
        return True
    return any(
        match[1].lower() not in _NOT_POSTCODE_LETTERS for match in _POSTCODE.finditer(place)
    )


LOCATION_MAX = 120
ROUTE_DUE_LISTED = 15  # one message stays short; the digest lists them all
BEGELEIDERS_PER_PAGE = 50  # with all their placements: about a thousand


# --- Planning in the chat ----------------------------------------------------------------------


def _staff_ids(me: Me) -> set[int]:
    return {s.id for s in me.staff if s.role in (BEG, BEH)}


async def begin(session: AsyncSession, caller: Caller, now: dt.datetime) -> Outcome:
    """/afspraak: choose the placement (or intervisie for several)."""
    me = await load_me(session, caller.telegram_user_id)
    if me is None:
        return Outcome(caller.telegram_language).say("common/not_registered")
    ids = _staff_ids(me)
    if not ids:
        return Outcome(me.language).say("common/only_staff")
    placements = await _open_placements(session, ids)
    if not placements:
        return Outcome(me.language).say("phase/none")
    rows = [
        (
            Button(
                "phase_placement",
                f"mt:p:{p.id}",
                args={"youth": p.youth_name, "phase": str(p.phase)},
            ),
        )
        for p in placements
    ]
    if me.staff_as(BEG):
        rows.append((Button("intervisie_choice", "mt:p:iv"),))
    await set_state(session, caller.telegram_user_id, FLOW, "placement", {}, now)
    return Outcome(me.language).add(Say("meeting/ask_placement", buttons=tuple(rows)))


async def _open_placements(session: AsyncSession, staff_ids: set[int]) -> list[Placement]:
    return list(
        await session.scalars(
            select(Placement)
            .where(
                Placement.begeleider_id.in_(staff_ids) | Placement.behandelaar_id.in_(staff_ids),
                Placement.phase != Phase.AFGESLOTEN,
            )
            .order_by(Placement.youth_name, Placement.id)
        )
    )


async def press(
    session: AsyncSession,
    caller: Caller,
    args: list[str],
    now: dt.datetime,
    rules: MeetingRules,
) -> Outcome:
    """Handle a button of the /afspraak steps."""
    me = await load_me(session, caller.telegram_user_id)
    if me is None:
        return Outcome(caller.telegram_language).say("common/button_expired")
    out = Outcome(me.language)
    state = await _state(session, me)
    if state is None:
        return out.say("common/button_expired")
    data = dict(state)
    what = args[0]
    if what == "p" and len(args) == 2:
        return await _chose_placement(session, me, args[1], now, out)
    offered = data.get("types")
    if what == "t" and len(args) == 2 and isinstance(offered, list):
        if args[1] not in offered:
            return out.say("common/button_expired")
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
            return out.say("common/button_expired")
        data["who"] = sorted(set(_who(data)) ^ {person_id})
        return await _ask_who(session, me, data, now, out, edit=True)
    if what == "done" and "who" in data:
        if not _who(data):
            return out.say("meeting/nobody")
        await set_state(session, me.link.telegram_user_id, FLOW, "confirm", data, now)
        return out.add(_confirm_say(data, me))
    if what == "ok" and data.get("step") == "confirm":
        return await _create(session, me, data, now, rules, out)
    return out.say("common/button_expired")


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
    ids = _staff_ids(me)
    if choice == "iv":
        if not me.staff_as(BEG):
            return out.say("common/button_expired")
        data: dict[str, object] = {"placement": None, "types": [INTERVISIE], "type": INTERVISIE}
        data["who"] = await _default_invitees(session, me, data)
        await set_state(session, me.link.telegram_user_id, FLOW, "when", data, now)
        return out.add(Say("meeting/ask_when", {"type": INTERVISIE}, edit=True))
    try:
        placement_id = parse_id(choice)
    except BadNumber:
        return out.say("common/button_expired")
    placement = await session.get(Placement, placement_id)
    if placement is None or not ({placement.begeleider_id, placement.behandelaar_id} & ids):
        return out.say("placements/not_yours")
    types = [
        t.code
        for t in MEETING_TYPES.values()
        if placement.phase in t.phases and t.code != INTERVISIE
    ]
    data = {"placement": placement.id, "types": types}
    await set_state(session, me.link.telegram_user_id, FLOW, "type", data, now)
    buttons = tuple(
        (Button("meeting_type", f"mt:t:{code}", args={"type": code}),) for code in types
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
        own = [s.id for s in me.staff_as(BEG)]
        rows = await session.execute(
            select(Person.id, Person.first_name, Participant.placement_id)
            .join(Participant, Participant.person_id == Person.id)
            .join(Placement, Placement.id == Participant.placement_id)
            .where(
                Placement.begeleider_id.in_(own),
                Placement.phase != Phase.AFGESLOTEN,
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
            Button(
                "invitee", f"mt:w:{pid}", args={"name": name, "kind": role, "on": int(pid) in who}
            ),
        )
        for pid, (name, role) in options.items()
    )
    return out.add(
        Say(
            "meeting/ask_who",
            {"type": data["type"]},
            buttons=(*rows, (Button("done_inviting", "mt:done"),)),
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
        buttons=((Button("plan_it", "mt:ok"),), (Button("never_mind", "mt:x"),)),
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
        moment = parse_moment(text, local_now)
        if moment is None or moment <= local_now or moment > local_now + dt.timedelta(days=366):
            return out.say("meeting/bad_when", today=local_now.date())
        if step == "move":
            return await _move(session, me, data, moment, now)
        data["at"] = moment.isoformat()
        await set_state(session, me.link.telegram_user_id, FLOW, "where", data, now)
        return out.add(Say("meeting/ask_where", buttons=((Button("no_place", "mt:nowhere"),),)))
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
        return out.say("meeting/bad_when", today=local_date(now, me.link.time_zone))
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
    await _tell_invitees(session, meeting, "meeting/planned", me.person.id, out, rsvp=True)
    if meeting.type == MONITORING and starts_at - rules.questionnaire_ahead <= now:
        await _start_questionnaire(session, meeting, now)
        out.kick_outbox = True
    out.close_pressed = True
    local = starts_at.astimezone(zone)
    return out.say("meeting/planned_ok", type=meeting.type, at=local, count=len(_who(data)))


async def _tell_invitees(
    session: AsyncSession,
    meeting: Meeting,
    template: str,
    skip_person: int | None,
    out: Outcome,
    *,
    rsvp: bool,
) -> None:
    """Queue a message about this meeting to each invitee (in their own time zone)."""
    details = await meeting_details(session, meeting)
    rows = await session.execute(
        select(MeetingInvitee, TelegramLink)
        .join(TelegramLink, TelegramLink.person_id == MeetingInvitee.person_id)
        .where(MeetingInvitee.meeting_id == meeting.id)
    )
    for invitee, link in rows:
        if invitee.person_id == skip_person:
            continue
        buttons = _rsvp_buttons(meeting) if rsvp else ()
        out.add(
            Say(
                template,
                {**details, "at": meeting.starts_at.astimezone(ZoneInfo(link.time_zone))},
                buttons=buttons,
                to=recipient(link),
                kind="meeting",
            )
        )


def _rsvp_buttons(meeting: Meeting) -> tuple[tuple[Button, ...], ...]:
    return (
        (Button("rsvp_yes", f"rs:{meeting.id}:y"),),
        (Button("rsvp_no", f"rs:{meeting.id}:n"),),
        (Button("rsvp_other", f"rs:{meeting.id}:t"),),
    )


async def meeting_details(session: AsyncSession, meeting: Meeting) -> dict[str, object]:
    """What a message about a meeting shows: what, where, with whom (first names only)."""
    youth = None
    if meeting.placement_id is not None:
        youth = await session.scalar(
            select(Placement.youth_name).where(Placement.id == meeting.placement_id)
        )
    people = await session.execute(
        select(Person.first_name, MeetingInvitee.role)
        .join(MeetingInvitee, MeetingInvitee.person_id == Person.id)
        .where(MeetingInvitee.meeting_id == meeting.id)
        .order_by(MeetingInvitee.id)
    )
    return {
        "type": meeting.type,
        "youth": youth,
        "where": meeting.location,
        "who": [{"name": name, "role": str(role)} for name, role in people],
    }


# --- Listing, moving, cancelling -------------------------------------------------------------


async def upcoming(session: AsyncSession, caller: Caller, now: dt.datetime) -> Outcome:
    """/afspraken: the person's planned meetings from now on, with move/cancel for planners."""
    me = await load_me(session, caller.telegram_user_id)
    if me is None:
        return Outcome(caller.telegram_language).say("common/not_registered")
    zone = ZoneInfo(me.link.time_zone)
    meetings = list(
        await session.scalars(
            select(Meeting)
            .join(MeetingInvitee, MeetingInvitee.meeting_id == Meeting.id)
            .where(
                MeetingInvitee.person_id == me.person.id,
                Meeting.status == MeetingStatus.PLANNED,
                Meeting.starts_at > now,
            )
            .order_by(Meeting.starts_at)
            .limit(20)
        )
    )
    items, rows = [], []
    for meeting in meetings:
        details = await meeting_details(session, meeting)
        rsvps = await _rsvps(session, meeting.id)
        items.append(
            {
                **details,
                "at": meeting.starts_at.astimezone(zone),
                "rsvps": rsvps,
                "mine": meeting.planned_by_person_id == me.person.id,
            }
        )
        if meeting.planned_by_person_id == me.person.id:
            label_args = {"type": meeting.type, "at": meeting.starts_at.astimezone(zone)}
            rows.append(
                (
                    Button("move_meeting", f"mv:{meeting.id}", args=label_args),
                    Button("cancel_meeting", f"mc:{meeting.id}", args=label_args),
                )
            )
    return Outcome(me.language).add(Say("meeting/list", {"meetings": items}, buttons=tuple(rows)))


async def _rsvps(session: AsyncSession, meeting_id: int) -> list[dict[str, object]]:
    rows = await session.execute(
        select(Person.first_name, MeetingInvitee.role, MeetingInvitee.rsvp)
        .join(MeetingInvitee, MeetingInvitee.person_id == Person.id)
        .where(MeetingInvitee.meeting_id == meeting_id)
        .order_by(MeetingInvitee.id)
    )
    return [{"name": n, "role": str(r), "rsvp": str(v) if v else None} for n, r, v in rows]


async def _own_meeting(session: AsyncSession, me: Me, meeting_id: int) -> Meeting | None:
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or meeting.planned_by_person_id != me.person.id:
        return None
    return meeting


async def ask_move(
    session: AsyncSession, caller: Caller, meeting_id: int, now: dt.datetime
) -> Outcome:
    me = await load_me(session, caller.telegram_user_id)
    if me is None:
        return Outcome(caller.telegram_language).say("common/button_expired")
    meeting = await _own_meeting(session, me, meeting_id)
    out = Outcome(me.language)
    if meeting is None or meeting.status != MeetingStatus.PLANNED or meeting.starts_at <= now:
        return out.say("meeting/not_yours")
    await set_state(session, me.link.telegram_user_id, FLOW, "move", {"meeting": meeting.id}, now)
    return out.say("meeting/ask_move", type=meeting.type)


async def _move(
    session: AsyncSession,
    me: Me,
    data: dict[str, object],
    moment: dt.datetime,
    now: dt.datetime,
) -> Outcome:
    out = Outcome(me.language)
    meeting = await _own_meeting(session, me, int(str(data["meeting"])))
    await clear_state(session, me.link.telegram_user_id)
    if meeting is None or meeting.status != MeetingStatus.PLANNED:
        return out.say("meeting/not_yours")
    zone = ZoneInfo(me.link.time_zone)
    old = meeting.starts_at
    meeting.starts_at = moment.replace(tzinfo=zone).astimezone(dt.UTC)
    meeting.version += 1
    meeting.updated_at = now
    for invitee in await session.scalars(
        select(MeetingInvitee).where(MeetingInvitee.meeting_id == meeting.id)
    ):
        invitee.rsvp, invitee.rsvp_at = None, None  # a new time needs a new answer
    await drop_pending(session, kind="meeting_reminder", subject_id=meeting.id)
    await _tell_invitees(session, meeting, "meeting/moved", me.person.id, out, rsvp=True)
    return out.say(
        "meeting/moved_ok",
        type=meeting.type,
        at=meeting.starts_at.astimezone(zone),
        old=old.astimezone(zone),
    )


async def ask_cancel(session: AsyncSession, caller: Caller, meeting_id: int) -> Outcome:
    me = await load_me(session, caller.telegram_user_id)
    if me is None:
        return Outcome(caller.telegram_language).say("common/button_expired")
    meeting = await _own_meeting(session, me, meeting_id)
    out = Outcome(me.language)
    if meeting is None or meeting.status != MeetingStatus.PLANNED:
        return out.say("meeting/not_yours")
    zone = ZoneInfo(me.link.time_zone)
    buttons = ((Button("cancel_confirm", f"mc:{meeting.id}:y"),), (Button("never_mind", "fa:no"),))
    return out.add(
        Say(
            "meeting/cancel_confirm",
            {"type": meeting.type, "at": meeting.starts_at.astimezone(zone)},
            buttons=buttons,
        )
    )


async def cancel(
    session: AsyncSession, caller: Caller, meeting_id: int, now: dt.datetime
) -> Outcome:
    me = await load_me(session, caller.telegram_user_id)
    if me is None:
        return Outcome(caller.telegram_language).say("common/button_expired")
    meeting = await _own_meeting(session, me, meeting_id)
    out = Outcome(me.language)
    if meeting is None or meeting.status != MeetingStatus.PLANNED:
        return out.say("common/button_expired")
    meeting.status, meeting.updated_at = MeetingStatus.CANCELLED, now
    await drop_pending(session, kind="meeting_reminder", subject_id=meeting.id)
    await _tell_invitees(session, meeting, "meeting/cancelled", me.person.id, out, rsvp=False)
    out.close_pressed = True
    return out.say("meeting/cancelled_ok", type=meeting.type)


async def rsvp(
    session: AsyncSession, caller: Caller, meeting_id: int, answer: str, now: dt.datetime
) -> Outcome:
    """Store Ik kom / Ik kan niet / Andere tijd nodig, and tell the planner."""
    me = await load_me(session, caller.telegram_user_id)
    if me is None:
        return Outcome(caller.telegram_language).say("common/button_expired")
    out = Outcome(me.language)
    value = {"y": Rsvp.YES, "n": Rsvp.NO, "t": Rsvp.OTHER_TIME}.get(answer)
    meeting = await session.get(Meeting, meeting_id)
    invitee = await session.scalar(
        select(MeetingInvitee).where(
            MeetingInvitee.meeting_id == meeting_id, MeetingInvitee.person_id == me.person.id
        )
    )
    if value is None or meeting is None or invitee is None:
        return out.say("common/button_expired")
    if meeting.status != MeetingStatus.PLANNED or meeting.starts_at <= now:
        return out.say("meeting/over")
    changed = invitee.rsvp != value
    invitee.rsvp, invitee.rsvp_at = value, now
    out.close_pressed = True
    out.say("meeting/rsvp_thanks", rsvp=str(value), type=meeting.type)
    if changed and meeting.planned_by_person_id not in (None, me.person.id):
        link = await session.scalar(
            select(TelegramLink).where(TelegramLink.person_id == meeting.planned_by_person_id)
        )
        if link is not None and link.reachable:
            zone = ZoneInfo(link.time_zone)
            out.add(
                Say(
                    "meeting/rsvp_notice",
                    {
                        "name": me.person.first_name,
                        "role": str(invitee.role),
                        "rsvp": str(value),
                        "type": meeting.type,
                        "at": meeting.starts_at.astimezone(zone),
                    },
                    to=recipient(link),
                    kind="meeting",
                )
            )
    return out


# --- The clock: reminders, route meetings that are due, the questionnaire before monitoring ---


async def plan(
    session: AsyncSession, now: dt.datetime, rules: MeetingRules, checkin_rules: CheckinRules
) -> int:
    """Meeting reminders and questionnaires (route meetings: `plan_route_due`, in pages)."""
    queued = await _plan_reminders(session, now, rules, checkin_rules)
    await _plan_questionnaires(session, now, rules)
    return queued


async def _plan_reminders(
    session: AsyncSession, now: dt.datetime, rules: MeetingRules, checkin_rules: CheckinRules
) -> int:
    horizon = now + rules.day_before + dt.timedelta(days=1)
    meetings = list(
        await session.scalars(
            select(Meeting).where(
                Meeting.status == MeetingStatus.PLANNED,
                Meeting.starts_at > now,
                Meeting.starts_at <= horizon,
            )
        )
    )
    queued = 0
    for meeting in meetings:
        details = await meeting_details(session, meeting)
        rows = await session.execute(
            select(MeetingInvitee, TelegramLink, Person)
            .join(TelegramLink, TelegramLink.person_id == MeetingInvitee.person_id)
            .join(Person, Person.id == MeetingInvitee.person_id)
            .where(MeetingInvitee.meeting_id == meeting.id)
        )
        for _invitee, link, person in rows:
            if not link.reachable:
                continue
            zone = link.time_zone
            first = at_local(
                local_date(meeting.starts_at, zone) - rules.day_before, rules.day_before_at, zone
            )
            second = meeting.starts_at - rules.shortly_before
            for which, due, urgent in (("early", first, False), ("late", second, True)):
                if due > now or due < meeting.updated_at:
                    continue  # not yet, or planned after this reminder's moment
                if which == "early" and second <= now:
                    continue  # after downtime: only the nearer reminder still makes sense
                if is_paused(person, now) and not urgent:
                    continue
                say = Say(
                    "meeting/reminder",
                    {
                        **details,
                        "at": meeting.starts_at.astimezone(ZoneInfo(zone)),
                        "soon": urgent,
                    },
                    buttons=_rsvp_buttons(meeting),
                )
                queued += await enqueue(
                    session,
                    key=f"meeting_reminder:{meeting.id}:v{meeting.version}:{person.id}:{which}",
                    person_id=person.id,
                    kind="meeting_reminder",
                    say=say,
                    due_at=due if urgent else out_of_quiet_hours(due, zone, checkin_rules.quiet),
                    expires_at=meeting.starts_at,
                    now=now,
                    placement_id=meeting.placement_id,
                    subject_id=meeting.id,
                    urgent=urgent,
                )
    return queued


@dataclass(frozen=True)
class DueMeeting:
    placement_id: int
    type: str
    due: dt.datetime


async def due_route_meetings(
    session: AsyncSession, placements: list[Placement], now: dt.datetime, rules: MeetingRules
) -> list[DueMeeting]:
    """Route meetings due within the warning window (or overdue) and not planned."""
    if not placements:
        return []
    latest = {
        (pid, kind): when
        for pid, kind, when in await session.execute(
            select(Meeting.placement_id, Meeting.type, func.max(Meeting.starts_at))
            .where(
                Meeting.placement_id.in_([p.id for p in placements]),
                Meeting.status == MeetingStatus.PLANNED,
            )
            .group_by(Meeting.placement_id, Meeting.type)
        )
    }
    found = []
    for placement in placements:
        for kind in MEETING_TYPES.values():
            if placement.phase not in kind.phases or kind.first_due is None:
                continue
            last = latest.get((placement.id, kind.code))
            if kind.every is None:  # once in this phase
                if last is not None:
                    continue
                due = placement.phase_since + kind.first_due
            elif last is not None and last > now:
                continue  # the next one is planned already
            elif last is not None and last >= placement.phase_since:
                due = last + kind.every
            else:
                due = placement.phase_since + kind.first_due
            if due - now <= rules.route_warning:
                found.append(DueMeeting(placement.id, kind.code, due))
    return found


async def plan_route_due(
    session: AsyncSession,
    now: dt.datetime,
    rules: MeetingRules,
    checkin_rules: CheckinRules,
    after: int = 0,
    size: int = BEGELEIDERS_PER_PAGE,
) -> Page:
    """Remind each begeleider, in one message, of route meetings newly due and not planned.

    A page is a number of begeleiders with all their open placements, so each gets one message.
    """
    begeleiders = [
        staff_id
        for staff_id in await session.scalars(
            select(Placement.begeleider_id)
            .where(Placement.phase != Phase.AFGESLOTEN, Placement.begeleider_id > after)
            .distinct()
            .order_by(Placement.begeleider_id)
            .limit(size)
        )
        if staff_id is not None
    ]
    placements = list(
        await session.scalars(
            select(Placement).where(
                Placement.phase != Phase.AFGESLOTEN, Placement.begeleider_id.in_(begeleiders)
            )
        )
    )
    by_id = {p.id: p for p in placements}
    due = await due_route_meetings(session, placements, now, rules)
    reminded = {
        tuple(row)
        for row in (
            await session.execute(
                select(
                    RouteReminder.placement_id, RouteReminder.type, RouteReminder.due_date
                ).where(RouteReminder.placement_id.in_({d.placement_id for d in due}))
            )
        ).all()
    }
    fresh: dict[int, list[DueMeeting]] = defaultdict(list)
    insert = dialect_insert(session)
    for item in due:
        if (item.placement_id, item.type, item.due.date()) in reminded:
            continue  # told before (the usual case, every beat until it is planned)
        added = await session.scalar(
            insert(RouteReminder)
            .values(
                placement_id=item.placement_id,
                type=item.type,
                due_date=item.due.date(),
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["placement_id", "type", "due_date"])
            .returning(RouteReminder.id)
        )
        staff_id = by_id[item.placement_id].begeleider_id
        if added is not None and staff_id is not None:
            fresh[staff_id].append(item)
    queued = 0
    for staff_id, items in fresh.items():
        link = await staff_link(session, staff_id)
        if link is None:
            continue
        ordered = sorted(items, key=lambda d: (d.due, by_id[d.placement_id].youth_name))
        say = Say(
            "meeting/route_due",
            {
                "items": [
                    {
                        "type": d.type,
                        "youth": by_id[d.placement_id].youth_name,
                        "due": local_date(d.due, link.time_zone),
                        "overdue": d.due < now,
                    }
                    for d in ordered[:ROUTE_DUE_LISTED]
                ],
                "more": max(0, len(ordered) - ROUTE_DUE_LISTED),
            },
        )
        queued += await enqueue(
            session,
            key=f"route_due:{staff_id}:{now.isoformat()}",  # per staff role: one per page
            person_id=link.person_id,
            kind="route_due",
            say=say,
            due_at=out_of_quiet_hours(now, link.time_zone, checkin_rules.quiet),
            now=now,
        )
    return page_of(begeleiders, size, queued)


async def _plan_questionnaires(
    session: AsyncSession, now: dt.datetime, rules: MeetingRules
) -> None:
    """A week before a monitoring meeting both sides get the collaboration questionnaire."""
    meetings = await session.scalars(
        select(Meeting)
        .outerjoin(MeasurementRound, MeasurementRound.meeting_id == Meeting.id)
        .where(
            Meeting.type == MONITORING,
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.starts_at > now,
            Meeting.starts_at <= now + rules.questionnaire_ahead,
            MeasurementRound.id.is_(None),
            Meeting.placement_id.is_not(None),
        )
    )
    for meeting in list(meetings):
        await _start_questionnaire(session, meeting, now)


async def _start_questionnaire(session: AsyncSession, meeting: Meeting, now: dt.datetime) -> None:
    assert meeting.placement_id is not None  # monitoring is about one placement
    busy = await session.scalar(
        select(MeasurementRound.id).where(
            MeasurementRound.placement_id == meeting.placement_id, MeasurementRound.closes_at > now
        )
    )
    placement = await session.get(Placement, meeting.placement_id)
    if busy is None and placement is not None:
        await start_round(
            session, placement, meeting.planned_by_person_id, now, meeting_id=meeting.id
        )
