"""The optional research agreement: may a person's answers also be used, without name, for the
pilot's research into the relationele route?

Asked once after joining (off unless she says yes; not answering is no), and switched in
/instellingen. Every change is a `ConsentRecord(purpose="research")`: GIVEN, REFUSED (said no
before ever saying yes) or WITHDRAWN (said no after a yes). A second press of the same choice
writes nothing: the person's row is locked and the latest record read again first.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows import guards, preferences
from flows.buttons import RESEARCH
from flows.people import Caller, Me
from flows.replies import Outcome, Say
from flows.settings import RouteSettings
from storage.models import ConsentDecision, ConsentRecord, Person

PURPOSE = "research"


def question() -> Say:
    """The question after joining: two buttons, nothing chosen."""
    return Say(
        "research/question",
        buttons=(
            (RESEARCH.button("research_yes", where="o", agreed=True),),
            (RESEARCH.button("research_no", where="o", agreed=False),),
        ),
    )


async def latest(session: AsyncSession, person_id: int) -> ConsentRecord | None:
    """The person's last research decision, if she made one."""
    return await session.scalar(
        select(ConsentRecord)
        .where(ConsentRecord.person_id == person_id, ConsentRecord.purpose == PURPOSE)
        .order_by(ConsentRecord.decided_at.desc(), ConsentRecord.id.desc())
        .limit(1)
    )


async def was_asked(session: AsyncSession, person_id: int) -> bool:
    return await latest(session, person_id) is not None


def _decision(agreed: bool, current: bool, last: ConsentRecord | None) -> ConsentDecision | None:
    """What this choice records, or None when it changes nothing."""
    if agreed:
        return None if current else ConsentDecision.GIVEN
    if current:
        return ConsentDecision.WITHDRAWN
    return ConsentDecision.REFUSED if last is None else None


async def answer(
    session: AsyncSession,
    caller: Caller,
    where: str,
    agreed: bool,
    now: dt.datetime,
    settings: RouteSettings,
) -> Outcome:
    """Store the choice (once), and say what it means now."""
    me = await guards.who(session, caller, pressed=True)
    if isinstance(me, Outcome):
        return me
    changed = await set_choice(session, me, agreed, now, settings)
    out = Outcome(me.language)
    if where == "o":
        return out.add(Say("research/answered", {"agreed": agreed}, edit=True))
    out.add(preferences.menu_say(me, now, edit=True))
    if changed:  # a second press of the same switch: the menu already says it
        out.say("research/changed", agreed=me.person.research_consent)
    return out


async def set_choice(
    session: AsyncSession, me: Me, agreed: bool, now: dt.datetime, settings: RouteSettings
) -> bool:
    """Set `research_consent` and write its record; False if it was so already."""
    # Lock the person's row, then read again: two presses at once record one decision.
    person = await session.scalar(
        select(Person)
        .where(Person.id == me.person.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert person is not None  # she was just loaded
    decision = _decision(agreed, person.research_consent, await latest(session, person.id))
    if decision is None:
        return False
    person.research_consent = agreed
    session.add(
        ConsentRecord(
            person_id=person.id,
            invite_id=None,
            decision=decision,
            purpose=PURPOSE,
            notice_version=settings.notice_version,
            decided_at=now,
        )
    )
    await session.flush()
    return True
