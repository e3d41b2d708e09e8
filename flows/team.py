"""/team: a coordinator's colleagues with their caseloads; inviting one, putting one on non-active.

Everything here is asked through the authorisation table (flows/authz.py): `LIST_STAFF`,
`INVITE_STAFF` and `DEACTIVATE_STAFF` reach the coordinator's own organisation(s) only. A staff id
of another organisation in forged callback data gets the same "expired" reply as a missing one.
The list shows first names, roles and numbers of open placements: no family, no answers.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from flows import access, guards
from flows.authz import Action
from flows.buttons import TEAM_INVITE, TEAM_OFF, TEAM_OFF_GO, TEAM_PICK, TEAM_ROLE
from flows.invites import PERSON_NAME_MAX, create_invite
from flows.names import clean_name
from flows.outbox import drop_pending
from flows.people import Caller, Me, clear_state, load_me, recipient, set_state
from flows.replies import Button, Outcome, Say
from flows.settings import RouteSettings
from storage.models import (
    AccessLog,
    Organisation,
    OutboxMessage,
    OutboxStatus,
    Participant,
    Person,
    Placement,
    Role,
    StaffMember,
    TelegramLink,
)

FLOW = "team"
ROLE_CODES = {"b": Role.BEGELEIDER, "h": Role.BEHANDELAAR, "c": Role.COORDINATOR}
PAGE = 30  # staff lines per message (and names per page of buttons): far below 4,096 characters
INACTIVE_SHOWN = 20  # names in the "Niet meer actief" line; the rest as a number
SHOWN_NAME = 32  # a first name in the list is cut here, so a page stays short whatever the names
# Outbox kinds that only ever go to someone as staff: dropped when her role ends. Meeting
# messages are dropped only for placements she is not a participant of.
STAFF_KINDS = (
    "digest",
    "plan_review",
    "plan_review_after",
    "measurement_results",
    "contact_request",
)
MEETING_KINDS = ("meeting", "meeting_reminder")
_ROLE_ORDER = {Role.COORDINATOR: 0, Role.BEGELEIDER: 1, Role.BEHANDELAAR: 2}


def _short(name: str) -> str:
    return name if len(name) <= SHOWN_NAME else name[: SHOWN_NAME - 1] + "…"


async def show(session: AsyncSession, caller: Caller, now: dt.datetime) -> Outcome:
    """List the staff of each organisation this coordinator works for, active first."""
    me = await guards.staff(session, caller, Action.LIST_STAFF)
    if isinstance(me, Outcome):
        return me
    out = Outcome(me.language)
    for organisation_id in sorted(guards.organisations(me, Action.LIST_STAFF)):
        organisation = await session.get(Organisation, organisation_id)
        assert organisation is not None  # a staff row names an existing organisation
        members = list(
            await session.scalars(
                select(StaffMember)
                .where(StaffMember.organisation_id == organisation_id)
                .options(selectinload(StaffMember.person))
            )
        )
        leads, treats = await caseloads(session, organisation_id)
        active = sorted(
            (m for m in members if m.active),
            key=lambda m: (_ROLE_ORDER.get(m.role, 9), m.person.first_name.casefold(), m.id),
        )
        inactive = sorted(
            (m for m in members if not m.active), key=lambda m: m.person.first_name.casefold()
        )
        lines = [
            {
                "name": _short(m.person.first_name),
                "role": str(m.role),
                "leads": leads[m.id],
                "treats": treats[m.id],
                "me": m.person_id == me.person.id,
            }
            for m in active
        ]
        pages = [lines[i : i + PAGE] for i in range(0, len(lines), PAGE)] or [[]]
        for number, page in enumerate(pages):
            last = number == len(pages) - 1
            context: dict[str, Any] = {
                "organisation": organisation.name,
                "members": page,
                "first": number == 0,
                "total": len(active),
                "more": len(lines) - (number + 1) * PAGE if not last else 0,
                "inactive": [_short(m.person.first_name) for m in inactive[:INACTIVE_SHOWN]]
                if last
                else [],
                "inactive_more": max(0, len(inactive) - INACTIVE_SHOWN) if last else 0,
            }
            rows: tuple[tuple[Button, ...], ...] = ()
            if last:
                rows = (
                    (TEAM_INVITE.button("team_invite", organisation=organisation_id),),
                    (TEAM_OFF.button("team_deactivate", organisation=organisation_id, page=0),),
                )
            out.add(Say("team/list", context, buttons=rows))
        session.add(
            AccessLog(
                actor_person_id=me.person.id,
                actor_label=access.actor_label(me.person),
                action="list_staff",
                subject=f"organisation:{organisation_id}",
                placement_id=None,
                at=now,
            )
        )
    return out


async def caseloads(
    session: AsyncSession, organisation_id: int
) -> tuple[Counter[int], Counter[int]]:
    """Open placements per staff id as begeleider and as behandelaar, in one GROUP BY query."""
    rows = await session.execute(
        select(Placement.begeleider_id, Placement.behandelaar_id, func.count())
        .where(Placement.organisation_id == organisation_id, guards.is_open())
        .group_by(Placement.begeleider_id, Placement.behandelaar_id)
    )
    leads: Counter[int] = Counter()
    treats: Counter[int] = Counter()
    for begeleider_id, behandelaar_id, count in rows:
        if begeleider_id is not None:
            leads[begeleider_id] += count
        if behandelaar_id is not None:
            treats[behandelaar_id] += count
    return leads, treats


async def _coordinator(
    session: AsyncSession, caller: Caller, action: Action, organisation_id: int
) -> Me | Outcome:
    """The pressing coordinator, if this organisation is within her reach for this action."""
    me = await guards.staff(session, caller, action, pressed=True)
    if isinstance(me, Outcome):
        return me
    if organisation_id not in guards.organisations(me, action):
        return guards.refuse(me.language, guards.EXPIRED)
    return me


# --- Inviting a colleague ----------------------------------------------------------------------


async def choose_role(session: AsyncSession, caller: Caller, organisation_id: int) -> Outcome:
    """Ask which role the new colleague gets."""
    me = await _coordinator(session, caller, Action.INVITE_STAFF, organisation_id)
    if isinstance(me, Outcome):
        return me
    buttons = tuple(
        (TEAM_ROLE.button(f"team_role_{code}", organisation=organisation_id, role=code),)
        for code in ROLE_CODES
    )
    return Outcome(me.language).add(Say("team/choose_role", buttons=buttons))


async def ask_name(
    session: AsyncSession, caller: Caller, organisation_id: int, code: str, now: dt.datetime
) -> Outcome:
    """Ask the new colleague's first name; the typed answer makes the invite."""
    me = await _coordinator(session, caller, Action.INVITE_STAFF, organisation_id)
    if isinstance(me, Outcome):
        return me
    role = ROLE_CODES[code]  # the button's Choice only carries these codes
    await set_state(
        session,
        me.link.telegram_user_id,
        FLOW,
        "name",
        {"organisation": organisation_id, "role": code},
        now,
    )
    return Outcome(me.language).add(Say("team/ask_name", {"role": str(role)}, edit=True))


