"""Invites: single-use, expiring, stored hashed, binding one role in one placement or organisation.

Redeeming them (`/start CODE`, the privacy notice and consent) is flows/onboarding.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.names import clean_name
from flows.settings import RouteSettings
from storage.models import (
    Invite,
    Organisation,
    Role,
)

# Telegram deep-link payloads allow these characters, up to 64 of them.
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,64}")
STAFF_INVITE_ROLES = (Role.BEGELEIDER, Role.BEHANDELAAR, Role.COORDINATOR)
MAX_PER_SIDE = 2  # a placement has 1-2 ouders and 1-2 gezinshuisouders
ORGANISATION_NAME_MAX = 120
PERSON_NAME_MAX = 64


class FlowError(Exception):
    """A request that cannot be done; `args[0]` is a short reason for the operator."""


@dataclass(frozen=True)
class NewInvite:
    invite: Invite
    code: str

    def link(self, bot_username: str) -> str:
        return invite_link(bot_username, self.code)


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


async def create_invite(
    session: AsyncSession,
    *,
    role: Role,
    organisation_id: int,
    now: dt.datetime,
    settings: RouteSettings,
    placement_id: int | None = None,
    invitee_name: str | None = None,
    created_by_person_id: int | None = None,
) -> NewInvite:
    """Create an invite and return it with its code (the only time the code exists in clear)."""
    code = secrets.token_urlsafe(12)
    invite = Invite(
        code_hash=hash_code(code),
        role=role,
        organisation_id=organisation_id,
        placement_id=placement_id,
        invitee_name=invitee_name,
        created_by_person_id=created_by_person_id,
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.invite_valid_days),
    )
    session.add(invite)
    await session.flush()
    return NewInvite(invite, code)


async def add_organisation(session: AsyncSession, name: str, now: dt.datetime) -> Organisation:
    """Create an organisation; its name must be new."""
    # Cleaned one longer than allowed, so a name that is too long is refused, not cut.
    name = clean_name(name, ORGANISATION_NAME_MAX + 1)
    if not name or len(name) > ORGANISATION_NAME_MAX:
        raise FlowError("the organisation name must be 1-120 characters")
    if await session.scalar(select(Organisation).where(Organisation.name == name)):
        raise FlowError(f"organisation {name!r} exists already")
    organisation = Organisation(name=name, created_at=now)
    session.add(organisation)
    await session.flush()
    return organisation


async def create_staff_invite(
    session: AsyncSession,
    *,
    organisation_name: str,
    role: Role,
    name: str,
    now: dt.datetime,
    settings: RouteSettings,
) -> NewInvite:
    """Invite a begeleider, behandelaar or coordinator to an organisation (the admin's command;
    a coordinator invites colleagues in the chat)."""
    if role not in STAFF_INVITE_ROLES:
        raise FlowError("staff invites are for begeleider, behandelaar or coordinator")
    organisation = await session.scalar(
        select(Organisation).where(
            Organisation.name == clean_name(organisation_name, ORGANISATION_NAME_MAX + 1)
        )
    )
    if organisation is None:
        raise FlowError(f"no organisation called {organisation_name!r}; add it first")
    name = clean_name(name, PERSON_NAME_MAX + 1)
    if not name or len(name) > PERSON_NAME_MAX:
        raise FlowError("the name must be 1-64 characters")
    return await create_invite(
        session,
        role=role,
        organisation_id=organisation.id,
        invitee_name=name,
        now=now,
        settings=settings,
    )
