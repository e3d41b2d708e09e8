"""'Ik wil contact met mijn begeleider': the begeleider is told at once, the person gets a yes.

The reply promises only what the bot itself does (it passed the question on), never what the
begeleider will do, and always says where to go when it cannot wait: the organisation's phone
number (`samenopvoeden admin set-phone`), or the begeleider or gezinshuis when none is set, and
112 in danger.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows import guards
from flows.authz import Action
from flows.buttons import CONTACT
from flows.invites import FlowError
from flows.people import Caller, begeleider_recipient
from flows.replies import Outcome, Say
from storage.models import ContactRequest, Organisation, Person, Placement, StaffMember

# A second press within this time is not sent again: the begeleider knows already.
REPEAT_WINDOW = dt.timedelta(hours=12)
# An organisation's phone: digits, spaces, "-" and a leading "+"; 6-20 digits; fits String(32).
PHONE_CHARACTERS = re.compile(r"\+?[0-9][0-9 \-]*")
PHONE_DIGITS = (6, 20)
PHONE_MAX = 32


def clean_phone(text: str) -> str:
    """Return the phone number as it will be shown, or raise FlowError saying what is wrong."""
    phone = " ".join(text.split())
    digits = sum(c.isdigit() for c in phone)
    if not PHONE_CHARACTERS.fullmatch(phone) or not phone[-1].isdigit():
        raise FlowError(
            f"the phone number {text!r} may hold only digits, spaces, '-' and a leading '+'"
        )
    low, high = PHONE_DIGITS
    if not low <= digits <= high or len(phone) > PHONE_MAX:
        raise FlowError(f"the phone number {text!r} must have {low}-{high} digits")
    return phone


async def set_organisation_phone(session: AsyncSession, name: str, phone: str) -> Organisation:
    """Store the number people are told to call when the chat cannot wait."""
    cleaned = clean_phone(phone)
    organisation = await session.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        raise FlowError(f"no organisation called {name!r}; add it first")
    organisation.phone = cleaned
    return organisation


async def urgent_phone(session: AsyncSession, placement_ids: Iterable[int]) -> str | None:
    """The organisation's phone for these placements (the first one set), or None."""
    ids = sorted(set(placement_ids))
    if not ids:
        return None
    phones = await session.scalars(
        select(Organisation.phone)
        .join(Placement, Placement.organisation_id == Organisation.id)
        .where(Placement.id.in_(ids), Organisation.phone.is_not(None))
        .order_by(Placement.id)
        .limit(1)
    )
    return phones.first()


async def contact(session: AsyncSession, caller: Caller, now: dt.datetime) -> Outcome:
    """The /contact command: ask for contact, choosing the placement when there are several."""
    me = await guards.who(session, caller)
    if isinstance(me, Outcome):
        return me
    sides = guards.sides(me, Action.ASK_CONTACT)
    if not sides:
        return Outcome(me.language).say("contact/only_participants")
    if len(sides) == 1:
        return await request(session, caller, sides[0].placement_id, now)
    buttons = tuple(
        (
            CONTACT.button(
                "contact_for", {"youth": p.placement.youth_name}, placement=p.placement_id
            ),
        )
        for p in sides
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
    sides = guards.sides(me, Action.ASK_CONTACT)
    participation = next((p for p in sides if p.placement_id == placement_id), None)
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
    phone = await urgent_phone(session, [placement_id])
    role = str(participation.role)
    if recent is not None:
        return out.say("contact/already_asked", begeleider=begeleider, phone=phone, role=role)
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
        phone=phone,
        role=role,
    )
