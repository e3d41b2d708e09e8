"""Plain data the sandbox keeps: chats, messages, files, the call log and statistics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


class ApiError(Exception):
    """A Bot API error answer: HTTP status == error_code, like Telegram."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> JsonDict:
        """The response body Telegram would send."""
        body: JsonDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> ApiError:
    """A 400 with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {reason}")


@dataclass(eq=False)
class FileInfo:
    """A file known to the sandbox: uploaded by the bot or sent by a person."""

    file_id: str
    file_unique_id: str
    kind: str  # "document" or "photo"
    data: bytes
    filename: str | None = None
    mime_type: str | None = None

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)

    def to_api(self) -> JsonDict:
        """The Document dict, or for photos the list-of-PhotoSize element."""
        base: JsonDict = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.kind == "photo":
            # The sandbox does not decode images; a fixed size keeps PhotoSize valid.
            return {**base, "width": 800, "height": 600}
        if self.filename is not None:
            base["file_name"] = self.filename
        if self.mime_type is not None:
            base["mime_type"] = self.mime_type
        return base


@dataclass(frozen=True)
class MessageVersion:
    """A message as it was shown from one moment on: when it was sent, then after each edit."""

    seq: int
    date: int
    text: str
    reply_markup: JsonDict | None

    @property
    def buttons(self) -> list[list[str]]:
        """Inline button labels, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[button.get("text", "") for button in row] for row in rows]


@dataclass(eq=False)
class ChatMessage:
    """One message in a private chat as the person sees it (both directions)."""

    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    sender: JsonDict
    chat: JsonDict
    seq: int  # sandbox-wide change counter: bumped on create/edit/delete
    created_seq: int  # seq at creation, keeps the chat order for transcripts
    text: str = ""  # plain text (or caption) after entity parsing
    html: str = ""  # the raw text as sent, e.g. the HTML source
    entities: list[JsonDict] = field(default_factory=list)
    reply_markup: JsonDict | None = None
    document: FileInfo | None = None
    photo: FileInfo | None = None
    caption: str | None = None
    reply_to_message_id: int | None = None
    edited: bool = False
    edit_date: int | None = None
    deleted: bool = False
    # Every state the person saw, oldest first (the last is the current one); for transcripts.
    versions: list[MessageVersion] = field(default_factory=list)

    def remember_version(self) -> None:
        """Record the current text and keyboard as a version (on creation and after an edit)."""
        date = self.edit_date if self.edit_date is not None else self.date
        self.versions.append(MessageVersion(self.seq, date, self.text, self.reply_markup))

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard rows as (label, callback_data or url)."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [
            [(b.get("text", ""), b.get("callback_data", b.get("url"))) for b in row]
            for row in rows
        ]

    @property
    def button_labels(self) -> list[str]:
        """All inline button labels, row by row."""
        return [label for row in self.buttons for label, _ in row]

    def find_button(self, label: str) -> JsonDict | None:
        """The raw inline button with exactly this label, if any."""
        for row in (self.reply_markup or {}).get("inline_keyboard", []):
            for button in row:
                if button.get("text") == label:
                    return dict(button)
        return None

    def to_api(self) -> JsonDict:
        """The Telegram Message object."""
        msg: JsonDict = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": self.date,
        }
        if self.document is not None:
            msg["document"] = self.document.to_api()
        if self.photo is not None:
            msg["photo"] = [self.photo.to_api()]
        if self.document is not None or self.photo is not None:
            if self.caption:
                msg["caption"] = self.caption
                if self.entities:
                    msg["caption_entities"] = self.entities
        else:
            msg["text"] = self.text
            if self.entities:
                msg["entities"] = self.entities
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            msg["reply_markup"] = self.reply_markup
        if self.edit_date is not None:
            msg["edit_date"] = self.edit_date
        if self.reply_to_message_id is not None:
            msg["reply_to_message"] = {
                "message_id": self.reply_to_message_id,
                "chat": self.chat,
                "date": self.date,
            }
        return msg


@dataclass(eq=False)
class ChatEvent:
    """Something in a chat that is not a message, kept for the transcript (clicks, alerts)."""

    seq: int
    from_bot: bool
    text: str
    date: int = 0  # the sandbox clock's time (seconds since the epoch)
    kind: str = "note"  # "click", "alert" or "note" (blocked, unblocked)
    message_id: int | None = None  # the message a click was made on, or an alert answered
    label: str = ""  # a click's button label, an alert's text


@dataclass(eq=False)
class Chat:
    """A person and their private chat with the bot (chat id == user id)."""

    user_id: int
    first_name: str
    language_code: str = "nl"
    username: str | None = None
    started: bool = False
    blocked: bool = False
    messages: list[ChatMessage] = field(default_factory=list)
    events: list[ChatEvent] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    next_message_id: int = 1

    def user_api(self) -> JsonDict:
        """The person's Telegram User object."""
        user: JsonDict = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat_api(self) -> JsonDict:
        """The private Chat object."""
        chat: JsonDict = {"id": self.user_id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat

    def message(self, message_id: int) -> ChatMessage | None:
        """The message with this id, deleted or not."""
        for msg in self.messages:
            if msg.message_id == message_id:
                return msg
        return None


@dataclass(frozen=True)
class ApiCall:
    """One Bot API request as the sandbox answered it."""

    method: str  # canonical spelling, e.g. "sendMessage"
    params: JsonDict  # decoded parameters; uploads appear as "<file name (N bytes)>"
    ok: bool
    time: float  # time.time() when answered
    error_code: int | None = None
    description: str | None = None
    fault: str | None = None  # the injected fault that produced this answer, if any
    result: Any = None

    @property
    def chat_id(self) -> int | None:
        """The chat_id parameter as an int, when there is one."""
        try:
            return int(self.params["chat_id"])
        except (KeyError, TypeError, ValueError):
            return None


@dataclass
class Stats:
    """Counters for tests and the demo."""

    calls: Counter[str] = field(default_factory=Counter)  # per canonical method name
    errors: int = 0
    too_many_requests: int = 0  # 429s from the flood limits (not injected ones)
    faults: Counter[str] = field(default_factory=Counter)  # injected, per fault kind
    updates_queued: int = 0
    updates_delivered: int = 0
    webhook_failures: int = 0

    def to_json(self) -> JsonDict:
        """Plain dicts (dataclasses.asdict mangles Counters)."""
        return {
            "calls": dict(self.calls),
            "errors": self.errors,
            "too_many_requests": self.too_many_requests,
            "faults": dict(self.faults),
            "updates_queued": self.updates_queued,
            "updates_delivered": self.updates_delivered,
            "webhook_failures": self.webhook_failures,
        }
