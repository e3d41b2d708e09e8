"""Telegram handlers: turn an update into a flow call, then deliver what the flow says."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import CallbackQuery, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import journal
from bot import org_overview as org_overview_view
from bot.clock import Clock
from bot.delivery import deliver, keyboard
from bot.digest import chart_png, chart_sections, render_messages
from bot.render import Renderer
from bot.turns import take_turn
from flows import (
    account,
    buttons,
    checkins,
    contact,
    digest_details,
    export,
    handover,
    measurement,
    meetings,
    onboarding,
    phases,
    pilot_export,
    placements,
    preferences,
    research,
    team,
)
from flows import org_overview as org_overviews
from flows import overview as overviews
from flows.outbox import enqueue_notice
from flows.people import Caller, unreachable_notices
from flows.plan import ending, reflections
from flows.plan import estimate as plan_estimate
from flows.plan import goals as plan_goals
from flows.plan import review as plan_review
from flows.replies import Outcome
from flows.settings import CheckinRules, MeetingRules, RouteSettings
from storage.db import Database

if TYPE_CHECKING:
    from bot.outbox import Deliverer

log = logging.getLogger(__name__)

Step = Callable[[AsyncSession, Caller, dt.datetime], Awaitable[Outcome]]


@dataclass
class Services:
    """What handlers need, kept in `application.bot_data` (no per-person state in memory)."""

    db: Database
    renderer: Renderer
    clock: Clock
    route: RouteSettings
    checkin_rules: CheckinRules = field(default_factory=CheckinRules)
    meeting_rules: MeetingRules = field(default_factory=MeetingRules)
    bot_username: str = "samenopvoeden_bot"
    deliverer: Deliverer | None = None
    # Webhook instances on PostgreSQL: each update first takes its person's turn (bot/turns.py).
    person_turns: bool = False


def services_of(context: ContextTypes.DEFAULT_TYPE) -> Services:
    services: Services = context.application.bot_data["services"]
    return services


def caller_of(update: Update) -> Caller | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != "private":
        return None
    return Caller(
        telegram_user_id=user.id,
        chat_id=chat.id,
        first_name=user.first_name,
        language_code=user.language_code,
    )


async def run_step(update: Update, context: ContextTypes.DEFAULT_TYPE, step: Step) -> None:
    """Run one flow step in one transaction, then send what it produced."""
    caller = caller_of(update)
    if caller is None:
        return  # groups and channels are not served
    services = services_of(context)
    now = services.clock.now()
    async with services.db.session() as session:
        if services.person_turns and not await take_turn(
            session, caller.telegram_user_id, update.update_id, pressed_message(update), now
        ):
            return  # a press that came in late: a newer one on that message was handled
        outcome = await step(session, caller, now)
        # Messages to other people go through the outbox, in the same transaction.
        notices = [say for say in outcome.messages if say.to is not None]
        for say in notices:
            await enqueue_notice(session, say, now, kind=say.kind)
        outcome.messages = [say for say in outcome.messages if say.to is None]
        # Webhook mode: the replies are kept with the update's record until sent (a crash
        # before they are is made good by the redelivery; bot/journal.py).
        progress = await journal.keep(session, outcome)
    journal.committed()
    try:
        unreachable = await deliver(
            context.bot,
            services.renderer,
            outcome,
            caller.chat_id,
            update.callback_query,
            progress.bind(services.db) if progress is not None else None,
        )
    except Exception:
        if progress is not None:
            await progress.release()  # the redelivery sends what is left
        raise
    if unreachable:
        async with services.db.session() as session:
            for chat_id in unreachable:
                await unreachable_notices(session, chat_id, now)
    if (notices or outcome.kick_outbox) and services.deliverer is not None:
        await services.deliverer.run_until_idle()


def pressed_message(update: Update) -> int | None:
    """The message whose button this update pressed, or None."""
    query = update.callback_query
    if query is None or query.message is None:
        return None
    return query.message.message_id


# --- Commands ------------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet, or open the invite behind a deep link."""
    payload = context.args[0] if context.args else None
    route = services_of(context).route
    await run_step(update, context, lambda s, c, now: onboarding.start(s, c, payload, now, route))


