"""The button codec: every kind has a handler, data round-trips, and every template name in the
code exists in both languages."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from bot.handlers import ROUTES
from flows import buttons

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = ROOT / "messages"


def test_every_button_kind_has_a_handler_and_every_handler_a_kind() -> None:
    assert set(ROUTES) == set(buttons.KINDS.values())


def _example(part: buttons.Part) -> Any:
    if isinstance(part, buttons.Id):
        return buttons.ID_MAX
    if isinstance(part, buttons.Number):
        return part.limit
    if isinstance(part, buttons.Choice):
        return part.options[-1]
    if isinstance(part, buttons.Flag):
        return False
    if isinstance(part, buttons.Token):
        return "19.00" if "0-5" in part.pattern else "a" * 16
    return None


@pytest.mark.parametrize("kind", list(buttons.KINDS.values()), ids=lambda k: k.name)
def test_what_a_button_says_a_press_reads_back(kind: buttons.Kind) -> None:
    values = {part.name: _example(part) for part in kind.parts if part.name}
    press = buttons.parse(kind.data(**values))
    assert press == buttons.Press(kind, values)


def test_old_buttons_in_chats_still_read_the_same() -> None:
    assert buttons.parse("cs:y:5") == buttons.Press(buttons.CONSENT, {"agreed": True, "invite": 5})
    assert buttons.parse("ck:7:2:beetje") == buttons.Press(
        buttons.CHECKIN_ANSWER, {"checkin": 7, "index": 2, "value": "beetje"}
    )
    assert buttons.parse("fa:no") == buttons.Press(buttons.NEVER_MIND, {})
    digest_time = buttons.Press(buttons.SET_DIGEST_TIME, {"time": "08.30"})
    assert buttons.parse("in:ot:08.30") == digest_time


def test_a_button_that_could_not_be_read_back_is_refused_when_built() -> None:
    with pytest.raises(buttons.BadButton):
        buttons.CONSENT.data(invite=0, agreed=True)
    with pytest.raises(buttons.BadButton):
        buttons.SET_DAY.data(day=7)
    with pytest.raises(buttons.BadButton):
        buttons.MEETING_PICK.data(step="t", choice="a:b")
    with pytest.raises(buttons.BadButton):
        buttons.MEETING_PICK.data(step="t", choice="x" * 41)  # longer than a token may be
    with pytest.raises(buttons.BadButton):
        buttons.INVITE_FOR.data()
    assert buttons.parse("pl:1" + "0" * 70) is None


def _template_names() -> set[tuple[str, str]]:
    """Every string in flows/ and bot/ that names a template ("dir/name"), with its file."""
    folders = {p.name for p in (MESSAGES / "nl").iterdir() if p.is_dir()}
    found: set[tuple[str, str]] = set()
    for path in [*(ROOT / "flows").rglob("*.py"), *(ROOT / "bot").rglob("*.py")]:
        if "sandbox" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                head, sep, tail = node.value.partition("/")
                if sep and head in folders and tail and " " not in tail and "/" not in tail:
                    found.add((node.value, str(path.relative_to(ROOT))))
    return found


def _exists(language: str, name: str) -> bool:
    """A name, or the head of an f-string name ("onboarding/welcome_"): some template fits."""
    if name.endswith("_"):
        folder, _, head = name.partition("/")
        return any((MESSAGES / language / folder).glob(f"{head}*.j2"))
    return (MESSAGES / language / f"{name}.j2").exists()


def test_every_template_named_in_code_exists_in_both_languages() -> None:
    names = _template_names()
    assert len(names) > 100  # the scan finds the code's templates, not nothing
    missing = [
        (name, where, language)
        for name, where in sorted(names)
        for language in ("nl", "en")
        if not _exists(language, name)
    ]
    assert missing == []
