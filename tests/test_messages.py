"""Every template exists in every language, renders, and fits Telegram's rules."""

from __future__ import annotations

import inspect
from pathlib import Path

import jinja2
import pytest

from bot.render import LANGUAGES, MESSAGES_DIR, Renderer
from bot.sandbox.html import parse_html, utf16_len
from tests.message_samples import BASE, LABEL_ARGS, LABEL_SPECIAL, VARIANTS

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024


def _templates(language: str) -> set[str]:
    root = MESSAGES_DIR / language
    return {str(p.relative_to(root))[: -len(".j2")] for p in root.rglob("*.j2")}


def _macros(language: str) -> dict[str, list[str]]:
    env = Renderer().environment(language)
    source = (MESSAGES_DIR / language / "labels.j2").read_text(encoding="utf-8")
    tree = env.parse(source)
    return {m.name: [a.name for a in m.args] for m in tree.find_all(jinja2.nodes.Macro)}


MESSAGE_TEMPLATES = sorted(_templates("nl") - {"labels"})


def test_every_language_has_the_same_templates() -> None:
    reference = _templates("nl")
    for language in LANGUAGES:
        assert _templates(language) == reference, language


def test_every_language_has_the_same_labels() -> None:
    reference = _macros("nl")
    for language in LANGUAGES:
        assert _macros(language) == reference, language


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", MESSAGE_TEMPLATES)
def test_template_renders_as_valid_telegram_html(template: str, language: str) -> None:
    renderer = Renderer()
    for context in VARIANTS.get(template, [BASE]):
        text = renderer.render(language, template, context)
        assert text, f"{language}/{template} rendered empty"
        assert "{{" not in text
        assert "{%" not in text
        if template.endswith(".txt"):
            continue  # documents are plain text files, not messages
        parsed = parse_html(text)  # raises on tags Telegram does not allow or bad escaping
        assert parsed.text.strip()
        limit = TELEGRAM_CAPTION_LIMIT if template.endswith("_caption") else TELEGRAM_TEXT_LIMIT
        assert utf16_len(parsed.text) <= limit


def test_typed_text_is_escaped() -> None:
    renderer = Renderer()
    text = renderer.render(
        "nl", "placements/list", {"placements": VARIANTS["placements/list"][0]["placements"]}
    )
    parsed = parse_html(text)
    assert '<b>Sam & "co"</b>' in parsed.text  # shown literally, not as markup


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_label_renders_short_and_plain(language: str) -> None:
    renderer = Renderer()
    for name, args in _macros(language).items():
        kwargs = LABEL_SPECIAL.get(name) or {arg: LABEL_ARGS[arg] for arg in args}
        label = renderer.label(language, name, kwargs)
        assert label, name
        assert "\n" not in label, name


def test_templates_hold_text_only() -> None:
    """messages/ holds templates and an empty package marker, nothing else."""
    files = {p.name for p in Path(MESSAGES_DIR).rglob("*") if p.is_file()}
    assert files - {"__init__.py"} == {p for p in files if p.endswith(".j2")}
    init = (MESSAGES_DIR / "__init__.py").read_text(encoding="utf-8")
    assert "import" not in init
    assert "def " not in init
    assert inspect.cleandoc(init).startswith('"""')
