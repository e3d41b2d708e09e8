"""Several chats as one timeline, in the order things happened (`Sandbox.timeline`).

Each message is shown as it was when it arrived; a later edit is its own line at the moment
it was made, and a click stands under the message it was made on. A day marker opens each day
("── maandag 7 december ──") and the time stands before a line when it changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.sandbox.models import Chat, ChatEvent, ChatMessage, MessageVersion

WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
TIME_WIDTH = 7  # "19:05  "
BODY = " " * (TIME_WIDTH + 2)  # a message's text, under its heading
SNIPPET = 40  # characters of an earlier message quoted when a click or an edit refers to it


def day_marker(day: dt.date) -> str:
    """The line that opens a day: ── maandag 7 december ──."""
    return f"── {WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} ──"


@dataclass(frozen=True)
class _Entry:
    seq: int
    date: int
    chat: Chat
    message: ChatMessage | None = None
    version: int = 0  # index in message.versions
    event: ChatEvent | None = None


def _entries(chats: Iterable[Chat]) -> list[_Entry]:
    found: list[_Entry] = []
    for chat in chats:
        for message in chat.messages:
            versions = message.versions or [
                MessageVersion(message.created_seq, message.date, message.text, None)
            ]
            for index, version in enumerate(versions):
                found.append(_Entry(version.seq, version.date, chat, message, index))
        for event in chat.events:
            found.append(_Entry(event.seq, event.date, chat, event=event))
    return sorted(found, key=lambda entry: entry.seq)


def _snippet(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= SNIPPET else first[: SNIPPET - 1].rstrip() + "…"


def _buttons(version: MessageVersion) -> list[str]:
    return [" ".join(f"[{label}]" for label in row) for row in version.buttons]


def _body(message: ChatMessage, version: MessageVersion) -> list[str]:
    lines = version.text.splitlines()
    if message.photo is not None:
        lines = ["[foto]", *lines]
    elif message.document is not None:
        lines = [f"[bestand: {message.document.filename or 'bestand'}]", *lines]
    return (lines or [""]) + _buttons(version)


def _edit(before: MessageVersion, after: MessageVersion) -> list[str]:
    """What an edit changed: new or changed lines, else the new keyboard, else 'no buttons'."""
    if after.text != before.text:
        old = set(before.text.splitlines())
        new = [line for line in after.text.splitlines() if line not in old]
        if len(new) == len(after.text.splitlines()):  # a different message altogether
            return new + _buttons(after)
        return new or ["(tekst ingekort)"]
    if after.buttons:
        return _buttons(after)
    return ["(de knoppen verdwijnen)"]


class _Writer:
    def __init__(self, labels: Mapping[int, str], zone: dt.tzinfo) -> None:
        self.labels = labels
        self.zone = zone
        self.lines: list[str] = []
        self.day: dt.date | None = None
        self.clock = ""
        self.last: tuple[int, int] | None = None  # (chat, message) the previous lines are about

    def at(self, date: int) -> str:
        """The time column for a line at `date`; a day marker first when the day changed."""
        moment = dt.datetime.fromtimestamp(date, self.zone)
        if moment.date() != self.day:
            self.day = moment.date()
            if self.lines:
                self.lines.append("")
            self.lines += [day_marker(moment.date()), ""]
            self.clock = ""
        clock = f"{moment:%H:%M}"
        if clock == self.clock:
            return " " * TIME_WIDTH
        self.clock = clock
        return clock.ljust(TIME_WIDTH)

    def label(self, chat: Chat) -> str:
        return self.labels.get(chat.user_id, chat.first_name)

    def add(self, entry: _Entry) -> None:
        if entry.event is not None:
            self.event(entry, entry.event)
        elif entry.message is not None:
            self.message(entry, entry.message)

    def message(self, entry: _Entry, message: ChatMessage) -> None:
        when = self.at(entry.date)
        version = message.versions[entry.version] if message.versions else None
        if version is None:
            version = MessageVersion(entry.seq, entry.date, message.text, message.reply_markup)
        key = (entry.chat.user_id, message.message_id)
        if not message.from_bot:
            first, *rest = _body(message, version)
            self.lines.append(f"{when}{entry.chat.first_name} typt: {first}")
            self.lines += [BODY + line for line in rest]
        elif entry.version == 0:
            self.lines.append(f"{when}Bot → {self.label(entry.chat)}:")
            self.lines += [BODY + line for line in _body(message, version)]
        else:
            before = message.versions[entry.version - 1]
            where = "" if self.last == key else f" een eerder bericht (“{_snippet(before.text)}”)"
            changed = _edit(before, version)
            self.lines.append(f"{when}  ✎ Bot past{where} aan: {changed[0]}")
            self.lines += [BODY + "  " + line for line in changed[1:]]
        self.last = key

    def event(self, entry: _Entry, event: ChatEvent) -> None:
        when = self.at(entry.date)
        name = entry.chat.first_name
        key = (entry.chat.user_id, event.message_id) if event.message_id is not None else None
        if event.kind == "click":
            where = ""
            if key != self.last and event.message_id is not None:
                target = entry.chat.message(event.message_id)
                shown = _shown_at(target, entry.seq) if target is not None else None
                if shown is not None:
                    where = f" op een eerder bericht (“{_snippet(shown.text)}”)"
            self.lines.append(f"{when}  ↳ {name} tikt{where}: {event.label}")
            self.last = key
        elif event.kind == "alert":
            self.lines.append(f"{when}  ↳ melding voor {name}: {event.label}")
        else:
            self.lines.append(f"{when}{name} {event.text.strip('()')}")


def _shown_at(message: ChatMessage, seq: int) -> MessageVersion | None:
    """The version of `message` the person saw just before change `seq`."""
    shown = [version for version in message.versions if version.seq < seq]
    return shown[-1] if shown else None


def timeline(chats: Iterable[Chat], labels: Mapping[int, str], zone: dt.tzinfo) -> str:
    """The chats' messages, edits and clicks as one story in time order (see module doc)."""
    writer = _Writer(labels, zone)
    for entry in _entries(chats):
        writer.add(entry)
    return "\n".join(writer.lines)
