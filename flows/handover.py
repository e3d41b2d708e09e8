"""/overdragen: give placements to another begeleider (or behandelaar) of the same organisation.

A coordinator chooses from whom (her organisation's begeleiders and behandelaars with open
placements), what (all of them, or one), and to whom (someone else in the same role, active,
in the same organisation), then confirms. A begeleider starts at "what", with her own open
placements, and gives them to another begeleider. Every press carries the ids (from, placement
or 0 for all, to) and is checked again in full: a forged, stale or double press changes nothing
and shows nothing of another organisation.

The confirm runs in one transaction: the placement rows are locked in id order (two handovers
cannot deadlock) and the target's staff row too, then everything is checked again. Per
placement: the staff column changes; planned future meetings move with it (the old person's
invitee row becomes the new person's, her queued reminders are dropped and the clock plans the
new person's under his own key); the ouders and gezinshuisouders hear once who their new
begeleider or behandelaar is; the new staff member gets the plan and the recent weeks (the
digest details); the old one loses the placement at once (the guards read the column), her
conversation about it is cleared and her queued messages about it are dropped. Access log:
`hand_over` (the one who did it, one row per placement) and `handover_received` (the new one).
The messages name the old staff member, who may be erased soon after (that is often why she
hands over): they are ephemeral, blanked as soon as they are delivered.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from flows import access, guards
from flows import digest as digests
from flows.authz import Action, Scope, roles_for
from flows.buttons import HANDOVER_FROM, HANDOVER_GO, HANDOVER_TO, HANDOVER_WHAT, NEVER_MIND
from flows.digest_details import plan_line
from flows.outbox import drop_pending, enqueue
from flows.people import Caller, Me, recipient
from flows.replies import Outcome, Say
from storage.models import (
    AccessLog,
    ConversationState,
    Meeting,
    MeetingInvitee,
    MeetingStatus,
    Participant,
    Person,
    Phase,
    Placement,
    Role,
    StaffMember,
    TelegramLink,
)

# Telegram shows at most 100 buttons under a message: one button per placement up to this many.
SHOWN = 40
ALL = 0  # the placement part of a press: 0 means all of the source's open placements
HANDED = (Role.BEGELEIDER, Role.BEHANDELAAR)
# The one refusal for a press we cannot honour and must not explain (forged ids, another
# organisation, someone who is gone): the same words as any expired button.
STALE = guards.EXPIRED


def _column(role: Role) -> Any:
    return Placement.begeleider_id if role == Role.BEGELEIDER else Placement.behandelaar_id


def _holder(placement: Placement, role: Role) -> int | None:
    return placement.begeleider_id if role == Role.BEGELEIDER else placement.behandelaar_id


# --- Step 1: from whom ------------------------------------------------------------------------


async def begin(session: AsyncSession, caller: Caller, now: dt.datetime) -> Outcome:
    """/overdragen: a coordinator chooses from whom; a begeleider goes straight to what."""
    me = await guards.staff(session, caller, Action.HAND_OVER)
    if isinstance(me, Outcome):
        return me
    out = Outcome(me.language)
    orgs = guards.organisations(me, Action.HAND_OVER)
    if orgs:
        sources = await _sources(session, orgs)
        if not sources:
            return out.say("handover/no_sources")
        buttons = tuple(
            (
                HANDOVER_FROM.button(
                    "handover_source",
                    {
                        "name": member.person.first_name,
                        "kind": str(member.role),
                        "count": count,
                        "left": not member.active,
                    },
                    source=member.id,
                ),
            )
            for member, count in sources
        )
        return out.add(Say("handover/choose_source", buttons=(*buttons, _never_mind())))
    own = [s for s in me.staff if s.role == Role.BEGELEIDER]
    for member in own:
        placements = await _open_of(session, member)
        if placements:
            return out.add(await _what(session, member, placements, edit=False))
    return out.say("handover/none_own")


async def _sources(
    session: AsyncSession, organisation_ids: set[int]
) -> list[tuple[StaffMember, int]]:
    """Begeleiders and behandelaars of these organisations with open placements, and how many.

    Deactivated staff are listed too: someone who left must be able to hand over what is left.
    """
    counts: dict[tuple[Role, int], int] = {}
    for role in HANDED:
        column = _column(role)
        for staff_id, count in await session.execute(
            select(column, func.count())
            .where(Placement.organisation_id.in_(organisation_ids), guards.is_open())
            .where(column.is_not(None))
            .group_by(column)
        ):
            counts[(role, staff_id)] = count
    members = await session.scalars(
        select(StaffMember)
        .where(StaffMember.organisation_id.in_(organisation_ids), StaffMember.role.in_(HANDED))
        .options(selectinload(StaffMember.person))
    )
    found = [(m, counts[(m.role, m.id)]) for m in members if (m.role, m.id) in counts]
    found.sort(key=lambda item: (item[0].person.first_name.lower(), item[0].id))
    return found


async def _open_of(
    session: AsyncSession, member: StaffMember, *, lock: bool = False
) -> list[Placement]:
    """This staff member's open placements in their role, by youth's name (locked: by id)."""
    query = select(Placement).where(
        _column(member.role) == member.id,
        Placement.organisation_id == member.organisation_id,
        guards.is_open(),
    )
    if lock:
        query = (
            query.order_by(Placement.id)
            .with_for_update(of=Placement)
            .execution_options(populate_existing=True)
        )
    else:
        query = query.order_by(Placement.youth_name, Placement.id)
    return list(await session.scalars(query))


def _never_mind() -> tuple[Any, ...]:
    return (NEVER_MIND.button("never_mind"),)


# --- The checks every press makes ---------------------------------------------------------------


@dataclass
class Checked:
    me: Me
    source: StaffMember
    placements: list[Placement]
    by_coordinator: bool
    target: StaffMember | None = None


async def _source(
    session: AsyncSession, me: Me, source_id: int
) -> tuple[StaffMember, bool] | None:
    """The staff member to hand over from, if this person may: (member, by a coordinator)."""
    member = await session.get(StaffMember, source_id, options=[selectinload(StaffMember.person)])
    if member is None or member.role not in HANDED:
        return None
    if member.organisation_id in guards.organisations(me, Action.HAND_OVER):
        return member, True
    # Her own placements, as the table says who reaches those (a begeleider).
    if member.id in guards.staff_ids(me, roles_for(Action.HAND_OVER, Scope.OWN_PLACEMENTS)):
        return member, False
    return None


async def _check(
    session: AsyncSession,
    caller: Caller,
    source_id: int,
    placement_id: int,
    target_id: int | None,
    *,
    lock: bool = False,
) -> Checked | Outcome:
    me = await guards.who(session, caller, pressed=True)
    if isinstance(me, Outcome):
        return me
    found = await _source(session, me, source_id)
    if found is None:
        return guards.refuse(me.language, STALE)
    source, by_coordinator = found
    out = Outcome(me.language)
    if placement_id == ALL:
        placements = await _open_of(session, source, lock=lock)
        if not placements:
            return out.say("handover/nothing_left", name=source.person.first_name)
    else:
        query = select(Placement).where(Placement.id == placement_id)
        if lock:
            query = query.with_for_update(of=Placement).execution_options(populate_existing=True)
        placement = await session.scalar(query)
        if placement is None or placement.organisation_id != source.organisation_id:
            return guards.refuse(me.language, guards.NOT_YOURS)
        if _holder(placement, source.role) != source.id:
            if by_coordinator:  # within her organisation: she may know it moved on
                return out.say("handover/already", youth=placement.youth_name)
            return guards.refuse(me.language, guards.NOT_YOURS)
        if placement.phase == Phase.AFGESLOTEN:
            return out.add(Say(guards.CLOSED, {"youth": placement.youth_name}, edit=True))
        placements = [placement]
    checked = Checked(me, source, placements, by_coordinator)
    if target_id is None:
        return checked
    query_target = (
        select(StaffMember)
        .where(StaffMember.id == target_id)
        .options(selectinload(StaffMember.person))
    )
    if lock:
        query_target = query_target.with_for_update(of=StaffMember).execution_options(
            populate_existing=True
        )
    target = await session.scalar(query_target)
    if (
        target is None
        or target.organisation_id != source.organisation_id
        or target.role != source.role
    ):
        return guards.refuse(me.language, STALE)
    if target.id == source.id or target.person_id == source.person_id:
        return out.say("handover/same_person")
    if not target.active:
        return out.say("handover/target_inactive", name=target.person.first_name)
    checked.target = target
    return checked


# --- Step 2: what -------------------------------------------------------------------------------


async def choose_what(session: AsyncSession, caller: Caller, source_id: int) -> Outcome:
    """The coordinator chose from whom: all of their placements, or one."""
    checked = await _check(session, caller, source_id, ALL, None)
    if isinstance(checked, Outcome):
        return checked
    say = await _what(session, checked.source, checked.placements, edit=True)
    return Outcome(checked.me.language).add(say)


async def _what(
    session: AsyncSession, source: StaffMember, placements: Sequence[Placement], *, edit: bool
) -> Say:
    rows = (
        [
            (
                HANDOVER_WHAT.button(
                    "handover_all", {"count": len(placements)}, source=source.id, placement=ALL
                ),
            )
        ]
        if len(placements) > 1
        else []
    )
    rows += [
        (
            HANDOVER_WHAT.button(
                "handover_placement",
                {"youth": p.youth_name, "phase": str(p.phase)},
                source=source.id,
                placement=p.id,
            ),
        )
        for p in placements[:SHOWN]
    ]
    context = {
        "name": source.person.first_name,
        "role": str(source.role),
        "count": len(placements),
        "shown": SHOWN,
    }
    return Say("handover/choose_what", context, buttons=(*rows, _never_mind()), edit=edit)


# --- Step 3: to whom ---------------------------------------------------------------------------


async def choose_target(
    session: AsyncSession, caller: Caller, source_id: int, placement_id: int
) -> Outcome:
    """Who gets them: active staff of the same organisation in the same role, not the source."""
    checked = await _check(session, caller, source_id, placement_id, None)
    if isinstance(checked, Outcome):
        return checked
    source = checked.source
    targets = list(
        await session.scalars(
            select(StaffMember)
            .join(Person, Person.id == StaffMember.person_id)
            .where(
                StaffMember.organisation_id == source.organisation_id,
                StaffMember.role == source.role,
                StaffMember.active.is_(True),
                StaffMember.person_id != source.person_id,
            )
            .order_by(Person.first_name, StaffMember.id)
            .options(selectinload(StaffMember.person))
        )
    )
    out = Outcome(checked.me.language)
    context = _what_context(checked)
    if not targets:
        return out.add(Say("handover/no_targets", context, edit=True))
    buttons = tuple(
        (
            HANDOVER_TO.button(
                "handover_target",
                {"name": t.person.first_name},
                source=source.id,
                placement=placement_id,
                target=t.id,
            ),
        )
        for t in targets
    )
    return out.add(
        Say("handover/choose_target", context, buttons=(*buttons, _never_mind()), edit=True)
    )


def _what_context(checked: Checked) -> dict[str, Any]:
    return {
        "name": checked.source.person.first_name,
        "role": str(checked.source.role),
        "placements": [{"youth": p.youth_name, "phase": str(p.phase)} for p in checked.placements],
    }


# --- Step 4: confirm ---------------------------------------------------------------------------


async def confirm(
    session: AsyncSession, caller: Caller, source_id: int, placement_id: int, target_id: int
) -> Outcome:
    """Say exactly what will happen, and ask."""
    checked = await _check(session, caller, source_id, placement_id, target_id)
    if isinstance(checked, Outcome):
        return checked
    assert checked.target is not None
    context = {**_what_context(checked), "target": checked.target.person.first_name}
    buttons = (
        (
            HANDOVER_GO.button(
                "handover_go", source=source_id, placement=placement_id, target=target_id
            ),
        ),
        _never_mind(),
    )
    return Outcome(checked.me.language).add(
        Say("handover/confirm", context, buttons=buttons, edit=True)
    )


# --- Step 5: do it -----------------------------------------------------------------------------


@dataclass
class _Told:
    """What one person outside the handover hears: their placements and moved meetings."""

    link: TelegramLink
    family: bool = False
    youths: list[str] = field(default_factory=list)
    meetings: list[dict[str, Any]] = field(default_factory=list)


async def go(
    session: AsyncSession,
    caller: Caller,
    source_id: int,
    placement_id: int,
    target_id: int,
    now: dt.datetime,
) -> Outcome:
    """Hand the placements over, in this one transaction, after checking everything again."""
    checked = await _check(session, caller, source_id, placement_id, target_id, lock=True)
    if isinstance(checked, Outcome):
        return checked
    me, source, target = checked.me, checked.source, checked.target
    assert target is not None
    out = Outcome(me.language)
    old_person, new_person = source.person, target.person
    ids = [p.id for p in checked.placements]
    for placement in checked.placements:
        if source.role == Role.BEGELEIDER:
            placement.begeleider_id = target.id
        else:
            placement.behandelaar_id = target.id
    await session.flush()
    told: dict[int, _Told] = {}
    await _tell_family(session, ids, checked.placements, told)
    await _move_meetings(session, ids, old_person.id, new_person.id, now, told)
    await _forget_old(session, ids, old_person.id)
    # Everyone concerned hears once, whatever the number of placements.
    for person_id, who in sorted(told.items()):
        if person_id in (old_person.id, new_person.id):
            continue
        context = {
            "new": new_person.first_name,
            "old": old_person.first_name,
            "role": str(source.role),
            "youths": who.youths,
            "meetings": [
                {**m, "at": m["at"].astimezone(ZoneInfo(who.link.time_zone))} for m in who.meetings
            ],
        }
        template = "handover/family_notice" if who.family else "handover/meeting_notice"
        out.add(Say(template, context, to=recipient(who.link), kind="handover", ephemeral=True))
    await _tell_new(session, checked, now, out)
    by = None if not checked.by_coordinator else me.person.first_name
    if checked.by_coordinator and old_person.id != me.person.id:
        old_link = await session.scalar(
            select(TelegramLink).where(TelegramLink.person_id == old_person.id)
        )
        if old_link is not None:
            out.add(
                Say(
                    "handover/taken",
                    {
                        "by": by,
                        "new": new_person.first_name,
                        "youths": [p.youth_name for p in checked.placements],
                    },
                    to=recipient(old_link),
                    kind="handover",
                    ephemeral=True,
                )
            )
    rows = access.placement_rows(me.person, "hand_over", ids, now)
    for row in rows:
        row["subject"] = f"placement:{row['placement_id']} staff:{source.id}->staff:{target.id}"
    await access.write(session, rows)
    await access.log_placements(session, new_person, "handover_received", ids, now)
    done = {
        "target": new_person.first_name,
        "name": old_person.first_name,
        "role": str(source.role),
        "placements": [{"youth": p.youth_name, "phase": str(p.phase)} for p in checked.placements],
    }
    return out.add(Say("handover/done", done, edit=True))


async def _tell_family(
    session: AsyncSession,
    ids: list[int],
    placements: Sequence[Placement],
    told: dict[int, _Told],
) -> None:
    youth = {p.id: p.youth_name for p in placements}
    rows = await session.execute(
        select(Participant, TelegramLink)
        .join(TelegramLink, TelegramLink.person_id == Participant.person_id)
        .where(Participant.placement_id.in_(ids))
        .order_by(Participant.placement_id, Participant.id)
    )
    for participant, link in rows:
        who = told.setdefault(participant.person_id, _Told(link))
        who.family = True
        name = youth[participant.placement_id]
        if name not in who.youths:
            who.youths.append(name)


async def _move_meetings(
    session: AsyncSession,
    ids: list[int],
    old_person_id: int,
    new_person_id: int,
    now: dt.datetime,
    told: dict[int, _Told],
) -> None:
    """Planned future meetings of these placements: the old person's seat becomes the new one's."""
    meetings = list(
        await session.scalars(
            select(Meeting)
            .where(
                Meeting.placement_id.in_(ids),
                Meeting.status == MeetingStatus.PLANNED,
                Meeting.starts_at > now,
            )
            .order_by(Meeting.starts_at, Meeting.id)
            .with_for_update(of=Meeting)
        )
    )
    youth: dict[int, str] = {
        placement_id: name
        for placement_id, name in await session.execute(
            select(Placement.id, Placement.youth_name).where(Placement.id.in_(ids))
        )
    }
    for meeting in meetings:
        invitees = list(
            await session.scalars(
                select(MeetingInvitee).where(MeetingInvitee.meeting_id == meeting.id)
            )
        )
        old = next((i for i in invitees if i.person_id == old_person_id), None)
        if old is None:
            continue  # she was not invited: nothing of hers to move
        if any(i.person_id == new_person_id for i in invitees):
            await session.delete(old)  # he was invited already: one seat is enough
        else:
            old.person_id, old.rsvp, old.rsvp_at = new_person_id, None, None
        if meeting.planned_by_person_id == old_person_id:
            meeting.planned_by_person_id = new_person_id
        # Her reminders for it are dropped; the clock plans his under his own key
        # (meeting_reminder:<meeting>:v<version>:<person>:<which>), so nothing goes twice.
        await drop_pending(
            session, kind="meeting_reminder", subject_id=meeting.id, person_id=old_person_id
        )
        others = await session.execute(
            select(MeetingInvitee.person_id, TelegramLink)
            .join(TelegramLink, TelegramLink.person_id == MeetingInvitee.person_id)
            .where(
                MeetingInvitee.meeting_id == meeting.id,
                MeetingInvitee.person_id.not_in((old_person_id, new_person_id)),
            )
        )
        assert meeting.placement_id is not None
        for person_id, link in others:
            who = told.setdefault(person_id, _Told(link))
            who.meetings.append(
                {
                    "type": meeting.type,
                    "at": meeting.starts_at,
                    "youth": youth[meeting.placement_id],
                }
            )
    await session.flush()


async def _forget_old(session: AsyncSession, ids: list[int], old_person_id: int) -> None:
    """The old staff member's queued messages and open conversation about these placements."""
    for placement_id in ids:
        await drop_pending(session, placement_id=placement_id, person_id=old_person_id)
    link = await session.scalar(
        select(TelegramLink).where(TelegramLink.person_id == old_person_id)
    )
    if link is None:
        return
    state = await session.get(ConversationState, link.telegram_user_id)
    if state is None:
        return
    pointed = {state.data.get("placement"), state.data.get("placement_id")}
    meeting_id = state.data.get("meeting")
    if isinstance(meeting_id, int):
        pointed.add(
            await session.scalar(select(Meeting.placement_id).where(Meeting.id == meeting_id))
        )
    if pointed & set(ids):
        await session.execute(
            delete(ConversationState).where(
                ConversationState.telegram_user_id == link.telegram_user_id
            )
        )


