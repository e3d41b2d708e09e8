"""Typed text around a check-in: the optional last question, and typing while buttons wait."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.buttons import CHECKIN_GO
from flows.checkins.ask import changeable
from flows.people import Me, clear_state
from flows.replies import Outcome, Say
from storage.models import Answer, Checkin, CheckinStatus, Person, Placement, StaffMember

OPEN_TEXT_FLOW = "checkin_text"
OPEN_QUESTION = "open"  # the optional free-text question at the end


async def open_text(
    session: AsyncSession, me: Me, checkin_id: int, text: str, now: dt.datetime
) -> Outcome:
    """Store what the person wrote for their begeleider, as typed."""
    out = Outcome(me.language)
    await clear_state(session, me.link.telegram_user_id)
    checkin = await session.get(Checkin, checkin_id)
    if checkin is None or checkin.person_id != me.person.id or not changeable(checkin, now):
        return out.say("common/nothing_asked")
    typed = text.strip()  # stored as typed, however long; shortened only where shown
    existing = await session.scalar(
        select(Answer).where(Answer.checkin_id == checkin.id, Answer.question_id == OPEN_QUESTION)
    )
    if existing is None:
        session.add(
            Answer(
                checkin_id=checkin.id,
                placement_id=checkin.placement_id,
                person_id=checkin.person_id,
                role=checkin.role,
                question_id=OPEN_QUESTION,
                text=typed,
                answered_at=now,
            )
        )
    else:
        existing.text, existing.changed_at = typed, now
    begeleider = await session.scalar(
        select(Person.first_name)
        .join(StaffMember, StaffMember.person_id == Person.id)
        .join(Placement, Placement.begeleider_id == StaffMember.id)
        .where(Placement.id == checkin.placement_id)
    )
    return out.say("checkin/open_saved", begeleider=begeleider)


async def typed_while_open(session: AsyncSession, me: Me, now: dt.datetime) -> Outcome | None:
    """If a check-in waits for buttons, say so kindly (typing is for the last question)."""
    checkin = await session.scalar(
        select(Checkin)
        .where(
            Checkin.person_id == me.person.id,
            Checkin.status == CheckinStatus.OPEN,
            Checkin.sent_at.is_not(None),
            Checkin.closes_at > now,
        )
        .order_by(Checkin.due_at.desc())
        .limit(1)
    )
    if checkin is None:
        return None
    return Outcome(me.language).add(
        Say(
            "checkin/use_buttons",
            buttons=((CHECKIN_GO.button("continue_checkin", checkin=checkin.id),),),
        )
    )
