"""The fake Telegram's state and Bot API methods, free of HTTP and asyncio."""

from __future__ import annotations

import itertools
import json
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.sandbox.html import EntityParseError, ParsedText, parse_html, trim, utf16_len
from bot.sandbox.limits import FloodLimiter, FloodLimits
from bot.sandbox.models import (
    ApiError,
    Chat,
    ChatEvent,
    ChatMessage,
    FileInfo,
    JsonDict,
    Stats,
    bad_request,
)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
MAX_BUTTONS = 100
DOCUMENT_LIMIT = 50 * 1024 * 1024
PHOTO_LIMIT = 10 * 1024 * 1024
SET_WEBHOOK_INTERVAL = 1.0  # seconds; Telegram's answer to faster calls is 429
# Update types Telegram leaves out unless they are asked for explicitly.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_URL_RE = re.compile(r"(https?|tg)://\S+")


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    data: bytes
    content_type: str | None = None


class Params:
    """Request parameters from query, form, multipart or JSON, with Telegram's coercions."""

    def __init__(self, values: Mapping[str, Any], uploads: Mapping[str, Upload]) -> None:
        self.values = dict(values)
        self.uploads = dict(uploads)

    def has(self, name: str) -> bool:
        """Whether the parameter was given (and is not null)."""
        return self.values.get(name) is not None or name in self.uploads

    def get_str(self, name: str) -> str | None:
        """A string parameter; non-strings from JSON bodies are rendered as JSON."""
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value)

    def get_int(self, name: str, missing: str | None = None) -> int | None:
        """An integer parameter; `missing` is the Bad Request reason when it is required."""
        value = self.values.get(name)
        if value is None or value == "":
            if missing is not None:
                raise bad_request(missing)
            return None
        if isinstance(value, bool):
            raise bad_request(f"invalid {name} specified")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def get_bool(self, name: str) -> bool:
        """A boolean parameter ("true"/"1" in forms)."""
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in {"true", "1"}
        return bool(value)

    def get_json(self, name: str, error: str) -> Any:
        """A structured parameter: native in JSON bodies, a JSON string in forms."""
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(error) from None

    def file(self, name: str) -> Upload | str | None:
        """An uploaded file, or the string (file_id, URL or attach://) given instead."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.get_str(name)
        if value is not None and value.startswith("attach://"):
            return self.uploads.get(value.removeprefix("attach://"))
        return value

    def loggable(self) -> JsonDict:
        """The parameters for the call log, uploads summarised."""
        logged = dict(self.values)
        for name, upload in self.uploads.items():
            logged[name] = f"<{upload.filename or 'file'} ({len(upload.data)} bytes)>"
        return logged


@dataclass(eq=False)
class QueuedUpdate:
    """An update waiting for (or already given to) the bot."""

    update_id: int
    kind: str  # update type, e.g. "message", "callback_query", "my_chat_member"
    payload: JsonDict
    chat_id: int
    summary: str  # what the person did, for error messages
    callback_query_id: str | None = None
    fetched: bool = False  # handed to getUpdates or accepted by the webhook
    responded: bool = False  # the bot made a related API call after fetching it
    filtered: bool = False  # dropped because allowed_updates excludes its type


@dataclass
class Webhook:
    """The webhook as set by setWebhook."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class _CallbackQuery:
    chat_id: int
    message_id: int | None = None
    answered: bool = False


