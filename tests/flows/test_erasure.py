"""Recognising a name or a quote of an erased person in stored messages."""

from __future__ import annotations

from flows.erasure import Traces, mentions


def test_a_name_is_found_as_a_whole_word_in_any_case_and_escaped() -> None:
    traces = Traces(words={"Bea", "O'Neil"})
    pattern = traces.matcher()
    assert pattern is not None
    assert mentions({"context": {"name": "Bea"}}, pattern)
    assert mentions({"html": "📞 <b>BEA</b> wil contact"}, pattern)
    assert mentions({"html": "O&#39;Neil (ouder bij Sam)"}, pattern)
    assert mentions({"options": {"7": ["O'Neil", "ouder"]}}, pattern)
    # Not inside another word.
    assert not mentions({"html": "Vragen beantwoord: 4 van 4"}, pattern)
    assert not mentions({"template": "checkin/question", "context": {"youth": "Beatrix"}}, pattern)


def test_a_typed_answer_is_found_by_its_start_even_when_shortened_and_escaped() -> None:
    traces = Traces()
    long = "Het ging <echt> niet & we hadden ruzie over de telefoon, " * 30
    traces.add_text(long)
    traces.add_text("ok")  # too short to say anything about anyone
    pattern = traces.matcher()
    assert pattern is not None
    quoted = "Het ging &lt;echt&gt; niet &amp; we hadden ruzie over de telefoon, Het ging"
    assert mentions({"html": f"<i>{quoted}…</i>"}, pattern)
    assert not mentions({"html": "ok, tot zondag"}, pattern)


def test_nothing_to_look_for_finds_nothing() -> None:
    assert Traces().matcher() is None
