"""Typed text around a check-in: the optional last question, and typing while buttons wait."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.buttons import CHECKIN_GO
from flows.checkins.ask import changeable
from flows.people import Me, clear_state
from flows.replies import Outcome, Say
from storage.db import dialect_insert
from storage.models import Answer, Checkin, CheckinStatus, Person, Placement, StaffMember

OPEN_TEXT_FLOW = "checkin_text"
OPEN_QUESTION = "open"  # the optional free-text question at the end


async def open_text(
    session: AsyncSession, me: Me, checkin_id: int, text: str, now: dt.datetime
) -> Outcome:
    """Store what the person wrote for their begeleider, as typed."""
    out = Outcome(me.language)
    await clear_state(session, me.link.telegram_user_id)
    # The check-in and the name of its placement's begeleider, in one statement.
    found = (await session.execute(_CHECKIN_AND_BEGELEIDER, {"checkin": checkin_id})).first()
    if found is None:
        return out.say("common/nothing_asked")
    checkin, begeleider = found
    if checkin.person_id != me.person.id or not changeable(checkin, now):
        return out.say("common/nothing_asked")
    typed = text.strip()  # stored as typed, however long; shortened only where shown
    # Written or rewritten in one statement (one answer per question and check-in).
    insert = dialect_insert(session)
    new = insert(Answer).values(
        checkin_id=checkin.id,
        placement_id=checkin.placement_id,
        person_id=checkin.person_id,
        role=checkin.role,
        question_id=OPEN_QUESTION,
        text=typed,
        answered_at=now,
    )
    await session.execute(
        new.on_conflict_do_update(
            index_elements=[Answer.checkin_id, Answer.question_id],
            set_={"text": new.excluded.text, "changed_at": new.excluded.answered_at},
        )
    )
    return out.say("checkin/open_saved", begeleider=begeleider)


_CHECKIN_AND_BEGELEIDER = (
    select(Checkin, Person.first_name)
    .join(Placement, Placement.id == Checkin.placement_id)
    .outerjoin(StaffMember, StaffMember.id == Placement.begeleider_id)
    .outerjoin(Person, Person.id == StaffMember.person_id)
    .where(Checkin.id == bindparam("checkin"))
)


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
