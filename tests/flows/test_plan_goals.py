"""The plan's data: intensity from the estimate, every suggestion and item has its words, every
plan button fits Telegram's 64 bytes with the largest ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.render import Renderer
from flows import buttons
from flows.callbacks import ID_MAX
from flows.route import ESTIMATE_ITEMS, GOAL_SUGGESTIONS, intensity_for
from storage.models import Intensity

MESSAGES = Path(__file__).resolve().parents[2] / "messages"
CODES = sorted({code for codes in GOAL_SUGGESTIONS.values() for code in codes})


@pytest.mark.parametrize(
    ("scores", "intensity"),
    [
        ({item: 4 for item in ESTIMATE_ITEMS}, Intensity.STANDARD),
        ({item: 3 for item in ESTIMATE_ITEMS}, Intensity.STANDARD),
        ({**{item: 5 for item in ESTIMATE_ITEMS}, "praktisch": 2}, Intensity.EXTRA),
        (
            {"bereid_ouders": 3, "bereid_gezinshuisouders": 3, "ervaring": 3, "praktisch": 2},
            Intensity.EXTRA,
        ),
        ({}, Intensity.STANDARD),
    ],
)
def test_intensity_from_the_scores(scores: dict[str, int], intensity: Intensity) -> None:
    assert intensity_for(scores) == intensity


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_suggested_goal_and_estimate_item_has_its_words(language: str) -> None:
    renderer = Renderer()
    for code in CODES:
        assert (MESSAGES / language / "plan" / f"goal_{code}.j2").exists(), code
        label = renderer.label(language, "goal_suggestion", {"code": code})
        assert 0 < len(label) <= 40, code  # a short button label
    for item in ESTIMATE_ITEMS:
        assert (MESSAGES / language / "plan" / f"estimate_{item}.j2").exists(), item


def test_plan_buttons_fit_with_the_largest_ids() -> None:
    longest = max(CODES, key=len)
    datas = [
        buttons.PLAN_FOR.data(placement=ID_MAX),
        buttons.PLAN_SCORE.data(placement=ID_MAX, item=len(ESTIMATE_ITEMS) - 1, score=5),
        buttons.PLAN_SUGGEST.data(placement=ID_MAX, side="gezinshuisouder", code=longest),
        buttons.PLAN_TYPE.data(placement=ID_MAX, side="gezinshuisouder"),
        buttons.GOAL_ACT.data(goal=ID_MAX, action="reached"),
        buttons.GOAL_CONFIRM.data(placement=ID_MAX, role="g", agreed=False),
    ]
    for data in datas:
        press = buttons.parse(data)
        assert press is not None, data
    # A forged role or action is no button of ours.
    assert buttons.parse("gk:1:b:y") is None
    assert buttons.parse("gl:1:delete") is None
    assert buttons.parse("pn:1:s:0:6") is None  # a score above 5
