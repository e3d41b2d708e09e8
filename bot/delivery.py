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
)
from telegram.error import BadRequest, Forbidden, TelegramError

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
) -> list[int]:
    """Send what the outcome says; return the chat ids that turned out unreachable."""
    unreachable: list[int] = []
    if outcome.close_pressed and query is not None and query.message is not None:
        try:
            await bot.edit_message_reply_markup(chat_id, query.message.message_id)
        except BadRequest as error:
            log.info("buttons already gone: %s", error)  # e.g. pressed twice
    for say in outcome.messages:
        try:
            await _send(bot, renderer, outcome.language, say, chat_id, query)
        except Forbidden:
            target = say.to.chat_id if say.to else chat_id
            log.info("chat %s is unreachable (blocked or deleted)", target)
            unreachable.append(target)
    for menu in outcome.menus:
        try:
            await set_menu(bot, renderer, menu)
        except TelegramError:
            log.warning("could not set the menu of chat %s", menu.chat_id, exc_info=True)
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
        content = renderer.render(language, say.document.template, say.document.context)
        await bot.send_document(
            chat_id,
            InputFile(content.encode("utf-8"), filename=say.document.filename),
            caption=text,
            reply_markup=markup,
        )
        return
    if say.edit and query is not None and query.message is not None and say.to is None:
        try:
            await bot.edit_message_text(
                text, chat_id=chat_id, message_id=query.message.message_id, reply_markup=markup
            )
            return
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return  # the same press twice: the message already says this
            log.warning("could not edit message, sending a new one: %s", error)
    await bot.send_message(chat_id, text, reply_markup=markup)