async def _tell_new(
    session: AsyncSession, checked: Checked, now: dt.datetime, out: Outcome
) -> None:
    """The new staff member gets each placement's plan and recent weeks, one message each."""
    target = checked.target
    assert target is not None
    link = await session.scalar(
        select(TelegramLink).where(TelegramLink.person_id == target.person_id)
    )
    if link is None:
        return
    ids = {p.id for p in checked.placements}
    digest = await digests.build(session, [target.id], now, link.time_zone)
    by = checked.me.person.first_name if checked.by_coordinator else None
    for section in digest.sections:
        if section.placement_id not in ids:
            continue
        out.add(
            Say(
                "handover/received",
                {
                    **section.context,
                    "plan": await plan_line(session, section.placement_id),
                    "week": digest.header["week"],
                    "week_end": digest.header["week_end"],
                    "old": checked.source.person.first_name,
                    "by": by,
                    "as": str(target.role),
                },
                to=recipient(link),
                kind="handover",
                ephemeral=True,
            )
        )


# --- The erasure of a begeleider who still has open placements ------------------------------


async def tell_coordinators(
    session: AsyncSession, me: Me, placements: Sequence[Placement], now: dt.datetime
) -> bool:
    """Tell the coordinators of her organisations she wants to be erased: once a day, no
    family names. Return whether there is a coordinator to tell."""
    by_org: dict[int, int] = defaultdict(int)
    for placement in placements:
        by_org[placement.organisation_id] += 1
    rows = await session.execute(
        select(StaffMember, TelegramLink)
        .join(TelegramLink, TelegramLink.person_id == StaffMember.person_id)
        .where(
            StaffMember.organisation_id.in_(by_org),
            StaffMember.role == Role.COORDINATOR,
            StaffMember.active.is_(True),
            StaffMember.person_id != me.person.id,
        )
        .order_by(StaffMember.id)
    )
    day = now.date().isoformat()
    anyone = False
    for coordinator, link in rows:
        anyone = True
        say = Say(
            "handover/erase_blocked_notice",
            {"name": me.person.first_name, "count": by_org[coordinator.organisation_id]},
            to=recipient(link),
        )
        await enqueue(
            session,
            key=f"erase_blocked:{me.person.id}:{coordinator.person_id}:{day}",
            person_id=coordinator.person_id,
            kind="erase_blocked",
            say=say,
            due_at=now,
            now=now,
            ephemeral=True,
        )
    return anyone


async def handed_from(session: AsyncSession, staff_ids: Sequence[int]) -> set[int]:
    """The placements these staff members handed over (the access log keeps it): an erasure
    scrubs what names her there too, though the placements are no longer hers."""
    if not staff_ids:
        return set()
    found = await session.scalars(
        select(AccessLog.placement_id).where(
            AccessLog.action == "hand_over",
            AccessLog.placement_id.is_not(None),
            or_(*(AccessLog.subject.like(f"% staff:{sid}->staff:%") for sid in staff_ids)),
        )
    )
    return {placement_id for placement_id in found if placement_id is not None}
