"""/afspraken: list the person's meetings; the planner moves and cancels; invitees answer.

A move raises the meeting's version, clears the answers and drops the pending reminders, so
reminders for the old time never go out (reminders.py plans them again for the new time).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows import guards
from flows.buttons import MEETING_CANCEL, MEETING_CANCEL_YES, MEETING_MOVE, NEVER_MIND
from flows.meetings.notices import FLOW, meeting_details, tell_invitees
from flows.outbox import drop_pending
from flows.people import (
    Caller,
    Me,
    clear_state,
    recipient,
    set_state,
)
from flows.replies import Outcome, Say
from storage.models import (
    Meeting,
    MeetingInvitee,
    MeetingStatus,
    Person,
    Rsvp,
    TelegramLink,
)


async def upcoming(session: AsyncSession, caller: Caller, now: dt.datetime) -> Outcome:
    """/afspraken: the person's planned meetings from now on, with move/cancel for planners."""
    me = await guards.who(session, caller)
    if isinstance(me, Outcome):
        return me
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
                    MEETING_MOVE.button("move_meeting", label_args, meeting=meeting.id),
                    MEETING_CANCEL.button("cancel_meeting", label_args, meeting=meeting.id),
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


async def _own_planned(session: AsyncSession, me: Me, meeting_id: int) -> Meeting | None:
    """The meeting if this person planned it and it still stands, else None."""
    meeting = await session.get(Meeting, meeting_id)
    if (
        meeting is None
        or meeting.planned_by_person_id != me.person.id
        or meeting.status != MeetingStatus.PLANNED
    ):
        return None
    return meeting


async def _planner_press(
    session: AsyncSession,
    caller: Caller,
    meeting_id: int,
    refusal: str,
    *,
    after: dt.datetime | None = None,
) -> tuple[Me, Meeting] | Outcome:
    """Check a press on a meeting's planner button: who pressed, and is it their meeting?

    Someone unknown gets the expired reply; a meeting they did not plan, that was cancelled, or
    (with `after`) that starts before then gets `refusal`.
    """
    me = await guards.who(session, caller, pressed=True)
    if isinstance(me, Outcome):
        return me
    meeting = await _own_planned(session, me, meeting_id)
    if meeting is None or (after is not None and meeting.starts_at <= after):
        return guards.refuse(me.language, refusal)
    return me, meeting


async def ask_move(
    session: AsyncSession, caller: Caller, meeting_id: int, now: dt.datetime
) -> Outcome:
    pressed = await _planner_press(session, caller, meeting_id, "meeting/not_yours", after=now)
    if isinstance(pressed, Outcome):
        return pressed
    me, meeting = pressed
    out = Outcome(me.language)
    await set_state(session, me.link.telegram_user_id, FLOW, "move", {"meeting": meeting.id}, now)
    return out.say("meeting/ask_move", type=meeting.type)


async def move(
    session: AsyncSession,
    me: Me,
    data: dict[str, object],
    moment: dt.datetime,
    now: dt.datetime,
) -> Outcome:
    out = Outcome(me.language)
    meeting = await _own_planned(session, me, int(str(data["meeting"])))
    await clear_state(session, me.link.telegram_user_id)
    if meeting is None:
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
    await tell_invitees(session, meeting, "meeting/moved", me.person.id, out, rsvp=True)
    return out.say(
        "meeting/moved_ok",
        type=meeting.type,
        at=meeting.starts_at.astimezone(zone),
        old=old.astimezone(zone),
    )


async def ask_cancel(session: AsyncSession, caller: Caller, meeting_id: int) -> Outcome:
    pressed = await _planner_press(session, caller, meeting_id, "meeting/not_yours")
    if isinstance(pressed, Outcome):
        return pressed
    me, meeting = pressed
    out = Outcome(me.language)
    zone = ZoneInfo(me.link.time_zone)
    buttons = (
        (MEETING_CANCEL_YES.button("cancel_confirm", meeting=meeting.id),),
        (NEVER_MIND.button("never_mind"),),
    )
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
    pressed = await _planner_press(session, caller, meeting_id, guards.EXPIRED)
    if isinstance(pressed, Outcome):
        return pressed
    me, meeting = pressed
    out = Outcome(me.language)
    meeting.status, meeting.updated_at = MeetingStatus.CANCELLED, now
    await drop_pending(session, kind="meeting_reminder", subject_id=meeting.id)
    await tell_invitees(session, meeting, "meeting/cancelled", me.person.id, out, rsvp=False)
    out.close_pressed = True
    return out.say("meeting/cancelled_ok", type=meeting.type)


async def rsvp(
    session: AsyncSession, caller: Caller, meeting_id: int, answer: str, now: dt.datetime
) -> Outcome:
    """Store Ik kom / Ik kan niet / Andere tijd nodig, and tell the planner."""
    me = await guards.who(session, caller, pressed=True)
    if isinstance(me, Outcome):
        return me
    out = Outcome(me.language)
    value = {"y": Rsvp.YES, "n": Rsvp.NO, "t": Rsvp.OTHER_TIME}.get(answer)
    meeting = await session.get(Meeting, meeting_id)
    invitee = await session.scalar(
        select(MeetingInvitee).where(
            MeetingInvitee.meeting_id == meeting_id, MeetingInvitee.person_id == me.person.id
        )
    )
    if value is None or meeting is None or invitee is None:
        return out.say(guards.EXPIRED)
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
