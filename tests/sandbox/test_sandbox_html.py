"""The Telegram-HTML parser on its own."""

import pytest

from bot.sandbox import EntityParseError, parse_html, utf16_len
from bot.sandbox.html import trim


def test_plain_text_and_entities_with_utf16_offsets() -> None:
    parsed = parse_html("😀 <b>vet <i>schuin</i></b> &amp; &lt;tag&gt; &#65;&#x42; &quot;")
    assert parsed.text == '😀 vet schuin & <tag> AB "'
    assert parsed.entities == [
        {"offset": 3, "length": 10, "type": "bold"},
        {"offset": 7, "length": 6, "type": "italic"},
    ]


def test_all_telegram_tags() -> None:
    source = (
        "<strong>a</strong><em>b</em><u>c</u><ins>d</ins><s>e</s><strike>f</strike><del>g</del>"
        '<span class="tg-spoiler">h</span><tg-spoiler>i</tg-spoiler>'
        '<a href="https://x.nl/?a=1&amp;b=2">j</a><tg-emoji emoji-id="5368324170671202286">k'
        '</tg-emoji><code>l</code><pre><code class="language-python">m</code></pre>'
        "<blockquote>n</blockquote><blockquote expandable>o</blockquote>"
    )
    parsed = parse_html(source)
    assert parsed.text == "abcdefghijklmno"
    types = [e["type"] for e in parsed.entities]
    assert types == [
        "bold", "italic", "underline", "underline", "strikethrough", "strikethrough",
        "strikethrough", "spoiler", "spoiler", "text_link", "custom_emoji", "code", "pre",
        "blockquote", "expandable_blockquote",
    ]  # fmt: skip
    assert parsed.entities[9]["url"] == "https://x.nl/?a=1&b=2"
    assert parsed.entities[12]["language"] == "python"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("jij & ik", "at byte offset 4"),
        ("&nbsp;", "at byte offset 0"),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag, expected "</i>", found "</b>" at byte offset 7'),
        ("x</b>", 'Unexpected end tag "b" at byte offset 1'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<a href="x>y', "Unclosed start tag"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("é<i x>y</i>", "Expected equal sign"),
    ],
)
def test_invalid_html(source: str, reason: str) -> None:
    with pytest.raises(EntityParseError) as info:
        parse_html(source)
    assert reason in str(info.value)


def test_byte_offset_counts_utf8_bytes() -> None:
    with pytest.raises(EntityParseError) as info:
        parse_html("é<x>")
    assert info.value.byte_offset == 2


def test_trim_shifts_entities() -> None:
    parsed = trim(parse_html("\n  <b>hoi</b> daar  \n"))
    assert parsed.text == "hoi daar"
    assert parsed.entities == [{"offset": 0, "length": 3, "type": "bold"}]


def test_utf16_len() -> None:
    assert utf16_len("a😀é") == 4
