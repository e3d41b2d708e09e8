"""The relationele route in one place: what each phase is for, what it asks of whom, and when.

Read this file to answer "what does an ouder get asked in the stabilisatiefase, when, and with
which tip?": the check-in questions per role and phase (`QUESTIONS`), the tips (`TIPS`), the
weekly rhythm (`CHECKIN_MOMENT`, `TIP_DAYS_AFTER_CHECKIN`) and the route meetings that are due
(`MEETING_TYPES`). Texts live in templates named after the ids here:
`messages/<lang>/checkin/q_<question>.j2`, `prompt/<tip>.j2`, `route/goal_<phase>.j2` and the
meeting labels in `labels.j2`. The question bank itself (answer kinds and options) is in
`flows/questions.py`. `samenopvoeden route` prints this table for review by a behandelaar.
Source: ../shared/domain/relational-route.md (from the study "Jouw Gezin, Mijn Zorg?").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.models import EndingReason, GoalSide, Intensity, Phase, Role

OUDER, GHO, BEG, BEH = Role.OUDER, Role.GEZINSHUISOUDER, Role.BEGELEIDER, Role.BEHANDELAAR
INSTALL, STABLE, EVAL = Phase.INSTALLATIEFASE, Phase.STABILISATIEFASE, Phase.EVALUATIEFASE
PARTICIPANTS = (OUDER, GHO)

# --- Phases: their order; what each is for is the template route/goal_<phase> --------------

PHASES = (INSTALL, STABLE, EVAL)
NEXT_PHASE: dict[Phase, Phase] = {
    INSTALL: STABLE,
    STABLE: EVAL,
    EVAL: Phase.AFGESLOTEN,
}

# --- The weekly check-in per role and phase ---------------------------------------------------


@dataclass(frozen=True)
class CheckinQuestions:
    """Every week the base questions, plus one rotating item (in turn, by ISO week)."""

    base: tuple[str, ...]
    rotating: tuple[str, ...] = ()


_OUDER_BASE = ("contact", "samenwerken", "gehoord", "weet_hoe_het_gaat")
_GHO_BASE = ("contact", "samenwerken", "gedeeld", "spanning")
QUESTIONS: dict[tuple[Role, Phase], CheckinQuestions] = {
    (OUDER, INSTALL): CheckinQuestions(_OUDER_BASE, ("afspraken_duidelijk", "welkom")),
    (GHO, INSTALL): CheckinQuestions(_GHO_BASE, ("afspraken_duidelijk", "ouders_iets_vragen")),
    (OUDER, STABLE): CheckinQuestions(_OUDER_BASE, ("hoe_gaat_het_met_jou", "betrokken")),
    (GHO, STABLE): CheckinQuestions(
        _GHO_BASE, ("over_samenwerking_gepraat", "iets_goeds_verteld")
    ),
    (OUDER, EVAL): CheckinQuestions(_OUDER_BASE, ("terugkijken", "meenemen")),
    (GHO, EVAL): CheckinQuestions(_GHO_BASE, ("terugkijken", "meenemen")),
}


def weekly_questions(role: Role, phase: Phase, week_number: int) -> tuple[str, ...]:
    """The questions of one weekly check-in: the base set plus one rotating phase item."""
    found = QUESTIONS.get((role, phase))
    if found is None:
        return ()
    rotating = found.rotating
    extra = (rotating[week_number % len(rotating)],) if rotating else ()
    return found.base + extra


# When the weekly check-in comes by default (a person may choose another moment in
# /instellingen): weekday (0 = Monday) and local time.
CHECKIN_MOMENT: dict[Role, tuple[int, dt.time]] = {
    OUDER: (6, dt.time(19, 0)),  # Sunday 19:00
    GHO: (6, dt.time(20, 0)),  # Sunday 20:00
}
# The begeleider's weekly digest, by default (she may choose another in /instellingen).
DIGEST_MOMENT: tuple[int, dt.time] = (0, dt.time(8, 30))  # Monday 08:30

# --- Tips: short reflective prompts, at most one every two weeks ------------------------------

TIPS: dict[tuple[Role, Phase], tuple[str, ...]] = {
    (OUDER, INSTALL): ("ouder_vertel_iets", "ouder_vragen_opschrijven"),
    (GHO, INSTALL): ("gho_vraag_gewoontes", "gho_contact_afspreken"),
    (OUDER, STABLE): ("ouder_verdriet_mag", "ouder_jouw_rol"),
    (GHO, STABLE): ("gho_iets_goeds", "gho_hoe_samenwerken"),
    (OUDER, EVAL): ("terugkijken_samen", "ouder_rol_later"),
    (GHO, EVAL): ("terugkijken_samen", "gho_lessen"),
}
# Tips come in even ISO weeks only, three days after the person's check-in day, and not in the
# first week after someone joined (they first get used to the weekly questions).
TIP_DAYS_AFTER_CHECKIN = 3
TIP_SETTLE_IN = dt.timedelta(days=7)


def tip_for(role: Role, phase: Phase, week_number: int) -> str | None:
    """The tip of this two-week period for a role in a phase, or None (odd week, no tips)."""
    tips = TIPS.get((role, phase), ())
    if not tips or week_number % 2:
        return None
    return tips[(week_number // 2) % len(tips)]


# --- Route meetings: who is invited, in which phase, and when the route expects them ---------

MONITORING = "samenwerkingsgesprek"
INTERVISIE = "intervisie"
WEEK = dt.timedelta(weeks=1)
HALF_YEAR = dt.timedelta(weeks=26)


@dataclass(frozen=True)
class MeetingType:
    code: str
    roles: tuple[Role, ...]  # invited by default
    phases: tuple[Phase, ...]  # offered in these phases
    # The route expects it: once, `first_due` after the phase starts; or every `every` after.
    first_due: dt.timedelta | None = None
    every: dt.timedelta | None = None


MEETING_TYPES: dict[str, MeetingType] = {
    t.code: t
    for t in (
        MeetingType(
            "kennismakingsgesprek", (OUDER, GHO, BEG, BEH), (INSTALL,), first_due=3 * WEEK
        ),
        MeetingType("kennismaking_ouders", (OUDER, BEG), (INSTALL,), first_due=3 * WEEK),
        MeetingType("kennismaking_gezinshuisouders", (GHO, BEG), (INSTALL,), first_due=3 * WEEK),
        MeetingType(
            "begeleidingsgesprek_ouders",
            (OUDER, BEG),
            (STABLE,),
            first_due=12 * WEEK,
            every=HALF_YEAR,
        ),
        MeetingType(
            "begeleidingsgesprek_gezinshuisouders",
            (GHO, BEG),
            (STABLE,),
            first_due=12 * WEEK,
            every=HALF_YEAR,
        ),
        MeetingType(
            MONITORING, (OUDER, GHO, BEG, BEH), (STABLE,), first_due=12 * WEEK, every=HALF_YEAR
        ),
        MeetingType(INTERVISIE, (GHO, BEG), (STABLE,)),
        MeetingType("extra_gesprek", (OUDER, GHO, BEG), (INSTALL, STABLE, EVAL)),
        MeetingType("afrondend_gesprek_ouders", (OUDER, BEG), (EVAL,), first_due=6 * WEEK),
        MeetingType("afsluitend_gesprek", (OUDER, GHO, BEG, BEH), (EVAL,), first_due=6 * WEEK),
        MeetingType("afrondend_gesprek_gezinshuisouders", (GHO, BEG), (EVAL,), first_due=6 * WEEK),
    )
}

# --- The begeleidingsplan voor samenwerking ---------------------------------------------------
# Texts: messages/<lang>/plan/estimate_<item>.j2, plan/goal_<suggestion>.j2,
# plan/reflect_<question>.j2 and the ending reasons in labels.j2.

# The estimate at the start (installatiefase): the begeleider rates each item 1-5 (5 = helps the
# collaboration most). Our own items, not a licensed instrument.
ESTIMATE_ITEMS = (
    "bereid_ouders",  # how willing the ouders look to work together with the gezinshuis
    "bereid_gezinshuisouders",  # how willing the gezinshuisouders look to work with the ouders
    "ervaring",  # earlier experience with working together (both sides)
    "praktisch",  # practical room: distance, time, transport, language
)
# Extra support when any item is at most this, or their mean is below EXTRA_BELOW_MEAN.
EXTRA_AT_MOST = 2
EXTRA_BELOW_MEAN = 3.0


def intensity_for(scores: dict[str, int]) -> Intensity:
    """Standard or extra support, from the estimate's item scores."""
    values = [scores[item] for item in ESTIMATE_ITEMS if item in scores]
    if not values:
        return Intensity.STANDARD
    if min(values) <= EXTRA_AT_MOST or sum(values) / len(values) < EXTRA_BELOW_MEAN:
        return Intensity.EXTRA
    return Intensity.STANDARD


