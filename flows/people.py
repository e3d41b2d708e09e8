"""Who is writing: the caller, their stored person, roles and placements."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from flows.outbox import enqueue_notice
from flows.replies import Menu, Outcome, Recipient, Say
from storage.models import (
    ConversationState,
    Participant,
    Person,
    Placement,
    Role,
    StaffMember,
    TelegramLink,
)

LANGUAGES = ("nl", "en")


@dataclass(frozen=True)
class Caller:
    """The Telegram account an update came from, as Telegram describes it."""

    telegram_user_id: int
    chat_id: int
    first_name: str
    language_code: str | None = None

    @property
    def telegram_language(self) -> str:
        if self.language_code:
            base = self.language_code.split("-")[0].lower()
            if base in LANGUAGES:
                return base
        return "nl"


@dataclass
class Me:
    """A linked person with their roles, loaded in one go."""

    person: Person
    link: TelegramLink
    staff: list[StaffMember] = field(default_factory=list)
    participations: list[Participant] = field(default_factory=list)
    # The open question, loaded with the rest; kept here also so that the session (whose
    # identity map holds objects weakly) finds it when `get_state` asks.
    state: ConversationState | None = None

    @property
    def language(self) -> str:
        return self.link.language

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(
            [str(s.role) for s in self.staff] + [str(p.role) for p in self.participations]
        )

    def staff_as(self, role: Role) -> list[StaffMember]:
        return [s for s in self.staff if s.role == role]

    def menu(self) -> Menu:
        return Menu(chat_id=self.link.chat_id, language=self.language, roles=self.roles)


_ME = (
    select(TelegramLink, Person, StaffMember, Participant, Placement, ConversationState)
    .join(Person, Person.id == TelegramLink.person_id)
    # A deactivated role stops working at once: it is simply not loaded.
    .outerjoin(StaffMember, and_(StaffMember.person_id == Person.id, StaffMember.active.is_(True)))
    .outerjoin(Participant, Participant.person_id == Person.id)
    .outerjoin(Placement, Placement.id == Participant.placement_id)
    # The open question, if any, comes along: `get_state` then finds it in the session.
    .outerjoin(
        ConversationState,
        ConversationState.telegram_user_id == TelegramLink.telegram_user_id,
    )
    .where(TelegramLink.telegram_user_id == bindparam("user"))
    .order_by(StaffMember.id, Participant.id)
)


async def load_me(session: AsyncSession, telegram_user_id: int) -> Me | None:
    """Load the linked person for this Telegram account, or None.

    One statement (a round trip each on PostgreSQL, and every update starts here): the link,
    the person, their active staff roles and their participations with placements, joined, and
    the open question (`get_state` then finds it in the session without asking). A person has a
    handful of roles and participations, so the rows (roles x participations) stay few.
    """
    rows = (await session.execute(_ME, {"user": telegram_user_id})).all()
    if not rows:
        return None
    link, person = rows[0][0], rows[0][1]
    set_committed_value(link, "person", person)
    staff: dict[int, StaffMember] = {}
    participations: dict[int, Participant] = {}
    state = rows[0][5]
    for _, _, member, participation, placement, _ in rows:
        if member is not None:
            staff.setdefault(member.id, member)
        if participation is not None:
            set_committed_value(participation, "placement", placement)
            participations.setdefault(participation.id, participation)
    return Me(person, link, list(staff.values()), list(participations.values()), state)


def language_of(me: Me | None, caller: Caller) -> str:
    return me.language if me is not None else caller.telegram_language


def recipient(link: TelegramLink) -> Recipient:
    return Recipient(chat_id=link.chat_id, language=link.language, person_id=link.person_id)


async def staff_link(session: AsyncSession, staff_id: int) -> TelegramLink | None:
    """The Telegram link of a staff member, if they are linked and reachable."""
    link = await session.scalar(
        select(TelegramLink)
        .join(StaffMember, StaffMember.person_id == TelegramLink.person_id)
        .where(StaffMember.id == staff_id)
    )
    return link if link is not None and link.reachable else None


async def begeleider_recipient(session: AsyncSession, placement: Placement) -> Recipient | None:
    """Where to reach the begeleider of a placement, if they are linked and reachable."""
    if placement.begeleider_id is None:
        return None  # a closed placement whose begeleider was erased
    link = await staff_link(session, placement.begeleider_id)
    return recipient(link) if link is not None else None


async def get_state(session: AsyncSession, telegram_user_id: int) -> ConversationState | None:
    return await session.get(ConversationState, telegram_user_id)


async def set_state(
    session: AsyncSession,
    telegram_user_id: int,
    flow: str,
    step: str,
    data: dict[str, object],
    now: dt.datetime,
) -> None:
    """Remember which question is open for this person (replaces any earlier one)."""
    state = await session.get(ConversationState, telegram_user_id)
    if state is None:
        session.add(
            ConversationState(
                telegram_user_id=telegram_user_id, flow=flow, step=step, data=data, updated_at=now
            )
        )
    else:
        state.flow, state.step, state.data, state.updated_at = flow, step, dict(data), now


async def clear_state(session: AsyncSession, telegram_user_id: int) -> None:
    await session.execute(
        delete(ConversationState).where(ConversationState.telegram_user_id == telegram_user_id)
    )


async def unreachable_notices(session: AsyncSession, chat_id: int, now: dt.datetime) -> None:
    """Mark a chat unreachable; the first time, tell the begeleiders of the person's placements."""
    link = await session.scalar(select(TelegramLink).where(TelegramLink.chat_id == chat_id))
    if link is None or not link.reachable:
        return
    link.reachable, link.unreachable_since = False, now
    participations = await session.scalars(
        select(Participant)
        .where(Participant.person_id == link.person_id)
        .options(selectinload(Participant.placement), selectinload(Participant.person))
    )
    told: set[int] = set()
    for participation in participations:
        to = await begeleider_recipient(session, participation.placement)
        if to is None or to.chat_id in told:
            continue
        told.add(to.chat_id)
        await enqueue_notice(
            session,
            Say(
                "common/unreachable_notice",
                {
                    "name": participation.person.first_name,
                    "role": str(participation.role),
                    "youth": participation.placement.youth_name,
                },
                to=to,
            ),
            now,
        )


async def tell_begeleiders(
    session: AsyncSession,
    me: Me,
    template: str,
    out: Outcome,
    *,
    ephemeral: bool = False,
    **extra: object,
) -> None:
    """Tell the begeleider of each of this person's placements, neutrally and once each."""
    told: set[int] = set()
    for participation in me.participations:
        to = await begeleider_recipient(session, participation.placement)
        if to is None or to.chat_id in told or to.person_id == me.person.id:
            continue
        told.add(to.chat_id)
        context = {
            "name": me.person.first_name,
            "role": str(participation.role),
            "youth": participation.placement.youth_name,
            **extra,
        }
        out.add(Say(template, context, to=to, ephemeral=ephemeral))
