"""Onboarding: `/start CODE` shows the invite with the privacy notice; consent redeems it.

The consent press is where races meet (six people pressing one link at once): the placement's row
is locked first, roles and counts are read again, and one conditional UPDATE claims the invite.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from flows import research
from flows.buttons import CONSENT, RESUME
from flows.checkins.pause import is_paused
from flows.invites import CODE_PATTERN, MAX_PER_SIDE, PERSON_NAME_MAX, hash_code
from flows.names import clean_name
from flows.people import (
    Caller,
    Me,
    begeleider_recipient,
    clear_state,
    get_state,
    load_me,
    set_state,
)
from flows.replies import Outcome, Say
from flows.roles import Standing, may_take_role
from flows.settings import RouteSettings
from storage.models import (
    PARTICIPANT_ROLES,
    ConsentDecision,
    ConsentRecord,
    Invite,
    Participant,
    Person,
    Phase,
    Placement,
    Role,
    StaffMember,
    TelegramLink,
)


async def start(
    session: AsyncSession,
    caller: Caller,
    payload: str | None,
    now: dt.datetime,
    settings: RouteSettings,
) -> Outcome:
    """Greet, or show the invite behind a deep link with the privacy notice and ask for consent."""
    me = await load_me(session, caller.telegram_user_id)
    language = me.language if me else caller.telegram_language
    out = Outcome(language)
    if not payload:
        if me is None:
            return out.say("onboarding/start_without_invite")
        paused = is_paused(me.person, now)
        # A paused person who comes back with /start gets the resume button: one tap, her choice.
        buttons = ((RESUME.button("resume_messages"),),) if paused else ()
        context = {"name": me.person.first_name, "roles": sorted(me.roles), "paused": paused}
        return out.add(Say("onboarding/start_known", context, buttons=buttons))

    invite = await _find_invite(session, payload)
    problem = _invite_problem(invite, me, now)
    if problem is not None:
        return out.say(f"onboarding/{problem}")
    assert invite is not None  # checked by _invite_problem
    standing = await _standing(session, invite, me)
    if standing == Standing.HOLDS_IT:
        return out.say("onboarding/invite_already_in", youth=_youth(invite))
    if standing == Standing.OTHER_ROLE:
        assert me is not None  # only a known person can hold a role
        return await _wrong_person(session, out, invite, me, edit=False)

    await set_state(
        session, caller.telegram_user_id, "consent", "ask", {"invite_id": invite.id}, now
    )
    return out.add(
        Say(
            "onboarding/consent_request",
            {**_invite_context(invite), "retention_days": settings.retention_days},
            buttons=(
                (CONSENT.button("consent_yes", agreed=True, invite=invite.id),),
                (CONSENT.button("consent_no", agreed=False, invite=invite.id),),
            ),
        )
    )


async def answer_consent(
    session: AsyncSession,
    caller: Caller,
    invite_id: int,
    agreed: bool,
    now: dt.datetime,
    settings: RouteSettings,
) -> Outcome:
    """Link the account on yes; on no keep only the refusal."""
    me = await load_me(session, caller.telegram_user_id)
    out = Outcome(me.language if me else caller.telegram_language)
    state = await get_state(session, caller.telegram_user_id)
    if state is None or state.flow != "consent" or state.data.get("invite_id") != invite_id:
        return out.add(Say("common/button_expired"))
    # First, before this transaction writes anything (so two joins cannot deadlock): take the
    # placement's row lock. Whoever presses a link of this placement at the same moment waits
    # here, so the roles and counts read below are the truth until this one commits.
    await _lock_placement_of(session, invite_id)
    invite = await session.scalar(
        select(Invite)
        .where(Invite.id == invite_id)
        .options(*_INVITE_OPTIONS)
        .execution_options(populate_existing=True)
    )
    problem = _invite_problem(invite, me, now)
    if problem is not None:
        await clear_state(session, caller.telegram_user_id)
        return out.add(Say(f"onboarding/{problem}", edit=True))
    assert invite is not None  # checked by _invite_problem
    await clear_state(session, caller.telegram_user_id)

    if not agreed:
        # Nothing about this person is kept: only that the invite was refused.
        session.add(
            ConsentRecord(
                person_id=None,
                invite_id=invite.id,
                decision=ConsentDecision.REFUSED,
                notice_version=settings.notice_version,
                decided_at=now,
            )
        )
        out.close_pressed = True
        return out.say("onboarding/consent_refused")

    standing = await _standing(session, invite, me)
    if standing == Standing.HOLDS_IT:
        return out.add(Say("onboarding/invite_already_in", {"youth": _youth(invite)}, edit=True))
    if standing == Standing.OTHER_ROLE:
        assert me is not None  # only a known person can hold a role
        return await _wrong_person(session, out, invite, me, edit=True)
    full = await _side_full(session, invite)
    if full:
        return out.add(Say(f"onboarding/{full}", {"youth": _youth(invite)}, edit=True))
    # One conditional statement decides who gets a single-use link, on any database.
    if not await _claim(session, invite, me.person.id if me else None, now):
        return out.add(Say("onboarding/invite_used", edit=True))

    if me is None:
        person = Person(first_name=_first_name(invite, caller), created_at=now, paused=False)
        person.telegram = TelegramLink(
            telegram_user_id=caller.telegram_user_id,
            chat_id=caller.chat_id,
            language=caller.telegram_language,
            time_zone=settings.default_timezone,
            reachable=True,
            linked_at=now,
        )
        session.add(person)
        await session.flush()
        invite.used_by_person_id = person.id  # the claim above could not name them yet
    else:
        person = me.person
    await _take_role(session, invite, person, now)
    session.add(
        ConsentRecord(
            person_id=person.id,
            invite_id=invite.id,
            decision=ConsentDecision.GIVEN,
            notice_version=settings.notice_version,
            decided_at=now,
        )
    )
    await session.flush()

    me = await load_me(session, caller.telegram_user_id)
    assert me is not None  # just linked
    out.language = me.language
    out.close_pressed = True
    out.say("onboarding/consent_given", name=person.first_name)
    out.add(Say(f"onboarding/welcome_{invite.role}", _welcome_context(invite, person)))
    if invite.role in PARTICIPANT_ROLES and not await research.was_asked(session, person.id):
        # The separate, optional agreement for research: asked once, off unless she says yes.
        # Only ouders and gezinshuisouders answer check-ins; staff may opt in in /instellingen.
        out.add(research.question())
    out.menus.append(me.menu())
    if invite.placement is not None:
        to = await begeleider_recipient(session, invite.placement)
        if to is not None and to.person_id != person.id:
            out.add(
                Say(
                    "onboarding/joined_notice",
                    {
                        "name": person.first_name,
                        "role": str(invite.role),
                        "youth": invite.placement.youth_name,
                    },
                    to=to,
                )
            )
    return out


# Everything the invite screens show or check, loaded with the invite.
_INVITE_OPTIONS = (
    selectinload(Invite.placement),
    selectinload(Invite.organisation),
    selectinload(Invite.created_by),
)


async def _find_invite(session: AsyncSession, code: str) -> Invite | None:
    if not CODE_PATTERN.fullmatch(code):
        return None
    return await session.scalar(
        select(Invite).where(Invite.code_hash == hash_code(code)).options(*_INVITE_OPTIONS)
    )


def _invite_problem(invite: Invite | None, me: Me | None, now: dt.datetime) -> str | None:
    """Name the template that explains why this invite cannot be used, or None."""
    if invite is None:
        return "invite_unknown"
    if invite.used_at is not None:
        if me is not None and invite.used_by_person_id == me.person.id:
            return "invite_used_by_you"
        return "invite_used"
    if invite.expires_at <= now:
        return "invite_expired"
    if invite.placement is not None and invite.placement.phase == Phase.AFGESLOTEN:
        return "invite_placement_closed"
    return None


async def _standing(session: AsyncSession, invite: Invite, me: Me | None) -> Standing:
    """Where this person stands towards the invite's role (placement or organisation)."""
    if invite.placement_id is not None:
        person_id = me.person.id if me is not None else None
        return await may_take_role(session, person_id, invite.placement_id, invite.role)
    if me is not None and any(
        s.organisation_id == invite.organisation_id and s.role == invite.role for s in me.staff
    ):
        return Standing.HOLDS_IT
    return Standing.FREE