# Suggested goals per phase and side (the begeleider may also type her own). Our own wording.
GOAL_SUGGESTIONS: dict[tuple[Phase, GoalSide], tuple[str, ...]] = {
    (INSTALL, GoalSide.OUDER): ("ouder_kennen", "ouder_afspraken"),
    (INSTALL, GoalSide.GEZINSHUISOUDER): ("gho_kennen", "gho_afspraken"),
    (INSTALL, GoalSide.SAMEN): ("samen_afspraken", "samen_contact"),
    (STABLE, GoalSide.OUDER): ("ouder_verdragen", "ouder_rol", "ouder_meedoen"),
    (STABLE, GoalSide.GEZINSHUISOUDER): ("gho_delen", "gho_relatie"),
    (STABLE, GoalSide.SAMEN): ("samen_praten", "samen_oplossen"),
    (EVAL, GoalSide.OUDER): ("ouder_rol_later",),
    (EVAL, GoalSide.GEZINSHUISOUDER): ("gho_afscheid",),
    (EVAL, GoalSide.SAMEN): ("samen_afsluiten",),
}
# Which goals a participant may see: their own side's and the collaboration's, never the other
# side's personal goals (Jeugdwet: the sides' own matters stay apart).
VISIBLE_SIDES: dict[Role, tuple[GoalSide, ...]] = {
    OUDER: (GoalSide.OUDER, GoalSide.SAMEN),
    GHO: (GoalSide.GEZINSHUISOUDER, GoalSide.SAMEN),
}
# Progress: every GOAL_QUESTION_EVERY-th ISO week the weekly check-in adds one question about one
# of the person's visible open goals (in turn); a goal without progress this long needs attention.
GOAL_QUESTION_EVERY = 4
GOAL_STALLED = dt.timedelta(weeks=8)

