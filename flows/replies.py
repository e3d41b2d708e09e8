"""What a flow step asks the transport to show: templates with context, never finished text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    """An inline button: `label` names a macro in messages/<lang>/labels.j2."""

    label: str
    data: str | None = None
    url: str | None = None
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recipient:
    """Someone other than the person who wrote: where to send and in which language."""

    chat_id: int
    language: str
    person_id: int | None = None


@dataclass(frozen=True)
class Document:
    """A file to send: its content is a template too, or ready bytes (`data`, e.g. a zip)."""

    filename: str
    template: str = ""
    context: Mapping[str, Any] = field(default_factory=dict)
    data: bytes | None = None


@dataclass(frozen=True)
class Say:
    """One message: a template name (without .j2), its context and buttons.

    `to` None means the chat the update came from. `edit` replaces the message whose button was
    pressed instead of sending a new one.
    """

    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    buttons: tuple[tuple[Button, ...], ...] = ()
    to: Recipient | None = None
    edit: bool = False
    document: Document | None = None
    # For messages to someone else: the outbox kind ("contact_request" goes out at once).
    kind: str = "notice"
    # For messages to someone else: blank the stored payload as soon as it is delivered (it
    # names someone who was just erased).
    ephemeral: bool = False


@dataclass(frozen=True)
class Menu:
    """The command menu this chat should show, by the roles the person has."""

    chat_id: int
    language: str
    roles: frozenset[str]


@dataclass
class Outcome:
    """Everything one step produces, in the order to send it."""

    language: str
    messages: list[Say] = field(default_factory=list)
    menus: list[Menu] = field(default_factory=list)
    # Take the buttons off the message whose button was pressed, keeping its text.
    close_pressed: bool = False
    # The step put messages in the outbox itself: deliver them now rather than at the next beat.
    kick_outbox: bool = False

    def say(self, template: str, **context: Any) -> Outcome:
        self.messages.append(Say(template, context))
        return self

    def add(self, message: Say) -> Outcome:
        self.messages.append(message)
        return self