async def new_placement(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start creating a placement (begeleider)."""
    await run_step(update, context, placements.begin_new)


async def list_placements(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the staff member's placements."""
    await run_step(update, context, placements.list_mine)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain what this person can do."""
    await run_step(update, context, lambda s, c, now: account.help_for(s, c))


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the privacy notice."""
    route = services_of(context).route
    await run_step(update, context, lambda s, c, now: account.privacy(s, c, route))


async def my_data(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the person's data export."""
    route = services_of(context).route
    await run_step(update, context, lambda s, c, now: export.export(s, c, now, route))


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer the languages."""
    await run_step(update, context, lambda s, c, now: account.choose_language(s, c))


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer pause or erasure."""
    await run_step(update, context, lambda s, c, now: account.stop_menu(s, c))


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Drop the open question."""
    await run_step(update, context, lambda s, c, now: account.cancel(s, c))


async def contact_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask for contact with the begeleider."""
    await run_step(update, context, contact.contact)


async def phase(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Choose a placement to move to its next phase (begeleider)."""
    await run_step(update, context, phases.choose)


async def measure(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Choose a placement to send the collaboration questionnaire for (staff)."""
    await run_step(update, context, measurement.choose)


async def plan_review_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Record a plan review by hand, when the prompt after the talk was missed (begeleider)."""
    await run_step(update, context, plan_review.choose)


async def plan_meeting(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Plan a meeting step by step (staff)."""
    await run_step(update, context, meetings.begin)


async def list_meetings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List upcoming meetings; planners can move or cancel them."""
    await run_step(update, context, meetings.upcoming)


async def overview(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the digest of the staff member's placements now (or of one, by name)."""
    caller = caller_of(update)
    if caller is None:
        return
    services = services_of(context)
    name = " ".join(context.args or []).strip() or None
    async with services.db.session() as session:
        result = await overviews.overview(
            session,
            caller.telegram_user_id,
            caller.telegram_language,
            services.clock.now(),
            only_youth=name,
            signals=services.route.signals,
            meetings=services.meeting_rules,
        )
    renderer, language = services.renderer, result.language
    if result.digest is None:
        text = renderer.render(language, result.refusal or "common/error", {"youth": name})
        await context.bot.send_message(caller.chat_id, text)
        return
    for text, rows in render_messages(
        renderer, language, result.digest, brief=result.brief, last_rounds=result.last_rounds
    ):
        markup = keyboard(renderer, language, rows)
        await context.bot.send_message(caller.chat_id, text, reply_markup=markup)
    png = None if result.brief else chart_png(renderer, language, result.digest)
    if png is not None:
        _, more = chart_sections(result.digest)
        caption = renderer.render(language, "digest/chart_caption", {"more": more})
        await context.bot.send_photo(caller.chat_id, png, caption=caption)


async def organisation(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the organisation overview now (coordinator): counts, never answers."""
    caller = caller_of(update)
    if caller is None:
        return
    services = services_of(context)
    async with services.db.session() as session:
        result = await org_overviews.on_demand(
            session, caller, services.clock.now(), services.route.signals, services.meeting_rules
        )
    if isinstance(result, Outcome):
        await deliver(context.bot, services.renderer, result, caller.chat_id, None)
        return
    language, found = result
    for overview_ in found:
        rendered = org_overview_view.render(services.renderer, language, overview_)
        for text_, rows in rendered.messages:
            markup = keyboard(services.renderer, language, rows)
            await context.bot.send_message(caller.chat_id, text_, reply_markup=markup)
        if rendered.png is not None:
            caption = services.renderer.render(language, "organisation/chart_caption", {})
            await context.bot.send_photo(caller.chat_id, rendered.png, caption=caption)


async def plan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Open the begeleidingsplan of a placement (staff)."""
    await run_step(update, context, plan_goals.choose)


async def settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show day, time, time zone and pause."""
    await run_step(update, context, preferences.menu)


async def team_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the organisation's staff with their caseloads (coordinator)."""
    await run_step(update, context, team.show)


async def hand_over(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Give placements to another begeleider or behandelaar (coordinator, begeleider)."""
    await run_step(update, context, handover.begin)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say kindly that this command does not exist."""
    await run_step(update, context, lambda s, c, now: account.unknown_command(s, c))


# --- Text, other messages and buttons --------------------------------------------------------


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Hand typed text to the question that is open."""
    assert update.effective_message is not None  # TEXT filter guarantees a message
    typed = update.effective_message.text or ""
    services = services_of(context)
    await run_step(
        update,
        context,
        lambda s, c, now: account.text(
            s, c, typed, now, services.route, services.bot_username, services.checkin_rules
        ),
    )


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer photos, stickers and voice notes kindly."""
    await run_step(update, context, lambda s, c, now: account.not_text(s, c))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Route a button press by its kind; forged, stale or unknown data gets 'expired'."""
    query = update.callback_query
    assert query is not None  # CallbackQueryHandler guarantees it
    services = services_of(context)
    try:
        await run_step(update, context, button_step(query.data or "", services))
    finally:
        # Answered last: Telegram stops the button's spinner, whatever happened above. Not by
        # a delivery that lost the race to another delivery of the same press: the one that
        # handles it answers.
        if not journal.is_duplicate():
            await answer_query(query)


async def answer_query(query: CallbackQuery) -> None:
    """Stop the button's spinner; a query that was answered already is no error to the person.

    Telegram refuses a second answer (and one after about 15 seconds) with "query is too old
    ... or query ID is invalid": a redelivery after a crash can meet either.
    """
    try:
        await query.answer()
    except BadRequest as error:
        if not _query_gone(error):
            raise
        log.info("callback query %s was answered already or is too old: %s", query.id, error)


def _query_gone(error: BadRequest) -> bool:
    message = error.message.lower()
    return "query is too old" in message or "query id is invalid" in message


def button_step(data: str, services: Services) -> Step:
    """Return the flow step for this callback data; the one place that answers 'expired'."""
    press = buttons.parse(data)
    if press is None:
        return lambda s, c, now: account.expired_button(s, c)
    return ROUTES[press.kind](press.values, services)


Route = Callable[[dict[str, Any], Services], Step]

# Which flow step handles each button kind of flows/buttons.py (a test checks none is missing).
# Values arrive typed and range-checked; a step still checks the press is this person's to make.
ROUTES: dict[buttons.Kind, Route] = {
    buttons.CONSENT: lambda v, sv: (
        lambda s, c, now: onboarding.answer_consent(s, c, v["invite"], v["agreed"], now, sv.route)
    ),
    buttons.INVITE_FOR: lambda v, sv: (
        lambda s, c, now: placements.choose_invite_role(s, c, v["placement"])
    ),
    buttons.INVITE_ROLE: lambda v, sv: (
        lambda s, c, now: placements.make_invite(
            s, c, v["placement"], v["role"], now, sv.route, sv.bot_username
        )
    ),
    buttons.STOP: lambda v, sv: (
        lambda s, c, now: account.stop_choice(s, c, v["choice"], now, sv.route)
    ),
    buttons.LANGUAGE: lambda v, sv: lambda s, c, now: account.set_language(s, c, v["language"]),
    buttons.RESUME: lambda v, sv: lambda s, c, now: account.resume(s, c, now),
    buttons.CONTACT: lambda v, sv: lambda s, c, now: contact.request(s, c, v["placement"], now),
    buttons.CHECKIN_ANSWER: lambda v, sv: (
        lambda s, c, now: checkins.press(s, c, v["checkin"], str(v["index"]), v["value"], now)
    ),
    buttons.CHECKIN_SKIP: lambda v, sv: (
        lambda s, c, now: checkins.press(s, c, v["checkin"], "skip", None, now)
    ),
    buttons.CHECKIN_WHY: lambda v, sv: (
        lambda s, c, now: checkins.press(s, c, v["checkin"], "why", v["reason"], now)
    ),
    buttons.CHECKIN_DONE: lambda v, sv: (
        lambda s, c, now: checkins.press(s, c, v["checkin"], "done", None, now)
    ),
    buttons.CHECKIN_GO: lambda v, sv: (
        lambda s, c, now: checkins.press(s, c, v["checkin"], "go", None, now)
    ),
    buttons.SETTING: lambda v, sv: (
        lambda s, c, now: preferences.press(s, c, v["what"], None, now, sv.checkin_rules)
    ),
    buttons.SET_DAY: lambda v, sv: (
        lambda s, c, now: preferences.press(s, c, "d", str(v["day"]), now, sv.checkin_rules)
    ),
    buttons.SET_TIME: lambda v, sv: (
        lambda s, c, now: preferences.press(s, c, "t", v["time"], now, sv.checkin_rules)
    ),
    buttons.SET_DIGEST_DAY: lambda v, sv: (
        lambda s, c, now: preferences.press(s, c, "od", str(v["day"]), now, sv.checkin_rules)
    ),
    buttons.SET_DIGEST_TIME: lambda v, sv: (
        lambda s, c, now: preferences.press(s, c, "ot", v["time"], now, sv.checkin_rules)
    ),
    buttons.SET_ZONE: lambda v, sv: (
        lambda s, c, now: preferences.press(s, c, "z", str(v["zone"]), now, sv.checkin_rules)
    ),
    buttons.SET_PAUSE: lambda v, sv: (
        lambda s, c, now: preferences.press(s, c, "p", str(v["days"]), now, sv.checkin_rules)
    ),
    buttons.NEVER_MIND: lambda v, sv: lambda s, c, now: phases.cancelled(s, c),
    buttons.PHASE_FOR: lambda v, sv: (
        lambda s, c, now: phases.confirm(s, c, v["placement"], sv.route, now)
    ),
    buttons.PHASE_GO: lambda v, sv: (
        lambda s, c, now: phases.move(s, c, v["placement"], v["phase"], now, sv.route)
    ),
    buttons.MEASURE_FOR: lambda v, sv: (
        lambda s, c, now: measurement.confirm(s, c, v["placement"], now)
    ),
    buttons.MEASURE_GO: lambda v, sv: (
        lambda s, c, now: measurement.send(s, c, v["placement"], now)
    ),
    buttons.REVIEW_START: lambda v, sv: (
        lambda s, c, now: plan_review.start(s, c, v["placement"], now)
    ),
    buttons.REVIEW_ACT: lambda v, sv: (
        lambda s, c, now: plan_review.act(s, c, v["review"], v["goal"], v["act"], now)
    ),
    buttons.REVIEW_STEP: lambda v, sv: (
        lambda s, c, now: plan_review.step(s, c, v["review"], v["step"], now)
    ),
    buttons.REVIEW_SIDE: lambda v, sv: (
        lambda s, c, now: plan_review.side(s, c, v["review"], v["side"], now)
    ),
    buttons.REVIEW_NEXT: lambda v, sv: (
        lambda s, c, now: plan_review.next_in(s, c, v["review"], v["months"], now)
    ),
    buttons.MEETING_QUIT: lambda v, sv: lambda s, c, now: account.cancel(s, c, edit=True),
    buttons.MEETING_STEP: lambda v, sv: (
        lambda s, c, now: meetings.press(s, c, [v["step"]], now, sv.meeting_rules)
    ),
    buttons.MEETING_PICK: lambda v, sv: (
        lambda s, c, now: meetings.press(s, c, [v["step"], v["choice"]], now, sv.meeting_rules)
    ),
    buttons.MEETING_MOVE: lambda v, sv: (
        lambda s, c, now: meetings.ask_move(s, c, v["meeting"], now)
    ),
    buttons.MEETING_CANCEL: lambda v, sv: (
        lambda s, c, now: meetings.ask_cancel(s, c, v["meeting"])
    ),
    buttons.MEETING_CANCEL_YES: lambda v, sv: (
        lambda s, c, now: meetings.cancel(s, c, v["meeting"], now)
    ),
    buttons.RSVP: lambda v, sv: (
        lambda s, c, now: meetings.rsvp(s, c, v["meeting"], v["answer"], now)
    ),
    buttons.REFLECT_SKIP: lambda v, sv: (
        lambda s, c, now: reflections.skip(s, c, v["placement"], v["index"], now)
    ),
    buttons.END_BEGIN: lambda v, sv: lambda s, c, now: ending.begin(s, c, v["placement"], now),
    buttons.END_TALK: lambda v, sv: (
        lambda s, c, now: ending.toggle(s, c, v["placement"], v["talks"], v["toggle"])
    ),
    buttons.END_REASONS: lambda v, sv: (
        lambda s, c, now: ending.reasons(s, c, v["placement"], v["talks"])
    ),
    buttons.END_REASON: lambda v, sv: (
        lambda s, c, now: ending.handover(s, c, v["placement"], v["talks"], v["reason"])
    ),
    buttons.END_HANDOVER: lambda v, sv: (
        lambda s, c, now: ending.confirm(
            s, c, v["placement"], v["talks"], v["reason"], v["handover"], sv.route
        )
    ),
    buttons.END_GO: lambda v, sv: (
        lambda s, c, now: ending.close(
            s, c, v["placement"], v["talks"], v["reason"], v["handover"], now, sv.route
        )
    ),
    buttons.DETAILS: lambda v, sv: (
        lambda s, c, now: digest_details.show(
            s, c, v["placement"], now, sv.route.signals, sv.meeting_rules
        )
    ),
    buttons.PLAN_FOR: lambda v, sv: (
        lambda s, c, now: plan_goals.open_plan(s, c, v["placement"], now)
    ),
    buttons.PLAN_ESTIMATE: lambda v, sv: (
        lambda s, c, now: plan_goals.start_estimate(s, c, v["placement"], now)
    ),
    buttons.PLAN_SCORE: lambda v, sv: (
        lambda s, c, now: plan_estimate.score(s, c, v["placement"], v["item"], v["score"], now)
    ),
    buttons.PLAN_NO_NOTE: lambda v, sv: (
        lambda s, c, now: plan_estimate.no_note(s, c, v["placement"], now)
    ),
    buttons.PLAN_ADD: lambda v, sv: lambda s, c, now: plan_goals.add(s, c, v["placement"], now),
    buttons.PLAN_SIDE: lambda v, sv: (
        lambda s, c, now: plan_goals.side(s, c, v["placement"], v["side"], now)
    ),
    buttons.PLAN_SUGGEST: lambda v, sv: (
        lambda s, c, now: plan_goals.suggest(s, c, v["placement"], v["side"], v["code"], now)
    ),
    buttons.PLAN_TYPE: lambda v, sv: (
        lambda s, c, now: plan_goals.ask_typed(s, c, v["placement"], v["side"], now)
    ),
    buttons.PLAN_SEND: lambda v, sv: lambda s, c, now: plan_goals.send(s, c, v["placement"], now),
    buttons.GOAL_ACT: lambda v, sv: (
        lambda s, c, now: plan_goals.act(s, c, v["goal"], v["action"], now)
    ),
    buttons.GOAL_CONFIRM: lambda v, sv: (
        lambda s, c, now: plan_goals.confirm(s, c, v["placement"], v["role"], v["agreed"], now)
    ),
    # The coordinator's team and the research question (h1).
    buttons.TEAM_INVITE: lambda v, sv: lambda s, c, now: team.choose_role(s, c, v["organisation"]),
    buttons.TEAM_ROLE: lambda v, sv: (
        lambda s, c, now: team.ask_name(s, c, v["organisation"], v["role"], now)
    ),
    buttons.TEAM_OFF: lambda v, sv: (
        lambda s, c, now: team.choose_member(s, c, v["organisation"], v["page"])
    ),
    buttons.TEAM_PICK: lambda v, sv: lambda s, c, now: team.confirm_off(s, c, v["staff"]),
    buttons.TEAM_OFF_GO: lambda v, sv: lambda s, c, now: team.deactivate(s, c, v["staff"], now),
    buttons.RESEARCH: lambda v, sv: (
        lambda s, c, now: research.answer(s, c, v["where"], v["agreed"], now, sv.route)
    ),
    # h4: the pilot export for researchers.
    buttons.PILOT_EXPORT: lambda v, sv: (
        lambda s, c, now: pilot_export.press(
            s,
            c,
            v["organisation"],
            now,
            pilot_export.question_wording(
                lambda template, context: sv.renderer.render("nl", template, context)
            ),
        )
    ),
    # /overdragen (flows/handover.py)
    buttons.HANDOVER_FROM: lambda v, sv: lambda s, c, now: handover.choose_what(s, c, v["source"]),
    buttons.HANDOVER_WHAT: lambda v, sv: (
        lambda s, c, now: handover.choose_target(s, c, v["source"], v["placement"])
    ),
    buttons.HANDOVER_TO: lambda v, sv: (
        lambda s, c, now: handover.confirm(s, c, v["source"], v["placement"], v["target"])
    ),
    buttons.HANDOVER_GO: lambda v, sv: (
        lambda s, c, now: handover.go(s, c, v["source"], v["placement"], v["target"], now)
    ),
}


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error and tell the person something went wrong, without details."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    handling = journal.current()
    if handling is not None and handling.replies_left:
        return  # the step is stored and its replies are kept: Telegram's next delivery sends them
    try:
        services = services_of(context)
        caller = caller_of(update)
        language = caller.telegram_language if caller else "nl"
        await context.bot.send_message(
            update.effective_chat.id, services.renderer.render(language, "common/error", {})
        )
    except Exception:  # a failing apology must not hide the first error
        log.exception("could not tell the person about the error")


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Attach every handler: commands first, then text, other messages, buttons."""
    private = filters.ChatType.PRIVATE
    commands = {
        "start": start,
        "nieuw": new_placement,
        "plaatsingen": list_placements,
        "help": help_command,
        "privacy": privacy,
        "mijngegevens": my_data,
        "taal": language,
        "stop": stop,
        "annuleer": cancel,
        "contact": contact_command,
        "instellingen": settings,
        "fase": phase,
        "meting": measure,
        "planbespreking": plan_review_command,
        "afspraak": plan_meeting,
        "afspraken": list_meetings,
        "overzicht": overview,
        "plan": plan,
        "organisatie": organisation,
        "team": team_command,
        "overdragen": hand_over,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=private))
    application.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    application.add_handler(MessageHandler(private & filters.TEXT, text))
    application.add_handler(
        MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, not_text)
    )
    application.add_handler(CallbackQueryHandler(button))
    application.add_error_handler(on_error)
