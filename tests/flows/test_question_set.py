"""The question set: what the route asks exists in every language, and keeps its meaning."""

from __future__ import annotations

import re

import pytest

from bot.render import LANGUAGES, MESSAGES_DIR, Renderer
from bot.route_overview import plain
from flows import route
from flows.questions import QUESTIONS, RETIRED

ASKED = sorted({q for asked in route.QUESTIONS.values() for q in (*asked.base, *asked.rotating)})
# Wording that tests a person or makes them report on the other side (../shared/domain/voice.md).
NOT_TO_ASK = (
    r"\bweet je hoe\b",
    r"\blukt het\b",
    r"\bhoe goed lukt\b",
    r"tussen jullie en de ouders",
    r"\bmerkte\b",
)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_asked_and_retired_question_has_its_text(language: str) -> None:
    for question in (*ASKED, *RETIRED):
        assert question in QUESTIONS, question
        assert (MESSAGES_DIR / language / "checkin" / f"q_{question}.j2").is_file(), question


def test_retired_questions_are_no_longer_asked() -> None:
    assert not set(RETIRED) & set(ASKED)
    # What each replaced is a new id, not new words on the old one.
    assert {"welkom", "ouders_iets_vragen", "betrokken"} <= set(ASKED)


def test_the_stored_meaning_of_kept_questions_is_unchanged() -> None:
    spanning = QUESTIONS["spanning"]
    assert spanning.measures == "tension"
    assert [(o.value, o.score) for o in spanning.options] == [("nee", 5), ("beetje", 3), ("ja", 1)]
    informed = QUESTIONS["weet_hoe_het_gaat"]
    assert informed.measures == "informed"
    assert [(o.value, o.score) for o in informed.options] == [("ja", 5), ("beetje", 3), ("nee", 1)]
    assert QUESTIONS["gedeeld"].measures == "informing"


@pytest.mark.parametrize("role", route.PARTICIPANTS)
def test_asked_questions_do_not_test_or_point_at_the_other_side(role: object) -> None:
    renderer = Renderer()
    asked = {
        q
        for (r, _), found in route.QUESTIONS.items()
        if r == role
        for q in (*found.base, *found.rotating)
    }
    for question in sorted(asked):
        text = plain(
            renderer.render("nl", f"checkin/q_{question}", {"youth": "Sam", "role": str(role)})
        ).lower()
        for pattern in NOT_TO_ASK:
            assert not re.search(pattern, text), (question, text)
    # The house parent is asked about Sam, never about what Sam noticed of the parents.
    spanning = plain(
        renderer.render("nl", "checkin/q_spanning", {"youth": "Sam", "role": "gezinshuisouder"})
    )
    assert "ouders" not in spanning


def test_the_export_shows_old_answers_with_the_question_as_it_was_asked() -> None:
    from tests.message_samples import EXPORT

    text = Renderer().render("nl", "account/export.txt", EXPORT)
    assert (
        'vraag "Hoe voelt het contact met de gezinshuisouders tot nu toe?" (kennismaking): 3'
        in (text)
    )
    assert 'vraag "iets voor je begeleider" (open)' in text
