"""Turn a flow's Outcome into Telegram calls: render, send or edit, set menus."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
)
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.journal import Progress
from bot.render import Renderer
from flows.menus import EVERYONE, commands_for
from flows.replies import Button, Menu, Outcome, Say

log = logging.getLogger(__name__)


def keyboard(
    renderer: Renderer, language: str, rows: Sequence[Sequence[Button]]
) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    renderer.button_label(language, button),
                    callback_data=button.data,
                    url=button.url,
                )
                for button in row
            ]
            for row in rows
        ]
    )


def command_list(renderer: Renderer, language: str, names: Sequence[str]) -> list[BotCommand]:
    return [BotCommand(name, renderer.label(language, f"cmd_{name}")) for name in names]


async def set_default_menus(bot: Bot, renderer: Renderer) -> None:
    """Everyone's menu, in Dutch by default and in English for English-language apps."""
    await bot.set_my_commands(command_list(renderer, "nl", EVERYONE))
    await bot.set_my_commands(command_list(renderer, "en", EVERYONE), language_code="en")


async def set_menu(bot: Bot, renderer: Renderer, menu: Menu) -> None:
    """This chat's menu, by the person's roles and language; none left after erasure."""
    scope = BotCommandScopeChat(menu.chat_id)
    if not menu.roles:
        await bot.delete_my_commands(scope=scope)
        return
    await bot.set_my_commands(
        command_list(renderer, menu.language, commands_for(menu.roles)), scope=scope
    )


class Unreachable(Exception):
    """The person blocked the bot or deleted their account."""

    def __init__(self, chat_id: int) -> None:
        super().__init__(chat_id)
        self.chat_id = chat_id


async def deliver(
    bot: Bot,
    renderer: Renderer,
    outcome: Outcome,
    chat_id: int,
    query: CallbackQuery | None = None,
    progress: Progress | None = None,
) -> list[int]:
    """Send what the outcome says; return the chat ids that turned out unreachable.

    With `progress` (webhook mode: the replies are kept with the update's record) the messages
    that an earlier delivery already sent are skipped, and each one sent is counted off.
    """
    unreachable: list[int] = []
    pressed = _pressed(query)
    if outcome.close_pressed and pressed is not None and pressed.reply_markup is not None:
        try:
            await bot.edit_message_reply_markup(chat_id, pressed.message_id)
        except BadRequest as error:
            if not _not_modified(error):
                log.info("could not take the buttons off: %s", error)  # e.g. over 48 hours old
    skip = progress.done if progress is not None else 0
    for index, say in enumerate(outcome.messages):
        if index < skip:
            continue
        try:
            await _send(bot, renderer, outcome.language, say, chat_id, query)
        except Forbidden:
            target = say.to.chat_id if say.to else chat_id
            log.info("chat %s is unreachable (blocked or deleted)", target)
            unreachable.append(target)
        # Counted off unless it is the last (cleared below) or an edit (the redelivery may edit
        # the pressed message again: Telegram then says it is not modified, and nobody sees it).
        last = index + 1 == len(outcome.messages)
        edits = say.edit and pressed is not None and say.to is None and say.document is None
        if progress is not None and not last and not edits:
            await progress.sent(index + 1, last=False)
    for menu in outcome.menus:
        try:
            await set_menu(bot, renderer, menu)
        except TelegramError:
            log.warning("could not set the menu of chat %s", menu.chat_id, exc_info=True)
    if progress is not None:
        await progress.sent(len(outcome.messages), last=True)
    return unreachable


async def _send(
    bot: Bot,
    renderer: Renderer,
    language: str,
    say: Say,
    chat_id: int,
    query: CallbackQuery | None,
) -> None:
    if say.to is not None:
        language, chat_id = say.to.language, say.to.chat_id
    text = renderer.render(language, say.template, say.context)
    markup = keyboard(renderer, language, say.buttons)
    if say.document is not None:
        content = say.document.data
        if content is None:
            text_content = renderer.render(language, say.document.template, say.document.context)
            content = text_content.encode("utf-8")
        await bot.send_document(
            chat_id,
            InputFile(content, filename=say.document.filename),
            caption=text,
            reply_markup=markup,
        )
        return
    pressed = _pressed(query)
    if say.edit and pressed is not None and say.to is None:
        if _shows(pressed, text, markup):
            return  # the same press twice: the message already says this
        try:
            await bot.edit_message_text(
                text, chat_id=chat_id, message_id=pressed.message_id, reply_markup=markup
            )
            return
        except BadRequest as error:
            if _not_modified(error):
                return  # pressed twice before the first edit reached the chat
            log.warning("could not edit message, sending a new one: %s", error)
    await bot.send_message(chat_id, text, reply_markup=markup)


def _pressed(query: CallbackQuery | None) -> Message | None:
    """The message whose button was pressed, when Telegram still lets us see it."""
    if query is None or not isinstance(query.message, Message):
        return None
    return query.message


def _shows(message: Message, html: str, markup: InlineKeyboardMarkup | None) -> bool:
    """Whether the message already shows this text and keyboard (an edit would be refused)."""
    if message.text is None:
        return False
    keyboard = message.reply_markup
    shown = keyboard if keyboard is not None and keyboard.inline_keyboard else None
    return _same_html(message.text_html, html) and shown == markup


# Quotes are escaped differently by Jinja2 and by PTB's text_html, and mean the same in text.
_QUOTE_ENTITIES = (("&quot;", '"'), ("&#34;", '"'), ("&#x27;", "'"), ("&#39;", "'"))


def _same_html(shown: str, html: str) -> bool:
    """Compare Telegram's HTML of a message with ours, up to quote escaping and outer space."""
    for entity, quote in _QUOTE_ENTITIES:
        shown, html = shown.replace(entity, quote), html.replace(entity, quote)
    return shown.strip() == html.strip()


def _not_modified(error: BadRequest) -> bool:
    """Telegram refuses an edit that changes nothing with exactly this error."""
    return error.message.lower().startswith("message is not modified")