async def _wrong_person(
    session: AsyncSession, out: Outcome, invite: Invite, me: Me, *, edit: bool
) -> Outcome:
    """Refuse kindly; tell the placement's begeleider that one of its links was misused."""
    assert invite.placement is not None  # only placement invites can meet another role
    to = await begeleider_recipient(session, invite.placement)
    own = to is not None and to.person_id == me.person.id
    out.add(
        Say(
            "onboarding/invite_wrong_person",
            {"youth": _youth(invite), "own": own},
            edit=edit,
        )
    )
    if to is not None and not own:
        # No name: not of who tried, and not of the side they are on.
        out.add(
            Say(
                "onboarding/wrong_person_notice",
                {"role": str(invite.role), "youth": _youth(invite)},
                to=to,
            )
        )
    return out


async def _lock_placement_of(session: AsyncSession, invite_id: int) -> None:
    """Lock the row of the invite's placement and reload it (SQLite: its writes take turns)."""
    await session.execute(
        select(Placement)
        .join(Invite, Invite.placement_id == Placement.id)
        .where(Invite.id == invite_id)
        .with_for_update(of=Placement)
        .execution_options(populate_existing=True)
    )


async def _side_full(session: AsyncSession, invite: Invite) -> str | None:
    """Name the template that says this role is taken in the placement, or None."""
    placement = invite.placement
    if placement is None:
        return None
    if invite.role == Role.BEHANDELAAR:
        return "invite_behandelaar_taken" if placement.behandelaar_id is not None else None
    same_side = await session.scalar(
        select(func.count())
        .select_from(Participant)
        .where(Participant.placement_id == placement.id, Participant.role == invite.role)
    )
    return "invite_side_full" if (same_side or 0) >= MAX_PER_SIDE else None


