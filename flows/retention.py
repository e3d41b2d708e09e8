"""Retention: what the privacy notice promises, done by the clock.

People are told their data is kept until `retention_days` (a setting) after the end of the
placement and erased then. So once a placement has been closed that long, the placement and
everything about it goes: its invites, participants, check-ins and answers, questionnaire
rounds, contact requests, meetings, reminders and outbox rows (most by the database's
ON DELETE CASCADE). Ouders and gezinshuisouders who were in no other placement are erased as
people too. Kept: staff (they belong to the organisation), consent records and the access log
(anonymous once the person is gone; the access log is an audit trail).

Messages to those who stay (a digest to the begeleider quoting an answer, a draft listing the
ouders) still name the erased people and the youth: they are blanked or deleted the same way
an erasure does it (flows/erasure.py).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flows import erasure
from storage.models import (
    AccessLog,
    ConversationState,
    Invite,
    Participant,
    Person,
    Phase,
    Placement,
    StaffMember,
    TelegramLink,
)


async def purge(session: AsyncSession, now: dt.datetime, retention_days: int) -> int:
    """Erase the placements closed more than `retention_days` ago; return how many."""
    cutoff = now - dt.timedelta(days=retention_days)
    expired = list(
        await session.scalars(
            select(Placement.id).where(
                Placement.phase == Phase.AFGESLOTEN, Placement.phase_since <= cutoff
            )
        )
    )
    if not expired:
        return 0
    people = set(
        await session.scalars(
            select(Participant.person_id).where(Participant.placement_id.in_(expired))
        )
    )
    # What names them, read before it goes: the youth's alias, every answer typed there.
    traces = erasure.Traces(
        words=set(
            await session.scalars(select(Placement.youth_name).where(Placement.id.in_(expired)))
        )
    )
    await erasure.typed_in(session, expired, traces)
    everyone = await erasure.people_of(session, expired)
    await session.execute(delete(Invite).where(Invite.placement_id.in_(expired)))
    await session.execute(delete(Participant).where(Participant.placement_id.in_(expired)))
    await session.execute(delete(Placement).where(Placement.id.in_(expired)))
    gone = await _erase_people_left_without_a_role(session, people, traces) if people else set()
    # Those who stay (staff, participants of other placements) keep no message naming them.
    await erasure.scrub(session, traces, people=everyone - gone, placement_ids=(), now=now)
    return len(expired)


async def _erase_people_left_without_a_role(
    session: AsyncSession, people: set[int], traces: erasure.Traces
) -> set[int]:
    """Erase those in no other placement and not staff; add their names to the traces."""
    still_there = set(
        await session.scalars(
            select(Participant.person_id).where(Participant.person_id.in_(people))
        )
    ) | set(
        await session.scalars(
            select(StaffMember.person_id).where(StaffMember.person_id.in_(people))
        )
    )
    gone = people - still_there
    if not gone:
        return gone
    traces.words.update(
        await session.scalars(select(Person.first_name).where(Person.id.in_(gone)))
    )
    accounts = list(
        await session.scalars(
            select(TelegramLink.telegram_user_id).where(TelegramLink.person_id.in_(gone))
        )
    )
    await session.execute(
        delete(ConversationState).where(ConversationState.telegram_user_id.in_(accounts))
    )
    # Their Telegram link, check-ins and answers go by cascade; consent records, invites and
    # access-log rows keep no link to them (ON DELETE SET NULL).
    await session.execute(
        update(AccessLog)
        .where(AccessLog.actor_person_id.in_(gone))
        .values(actor_person_id=None, actor_label="erased person")
    )
    await session.execute(
        update(Invite).where(Invite.used_by_person_id.in_(gone)).values(invitee_name=None)
    )
    await session.execute(delete(Person).where(Person.id.in_(gone)))
    return gone
