"""People in the sandbox: the test client that chats with the bot like a Telegram user."""

# Our timeouts end in descriptive AssertionErrors, which asyncio.timeout cannot give.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.sandbox.api import QueuedUpdate, Upload
from bot.sandbox.models import Chat, ChatMessage

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox

# A valid 1x1 PNG, so photo handlers that inspect the bytes get a real image.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class Person:
    """One person and their private chat with the bot (chat id == user id).

    Actions are async and return the bot messages that appeared or were edited in this
    chat as a consequence, once the bot has settled (see ``Sandbox.deliver_and_settle``).
    """

    def __init__(self, sandbox: Sandbox, chat: Chat) -> None:
        self._sandbox = sandbox
        self._chat = chat
        self._cursor = 0  # highest bot message id already returned to the test

    def __repr__(self) -> str:
        return f"Person({self.user_id}, {self.first_name!r})"

    # --- who ------------------------------------------------------------------------------

    @property
    def user_id(self) -> int:
        """Telegram user id, also the private chat id."""
        return self._chat.user_id

    @property
    def first_name(self) -> str:
        """First name as Telegram shows it."""
        return self._chat.first_name

    @property
    def language_code(self) -> str:
        """The person's Telegram language."""
        return self._chat.language_code

    @property
    def blocked(self) -> bool:
        """Whether the person has blocked the bot."""
        return self._chat.blocked

    # --- what they see ----------------------------------------------------------------------

    @property
    def chat(self) -> list[ChatMessage]:
        """All messages in both directions, deleted ones included (see ``deleted``)."""
        return list(self._chat.messages)

    @property
    def visible(self) -> list[ChatMessage]:
        """The messages still shown in the chat."""
        return [m for m in self._chat.messages if not m.deleted]

    @property
    def bot_messages(self) -> list[ChatMessage]:
        """Visible messages from the bot."""
        return [m for m in self.visible if m.from_bot]

    @property
    def last(self) -> ChatMessage:
        """The last visible bot message; AssertionError if there is none."""
        found = self.bot_messages
        if not found:
            raise AssertionError(f"{self.first_name} has no messages from the bot")
        return found[-1]

    @property
    def alerts(self) -> list[str]:
        """Texts the bot showed via answerCallbackQuery(text=...)."""
        return list(self._chat.alerts)

    @property
    def commands(self) -> list[tuple[str, str]]:
        """The bot's command menu as this person sees it: (command, description)."""
        return self._sandbox.api.commands_for(self._chat)

    def message(self, message_id: int) -> ChatMessage:
        """A message in this chat by id; AssertionError if unknown."""
        msg = self._chat.message(message_id)
        if msg is None:
            raise AssertionError(f"no message {message_id} in {self.first_name}'s chat")
        return msg

    # --- actions ----------------------------------------------------------------------------

    async def send(
        self, text: str, *, expect_reply: bool = True, timeout: float | None = None
    ) -> list[ChatMessage]:
        """Types a message (``/start PAYLOAD`` gets its bot_command entity)."""
        return await self._act(
            lambda: self._sandbox.api.person_message(self._chat, text=text),
            expect_reply,
            timeout,
        )

    async def send_photo(
        self,
        data: bytes = TINY_PNG,
        caption: str | None = None,
        *,
        expect_reply: bool = True,
        timeout: float | None = None,
    ) -> list[ChatMessage]:
        """Sends a photo message."""
        photo = Upload("photo.png", data, "image/png")
        return await self._act(
            lambda: self._sandbox.api.person_message(self._chat, photo=photo, caption=caption),
            expect_reply,
            timeout,
        )

    async def send_document(
        self,
        filename: str,
        data: bytes,
        caption: str | None = None,
        mime_type: str = "application/octet-stream",
        *,
        expect_reply: bool = True,
        timeout: float | None = None,
    ) -> list[ChatMessage]:
        """Sends a file."""
        document = Upload(filename, data, mime_type)
        return await self._act(
            lambda: self._sandbox.api.person_message(
                self._chat, document=document, caption=caption
            ),
            expect_reply,
            timeout,
        )

    async def click(
        self,
        label: str,
        message: ChatMessage | None = None,
        *,
        expect_reply: bool = True,
        timeout: float | None = None,
    ) -> list[ChatMessage]:
        """Presses the inline button with exactly this label.

        Without `message`: on the most recent visible bot message that has such a button.
        """
        candidates = [message] if message is not None else reversed(self.bot_messages)
        for msg in candidates:
            button = msg.find_button(label)
            if button is not None and not msg.deleted:
                break
        else:
            where = f"message {message.message_id}" if message is not None else "any bot message"
            present = [
                f"{m.message_id}: {m.button_labels}" for m in self.bot_messages if m.buttons
            ]
            raise AssertionError(
                f"{self.first_name}: no button {label!r} on {where}. Buttons present: "
                + ("; ".join(present) or "none")
            )
        data = button.get("callback_data")
        if not isinstance(data, str):
            raise AssertionError(f"button {label!r} is not a callback button: {button}")
        return await self._act(
            lambda: self._sandbox.api.person_click(self._chat, msg, data, label),
            expect_reply,
            timeout,
        )

    async def click_data(
        self,
        data: str,
        message_id: int,
        *,
        expect_reply: bool = True,
        timeout: float | None = None,
    ) -> list[ChatMessage]:
        """Presses raw callback data on a message, e.g. to forge or replay an old button."""
        msg = self.message(message_id)
        if msg.deleted:
            raise AssertionError(f"message {message_id} was deleted; nothing to click")
        return await self._act(
            lambda: self._sandbox.api.person_click(self._chat, msg, data, f"data={data!r}"),
            expect_reply,
            timeout,
        )

    def block(self) -> None:
        """Blocks the bot: later sends to this chat get 403, the bot gets my_chat_member."""
        if self._sandbox.api.set_blocked(self._chat, True):
            self._sandbox.notify()

    def unblock(self) -> None:
        """Unblocks the bot again."""
        if self._sandbox.api.set_blocked(self._chat, False):
            self._sandbox.notify()

    async def wait_for_message(
        self,
        predicate: Callable[[ChatMessage], bool] | None = None,
        timeout: float = 10.0,
    ) -> ChatMessage:
        """The next bot message not yet returned by an action that matches `predicate`.

        For proactive messages (reminders); skipped non-matching messages count as seen.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        found: list[ChatMessage] = []

        def arrived() -> bool:
            for msg in self.bot_messages:
                if msg.message_id > self._cursor:
                    self._cursor = msg.message_id
                    if predicate is None or predicate(msg):
                        found.append(msg)
                        return True
            return False

        if not await self._sandbox.wait_for(arrived, deadline):
            raise AssertionError(
                f"{self.first_name}: no matching bot message within {timeout}s; last: "
                + (repr(self.bot_messages[-1].text) if self.bot_messages else "none")
            )
        return found[0]

    async def _act(
        self,
        make_update: Callable[[], QueuedUpdate],
        expect_reply: bool,
        timeout: float | None,
    ) -> list[ChatMessage]:
        calls_before = len(self._sandbox.calls)
        start = self._sandbox.api.seq
        update = make_update()
        await self._sandbox.deliver_and_settle(
            update,
            self.first_name,
            expect_reply=expect_reply,
            timeout=timeout,
            calls_before=calls_before,
        )
        changed = [m for m in self.bot_messages if m.seq > start]
        self._cursor = max([self._cursor, *(m.message_id for m in self.bot_messages)])
        return sorted(changed, key=lambda m: m.message_id)

    # --- transcript -------------------------------------------------------------------------

    def transcript(self, label: str | None = None) -> str:
        """This chat as readable text: messages, buttons, files, clicks and alerts."""
        lines = [f"── {label or self.first_name} ──"]
        entries: list[tuple[int, bool, list[str]]] = []
        for msg in self.visible:
            body = (msg.text or "").splitlines() or [""]
            attachment = None
            if msg.document is not None:
                attachment = f"[document: {msg.document.filename or 'bestand'}]"
            elif msg.photo is not None:
                attachment = "[foto]"
            if attachment:
                body = [attachment, *body] if msg.text else [attachment]
            if msg.edited:
                body[-1] += " (bewerkt)"
            if msg.buttons:
                body += [" ".join(f"[{label}]" for label, _ in row) for row in msg.buttons]
            entries.append((msg.created_seq, msg.from_bot, body))
        for event in self._chat.events:
            entries.append((event.seq, event.from_bot, [event.text]))
        for _, from_bot, body in sorted(entries, key=lambda e: e[0]):
            name = "Bot" if from_bot else self.first_name
            lines.append(f"{name}: {body[0]}")
            lines.extend(" " * (len(name) + 2) + line for line in body[1:])
        return "\n".join(lines)
