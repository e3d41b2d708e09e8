"""Telegram-HTML parsing: turns a parse_mode=HTML text into plain text plus entities."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# Telegram's tag set; aliases map to the same entity type.
_SIMPLE_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
}
_ALL_TAGS = frozenset({*_SIMPLE_TAGS, "span", "a", "tg-emoji", "pre", "blockquote"})
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_NAME_CHARS = re.compile(r"[A-Za-z0-9_-]*")
# Telegram trims these around a message; entities shift along.
_TRIM_CHARS = " \t\r\n"


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; str() is Telegram's reason with byte offset."""

    def __init__(self, reason: str, byte_offset: int) -> None:
        super().__init__(f"{reason} at byte offset {byte_offset}")
        self.reason = reason
        self.byte_offset = byte_offset


@dataclass
class ParsedText:
    """Plain text as the person sees it plus Telegram MessageEntity dicts (UTF-16 offsets)."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts limits and offsets in."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    offset: int  # UTF-16 offset in the output where the tag's content starts
    language: str | None = None  # set by an inner <code class="language-x"> of a <pre>


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decodes a character reference at pos to (char, end), or None if it is not valid."""
    match = _ENTITY_RE.match(text, pos)
    if not match:
        return None
    dec, hexa, name = match.groups()
    if name is not None:
        char = _NAMED_ENTITIES.get(name)
        return (char, match.end()) if char else None
    code = int(dec) if dec is not None else int(hexa, 16)
    if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
        return chr(code), match.end()
    return None