# The evaluatiefase: three reflective questions to each ouder and gezinshuisouder, stored per side.
REFLECTION_QUESTIONS = ("goed", "lastig", "meenemen")

# How a placement ends; planned endings against the premature one the route tries to prevent.
PLANNED_ENDINGS = (EndingReason.RETURN_HOME, EndingReason.INDEPENDENCE, EndingReason.TRANSFER)
PREMATURE_ENDINGS = (EndingReason.BREAKDOWN,)
# The closing talks of the evaluatiefase the begeleider records (route meeting codes).
CLOSING_TALKS = (
    "afrondend_gesprek_ouders",
    "afrondend_gesprek_gezinshuisouders",
    "afsluitend_gesprek",
)

# The plan review at the twice-yearly talks of the stabilisatiefase (flows/plan/review.py).
# Before such a talk the begeleider gets the plan with progress; after it she records the review.
REVIEW_TALKS = ("begeleidingsgesprek_ouders", "begeleidingsgesprek_gezinshuisouders", MONITORING)
REVIEW_AHEAD = dt.timedelta(days=2)  # the plan goes to the begeleider this long before the talk
REVIEW_AFTER = dt.timedelta(hours=2)  # "how did the review go?" this long after the talk began
REVIEW_PROMPT_UNTIL = dt.timedelta(days=14)  # no prompt for a talk longer ago than this
REVIEW_NEXT_MONTHS = 6  # the button "over 6 maanden" for the next review
# No review recorded this long after entering the stabilisatiefase: overdue in the digest.
REVIEW_FIRST_DUE = dt.timedelta(weeks=26)
