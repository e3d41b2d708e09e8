"""Who may do this: the checks a flow step asks first, each refusal worded once.

A step asks `who` (is this account linked to a person?), then `staff` (in which staff roles?),
then `own_placement` (is this placement theirs, and open?). Each returns what it found or the
Outcome that refuses, so a step reads `x = await guards...; if isinstance(x, Outcome): return x`.
One template per kind of refusal: the same situation gets the same words in every flow.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.interfaces import ORMOption

from flows.people import Caller, Me, load_me
from flows.replies import Outcome, Say
from storage.models import Phase, Placement, Role

# --- One template per kind of refusal ---------------------------------------------------------
# A command from an account that is not linked to anyone yet.
NOT_REGISTERED = "common/not_registered"
# A button we cannot honour: old, forged, or pressed by someone it was not meant for.
EXPIRED = "common/button_expired"
# A staff command from someone who holds no staff role (or not the one it needs).
ONLY_STAFF = "common/only_staff"
ONLY_BEGELEIDER = "common/only_begeleider"
# A placement that does not exist or that this person is not staff of: nothing of it is shown.
NOT_YOURS = "placements/not_yours"
# A placement that was closed: nothing can be started for it any more.
CLOSED = "placements/closed"

BEGELEIDER: frozenset[Role] = frozenset({Role.BEGELEIDER})
STAFF: frozenset[Role] = frozenset({Role.BEGELEIDER, Role.BEHANDELAAR})


def refuse(language: str, template: str) -> Outcome:
    """Answer with one refusal template and nothing else."""
    return Outcome(language).say(template)


async def who(session: AsyncSession, caller: Caller, *, pressed: bool = False) -> Me | Outcome:
    """Load the person behind this account, or refuse: a command as unknown, a press as expired."""
    me = await load_me(session, caller.telegram_user_id)
    if me is None:
        return refuse(caller.telegram_language, EXPIRED if pressed else NOT_REGISTERED)
    return me


def staff_ids(me: Me, roles: Collection[Role] = STAFF) -> set[int]:
    """The ids under which this person is staff in one of these roles."""
    return {s.id for s in me.staff if s.role in roles}


def staff_refusal(roles: Collection[Role]) -> str:
    """The refusal for someone who holds none of these staff roles."""
    return ONLY_BEGELEIDER if frozenset(roles) == BEGELEIDER else ONLY_STAFF


async def staff(
    session: AsyncSession,
    caller: Caller,
    roles: Collection[Role] = STAFF,
    *,
    pressed: bool = False,
) -> Me | Outcome:
    """Load the person and make sure they are staff in one of these roles, or refuse."""
    me = await who(session, caller, pressed=pressed)
    if isinstance(me, Outcome):
        return me
    if not staff_ids(me, roles):
        return refuse(me.language, staff_refusal(roles))
    return me


def is_open() -> ColumnElement[bool]:
    """The placements that are not closed: the only ones anything is planned or started for."""
    return Placement.phase != Phase.AFGESLOTEN


def of_staff(me: Me, roles: Collection[Role] = STAFF) -> ColumnElement[bool]:
    """The placements this person is staff of in one of these roles."""
    held: list[ColumnElement[bool]] = []
    if Role.BEGELEIDER in roles:
        held.append(Placement.begeleider_id.in_(staff_ids(me, {Role.BEGELEIDER})))
    if Role.BEHANDELAAR in roles:
        held.append(Placement.behandelaar_id.in_(staff_ids(me, {Role.BEHANDELAAR})))
    return or_(false(), *held)


async def open_placements_of(
    session: AsyncSession, me: Me, roles: Collection[Role] = STAFF
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
    roles: Collection[Role] = BEGELEIDER,
    *,
    open_only: bool = False,
    options: Sequence[ORMOption] = (),
) -> Placement | Outcome:
    """Return the placement this person is staff of in one of these roles, or refuse.

    With `open_only` a closed placement is refused too, replacing the pressed message.
    """
    placement = await session.get(Placement, placement_id, options=options)
    if placement is None or not _holds(me, placement, roles):
        return refuse(me.language, NOT_YOURS)
    if open_only and placement.phase == Phase.AFGESLOTEN:
        return Outcome(me.language).add(Say(CLOSED, {"youth": placement.youth_name}, edit=True))
    return placement


def _holds(me: Me, placement: Placement, roles: Collection[Role]) -> bool:
    as_begeleider = Role.BEGELEIDER in roles and placement.begeleider_id in staff_ids(
        me, {Role.BEGELEIDER}
    )
    as_behandelaar = Role.BEHANDELAAR in roles and placement.behandelaar_id in staff_ids(
        me, {Role.BEHANDELAAR}
    )
    return as_begeleider or as_behandelaar


async def placement_press(
    session: AsyncSession,
    caller: Caller,
    placement_id: int,
    roles: Collection[Role] = BEGELEIDER,
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