class _Parser:
    """Single-pass parser mirroring tdlib's parse_html, but strict about bare '&'."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.out_len = 0  # UTF-16 length of the output so far
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def fail(self, reason: str, pos: int) -> EntityParseError:
        return EntityParseError(reason, len(self.src[:pos].encode("utf-8")))

    def emit(self, chunk: str) -> None:
        self.out.append(chunk)
        self.out_len += utf16_len(chunk)

    def decode_entity(self, pos: int) -> tuple[str, int]:
        """Decodes the character reference at pos; returns (char, end position)."""
        decoded = _decode_entity(self.src, pos)
        if decoded is None:
            # Telegram keeps a lone '&' as-is; we reject it so missing escaping shows in tests.
            raise self.fail('Unsupported character reference; use "&amp;" for a literal "&"', pos)
        return decoded

    def decode_value(self, raw: str, tag_pos: int) -> str:
        """Decodes character references inside an attribute value."""
        parts: list[str] = []
        i = 0
        while i < len(raw):
            decoded = _decode_entity(raw, i) if raw[i] == "&" else (raw[i], i + 1)
            if decoded is None:
                raise self.fail("Unsupported character reference in attribute value", tag_pos)
            parts.append(decoded[0])
            i = decoded[1]
        return "".join(parts)

    def parse(self) -> ParsedText:
        src = self.src
        while self.pos < len(src):
            ch = src[self.pos]
            if ch == "&":
                decoded, self.pos = self.decode_entity(self.pos)
                self.emit(decoded)
            elif ch == "<":
                if src.startswith("</", self.pos):
                    self.end_tag()
                else:
                    self.start_tag()
            else:
                nxt = len(src)
                for stop in ("&", "<"):
                    found = src.find(stop, self.pos)
                    if found != -1:
                        nxt = min(nxt, found)
                self.emit(src[self.pos : nxt])
                self.pos = nxt
        if self.stack:
            name = self.stack[-1].name
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{name}"',
                len(src.encode("utf-8")),
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), self.entities)

    def start_tag(self) -> None:
        src, begin = self.src, self.pos
        name_match = _NAME_CHARS.match(src, begin + 1)
        assert name_match is not None
        name = name_match.group().lower()
        if name not in _ALL_TAGS:
            raise self.fail(f'Unsupported start tag "{name}"', begin)
        i = name_match.end()
        attrs: dict[str, str] = {}
        while True:
            while i < len(src) and src[i].isspace():
                i += 1
            if i >= len(src):
                raise self.fail("Unclosed start tag", begin)
            if src[i] == ">":
                i += 1
                break
            attr_match = _NAME_CHARS.match(src, i)
            assert attr_match is not None
            attr = attr_match.group().lower()
            if not attr:
                raise self.fail(f'Empty attribute name in the tag "{name}"', begin)
            i = attr_match.end()
            while i < len(src) and src[i].isspace():
                i += 1
            if i >= len(src) or src[i] != "=":
                if name == "blockquote" and attr == "expandable":
                    attrs[attr] = ""
                    continue
                raise self.fail(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}"',
                    begin,
                )
            i += 1
            while i < len(src) and src[i].isspace():
                i += 1
            if i >= len(src):
                raise self.fail("Unclosed start tag", begin)
            if src[i] in "\"'":
                quote = src[i]
                end = src.find(quote, i + 1)
                if end == -1:
                    raise self.fail("Unclosed start tag", begin)
                raw_value, i = src[i + 1 : end], end + 1
            else:
                end = i
                while end < len(src) and not src[end].isspace() and src[end] != ">":
                    end += 1
                raw_value, i = src[i:end], end
            attrs[attr] = self.decode_value(raw_value, begin)
        self.pos = i
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise self.fail('Tag "span" must have class "tg-spoiler"', begin)
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise self.fail('Tag "tg-emoji" must have a numeric attribute "emoji-id"', begin)
        self.stack.append(_OpenTag(name, attrs, self.out_len))

    def end_tag(self) -> None:
        src, begin = self.src, self.pos
        end = src.find(">", begin)
        if end == -1:
            raise self.fail("Unclosed end tag", begin)
        name = src[begin + 2 : end].strip().lower()
        self.pos = end + 1
        if not self.stack:
            raise self.fail(f'Unexpected end tag "{name}"', begin)
        tag = self.stack[-1]
        if name != tag.name:
            raise self.fail(
                f'Unmatched end tag, expected "</{tag.name}>", found "</{name}>"', begin
            )
        self.stack.pop()
        self.add_entity(tag)

    def add_entity(self, tag: _OpenTag) -> None:
        length = self.out_len - tag.offset
        parent = self.stack[-1] if self.stack else None
        name, attrs = tag.name, tag.attrs
        if name == "code" and parent is not None and parent.name == "pre":
            # <pre><code class="language-x"> only sets the language of the pre block.
            cls = attrs.get("class", "")
            if cls.startswith("language-") and length == self.out_len - parent.offset:
                parent.language = cls.removeprefix("language-")
                return
        if length == 0:
            return
        entity: dict[str, Any] = {"offset": tag.offset, "length": length}
        if name in _SIMPLE_TAGS:
            entity["type"] = _SIMPLE_TAGS[name]
        elif name == "span":
            entity["type"] = "spoiler"
        elif name == "a":
            href = attrs.get("href", "")
            if not href:
                return  # like Telegram: a link without target is plain text
            entity.update(type="text_link", url=href)
        elif name == "tg-emoji":
            entity.update(type="custom_emoji", custom_emoji_id=attrs["emoji-id"])
        elif name == "pre":
            entity["type"] = "pre"
            if tag.language:
                entity["language"] = tag.language
        else:
            expandable = "expandable" in attrs
            entity["type"] = "expandable_blockquote" if expandable else "blockquote"
        self.entities.append(entity)


def parse_html(source: str) -> ParsedText:
    """Parses Telegram HTML; raises EntityParseError like Telegram's "can't parse entities"."""
    return _Parser(source).parse()


def trim(parsed: ParsedText) -> ParsedText:
    """Strips surrounding whitespace like Telegram does, shifting and clipping the entities."""
    text = parsed.text
    lead = utf16_len(text[: len(text) - len(text.lstrip(_TRIM_CHARS))])
    stripped = text.strip(_TRIM_CHARS)
    total = utf16_len(stripped)
    entities: list[dict[str, Any]] = []
    for entity in parsed.entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return ParsedText(stripped, entities)