async def typed(
    session: AsyncSession,
    me: Me,
    data: dict[str, Any],
    message: str,
    now: dt.datetime,
    settings: RouteSettings,
    bot_username: str,
) -> Outcome:
    """The typed first name: make a single-use invite and give the link."""
    out = Outcome(me.language)
    organisation_id = int(data["organisation"])
    role = ROLE_CODES.get(str(data.get("role")))
    # The role may have ended since the question was asked: then the question ends too.
    if role is None or organisation_id not in guards.organisations(me, Action.INVITE_STAFF):
        await clear_state(session, me.link.telegram_user_id)
        return out.say(guards.staff_refusal(Action.INVITE_STAFF))
    name = clean_name(message, PERSON_NAME_MAX + 1)
    if not name or len(name) > PERSON_NAME_MAX or name.startswith("/"):
        return out.say("team/bad_name")
    await clear_state(session, me.link.telegram_user_id)
    new = await create_invite(
        session,
        role=role,
        organisation_id=organisation_id,
        invitee_name=name,
        created_by_person_id=me.person.id,
        now=now,
        settings=settings,
    )
    return out.say(
        "team/invite_link",
        name=name,
        role=str(role),
        link=new.link(bot_username),
        days=settings.invite_valid_days,
    )


# --- Putting someone on non-active -------------------------------------------------------------


async def choose_member(
    session: AsyncSession, caller: Caller, organisation_id: int, page: int
) -> Outcome:
    """List the active colleagues (not herself) as buttons, a page at a time."""
    me = await _coordinator(session, caller, Action.DEACTIVATE_STAFF, organisation_id)
    if isinstance(me, Outcome):
        return me
    members = list(
        await session.scalars(
            select(StaffMember)
            .join(StaffMember.person)
            .where(
                StaffMember.organisation_id == organisation_id,
                StaffMember.active.is_(True),
                StaffMember.person_id != me.person.id,
            )
            .options(selectinload(StaffMember.person))
            .order_by(StaffMember.id)
        )
    )
    members.sort(key=lambda m: (m.person.first_name.casefold(), m.id))
    out = Outcome(me.language)
    if not members:
        return out.add(Say("team/nobody", edit=True))
    pages = (len(members) + PAGE - 1) // PAGE
    page = min(page, pages - 1)
    rows: list[tuple[Button, ...]] = [
        (
            TEAM_PICK.button(
                "team_member",
                {"name": _short(m.person.first_name), "role": str(m.role)},
                staff=m.id,
            ),
        )
        for m in members[page * PAGE : (page + 1) * PAGE]
    ]
    if page + 1 < pages:
        rows.append((TEAM_OFF.button("team_next", organisation=organisation_id, page=page + 1),))
    return out.add(Say("team/choose_member", {"page": page}, buttons=tuple(rows), edit=True))


