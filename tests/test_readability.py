"""Every participant-facing text reads easily: Flesch-Douma ≥ 65 (../shared/domain/voice.md).

Each nl template that an ouder or gezinshuisouder may read is rendered with every sample context
of tests/message_samples.py; its visible text (Telegram HTML, emoji and numbers left out) is scored
with Flesch-Douma, the Dutch Flesch formula:

    206.835 - 0.93 * words per sentence - 77 * syllables per word

Texts of one sentence are not scored (a question on a button screen, a label). Which templates
participants read is data here (`READERS`): a new template fails
`test_every_template_is_classified` until someone decides who reads it. Samples of a shared text
that show its staff branch (`roles` without a participant, `participant` False) are not scored.

The scorer is our own and small: textstat 0.7.13 has the Dutch formula, but pulls in nltk and
counts a sentence of one or two words ("Hoi Olga 👋") as no sentence, which flatters short
greetings. Syllables are counted per pyphen hyphenation chunk, as vowel groups ("ui", "eeu" and
"ij" are one; a trema starts a new one), because the hyphenation patterns do not split off single
letters ("o-ver", "i-dee").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

import pyphen
import pytest

from bot.render import MESSAGES_DIR, Renderer
from bot.sandbox.html import parse_html
from tests.message_samples import BASE, VARIANTS

MINIMUM = 65.0

# Who reads each template: "p" an ouder or gezinshuisouder may (scored), "s" staff only, "-" not
# prose (documents, partials and lists of names). Per folder, every template by name.
READERS: dict[str, dict[str, str]] = {
    "account": {
        "choose_language": "p",
        "erase_blocked": "s",  # only a begeleider leads placements
        "erase_confirm": "p",
        "erased": "p",
        "erased_notice": "s",
        "export.txt": "-",
        "export_caption": "p",
        "export_nothing": "p",
        "help": "p",
        "help_unknown": "p",
        "language_set": "p",
        "paused": "p",
        "paused_notice": "s",
        "privacy": "p",
        "resumed": "p",
        "resumed_notice": "s",
        "stop_cancelled": "p",
        "stop_menu": "p",
        "stop_unknown": "p",
    },
    "export": {
        "pilot_caption": "s",  # h4: only a coordinator exports
    },
    "cards": {
        card: "p"
        for card in (
            "afspraken_nagekomen",
            "elkaar_aanvullen",
            "gedeelde_verantwoordelijkheid",
            "open_communicatie",
            "over_samenwerking_praten",
            "proactief_informeren",
            "respect",
            "rol_ouder_erkend",
            "samen_oplossen",
            "vertrouwen",
        )
    },
    "checkin": {
        p.name[: -len(".j2")]: "p" for p in sorted((MESSAGES_DIR / "nl" / "checkin").glob("*.j2"))
    },
    "common": {
        "button_expired": "p",
        "cancelled": "p",
        "error": "p",
        "not_registered": "p",
        "nothing_asked": "p",
        "only_begeleider": "p",  # read by a participant who tried a staff command
        "only_coordinator": "p",  # read by anyone who tried a coordinator's command
        "only_staff": "p",
        "only_text": "p",
        "unknown_command": "p",
        "unreachable_notice": "s",
    },
    "contact": {
        "_call": "-",  # a phrase inside the others
        "alert": "s",
        "already_asked": "p",
        "choose_placement": "p",
        "only_participants": "p",
        "requested": "p",
    },
    # The weekly digest is for begeleiders only: every template in the folder, also new ones.
    "digest": {
        p.name[: -len(".j2")]: "s" for p in sorted((MESSAGES_DIR / "nl" / "digest").glob("*.j2"))
    },
    "measurement": {
        "already_open": "s",
        "choose_placement": "s",
        "confirm": "s",
        "results": "s",
        "started": "s",
    },
    "meeting": {
        "_details": "-",
        "ask_day": "s",
        "ask_move": "s",
        "ask_placement": "s",
        "ask_time": "s",
        "ask_type": "s",
        "ask_when": "s",
        "ask_where": "s",
        "ask_who": "s",
        "bad_when": "s",
        "bad_where": "s",
        "cancel_confirm": "s",
        "cancelled": "p",
        "cancelled_ok": "s",
        "confirm": "s",
        "list": "-",  # /afspraken: a list of moments and names
        "moved": "p",
        "moved_ok": "s",
        "nobody": "s",
        "not_yours": "p",
        "over": "p",
        "planned": "p",
        "planned_ok": "s",
        "reminder": "p",
        "rsvp_notice": "s",
        "rsvp_thanks": "p",
        "use_buttons": "s",
    },
    "onboarding": {
        "consent_given": "p",
        "consent_refused": "p",
        "consent_request": "p",
        "invite_already_in": "p",
        "invite_behandelaar_taken": "s",
        "invite_expired": "p",
        "invite_placement_closed": "p",
        "invite_side_full": "p",
        "invite_unknown": "p",
        "invite_used": "p",
        "invite_used_by_you": "p",
        "invite_wrong_person": "p",
        "joined_notice": "s",
        "start_known": "p",
        "start_without_invite": "p",
        "use_the_buttons": "p",
        "welcome_begeleider": "s",
        "welcome_coordinator": "s",
        "welcome_behandelaar": "s",
        "welcome_gezinshuisouder": "p",
        "welcome_ouder": "p",
        "wrong_person_notice": "s",
    },
    "phase": {
        "already": "s",
        "changed": "s",
        "choose_placement": "s",
        "confirm": "s",
        "none": "s",
        "notice": "p",
    },
    "placements": {
        t: "s"
        for t in (
            "ask_gezinshuis",
            "ask_start_date",
            "ask_youth_name",
            "bad_gezinshuis",
            "bad_start_date",
            "bad_youth_name",
            "choose_invite_role",
            "closed",
            "created",
            "invite_link",
            "list",
            "not_yours",
            "role_full",
        )
    },
    "plan": {
        **{
            p.name[: -len(".j2")]: "p"
            for p in sorted((MESSAGES_DIR / "nl" / "plan").glob("goal_*.j2"))
        },
        **{
            p.name[: -len(".j2")]: "s"
            for p in sorted((MESSAGES_DIR / "nl" / "plan").glob("estimate_*.j2"))
        },
        "goals_choose_placement": "s",
        "goals_view": "s",
        "goals_ask_side": "s",
        "goals_ask_goal": "s",
        "goals_ask_text": "s",
        "goals_bad_text": "s",
        "goals_added": "s",
        "goals_already": "s",
        "goals_adjusted": "s",
        "goals_unchanged": "s",
        "goals_sent": "s",
        "goals_confirm": "p",
        "goals_thanks": "p",
        "goals_ask_word": "p",
        "goals_bad_word": "p",
        "goals_nothing_open": "p",
        "goals_closed": "p",
        "_goal_words": "-",  # a goal's words inside other messages
        # The plan review (flows/plan/review.py) goes to the begeleider only.
        "review_after": "s",
        "review_ask": "s",
        "review_before": "s",
        "review_goals": "s",
        "review_reply": "s",
        # The ending (flows/plan/reflections.py, flows/plan/ending.py).
        "ending_already": "s",
        "ending_closed": "s",
        "ending_confirm": "s",
        "ending_handover": "s",
        "ending_last": "p",
        "ending_reason": "s",
        "ending_summary.txt": "s",
        "ending_talks": "s",
        "reflect_already": "p",
        "reflect_done": "p",
        "reflect_empty": "p",
        "reflect_question": "p",
        "reflect_saved": "p",
    },
    "prompt": {
        p.name[: -len(".j2")]: "p" for p in sorted((MESSAGES_DIR / "nl" / "prompt").glob("*.j2"))
    },
    "route": {
        "goal_evaluatiefase": "s",  # shown in `samenopvoeden route`, for review
        "goal_installatiefase": "s",
        "goal_stabilisatiefase": "s",
        "overview.txt": "-",
    },
    "settings": {
        "bad_pause_date": "p",
        "bad_time": "p",
        "bad_zone": "p",
        "choose_day": "p",
        "choose_digest_day": "s",
        "choose_digest_time": "s",
        "choose_pause": "p",
        "choose_time": "p",
        "choose_zone": "p",
        "menu": "p",
        "saved": "p",
    },
    # The organisation overview (h3): read by coordinators only.
    "organisation": {"chart_caption": "s", "overview": "s", "part": "-"},
    # The coordinator's team and the research question (h1).
    "team": {
        "already_inactive": "s",
        "ask_name": "s",
        "bad_name": "s",
        "choose_member": "s",
        "choose_role": "s",
        "confirm": "s",
        "deactivated": "s",
        "ended_notice": "s",
        "invite_link": "s",
        "list": "s",
        "nobody": "s",
        "not_yourself": "s",
        "still_placements": "s",
    },
    "research": {
        "answered": "p",
        "changed": "p",
        "question": "p",
    },
    # /overdragen (flows/handover.py): staff steps; the families' notice and the meeting notice
    # (an invitee may be an ouder or gezinshuisouder) are read by participants.
    "handover": {
        "_what": "-",
        "already": "s",
        "choose_source": "s",
        "choose_target": "s",
        "choose_what": "s",
        "confirm": "s",
        "done": "s",
        "erase_blocked_notice": "s",
        "family_notice": "p",
        "meeting_notice": "p",
        "no_sources": "s",
        "no_targets": "s",
        "none_own": "s",
        "nothing_left": "s",
        "received": "s",
        "same_person": "s",
        "taken": "s",
        "target_inactive": "s",
    },
}
PARTICIPANT_TEMPLATES = sorted(
    f"{folder}/{name}"
    for folder, names in READERS.items()
    for name, reader in names.items()
    if reader == "p"
)

_VOWELS = "aeiouyáéíóúàèìòùâêîôûäëïöü"
_TREMA = "äëïöü"
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)")


@cache
def _hyphenator() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="nl_NL", left=1, right=1)


def syllables(word: str) -> int:
    """Dutch syllables: vowel groups in each hyphenation chunk ("ij" is a vowel, trema splits)."""
    count = 0
    for chunk in _hyphenator().inserted(word.lower().replace("ij", "y")).split("-"):
        groups, previous = 0, False
        for letter in chunk:
            vowel = letter in _VOWELS
            if vowel and (not previous or letter in _TREMA):
                groups += 1
            previous = vowel
        count += groups
    return max(count, 1)


def sentences(text: str) -> Iterator[list[str]]:
    """The words of each sentence: a line break or . ! ? … ends one; numbers are not words."""
    for line in text.splitlines():
        for part in _SENTENCE_END.split(line):
            words = _WORD.findall(part)
            if words:
                yield words


def flesch_douma(text: str) -> tuple[float, int]:
    """The score and the number of sentences of a plain text."""
    found = list(sentences(text))
    words = [w for sentence in found for w in sentence]
    if not words:
        return 0.0, 0
    per_sentence = len(words) / len(found)
    per_word = sum(syllables(w) for w in words) / len(words)
    return 206.835 - 0.93 * per_sentence - 77 * per_word, len(found)


@cache
def _renderer() -> Renderer:
    return Renderer()


def visible(template: str, context: dict[str, object], renderer: Renderer | None = None) -> str:
    """What a person sees: rendered, Telegram HTML read, commands read as words."""
    rendered = (renderer or _renderer()).render("nl", template, context)
    return parse_html(rendered).text.replace("/", " ")


PARTICIPANT_ROLES = {"ouder", "gezinshuisouder"}


def read_by_participant(context: dict[str, object]) -> bool:
    """Whether this sample is what a participant sees (not the staff branch of a shared text)."""
    roles = context.get("roles")
    if isinstance(roles, list) and not PARTICIPANT_ROLES & set(roles):
        return False
    return context.get("participant") is not False


def scores(template: str, renderer: Renderer | None = None) -> list[float]:
    """The score of each participant's sample rendering with two or more sentences."""
    found = []
    for context in VARIANTS.get(template, [BASE]):
        if not read_by_participant(context):
            continue
        score, count = flesch_douma(visible(template, context, renderer))
        if count >= 2:
            found.append(score)
    return found


