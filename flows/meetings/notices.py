"""What a message about a meeting shows, and who gets it.

Shared by planning (chat.py), moving and cancelling (manage.py) and the reminders (reminders.py):
the details (what, where, with whom: first names only), the RSVP buttons, and the queueing of one
message per invitee in their own time zone.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.buttons import RSVP
from flows.people import (
    recipient,
)
from flows.replies import Button, Outcome, Say
from storage.models import (
    Meeting,
    MeetingInvitee,
    Person,
    Placement,
    TelegramLink,
)

# The conversation of /afspraak and of moving a meeting (conversation_state.flow).
FLOW = "meeting"


async def tell_invitees(
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
        buttons = rsvp_buttons(meeting) if rsvp else ()
        out.add(
            Say(
                template,
                {**details, "at": meeting.starts_at.astimezone(ZoneInfo(link.time_zone))},
                buttons=buttons,
                to=recipient(link),
                kind="meeting",
            )
        )


def rsvp_buttons(meeting: Meeting) -> tuple[tuple[Button, ...], ...]:
    """Ik kom / Ik kan niet / Andere tijd nodig, one button a row."""
    return tuple(
        (RSVP.button(label, meeting=meeting.id, answer=answer),)
        for label, answer in (("rsvp_yes", "y"), ("rsvp_no", "n"), ("rsvp_other", "t"))
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
