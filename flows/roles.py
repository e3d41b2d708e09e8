"""One person, one role per placement: the guard every way into a placement asks first.

Jeugdwet 7.3.11 keeps what the ouders say apart from what the gezinshuisouders say; staff read
both. A person who held two roles in one placement would read the other side, so an ouder or
gezinshuisouder never becomes staff of their own placement nor takes the other side's role there,
and staff of a placement never join it as family. Roles in *different* placements are fine (an
ouder of two siblings, a behandelaar who is also a parent elsewhere).
"""

from __future__ import annotations

import enum

from sqlalchemy import ScalarResult, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Participant, Placement, Role, StaffMember


class Standing(enum.StrEnum):
    """Where a person stands towards a role in a placement."""

    FREE = "free"  # takes no part there yet: may take the role
    HOLDS_IT = "holds_it"  # holds exactly this role there already
    OTHER_ROLE = "other_role"  # holds another role there: must not take this one


async def roles_held(session: AsyncSession, person_id: int, placement_id: int) -> frozenset[Role]:
    """The roles this person holds in this placement, read fresh in one round trip."""
    as_participant = select(Participant.role.label("role")).where(
        Participant.placement_id == placement_id, Participant.person_id == person_id
    )
    as_staff = [
        select(literal(str(role)).label("role"))
        .select_from(Placement)
        .join(StaffMember, StaffMember.id == column)
        .where(Placement.id == placement_id, StaffMember.person_id == person_id)
        for role, column in (
            (Role.BEGELEIDER, Placement.begeleider_id),
            (Role.BEHANDELAAR, Placement.behandelaar_id),
        )
    ]
    held: ScalarResult[object] = await session.scalars(union_all(as_participant, *as_staff))
    return frozenset(Role(str(role)) for role in held)


async def may_take_role(
    session: AsyncSession, person_id: int | None, placement_id: int, role: Role
) -> Standing:
    """Answer whether this person may take `role` in this placement (None: not yet a person)."""
    if person_id is None:
        return Standing.FREE
    held = await roles_held(session, person_id, placement_id)
    if not held:
        return Standing.FREE
    return Standing.HOLDS_IT if held == {role} else Standing.OTHER_ROLE
