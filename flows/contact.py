"""'Ik wil contact met mijn begeleider': the begeleider is told at once, the person gets a yes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows import guards
from flows.buttons import CONTACT
from flows.people import Caller, begeleider_recipient
from flows.replies import Outcome, Say
from storage.models import ContactRequest, Person, StaffMember

# A second press within this time is not sent again: the begeleider knows already.
REPEAT_WINDOW = dt.timedelta(hours=12)


async def contact(session: AsyncSession, caller: Caller, now: dt.datetime) -> Outcome:
    """The /contact command: ask for contact, choosing the placement when there are several."""
    me = await guards.who(session, caller)
    if isinstance(me, Outcome):
        return me
    if not me.participations:
        return Outcome(me.language).say("contact/only_participants")
    if len(me.participations) == 1:
        return await request(session, caller, me.participations[0].placement_id, now)
    buttons = tuple(
        (
            CONTACT.button(
                "contact_for", {"youth": p.placement.youth_name}, placement=p.placement_id
            ),
        )
        for p in me.participations
    )
    return Outcome(me.language).add(Say("contact/choose_placement", buttons=buttons))


async def request(
    session: AsyncSession, caller: Caller, placement_id: int, now: dt.datetime
) -> Outcome:
    """Tell the begeleider of this placement now, and confirm to the person."""
    me = await guards.who(session, caller, pressed=True)
    if isinstance(me, Outcome):
        return me
    out = Outcome(me.language)
    participation = next((p for p in me.participations if p.placement_id == placement_id), None)
    if participation is None:
        return guards.refuse(me.language, guards.EXPIRED)
    placement = participation.placement
    begeleider = await session.scalar(
        select(Person.first_name)
        .join(StaffMember, StaffMember.person_id == Person.id)
        .where(StaffMember.id == placement.begeleider_id)
    )
    recent = await session.scalar(
        select(ContactRequest.id).where(
            ContactRequest.person_id == me.person.id,
            ContactRequest.placement_id == placement_id,
            ContactRequest.created_at > now - REPEAT_WINDOW,
        )
    )
    if recent is not None:
        return out.say("contact/already_asked", begeleider=begeleider)
    session.add(
        ContactRequest(
            placement_id=placement_id,
            person_id=me.person.id,
            role=participation.role,
            created_at=now,
        )
    )
    to = await begeleider_recipient(session, placement)
    if to is not None:
        out.add(
            Say(
                "contact/alert",
                {
                    "name": me.person.first_name,
                    "role": str(participation.role),
                    "youth": placement.youth_name,
                },
                to=to,
                kind="contact_request",
            )
        )
    return out.say(
        "contact/requested",
        begeleider=begeleider,
        youth=placement.youth_name,
        reached=to is not None,
    )
