"""Names as people give them, cleaned once on the way in.

Telegram names and typed names may carry characters nobody sees: zero-width spaces and joiners,
bidi controls (U+202E turns the rest of a line around), soft hyphens, a BOM. Two "Kees" that look
alike but differ, or a digest line printed backwards, confuse the people who read them.
"""

from __future__ import annotations

import unicodedata

# Control (Cc) and invisible format (Cf) characters; Cf includes the bidi controls.
_HIDDEN = frozenset(("Cc", "Cf"))
# Emoji sequences need ZWJ (U+200D) and variation selectors are Mn, not Cf: a ZWJ between two
# emoji is kept so "👨‍👩‍👧" stays one family; elsewhere it goes.
_ZWJ = "\u200d"


def clean_name(text: str, max_len: int) -> str:
    """Return `text` NFC-normalised, without hidden characters, on one line, at most `max_len`."""
    text = unicodedata.normalize("NFC", text)
    kept: list[str] = []
    for i, char in enumerate(text):
        if char.isspace():
            kept.append(" ")  # newlines and tabs (Cc) become plain spaces, then collapse
        elif unicodedata.category(char) not in _HIDDEN or (char == _ZWJ and _joins_emoji(text, i)):
            kept.append(char)
    return " ".join("".join(kept).split())[:max_len].rstrip()


def _joins_emoji(text: str, index: int) -> bool:
    before = text[index - 1] if index > 0 else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    return _is_emoji_part(before) and _is_emoji_part(after)


def _is_emoji_part(char: str) -> bool:
    # Symbols "So" cover the pictographs; U+FE0F (variation selector, Mn) may end one.
    return bool(char) and (unicodedata.category(char) == "So" or char == "\ufe0f")
