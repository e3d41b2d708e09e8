"""Placements: the begeleider creates one step by step, lists theirs and invites people."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from flows import guards
from flows.access import log_placements
from flows.authz import Action
from flows.buttons import INVITE_FOR, INVITE_ROLE
from flows.dates import parse_date
from flows.invites import create_invite, invite_link
from flows.names import clean_name
from flows.people import Caller, Me, clear_state, set_state
from flows.replies import Outcome, Say
from flows.settings import RouteSettings
from storage.models import (
    Invite,
    Participant,
    Phase,
    Placement,
    Role,
    StaffMember,
)

NEW_FLOW = "nieuw"
# A first name or alias: letters with at most two parts ("Sam", "Anne-Fleur", "Jan Willem").
YOUTH_NAME = re.compile(r"[^\W\d_]+(?:[-' ][^\W\d_]+){0,2}")
YOUTH_NAME_MAX = 30
GEZINSHUIS_MAX = 60
START_DATE_PAST_YEARS = 10
INVITE_ROLE_CODES = {"o": Role.OUDER, "g": Role.GEZINSHUISOUDER, "b": Role.BEHANDELAAR}


async def begin_new(session: AsyncSession, caller: Caller, now: dt.datetime) -> Outcome:
    """Start creating a placement: ask for the youth's first name or alias."""
    me = await guards.staff(session, caller, Action.CREATE_PLACEMENT)
    if isinstance(me, Outcome):
        return me
    await set_state(session, caller.telegram_user_id, NEW_FLOW, "youth", {}, now)
    return Outcome(me.language).say("placements/ask_youth_name")


async def continue_new(
    session: AsyncSession,
    me: Me,
    step: str,
    data: dict[str, object],
    text: str,
    now: dt.datetime,
    settings: RouteSettings,
    bot_username: str,
) -> Outcome:
    """Check one answer of /nieuw: re-ask kindly when it is not usable, else go on."""
    out = Outcome(me.language)
    user_id = me.link.telegram_user_id
    # Hidden characters out; not cut here, so the checks below answer a long name kindly.
    value = clean_name(text, len(text))
    if step == "youth":
        if len(value) > YOUTH_NAME_MAX or not YOUTH_NAME.fullmatch(value):
            return out.say("placements/bad_youth_name", max=YOUTH_NAME_MAX)
        await set_state(session, user_id, NEW_FLOW, "gezinshuis", {"youth": value}, now)
        return out.say("placements/ask_gezinshuis", youth=value)
    if step == "gezinshuis":
        if not 2 <= len(value) <= GEZINSHUIS_MAX or not any(ch.isalnum() for ch in value):
            return out.say("placements/bad_gezinshuis", max=GEZINSHUIS_MAX)
        await set_state(session, user_id, NEW_FLOW, "start", {**data, "gezinshuis": value}, now)
        return out.say("placements/ask_start_date", youth=data["youth"])
    if step == "start":
        today = now.astimezone(ZoneInfo(me.link.time_zone)).date()
        start = parse_date(value, today)
        earliest = today.replace(year=today.year - START_DATE_PAST_YEARS)
        if start is None or not earliest <= start <= today + dt.timedelta(days=366):
            return out.say("placements/bad_start_date", today=today)
        return await _create(
            session,
            me,
            str(data["youth"]),
            str(data["gezinshuis"]),
            start,
            now,
            settings,
            bot_username,
        )
    await clear_state(session, user_id)
    return out.say("common/nothing_asked")


async def _create(
    session: AsyncSession,
    me: Me,
    youth: str,
    gezinshuis: str,
    start: dt.date,
    now: dt.datetime,
    settings: RouteSettings,
    bot_username: str,
) -> Outcome:
    begeleider = me.staff_as(Role.BEGELEIDER)[0]
    placement = Placement(
        organisation_id=begeleider.organisation_id,
        youth_name=youth,
        gezinshuis_name=gezinshuis,
        phase=Phase.INSTALLATIEFASE,
        phase_since=now,
        start_date=start,
        begeleider_id=begeleider.id,
        behandelaar_id=None,
        created_at=now,
    )
    session.add(placement)
    await session.flush()
    links = {}
    for role in (Role.OUDER, Role.GEZINSHUISOUDER, Role.BEHANDELAAR):
        new = await create_invite(
            session,
            role=role,
            organisation_id=placement.organisation_id,
            placement_id=placement.id,
            created_by_person_id=me.person.id,
            now=now,
            settings=settings,
        )
        links[str(role)] = new.link(bot_username)
    await clear_state(session, me.link.telegram_user_id)
    return Outcome(me.language).say(
        "placements/created",
        youth=youth,
        gezinshuis=gezinshuis,
        start=start,
        links=links,
        days=settings.invite_valid_days,
    )


