"""What everyone can do with their own account: help, privacy, language, export, pause, erase."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from flows import erasure, guards, handover, meetings, preferences, team
from flows.buttons import LANGUAGE, RESUME, STOP
from flows.checkins import OPEN_TEXT_FLOW, open_text, typed_while_open
from flows.contact import urgent_phone
from flows.people import (
    LANGUAGES,
    Caller,
    Me,
    clear_state,
    get_state,
    language_of,
    load_me,
    tell_begeleiders,
)
from flows.placements import NEW_FLOW, continue_new
from flows.plan import goals as plan_goals
from flows.plan import reflections
from flows.plan import review as plan_review
from flows.replies import Menu, Outcome, Say
from flows.settings import CheckinRules, RouteSettings
from storage.models import (
    AccessLog,
    ConsentDecision,
    ConsentRecord,
    ConversationState,
    Invite,
    Participant,
    Person,
    Placement,
    StaffMember,
)


async def help_for(session: AsyncSession, caller: Caller) -> Outcome:
    """Explain what this person can do here, by their roles."""
    me = await load_me(session, caller.telegram_user_id)
    if me is None:
        return Outcome(caller.telegram_language).say("account/help_unknown")
    phone = await urgent_phone(session, [p.placement_id for p in me.participations])
    return Outcome(me.language).say("account/help", roles=sorted(me.roles), phone=phone)


async def privacy(session: AsyncSession, caller: Caller, settings: RouteSettings) -> Outcome:
    """Show the privacy notice."""
    me = await load_me(session, caller.telegram_user_id)
    language = me.language if me else caller.telegram_language
    return Outcome(language).say(
        "account/privacy",
        retention_days=settings.retention_days,
        keep_days=settings.outbox_keep_days,
    )


async def choose_language(session: AsyncSession, caller: Caller) -> Outcome:
    """Offer the languages."""
    me = await guards.who(session, caller)
    if isinstance(me, Outcome):
        return me
    buttons = tuple((LANGUAGE.button(f"language_{lang}", language=lang),) for lang in LANGUAGES)
    return Outcome(me.language).add(Say("account/choose_language", buttons=buttons))


async def set_language(session: AsyncSession, caller: Caller, language: str) -> Outcome:
    """Store the chosen language and answer in it."""
    me = await guards.who(session, caller, pressed=True)
    if isinstance(me, Outcome):
        return me
    if language not in LANGUAGES:
        return guards.refuse(me.language, guards.EXPIRED)
    me.link.language = language
    out = Outcome(language).add(Say("account/language_set", edit=True))
    out.menus.append(me.menu())
    return out


# --- /stop: pause, resume or erase ------------------------------------------------------------


async def stop_menu(session: AsyncSession, caller: Caller) -> Outcome:
    """Offer to pause (or resume) messages, or to erase everything."""
    me = await load_me(session, caller.telegram_user_id)
    if me is None:
        return Outcome(caller.telegram_language).say("account/stop_unknown")
    first = (
        STOP.button("resume_messages", choice="resume")
        if me.person.paused
        else STOP.button("pause_messages", choice="pause")
    )
    buttons = (
        (first,),
        (STOP.button("erase_data", choice="erase"),),
        (STOP.button("never_mind", choice="no"),),
    )
    return Outcome(me.language).add(
        Say("account/stop_menu", {"paused": me.person.paused}, buttons=buttons)
    )


async def stop_choice(
    session: AsyncSession,
    caller: Caller,
    choice: str,
    now: dt.datetime,
    settings: RouteSettings,
) -> Outcome:
    """Carry out a choice from the /stop menu."""
    me = await guards.who(session, caller, pressed=True)
    if isinstance(me, Outcome):
        return me
    out = Outcome(me.language)
    if choice == "no":
        return out.add(Say("account/stop_cancelled", edit=True))
    if choice == "pause":
        changed = not me.person.paused or me.person.paused_until is not None
        me.person.paused, me.person.paused_until = True, None
        # Coming back is one tap: the confirmation carries the button.
        out.add(Say("account/paused", edit=True, buttons=((RESUME_BUTTON,),)))
        if changed:  # a second press must not tell the begeleider twice
            await tell_begeleiders(session, me, "account/paused_notice", out, until=None)
        return out
    if choice == "resume":
        return await _resume(session, me, out, now)
    if choice == "erase":
        blocking = await _placements_led(session, me)
        if blocking:
            # She cannot go before her families have someone else; her coordinator hears it
            # (once a day, without the families' names) and can hand them over with /overdragen.
            told = await handover.tell_coordinators(session, me, blocking, now)
            out.kick_outbox = told
            context = {"count": len(blocking), "told": told}
            return out.add(Say("account/erase_blocked", context, edit=True))
        buttons = (
            (STOP.button("erase_confirm", choice="erase!"),),
            (STOP.button("never_mind", choice="no"),),
        )
        return out.add(Say("account/erase_confirm", buttons=buttons, edit=True))
    if choice == "erase!":
        if await _placements_led(session, me):
            return guards.refuse(me.language, guards.EXPIRED)
        # Told by role, not by name: the erased name is not stored again (name=None), and the
        # rest of the notice is blanked as soon as it is delivered (ephemeral).
        await tell_begeleiders(
            session, me, "account/erased_notice", out, ephemeral=True, name=None
        )
        await erase(session, me, now, settings)
        out.add(Say("account/erased", edit=True))
        out.menus.append(Menu(me.link.chat_id, me.language, frozenset()))
        return out
    return guards.refuse(me.language, guards.EXPIRED)


RESUME_BUTTON = RESUME.button("resume_messages")


async def resume(session: AsyncSession, caller: Caller, now: dt.datetime) -> Outcome:
    """The resume button: messages on again (a second press changes nothing and tells no one)."""
    me = await guards.who(session, caller, pressed=True)
    if isinstance(me, Outcome):
        return me
    return await _resume(session, me, Outcome(me.language), now)


async def _resume(session: AsyncSession, me: Me, out: Outcome, now: dt.datetime) -> Outcome:
    changed = me.person.paused
    me.person.paused, me.person.paused_until = False, None
    out.add(Say("account/resumed", edit=True))
    if changed:  # a second press must not tell the begeleider twice
        await tell_begeleiders(session, me, "account/resumed_notice", out)
        # Reflections of an evaluatiefase that began during the pause (asked once, ever).
        for say in await reflections.ask_on_resume(session, me, now):
            out.add(say)
    return out


async def _placements_led(session: AsyncSession, me: Me) -> list[Placement]:
    return await guards.open_placements_of(session, me, guards.BEGELEIDER)


async def erase(session: AsyncSession, me: Me, now: dt.datetime, settings: RouteSettings) -> None:
    """Delete the person and everything that names them; keep only anonymous records."""
    person_id = me.person.id
    # Every staff row, also the ones a coordinator deactivated (`me.staff` holds only the
    # active ones): closed placements may still point at any of them.
    staff_ids = list(
        await session.scalars(select(StaffMember.id).where(StaffMember.person_id == person_id))
    )
    # Messages to others, drafts and places that name or quote them (flows/erasure.py).
    placement_ids = await erasure.placements_of(session, person_id)
    # Placements she handed over (/overdragen) still hold messages and notes that name her.
    placement_ids |= await handover.handed_from(session, staff_ids)
    traces = erasure.Traces(words={me.person.first_name})
    await erasure.typed_by(session, [person_id], traces)
    others = await erasure.people_of(session, placement_ids) - {person_id}
    # The coordinators of her organisations: their overview names begeleiders, also one
    # without placements.
    others |= await erasure.coordinators_of(session, staff_ids) - {person_id}
    await erasure.scrub(session, traces, people=others, placement_ids=placement_ids, now=now)
    if staff_ids:
        await session.execute(
            update(Placement)
            .where(Placement.behandelaar_id.in_(staff_ids))
            .values(behandelaar_id=None)
        )
        # Only closed placements are left (open ones block the erasure): they stay, without
        # her, until retention erases them.
        await session.execute(
            update(Placement)
            .where(Placement.begeleider_id.in_(staff_ids))
            .values(begeleider_id=None)
        )
    await session.execute(delete(Participant).where(Participant.person_id == person_id))
    await session.execute(delete(StaffMember).where(StaffMember.person_id == person_id))
    await session.execute(
        update(ConsentRecord).where(ConsentRecord.person_id == person_id).values(person_id=None)
    )
    await session.execute(
        update(AccessLog)
        .where(AccessLog.actor_person_id == person_id)
        .values(actor_person_id=None, actor_label="erased person")
    )
    await session.execute(
        update(Invite)
        .where(Invite.created_by_person_id == person_id)
        .values(created_by_person_id=None)
    )
    await session.execute(
        update(Invite)
        .where(Invite.used_by_person_id == person_id)
        .values(used_by_person_id=None, invitee_name=None)
    )
    await session.execute(
        delete(ConversationState).where(
            ConversationState.telegram_user_id == me.link.telegram_user_id
        )
    )
    session.add(
        ConsentRecord(
            person_id=None,
            invite_id=None,
            decision=ConsentDecision.WITHDRAWN,
            notice_version=settings.notice_version,
            decided_at=now,
        )
    )
    person = await session.get(Person, person_id, options=[selectinload(Person.telegram)])
    if person is not None:
        await session.delete(person)
    await session.flush()


# --- Text and other messages that are not commands ---------------------------------------------


async def text(
    session: AsyncSession,
    caller: Caller,
    message: str,
    now: dt.datetime,
    settings: RouteSettings,
    bot_username: str,
    rules: CheckinRules,
) -> Outcome:
    """Route typed text to the open question, or explain kindly that nothing is asked."""
    me = await load_me(session, caller.telegram_user_id)
    state = await get_state(session, caller.telegram_user_id)
    if me is None:
        if state is not None and state.flow == "consent":
            return Outcome(caller.telegram_language).say("onboarding/use_the_buttons")
        return Outcome(caller.telegram_language).say("onboarding/start_without_invite")
    if state is None:
        waiting = await typed_while_open(session, me, now)
        return waiting or Outcome(me.language).say("common/nothing_asked")
    if state.flow == NEW_FLOW:
        return await continue_new(
            session, me, state.step, dict(state.data), message, now, settings, bot_username
        )
    if state.flow == "consent":
        return Outcome(me.language).say("onboarding/use_the_buttons")
    if state.flow == preferences.FLOW:
        return await preferences.typed(session, me, state.step, message, now, rules)
    if state.flow == meetings.FLOW:
        data = {**state.data, "step": state.step}
        return await meetings.typed(session, me, state.step, data, message, now)
    if state.flow == plan_review.FLOW:
        data = {**state.data, "step": state.step}
        return await plan_review.typed(session, me, state.step, data, message, now)
    if state.flow == plan_goals.FLOW:
        return await plan_goals.typed(session, me, state.step, dict(state.data), message, now)
    if state.flow == plan_goals.WORD_FLOW:
        return await plan_goals.typed_word(session, me, dict(state.data), message, now)
    if state.flow == reflections.FLOW:
        return await reflections.typed(session, me, dict(state.data), message, now)
    if state.flow == team.FLOW:
        data = dict(state.data)
        return await team.typed(session, me, data, message, now, settings, bot_username)
    if state.flow == OPEN_TEXT_FLOW:
        return await open_text(session, me, int(state.data["checkin_id"]), message, now)
    await clear_state(session, caller.telegram_user_id)
    return Outcome(me.language).say("common/nothing_asked")


async def not_text(session: AsyncSession, caller: Caller) -> Outcome:
    """Answer a photo, sticker or voice note: we only read text and buttons."""
    me = await load_me(session, caller.telegram_user_id)
    language = me.language if me else caller.telegram_language
    state = await get_state(session, caller.telegram_user_id)
    return Outcome(language).say("common/only_text", asked=state is not None)


async def cancel(session: AsyncSession, caller: Caller, *, edit: bool = False) -> Outcome:
    """Stop the question that is open, storing nothing of it."""
    me = await load_me(session, caller.telegram_user_id)
    language = me.language if me else caller.telegram_language
    state = await get_state(session, caller.telegram_user_id)
    await clear_state(session, caller.telegram_user_id)
    return Outcome(language).add(
        Say("common/cancelled", {"had_open": state is not None}, edit=edit)
    )


async def unknown_command(session: AsyncSession, caller: Caller) -> Outcome:
    me = await load_me(session, caller.telegram_user_id)
    return Outcome(me.language if me else caller.telegram_language).say("common/unknown_command")


async def expired_button(session: AsyncSession, caller: Caller) -> Outcome:
    """Answer a button we do not know (old, or not meant for this chat)."""
    me = await load_me(session, caller.telegram_user_id)
    return guards.refuse(language_of(me, caller), guards.EXPIRED)
