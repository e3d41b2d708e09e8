"""Who may do this: the checks a flow step asks first, each refusal worded once.

A step asks `who` (is this account linked to a person?), then `staff` (may they do this action
at all?), then `own_placement` (is this placement within their reach, and open?). Each returns
what it found or the Outcome that refuses, so a step reads
`x = await guards...; if isinstance(x, Outcome): return x`. Who may do which action, and how far
they reach, is the table in flows/authz.py: a step names its `Action`, the table decides.
One template per kind of refusal: the same situation gets the same words in every flow.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.interfaces import ORMOption

from flows.authz import Action, Scope, roles_for
from flows.authz import scope as scope_of
from flows.people import Caller, Me, load_me
from flows.replies import Outcome, Say
from storage.models import Participant, Phase, Placement, Role

# --- One template per kind of refusal ---------------------------------------------------------
# A command from an account that is not linked to anyone yet.
NOT_REGISTERED = "common/not_registered"
# A button we cannot honour: old, forged, or pressed by someone it was not meant for.
EXPIRED = "common/button_expired"
# A staff command from someone who holds no staff role (or not the one it needs).
ONLY_STAFF = "common/only_staff"
ONLY_BEGELEIDER = "common/only_begeleider"
ONLY_COORDINATOR = "common/only_coordinator"
# A placement that does not exist or that this person is not staff of: nothing of it is shown.
NOT_YOURS = "placements/not_yours"
# A placement that was closed: nothing can be started for it any more.
CLOSED = "placements/closed"

BEGELEIDER: frozenset[Role] = frozenset({Role.BEGELEIDER})
STAFF: frozenset[Role] = frozenset({Role.BEGELEIDER, Role.BEHANDELAAR})
COORDINATOR: frozenset[Role] = frozenset({Role.COORDINATOR})

# What a step names: the action it does (the table in flows/authz.py decides who and how far),
# or, in steps not yet moved to the table, the roles that may do it on their own placements.
Allowed = Action | Collection[Role]


def _roles(allowed: Allowed) -> frozenset[Role]:
    return roles_for(allowed) if isinstance(allowed, Action) else frozenset(allowed)


def _reach(allowed: Allowed, role: Role) -> Scope | None:
    if isinstance(allowed, Action):
        return scope_of(allowed, role)
    return Scope.OWN_PLACEMENTS if role in allowed else None


def refuse(language: str, template: str) -> Outcome:
    """Answer with one refusal template and nothing else."""
    return Outcome(language).say(template)


async def who(session: AsyncSession, caller: Caller, *, pressed: bool = False) -> Me | Outcome:
    """Load the person behind this account, or refuse: a command as unknown, a press as expired."""
    me = await load_me(session, caller.telegram_user_id)
    if me is None:
        return refuse(caller.telegram_language, EXPIRED if pressed else NOT_REGISTERED)
    return me


def staff_ids(me: Me, roles: Allowed = STAFF) -> set[int]:
    """The ids under which this person is (active) staff in one of these roles."""
    held = _roles(roles)
    return {s.id for s in me.staff if s.role in held}


def organisations(me: Me, allowed: Allowed) -> set[int]:
    """The organisations this person reaches as a whole for this action (a coordinator's own)."""
    return {s.organisation_id for s in me.staff if _reach(allowed, s.role) == Scope.ORGANISATION}


def sides(me: Me, action: Action) -> list[Participant]:
    """This person's participations (as ouder or gezinshuisouder) the table lets do this."""
    return [p for p in me.participations if scope_of(action, p.role) == Scope.OWN_SIDE]


def staff_refusal(roles: Allowed) -> str:
    """The refusal for someone who holds none of these staff roles."""
    held = _roles(roles)
    if held == COORDINATOR:
        return ONLY_COORDINATOR
    return ONLY_BEGELEIDER if held == BEGELEIDER else ONLY_STAFF


async def staff(
    session: AsyncSession,
    caller: Caller,
    roles: Allowed = STAFF,
    *,
    pressed: bool = False,
) -> Me | Outcome:
    """Load the person and make sure they may do this action (hold one of these roles), or
    refuse."""
    me = await who(session, caller, pressed=pressed)
    if isinstance(me, Outcome):
        return me
    if not staff_ids(me, roles):
        return refuse(me.language, staff_refusal(roles))
    return me


def is_open() -> ColumnElement[bool]:
    """The placements that are not closed: the only ones anything is planned or started for."""
    return Placement.phase != Phase.AFGESLOTEN


def of_staff(me: Me, roles: Allowed = STAFF) -> ColumnElement[bool]:
    """The placements within this person's reach: their own in these roles, and for an action
    the table gives them organisation-wide, every placement of that organisation."""
    held: list[ColumnElement[bool]] = []
    own = {s.role for s in me.staff if _reach(roles, s.role) == Scope.OWN_PLACEMENTS}
    if Role.BEGELEIDER in own:
        held.append(Placement.begeleider_id.in_(staff_ids(me, {Role.BEGELEIDER})))
    if Role.BEHANDELAAR in own:
        held.append(Placement.behandelaar_id.in_(staff_ids(me, {Role.BEHANDELAAR})))
    whole = organisations(me, roles)
    if whole:
        held.append(Placement.organisation_id.in_(whole))
    return or_(false(), *held)


async def open_placements_of(
    session: AsyncSession, me: Me, roles: Allowed = STAFF
) -> list[Placement]:
    """This person's open placements as staff in these roles, by youth's name."""
    if not staff_ids(me, roles):
        return []
    return list(
        await session.scalars(
            select(Placement)
            .where(of_staff(me, roles), is_open())
            .order_by(Placement.youth_name, Placement.id)
        )
    )


async def own_placement(
    session: AsyncSession,
    me: Me,
    placement_id: int,
    roles: Allowed = BEGELEIDER,
    *,
    open_only: bool = False,
    options: Sequence[ORMOption] = (),
) -> Placement | Outcome:
    """Return the placement this person is staff of in one of these roles, or refuse.

    With `open_only` a closed placement is refused too, replacing the pressed message.
    """
    placement = await session.get(Placement, placement_id, options=options)
    if placement is None or not reaches(me, placement, roles):
        return refuse(me.language, NOT_YOURS)
    if open_only and placement.phase == Phase.AFGESLOTEN:
        return Outcome(me.language).add(Say(CLOSED, {"youth": placement.youth_name}, edit=True))
    return placement


def reaches(me: Me, placement: Placement, roles: Allowed) -> bool:
    """Whether this placement is within this person's reach for this action (or these roles)."""
    for member in me.staff:
        reach = _reach(roles, member.role)
        if reach == Scope.ORGANISATION and placement.organisation_id == member.organisation_id:
            return True
        if reach == Scope.OWN_PLACEMENTS and member.id in (
            placement.begeleider_id if member.role == Role.BEGELEIDER else None,
            placement.behandelaar_id if member.role == Role.BEHANDELAAR else None,
        ):
            return True
    return False


async def placement_press(
    session: AsyncSession,
    caller: Caller,
    placement_id: int,
    roles: Allowed = BEGELEIDER,
    *,
    open_only: bool = False,
    options: Sequence[ORMOption] = (),
) -> tuple[Me, Placement] | Outcome:
    """Check a press on a placement's staff button: who pressed, and is it their placement?

    Someone unknown gets the expired reply; anyone who is not staff of this placement in these
    roles (a parent, another begeleider) gets not-yours, so a press tells nothing about it.
    """
    me = await who(session, caller, pressed=True)
    if isinstance(me, Outcome):
        return me
    placement = await own_placement(
        session, me, placement_id, roles, open_only=open_only, options=options
    )
    if isinstance(placement, Outcome):
        return placement
    return me, placement