def test_every_template_is_classified() -> None:
    root = MESSAGES_DIR / "nl"
    on_disk = {
        str(p.relative_to(root))[: -len(".j2")] for p in root.rglob("*.j2") if p.parent != root
    }
    classified = {f"{folder}/{name}" for folder, names in READERS.items() for name in names}
    assert on_disk - classified == set(), "decide who reads these templates (READERS)"
    assert classified - on_disk == set(), "READERS names templates that do not exist"
    assert {r for names in READERS.values() for r in names.values()} <= {"p", "s", "-"}


def test_participant_texts_score_65_or_more() -> None:
    failing = {}
    for template in PARTICIPANT_TEMPLATES:
        found = scores(template)
        if found and min(found) < MINIMUM:
            failing[template] = round(min(found), 1)
    listed = "\n".join(f"  {t}: {s}" for t, s in sorted(failing.items(), key=lambda i: i[1]))
    assert not failing, f"Flesch-Douma below {MINIMUM}:\n{listed}"


@pytest.mark.parametrize(
    ("word", "count"),
    [
        ("over", 2),
        ("idee", 2),
        ("ideaal", 3),
        ("één", 1),
        ("beëindigen", 4),
        ("gezinshuisouders", 5),
        ("samenwerkingsgesprek", 6),
        ("blij", 1),
        ("eeuw", 1),
        ("je", 1),
        ("Telegram-account", 5),
    ],
)
def test_syllables_are_counted_as_spoken(word: str, count: int) -> None:
    assert syllables(word) == count


def test_the_score_follows_the_formula_and_can_fail() -> None:
    easy = "Hoi Olga. Hoe ging het deze week? Tik op een gezichtje."
    hard = (
        "Wij verzoeken u de samenwerkingsrelatie met de gezinshuisouders te beoordelen "
        "op een schaal van een tot vijf, rekening houdend met de uithuisplaatsing."
    )
    score, count = flesch_douma(easy)
    # 11 words, 3 sentences, 15 syllables
    assert count == 3
    assert score == pytest.approx(206.835 - 0.93 * 11 / 3 - 77 * 15 / 11)
    assert score >= MINIMUM
    hard_score, _ = flesch_douma(hard + " " + hard)
    assert hard_score < MINIMUM