async def _claim(
    session: AsyncSession, invite: Invite, person_id: int | None, now: dt.datetime
) -> bool:
    """Mark the invite used if nobody did yet; True if this press won it."""
    claimed = await session.scalar(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None))
        .values(used_at=now, used_by_person_id=person_id)
        .returning(Invite.id)
        .execution_options(synchronize_session=False)
    )
    if claimed is None:
        return False
    set_committed_value(invite, "used_at", now)
    set_committed_value(invite, "used_by_person_id", person_id)
    return True


async def _take_role(
    session: AsyncSession, invite: Invite, person: Person, now: dt.datetime
) -> None:
    if invite.role in (Role.OUDER, Role.GEZINSHUISOUDER):
        assert invite.placement_id is not None  # participant invites always name a placement
        session.add(
            Participant(
                placement_id=invite.placement_id,
                person_id=person.id,
                role=invite.role,
                joined_at=now,
            )
        )
        return
    staff = await session.scalar(
        select(StaffMember).where(
            StaffMember.organisation_id == invite.organisation_id,
            StaffMember.person_id == person.id,
            StaffMember.role == invite.role,
        )
    )
    if staff is None:
        staff = StaffMember(
            organisation_id=invite.organisation_id,
            person_id=person.id,
            role=invite.role,
            created_at=now,
        )
        session.add(staff)
        await session.flush()
    elif not staff.active:
        # Invited again after being put on non-active: the same row, working again.
        staff.active, staff.deactivated_at = True, None
    if invite.placement is not None and invite.role == Role.BEHANDELAAR:
        set_ = await session.scalar(
            update(Placement)
            .where(Placement.id == invite.placement.id, Placement.behandelaar_id.is_(None))
            .values(behandelaar_id=staff.id)
            .returning(Placement.id)
            .execution_options(synchronize_session=False)
        )
        if set_ is None:
            # Cannot happen while the placement row is locked; raising rolls the join back.
            raise RuntimeError(f"placement {invite.placement.id} got a behandelaar meanwhile")
        set_committed_value(invite.placement, "behandelaar_id", staff.id)


def _first_name(invite: Invite, caller: Caller) -> str:
    # Staff are named by the admin; others by the first word of their Telegram first name.
    if invite.invitee_name:
        return invite.invitee_name
    words = clean_name(caller.first_name, PERSON_NAME_MAX).split()
    return words[0] if words else "?"


def _youth(invite: Invite) -> str | None:
    return invite.placement.youth_name if invite.placement is not None else None


def _invite_context(invite: Invite) -> dict[str, object]:
    return {
        "role": str(invite.role),
        "youth": _youth(invite),
        "inviter": invite.created_by.first_name if invite.created_by else None,
        "organisation": invite.organisation.name,
        "invitee": invite.invitee_name,
    }


def _welcome_context(invite: Invite, person: Person) -> dict[str, object]:
    placement = invite.placement
    return {
        "name": person.first_name,
        "youth": placement.youth_name if placement else None,
        "phase": str(placement.phase) if placement else None,
        "begeleider": invite.created_by.first_name if invite.created_by else None,
        "organisation": invite.organisation.name,
    }
