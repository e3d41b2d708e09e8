"""The weekly check-in and the collaboration questionnaire, as data.

This is the question bank: each question's answer kind and options. Which questions a role gets
in which phase is the route's (`flows/route.py`). A new question is a row here, an id there and a
template `messages/<lang>/checkin/q_<id>.j2` — no handler code changes. Our own wording;
no licensed instruments are copied.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    FACES = "faces"  # 😞 🙁 😐 🙂 😄, stored as 1-5
    CHOICE = "choice"  # a few named options, each with a score (or none)


@dataclass(frozen=True)
class Option:
    """A choice: the value stored, the label macro shown, and its score (None: not scored)."""

    value: str
    label: str
    score: int | None = None


@dataclass(frozen=True)
class Question:
    id: str
    kind: Kind
    options: tuple[Option, ...] = ()
    # What the answer tells the begeleider; signals read these.
    measures: str | None = None

    @property
    def values(self) -> tuple[str, ...]:
        if self.kind == Kind.FACES:
            return ("1", "2", "3", "4", "5")
        return tuple(option.value for option in self.options)

    def score(self, value: str) -> int | None:
        """The 1-5 score of an answer (higher is better), or None if it is not scored."""
        if self.kind == Kind.FACES:
            return int(value)
        for option in self.options:
            if option.value == value:
                return option.score
        return None


FACES = ("😞", "🙁", "😐", "🙂", "😄")
CONTACT_NONE = "geen"

CONTACT = Question(
    "contact",
    Kind.CHOICE,
    (
        Option("gesproken", "contact_spoken"),
        Option("app", "contact_app"),
        Option(CONTACT_NONE, "contact_none"),
    ),
    measures="contact",
)
QUESTIONS: dict[str, Question] = {
    q.id: q
    for q in (
        CONTACT,
        Question("samenwerken", Kind.FACES, measures="collaboration"),
        # ouder
        Question("gehoord", Kind.FACES, measures="heard"),
        Question(
            "weet_hoe_het_gaat",
            Kind.CHOICE,
            (
                Option("ja", "know_yes", 5),
                Option("beetje", "know_bit", 3),
                Option("nee", "know_no", 1),
            ),
            measures="informed",
        ),
        # gezinshuisouder
        Question(
            "gedeeld",
            Kind.CHOICE,
            (Option("ja", "yes", 5), Option("nee", "no", 1)),
            measures="informing",
        ),
        Question(
            # Reverse-scored: the house parent's own sense that the youth found it hard between
            # home and the gezinshuis (caught in loyalty); "ja" is worse.
            "spanning",
            Kind.CHOICE,
            (
                Option("nee", "tension_no", 5),
                Option("beetje", "tension_bit", 3),
                Option("ja", "tension_yes", 1),
            ),
            measures="tension",
        ),
        # rotating phase items
        Question("afspraken_duidelijk", Kind.FACES, measures="phase_item"),
        Question("welkom", Kind.FACES, measures="phase_item"),  # ouder: feeling welcome
        Question("ouders_iets_vragen", Kind.FACES, measures="phase_item"),  # gho: ease of asking
        Question("hoe_gaat_het_met_jou", Kind.FACES, measures="phase_item"),
        Question("betrokken", Kind.FACES, measures="phase_item"),  # ouder: involved in choices
        Question("over_samenwerking_gepraat", Kind.FACES, measures="phase_item"),
        Question("iets_goeds_verteld", Kind.FACES, measures="phase_item"),
        Question("terugkijken", Kind.FACES, measures="phase_item"),
        Question("meenemen", Kind.FACES, measures="phase_item"),
        # Progress on one of the person's own plan goals (flows/plan/progress.py): every fourth
        # week, after the base questions, optional; asked as "doel:<goal id>".
        Question("doel", Kind.FACES, measures="goal_progress"),
        # Retired: no longer asked (see RETIRED), kept so that their stored answers and old
        # check-ins still read as they were asked.
        Question("kennismaking", Kind.FACES, measures="phase_item"),
        Question("rol_als_ouder", Kind.FACES, measures="phase_item"),
    )
}
# Questions the route no longer asks. Their answers keep the meaning they were given under, so a
# question that now measures something else got a new id instead of new words: `kennismaking`
# ("how does the contact feel so far", the same as `samenwerken`) became `welkom` (ouder) and
# `ouders_iets_vragen` (gezinshuisouder); `rol_als_ouder` (how well she keeps her role, a test of
# her) became `betrokken` (how involved she feels in the choices about the youth).
RETIRED = ("kennismaking", "rol_als_ouder")

SKIP_REASONS = ("druk", "geen_contact", "liever_niet", "anders")


# The twice-yearly collaboration questionnaire: both sides rate the same ten dimensions, 1-5.
DIMENSIONS = (
    "respect",
    "open_communicatie",
    "proactief_informeren",
    "gedeelde_verantwoordelijkheid",
    "rol_ouder_erkend",
    "vertrouwen",
    "afspraken_nagekomen",
    "samen_oplossen",
    "elkaar_aanvullen",
    "over_samenwerking_praten",
)
for _dimension in DIMENSIONS:
    QUESTIONS[f"dim_{_dimension}"] = Question(
        f"dim_{_dimension}", Kind.FACES, measures="dimension"
    )
MEASUREMENT_QUESTIONS = tuple(f"dim_{d}" for d in DIMENSIONS)