async def _member(
    session: AsyncSession, me: Me, staff_id: int, *, lock: bool = False
) -> StaffMember | None:
    """The staff row if it is of an organisation this coordinator reaches; else None."""
    query = select(StaffMember).where(StaffMember.id == staff_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    member = await session.scalar(query)
    if member is None:
        return None
    if member.organisation_id not in guards.organisations(me, Action.DEACTIVATE_STAFF):
        return None
    return member


async def _open_count(session: AsyncSession, staff_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Placement)
        .where(
            (Placement.begeleider_id == staff_id) | (Placement.behandelaar_id == staff_id),
            guards.is_open(),
        )
    )
    return int(count or 0)


async def confirm_off(session: AsyncSession, caller: Caller, staff_id: int) -> Outcome:
    """Ask to confirm; refuse at once for herself, someone already off, or open placements."""
    me = await guards.staff(session, caller, Action.DEACTIVATE_STAFF, pressed=True)
    if isinstance(me, Outcome):
        return me
    member = await _member(session, me, staff_id)
    if member is None:
        return guards.refuse(me.language, guards.EXPIRED)
    refusal = await _refusal(session, me, member, edit=True)
    if refusal is not None:
        return Outcome(me.language).add(refusal)
    name = (await _first_name(session, member)) or "?"
    buttons = (
        (TEAM_OFF_GO.button("team_off_yes", {"name": _short(name)}, staff=member.id),),
        (TEAM_OFF.button("never_mind", organisation=member.organisation_id, page=0),),
    )
    context = {"name": name, "role": str(member.role)}
    return Outcome(me.language).add(Say("team/confirm", context, buttons=buttons, edit=True))


async def _first_name(session: AsyncSession, member: StaffMember) -> str | None:
    person = await session.get(Person, member.person_id)
    return person.first_name if person is not None else None


async def _refusal(
    session: AsyncSession, me: Me, member: StaffMember, *, edit: bool
) -> Say | None:
    """Why this colleague cannot be put on non-active now, or None."""
    name = (await _first_name(session, member)) or "?"
    if member.person_id == me.person.id:
        return Say("team/not_yourself", edit=edit)
    if not member.active:
        return Say("team/already_inactive", {"name": name}, edit=edit)
    count = await _open_count(session, member.id)
    if count:
        return Say("team/still_placements", {"name": name, "count": count}, edit=edit)
    return None


async def deactivate(
    session: AsyncSession, caller: Caller, staff_id: int, now: dt.datetime
) -> Outcome:
    """Put a colleague on non-active, in one transaction with her row locked and re-checked."""
    me = await guards.staff(session, caller, Action.DEACTIVATE_STAFF, pressed=True)
    if isinstance(me, Outcome):
        return me
    member = await _member(session, me, staff_id, lock=True)
    if member is None:
        return guards.refuse(me.language, guards.EXPIRED)
    # Pressed twice, or by two coordinators at once: the later press leaves the first one's
    # message as it is and says, in a new message, why nothing happened.
    refusal = await _refusal(session, me, member, edit=False)
    if refusal is not None:
        return Outcome(me.language).add(refusal)
    member.active, member.deactivated_at = False, now
    name = (await _first_name(session, member)) or "?"
    organisation = await session.get(Organisation, member.organisation_id)
    assert organisation is not None
    link = await session.scalar(
        select(TelegramLink).where(TelegramLink.person_id == member.person_id)
    )
    out = Outcome(me.language)
    still_staff = await session.scalar(
        select(func.count())
        .select_from(StaffMember)
        .where(StaffMember.person_id == member.person_id, StaffMember.active.is_(True))
    )
    if not still_staff:
        await _drop_staff_messages(session, member.person_id)
    told = False
    if link is not None:
        await clear_state(session, link.telegram_user_id)
        # Her command menu loses the role's commands at once (what else she is, stays).
        her = await load_me(session, link.telegram_user_id)
        if her is not None:
            out.menus.append(her.menu())
        if link.reachable:
            told = True
            out.add(
                Say(
                    "team/ended_notice",
                    {"organisation": organisation.name, "role": str(member.role)},
                    to=recipient(link),
                )
            )
    session.add(
        AccessLog(
            actor_person_id=me.person.id,
            actor_label=access.actor_label(me.person),
            action="deactivate_staff",
            subject=f"staff:{member.id}",
            placement_id=None,
            at=now,
        )
    )
    context = {"name": name, "role": str(member.role), "told": told}
    return out.add(Say("team/deactivated", context, edit=True))


async def _drop_staff_messages(session: AsyncSession, person_id: int) -> None:
    """Drop her pending staff messages; what she gets as an ouder or gezinshuisouder stays."""
    for kind in STAFF_KINDS:
        await drop_pending(session, kind=kind, person_id=person_id)
    own = select(Participant.placement_id).where(Participant.person_id == person_id)
    pending = await session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.person_id == person_id,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.kind.in_(MEETING_KINDS),
            (OutboxMessage.placement_id.is_(None)) | OutboxMessage.placement_id.not_in(own),
        )
    )
    for message in pending:
        message.status = OutboxStatus.DROPPED