class BotApi:
    """Everything Telegram would know about one bot: its chats, files, commands and updates."""

    def __init__(
        self,
        token: str,
        bot_username: str,
        bot_first_name: str,
        flood_limits: FloodLimits | None,
        stats: Stats,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.clock = clock  # message dates; the demo gives its fake clock
        bot_id = token.split(":", 1)[0]
        self.bot_user: JsonDict = {
            "id": int(bot_id) if bot_id.isdigit() else 1,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.flood = FloodLimiter(flood_limits) if flood_limits else None
        self.stats = stats
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, FileInfo] = {}
        self.commands: dict[tuple[str, str], list[JsonDict]] = {}
        self.updates: list[QueuedUpdate] = []
        self.webhook: Webhook | None = None
        # Telegram answers a setWebhook that follows another within a second with 429.
        self.set_webhook_interval = SET_WEBHOOK_INTERVAL
        self._last_set_webhook: float | None = None
        self.allowed_updates: list[str] = []
        self.seq = 0  # bumped on every visible change in any chat
        self._update_ids = itertools.count(1)
        self._ids = itertools.count(1)  # file ids, callback query ids
        self._callbacks: dict[str, _CallbackQuery] = {}
        self.methods: dict[str, tuple[str, Callable[[Params], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self.get_me,
                "setWebhook": self.set_webhook,
                "deleteWebhook": self.delete_webhook,
                "getWebhookInfo": self.get_webhook_info,
                "sendMessage": self.send_message,
                "sendPhoto": self.send_photo,
                "sendDocument": self.send_document,
                "sendChatAction": self.send_chat_action,
                "editMessageText": self.edit_message_text,
                "editMessageCaption": self.edit_message_caption,
                "editMessageReplyMarkup": self.edit_message_reply_markup,
                "deleteMessage": self.delete_message,
                "answerCallbackQuery": self.answer_callback_query,
                "setMyCommands": self.set_my_commands,
                "getMyCommands": self.get_my_commands,
                "deleteMyCommands": self.delete_my_commands,
                "setMyDescription": self.set_my_description,
                "setMyShortDescription": self.set_my_description,
                "getFile": self.get_file,
            }.items()
        }

    # --- helpers -----------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.clock())

    def _bump(self) -> int:
        self.seq += 1
        return self.seq

    def _new_id(self) -> str:
        return f"{next(self._ids):08d}"

    def _chat(self, params: Params) -> Chat:
        """The private chat named by chat_id; it must exist, i.e. the person started the bot."""
        if not params.has("chat_id"):
            raise bad_request("chat_id is empty")
        raw = params.get_str("chat_id") or ""
        chat = self.chats.get(int(raw)) if raw.lstrip("-").isdigit() else None
        if chat is None or not chat.started:
            raise bad_request("chat not found")
        return chat

    def _writable_chat(self, params: Params) -> Chat:
        chat = self._chat(params)
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _check_flood(self, chat: Chat) -> None:
        if self.flood is None:
            return
        retry_after = self.flood.check(chat.user_id)
        if retry_after is not None:
            self.stats.too_many_requests += 1
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    def _format(self, params: Params, text_key: str, entities_key: str, limit: int) -> ParsedText:
        """Parses text or caption per parse_mode and applies Telegram's length rules."""
        is_caption = text_key == "caption"
        raw = params.get_str(text_key)
        if raw is None:
            if is_caption:
                return ParsedText("")
            raise bad_request("message text is empty")
        mode = (params.get_str("parse_mode") or "").lower()
        if mode == "html":
            try:
                parsed = parse_html(raw)
            except EntityParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        elif mode == "":
            entities = params.get_json(entities_key, f"can't parse {entities_key} JSON object")
            parsed = ParsedText(raw, list(entities or []))
        elif mode in {"markdown", "markdownv2"}:
            raise bad_request(f"the sandbox does not implement parse_mode {mode}; use HTML")
        else:
            raise bad_request("unsupported parse_mode")
        parsed = trim(parsed)
        if not parsed.text and not is_caption:
            raise bad_request("message text is empty")
        if utf16_len(parsed.text) > limit:
            raise bad_request(
                "message caption is too long" if is_caption else "message is too long"
            )
        return parsed

    def _markup(self, params: Params, inline_only: bool = False) -> JsonDict | None:
        """The validated reply_markup; an inline keyboard without buttons counts as none."""
        error = "can't parse reply keyboard markup JSON object"
        markup = params.get_json("reply_markup", error)
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request(error)
        if "inline_keyboard" not in markup:
            if inline_only or not {"keyboard", "remove_keyboard", "force_reply"} & set(markup):
                raise bad_request("inline keyboard expected" if inline_only else error)
            return markup
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('field "inline_keyboard" must be an Array of Arrays')
        buttons = [button for row in rows for button in row]
        if len(buttons) > MAX_BUTTONS:
            raise bad_request("reply markup is too long")
        for button in buttons:
            self._check_button(button)
        return markup if buttons else None

    @staticmethod
    def _check_button(button: Any) -> None:
        if not isinstance(button, dict):
            raise bad_request(
                "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
            )
        label = button.get("text")
        if not isinstance(label, str) or not label.strip():
            raise bad_request("can't parse inline keyboard button: Text must be non-empty")
        actions = [key for key in _BUTTON_ACTIONS if key in button]
        if not actions:
            raise bad_request("text buttons are unallowed in the inline keyboard")
        if len(actions) > 1:
            raise bad_request(
                "can't parse inline keyboard button: exactly one of the optional fields "
                "must be used"
            )
        data = button.get("callback_data")
        if "callback_data" in button and (
            not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT
        ):
            raise bad_request("BUTTON_DATA_INVALID")
        url = button.get("url")
        if "url" in button and not (isinstance(url, str) and _URL_RE.fullmatch(url)):
            raise bad_request("BUTTON_URL_INVALID")

    def _reply_to(self, params: Params, chat: Chat) -> int | None:
        reply = params.get_json("reply_parameters", "can't parse reply parameters JSON object")
        if isinstance(reply, dict):
            message_id, allow = (
                reply.get("message_id"),
                bool(reply.get("allow_sending_without_reply")),
            )
        elif params.has("reply_to_message_id"):
            message_id = params.get_int("reply_to_message_id")
            allow = params.get_bool("allow_sending_without_reply")
        else:
            return None
        target = chat.message(message_id) if isinstance(message_id, int) else None
        if target is None or target.deleted:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return target.message_id

    def _bot_message(self, chat: Chat, params: Params, not_found: str) -> ChatMessage:
        if params.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")  # the sandbox has no inline messages
        message_id = params.get_int("message_id", "message identifier is not specified")
        msg = chat.message(message_id or 0)
        if msg is None or msg.deleted:
            raise bad_request(not_found)
        if not msg.from_bot:
            raise bad_request("message can't be edited")
        return msg

    def _add_bot_message(self, chat: Chat, **fields: Any) -> ChatMessage:
        msg = ChatMessage(
            message_id=chat.next_message_id,
            chat_id=chat.user_id,
            from_bot=True,
            date=self._now(),
            sender=self.bot_user,
            chat=chat.chat_api(),
            seq=self._bump(),
            created_seq=self.seq,
            **fields,
        )
        chat.next_message_id += 1
        msg.remember_version()
        chat.messages.append(msg)
        return msg

    def _store_file(self, kind: str, upload: Upload) -> FileInfo:
        unique = f"{kind[:3].upper()}{self._new_id()}"
        info = FileInfo(
            file_id=f"{unique}-{self.token.split(':', 1)[0]}",
            file_unique_id=unique,
            kind=kind,
            data=upload.data,
            filename=upload.filename,
            mime_type=upload.content_type,
        )
        self.files[info.file_id] = info
        return info

    def _input_file(self, params: Params, kind: str) -> FileInfo:
        given = params.file(kind)
        if given is None:
            raise bad_request(f"there is no {kind} in the request")
        if isinstance(given, Upload):
            if not given.data:
                raise bad_request("file must be non-empty")
            if len(given.data) > (DOCUMENT_LIMIT if kind == "document" else PHOTO_LIMIT):
                raise ApiError(413, "Request Entity Too Large")
            return self._store_file(kind, given)
        if given in self.files:
            return self.files[given]
        if _URL_RE.fullmatch(given) and given.startswith("http"):
            # The sandbox cannot download; it keeps the URL's name and no bytes.
            name = given.rstrip("/").rsplit("/", 1)[-1] or None
            return self._store_file(kind, Upload(name, b""))
        raise bad_request("wrong file identifier/HTTP URL specified")

    # --- updates -----------------------------------------------------------------------

    def queue_update(
        self, chat: Chat, kind: str, body: JsonDict, summary: str, query_id: str | None = None
    ) -> QueuedUpdate:
        """Adds an update to the queue for getUpdates or webhook delivery."""
        update_id = next(self._update_ids)
        update = QueuedUpdate(
            update_id=update_id,
            kind=kind,
            payload={"update_id": update_id, kind: body},
            chat_id=chat.user_id,
            summary=summary,
            callback_query_id=query_id,
        )
        self.updates.append(update)
        self.stats.updates_queued += 1
        return update

    def _allowed(self, kind: str) -> bool:
        allowed = (self.webhook.allowed_updates if self.webhook else None) or self.allowed_updates
        return kind in allowed if allowed else kind not in _OPT_IN_UPDATES

    def pending_updates(self) -> list[QueuedUpdate]:
        """Undelivered updates in order, after dropping those allowed_updates excludes."""
        for update in self.updates:
            if not self._allowed(update.kind):
                update.filtered = True
        self.updates = [u for u in self.updates if not u.filtered]
        return self.updates

    def take_updates(self, params: Params) -> list[QueuedUpdate]:
        """getUpdates without the waiting: confirm by offset, filter, return a batch."""
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        allowed = params.get_json("allowed_updates", "can't parse allowed_updates JSON object")
        if isinstance(allowed, list):
            self.allowed_updates = [str(kind) for kind in allowed]
        offset = params.get_int("offset") or 0
        limit = min(max(params.get_int("limit") or 100, 1), 100)
        if offset < 0:
            self.updates = self.updates[offset:]
        elif offset > 0:
            self.updates = [u for u in self.updates if u.update_id >= offset]
        batch = self.pending_updates()[:limit]
        for update in batch:
            self.mark_fetched(update)
        return batch

    def mark_fetched(self, update: QueuedUpdate) -> None:
        """Records that the bot received an update (first time only)."""
        if not update.fetched:
            update.fetched = True
            self.stats.updates_delivered += 1

    # --- person side -------------------------------------------------------------------

    def person_message(
        self,
        chat: Chat,
        *,
        text: str | None = None,
        photo: Upload | None = None,
        document: Upload | None = None,
        caption: str | None = None,
    ) -> QueuedUpdate:
        """The person sends a message; a leading /command gets its bot_command entity."""
        # Writing to a bot you blocked means pressing "Restart", which unblocks it.
        self.set_blocked(chat, False)
        chat.started = True
        entities: list[JsonDict] = []
        if text and text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command)})
        msg = ChatMessage(
            message_id=chat.next_message_id,
            chat_id=chat.user_id,
            from_bot=False,
            date=self._now(),
            sender=chat.user_api(),
            chat=chat.chat_api(),
            seq=self._bump(),
            created_seq=self.seq,
            text=text if text is not None else caption or "",
            html=text if text is not None else caption or "",
            entities=entities,
            photo=self._store_file("photo", photo) if photo else None,
            document=self._store_file("document", document) if document else None,
            caption=caption,
        )
        chat.next_message_id += 1
        msg.remember_version()
        chat.messages.append(msg)
        summary = repr(text) if text is not None else ("a photo" if photo else "a document")
        return self.queue_update(chat, "message", msg.to_api(), f"sent {summary}")

    def person_click(self, chat: Chat, msg: ChatMessage, data: str, label: str) -> QueuedUpdate:
        """The person presses an inline button (or forges its data)."""
        query_id = f"{chat.user_id}{self._new_id()}"
        self._callbacks[query_id] = _CallbackQuery(chat.user_id, msg.message_id)
        chat.events.append(
            ChatEvent(
                self._bump(),
                False,
                f"(klikt op [{label}])",
                date=self._now(),
                kind="click",
                message_id=msg.message_id,
                label=label,
            )
        )
        body: JsonDict = {
            "id": query_id,
            "from": chat.user_api(),
            "message": msg.to_api(),
            "chat_instance": f"-{chat.user_id}{self.bot_user['id']}",
            "data": data,
        }
        return self.queue_update(chat, "callback_query", body, f"clicked [{label}]", query_id)

    def set_blocked(self, chat: Chat, blocked: bool) -> QueuedUpdate | None:
        """The person blocks or unblocks the bot; Telegram tells the bot via my_chat_member."""
        if chat.blocked == blocked:
            return None
        chat.blocked = blocked
        chat.events.append(
            ChatEvent(
                self._bump(),
                False,
                "(blokkeert de bot)" if blocked else "(deblokkeert)",
                date=self._now(),
            )
        )
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        body: JsonDict = {
            "chat": chat.chat_api(),
            "from": chat.user_api(),
            "date": self._now(),
            "old_chat_member": {"user": self.bot_user, "status": old, "until_date": 0},
            "new_chat_member": {"user": self.bot_user, "status": new, "until_date": 0},
        }
        for member in (body["old_chat_member"], body["new_chat_member"]):
            if member["status"] == "member":
                del member["until_date"]
        summary = "blocked the bot" if blocked else "unblocked the bot"
        return self.queue_update(chat, "my_chat_member", body, summary)

    def commands_for(self, chat: Chat) -> list[tuple[str, str]]:
        """The command menu this person sees, by Telegram's scope and language resolution."""
        lang = chat.language_code or ""
        for scope in (f"chat:{chat.user_id}", "all_private_chats", "default"):
            for code in ([lang] if lang else []) + [""]:
                commands = self.commands.get((scope, code))
                if commands:
                    return [(c["command"], c["description"]) for c in commands]
        return []

    # --- Bot API methods -----------------------------------------------------------------

    def get_me(self, params: Params) -> JsonDict:
        """getMe."""
        return dict(self.bot_user)

    def set_webhook(self, params: Params) -> bool:
        """setWebhook; the sandbox also accepts plain http URLs since it runs locally.

        Like Telegram, a second setWebhook within `set_webhook_interval` seconds of the last
        one is refused with 429 "retry after 1" (two instances starting at the same moment).
        """
        moment = time.monotonic()
        last = self._last_set_webhook
        if last is not None and moment - last < self.set_webhook_interval:
            retry_after = max(1, math.ceil(self.set_webhook_interval - (moment - last)))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        self._last_set_webhook = moment
        url = params.get_str("url") or ""
        if not url:
            self.webhook = None
            return True
        if not re.fullmatch(r"https?://[^\s/]+\S*", url):
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
        secret = params.get_str("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = params.get_json("allowed_updates", "can't parse allowed_updates JSON object")
        max_connections = params.get_int("max_connections") or 40
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        if params.get_bool("drop_pending_updates"):
            self.updates.clear()
        self.webhook = Webhook(
            url=url,
            secret_token=secret,
            max_connections=max_connections,
            allowed_updates=[str(k) for k in allowed] if isinstance(allowed, list) else None,
        )
        return True

    def delete_webhook(self, params: Params) -> bool:
        """deleteWebhook."""
        self.webhook = None
        if params.get_bool("drop_pending_updates"):
            self.updates.clear()
        return True

    def get_webhook_info(self, params: Params) -> JsonDict:
        """getWebhookInfo."""
        hook = self.webhook
        info: JsonDict = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending_updates()),
        }
        if hook:
            info["max_connections"] = hook.max_connections
            if hook.allowed_updates is not None:
                info["allowed_updates"] = hook.allowed_updates
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    def send_message(self, params: Params) -> JsonDict:
        """sendMessage."""
        chat = self._writable_chat(params)
        parsed = self._format(params, "text", "entities", TEXT_LIMIT)
        markup = self._markup(params)
        params.get_json("link_preview_options", "can't parse link preview options JSON object")
        reply_to = self._reply_to(params, chat)
        self._check_flood(chat)
        msg = self._add_bot_message(
            chat,
            text=parsed.text,
            html=params.get_str("text") or "",
            entities=parsed.entities,
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )
        return msg.to_api()

    def _send_file(self, params: Params, kind: str) -> JsonDict:
        chat = self._writable_chat(params)
        parsed = self._format(params, "caption", "caption_entities", CAPTION_LIMIT)
        markup = self._markup(params)
        reply_to = self._reply_to(params, chat)
        info = self._input_file(params, kind)
        self._check_flood(chat)
        msg = self._add_bot_message(
            chat,
            text=parsed.text,
            html=params.get_str("caption") or "",
            entities=parsed.entities,
            caption=parsed.text or None,
            reply_markup=markup,
            reply_to_message_id=reply_to,
            **{kind: info},
        )
        return msg.to_api()

    def send_photo(self, params: Params) -> JsonDict:
        """sendPhoto."""
        return self._send_file(params, "photo")

    def send_document(self, params: Params) -> JsonDict:
        """sendDocument."""
        return self._send_file(params, "document")

    def send_chat_action(self, params: Params) -> bool:
        """sendChatAction: validated, otherwise a no-op."""
        self._writable_chat(params)
        if params.get_str("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _apply_edit(
        self, msg: ChatMessage, parsed: ParsedText, html: str, markup: JsonDict | None
    ) -> JsonDict:
        if (parsed.text, parsed.entities, markup) == (msg.text, msg.entities, msg.reply_markup):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        msg.text, msg.html, msg.entities, msg.reply_markup = (
            parsed.text,
            html,
            parsed.entities,
            markup,
        )
        if msg.document is not None or msg.photo is not None:
            msg.caption = parsed.text or None
        msg.edited, msg.edit_date, msg.seq = True, self._now(), self._bump()
        msg.remember_version()
        return msg.to_api()

    def edit_message_text(self, params: Params) -> JsonDict:
        """editMessageText; like Telegram, leaving out reply_markup removes the keyboard."""
        chat = self._writable_chat(params)
        msg = self._bot_message(chat, params, "message to edit not found")
        if msg.document is not None or msg.photo is not None:
            raise bad_request("there is no text in the message to edit")
        parsed = self._format(params, "text", "entities", TEXT_LIMIT)
        markup = self._markup(params, inline_only=True)
        return self._apply_edit(msg, parsed, params.get_str("text") or "", markup)

    def edit_message_caption(self, params: Params) -> JsonDict:
        """editMessageCaption."""
        chat = self._writable_chat(params)
        msg = self._bot_message(chat, params, "message to edit not found")
        if msg.document is None and msg.photo is None:
            raise bad_request("there is no caption in the message to edit")
        parsed = self._format(params, "caption", "caption_entities", CAPTION_LIMIT)
        markup = self._markup(params, inline_only=True)
        return self._apply_edit(msg, parsed, params.get_str("caption") or "", markup)

    def edit_message_reply_markup(self, params: Params) -> JsonDict:
        """editMessageReplyMarkup."""
        chat = self._writable_chat(params)
        msg = self._bot_message(chat, params, "message to edit not found")
        markup = self._markup(params, inline_only=True)
        same = ParsedText(msg.text, msg.entities)
        return self._apply_edit(msg, same, msg.html, markup)

    def delete_message(self, params: Params) -> bool:
        """deleteMessage: bots may delete both sides of a private chat."""
        chat = self._chat(params)
        message_id = params.get_int("message_id", "message identifier is not specified")
        msg = chat.message(message_id or 0)
        if msg is None or msg.deleted:
            raise bad_request("message to delete not found")
        msg.deleted, msg.seq = True, self._bump()
        return True

    def answer_callback_query(self, params: Params) -> bool:
        """answerCallbackQuery; each query can be answered once."""
        query_id = params.get_str("callback_query_id") or ""
        query = self._callbacks.get(query_id)
        if query is None or query.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get_str("text") or ""
        if len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        chat = self.chats[query.chat_id]
        if text:
            chat.alerts.append(text)
            kind = "pop-up" if params.get_bool("show_alert") else "melding"
            chat.events.append(
                ChatEvent(
                    self._bump(),
                    True,
                    f"({kind}) {text}",
                    date=self._now(),
                    kind="alert",
                    message_id=query.message_id,
                    label=text,
                )
            )
        return True

    def callback_chat(self, query_id: str) -> int | None:
        """The chat a callback query came from, if the id is known."""
        query = self._callbacks.get(query_id)
        return query.chat_id if query else None

    @property
    def unanswered_callback_queries(self) -> list[str]:
        """Ids of callback queries the bot never answered (the person sees a spinner)."""
        return [qid for qid, q in self._callbacks.items() if not q.answered]

    def _scope_key(self, params: Params) -> tuple[str, str]:
        error = "can't parse BotCommandScope JSON object"
        scope = params.get_json("scope", error) or {"type": "default"}
        kind = scope.get("type") if isinstance(scope, dict) else None
        if kind in {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}:
            key = str(kind)
        elif kind in {"chat", "chat_administrators", "chat_member"}:
            chat = self._chat(Params({"chat_id": scope.get("chat_id")}, {}))
            key = f"{kind}:{chat.user_id}"
            if kind == "chat_member":
                key += f":{scope.get('user_id')}"
        else:
            raise bad_request(error)
        lang = params.get_str("language_code") or ""
        if lang and not re.fullmatch(r"[a-z]{2}", lang):
            raise bad_request("invalid language code specified")
        return key, lang

    def set_my_commands(self, params: Params) -> bool:
        """setMyCommands; an empty list deletes the list for that scope and language."""
        commands = params.get_json("commands", "can't parse commands JSON object")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise bad_request("command description is empty or too long")
        key = self._scope_key(params)
        if commands:
            self.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.commands.pop(key, None)
        return True

    def get_my_commands(self, params: Params) -> list[JsonDict]:
        """getMyCommands: exactly the list stored for that scope and language."""
        return list(self.commands.get(self._scope_key(params), []))

    def delete_my_commands(self, params: Params) -> bool:
        """deleteMyCommands."""
        self.commands.pop(self._scope_key(params), None)
        return True

    def set_my_description(self, params: Params) -> bool:
        """setMyDescription / setMyShortDescription: accepted, not shown anywhere."""
        text = params.get_str("description") or params.get_str("short_description") or ""
        if len(text) > 512:
            raise bad_request("description is too long")
        return True

    def get_file(self, params: Params) -> JsonDict:
        """getFile; the bytes are served under the sandbox's base_file_url."""
        info = self.files.get(params.get_str("file_id") or "")
        if info is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": info.file_id,
            "file_unique_id": info.file_unique_id,
            "file_size": info.size,
            "file_path": f"{info.kind}s/{info.file_unique_id}",
        }
