"""Render templates from messages/ into Telegram HTML, per language."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

import messages
from flows.replies import Button

MESSAGES_DIR = Path(messages.__file__).parent
LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"


def pick_language(code: str | None) -> str:
    """Map Telegram's language_code to a language we have, Dutch otherwise."""
    if code:
        base = code.split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return DEFAULT_LANGUAGE


class Renderer:
    """One strict Jinja2 environment per language."""

    def __init__(self, root: Path = MESSAGES_DIR) -> None:
        self._environments = {lang: _environment(root / lang) for lang in LANGUAGES}

    def environment(self, language: str) -> jinja2.Environment:
        return self._environments.get(language, self._environments[DEFAULT_LANGUAGE])

    def render(self, language: str, template: str, context: Mapping[str, Any]) -> str:
        """Render a message template to Telegram HTML."""
        text = self.environment(language).get_template(f"{template}.j2").render(context)
        return text.strip()

    def label(self, language: str, name: str, args: Mapping[str, Any] | None = None) -> str:
        """Render a short label (button, command description) from labels.j2."""
        module = self.environment(language).get_template("labels.j2").module
        macro = getattr(module, name, None)
        if macro is None:
            raise KeyError(f"no label {name!r} in messages/{language}/labels.j2")
        return str(macro(**(args or {}))).strip()

    def button_label(self, language: str, button: Button) -> str:
        """A button's text; a `picked` argument wraps it in the `picked` label (the choice)."""
        args = {k: v for k, v in button.args.items() if k != "picked"}
        text = self.label(language, button.label, args)
        if button.args.get("picked"):
            text = self.label(language, "picked", {"text": text})
        # Labels are plain text on Telegram: undo the HTML escaping of the macro.
        return _unescape(text)


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", '"')
        .replace("&#39;", "'")
        .replace("&quot;", '"')
        .replace("&amp;", "&")
    )


def _environment(path: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(path),
        autoescape=jinja2.select_autoescape(
            disabled_extensions=("txt.j2",), default_for_string=True, default=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # templates do not change while the bot runs: no stat per message
    )