async def list_mine(session: AsyncSession, caller: Caller, now: dt.datetime) -> Outcome:
    """List the placements this begeleider or behandelaar works on, with who has joined."""
    me = await guards.staff(session, caller, Action.LIST_PLACEMENTS)
    if isinstance(me, Outcome):
        return me
    staff_ids = guards.staff_ids(me)
    placements = list(
        await session.scalars(
            select(Placement)
            .where(guards.of_staff(me, Action.LIST_PLACEMENTS))
            .options(
                selectinload(Placement.participants).selectinload(Participant.person),
                selectinload(Placement.behandelaar).selectinload(StaffMember.person),
            )
            .order_by(Placement.closed_at.is_not(None), Placement.youth_name, Placement.id)
        )
    )
    open_invites = await _open_invites(session, [p.id for p in placements], now)
    await log_placements(session, me.person, "list_placements", [p.id for p in placements], now)
    rows = [_summary(p, open_invites.get(p.id, {}), me, now) for p in placements]
    buttons = tuple(
        (INVITE_FOR.button("invite_for", {"youth": p.youth_name}, placement=p.id),)
        for p in placements
        if p.phase != Phase.AFGESLOTEN and p.begeleider_id in staff_ids
    )
    return Outcome(me.language).add(Say("placements/list", {"placements": rows}, buttons=buttons))


async def _open_invites(
    session: AsyncSession, placement_ids: list[int], now: dt.datetime
) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    if not placement_ids:
        return counts
    invites = await session.scalars(
        select(Invite).where(
            Invite.placement_id.in_(placement_ids),
            Invite.used_at.is_(None),
            Invite.expires_at > now,
        )
    )
    for invite in invites:
        assert invite.placement_id is not None  # filtered above
        per_role = counts.setdefault(invite.placement_id, {})
        per_role[str(invite.role)] = per_role.get(str(invite.role), 0) + 1
    return counts


def _summary(
    placement: Placement, open_invites: dict[str, int], me: Me, now: dt.datetime
) -> dict[str, object]:
    def names(role: Role) -> list[str]:
        return [p.person.first_name for p in placement.participants if p.role == role]

    behandelaar = placement.behandelaar
    return {
        "youth": placement.youth_name,
        "gezinshuis": placement.gezinshuis_name,
        "phase": str(placement.phase),
        "weeks_in_phase": max(0, (now - placement.phase_since).days // 7),
        "ouders": names(Role.OUDER),
        "gezinshuisouders": names(Role.GEZINSHUISOUDER),
        "behandelaar": behandelaar.person.first_name if behandelaar else None,
        "open_invites": open_invites,
        "mine_as": "begeleider"
        if any(s.id == placement.begeleider_id for s in me.staff)
        else "behandelaar",
    }


async def choose_invite_role(session: AsyncSession, caller: Caller, placement_id: int) -> Outcome:
    """Offer which role a new invite link for this placement is for."""
    found = await guards.placement_press(session, caller, placement_id, Action.INVITE_FAMILY)
    if isinstance(found, Outcome):
        return found
    me, placement = found
    buttons = tuple(
        (INVITE_ROLE.button(f"role_{role}", placement=placement.id, role=code),)
        for code, role in INVITE_ROLE_CODES.items()
    )
    return Outcome(me.language).add(
        Say("placements/choose_invite_role", {"youth": placement.youth_name}, buttons=buttons)
    )


async def make_invite(
    session: AsyncSession,
    caller: Caller,
    placement_id: int,
    role_code: str,
    now: dt.datetime,
    settings: RouteSettings,
    bot_username: str,
) -> Outcome:
    """Create one more invite link for a role in the begeleider's own placement."""
    participants = [selectinload(Placement.participants)]
    found = await guards.placement_press(
        session, caller, placement_id, Action.INVITE_FAMILY, open_only=True, options=participants
    )
    if isinstance(found, Outcome):
        return found
    me, placement = found
    role = INVITE_ROLE_CODES.get(role_code)
    if role is None:
        return guards.refuse(me.language, guards.NOT_YOURS)
    out = Outcome(me.language)
    side = [p for p in placement.participants if p.role == role]
    full = (role == Role.BEHANDELAAR and placement.behandelaar_id is not None) or len(side) >= 2
    if full:
        return out.add(
            Say(
                "placements/role_full",
                {"youth": placement.youth_name, "role": str(role)},
                edit=True,
            )
        )
    new = await create_invite(
        session,
        role=role,
        organisation_id=placement.organisation_id,
        placement_id=placement.id,
        created_by_person_id=me.person.id,
        now=now,
        settings=settings,
    )
    return out.add(
        Say(
            "placements/invite_link",
            {
                "youth": placement.youth_name,
                "role": str(role),
                "link": invite_link(bot_username, new.code),
                "days": settings.invite_valid_days,
            },
            edit=True,
        )
    )
