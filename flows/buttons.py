"""Every kind of inline button, declared once: its prefix and typed fields.

Building a button's callback data and reading a press use the same declaration, so a button can
only say what a press can read back: `CONSENT.data(invite=5, agreed=True)` is "cs:y:5" and
`parse("cs:y:5")` is `Press(CONSENT, {"invite": 5, "agreed": True})`. Telegram gives back
whatever callback data a client sends, so `parse` is strict (ids 1 … 2**31-1, small numbers up to
a limit, choices from a fixed set, short tokens) and returns None for anything we could not have
made; the bot answers that with the one "expired" reply. The wire format is today's, so buttons
already in people's chats keep working. Which flow step handles each kind is the table in
`bot/handlers.py` (flows never import the bot); a test checks every kind here has a row there.

A new button kind: one `kind(...)` line here, one row in `bot/handlers.py` ROUTES, its flow step,
and its label in `messages/<lang>/labels.j2`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from flows.callbacks import ID_MAX, BadNumber, parse_id, small_number
from flows.people import LANGUAGES
from flows.questions import SKIP_REASONS
from flows.replies import Button
from storage.models import Phase

DATA_LIMIT = 64  # Telegram refuses callback data over 64 bytes
SEPARATOR = ":"


class BadButton(ValueError):
    """Values a button of this kind cannot carry, or data over Telegram's 64 bytes."""


class Part(Protocol):
    """One part of the data between colons; `name` "" is a fixed word that carries no value."""

    @property
    def name(self) -> str:
        """The value's name in a press; "" for a fixed word."""
        ...

    def read(self, text: str) -> Any:
        """Return the value, or raise ValueError when no button of ours carries this text."""
        ...

    def write(self, value: Any) -> str:
        """Return the text for a value, or raise ValueError when the value cannot be carried."""
        ...


@dataclass(frozen=True)
class Id:
    """A database id, 1 … 2**31-1."""

    name: str

    def read(self, text: str) -> int:
        return parse_id(text)

    def write(self, value: Any) -> str:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= ID_MAX:
            raise BadNumber(value)
        return str(value)


@dataclass(frozen=True)
class Number:
    """A small number 0 … limit (an index, a weekday, a count of days)."""

    name: str
    limit: int

    def read(self, text: str) -> int:
        value = small_number(text, self.limit)
        if value is None:
            raise BadNumber(text)
        return value

    def write(self, value: Any) -> str:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= self.limit:
            raise BadNumber(value)
        return str(value)


@dataclass(frozen=True)
class Choice:
    """One word from a fixed set."""

    name: str
    options: tuple[str, ...]

    def read(self, text: str) -> str:
        if text not in self.options:
            raise ValueError(text)
        return text

    def write(self, value: Any) -> str:
        return self.read(str(value))


@dataclass(frozen=True)
class Flag:
    """Yes or no, written as one letter."""

    name: str
    yes: str = "y"
    no: str = "n"

    def read(self, text: str) -> bool:
        if text not in (self.yes, self.no):
            raise ValueError(text)
        return text == self.yes

    def write(self, value: Any) -> str:
        return self.yes if value else self.no


@dataclass(frozen=True)
class Token:
    """A short word of letters, digits and . _ - (never the separator)."""

    name: str
    pattern: str = r"[A-Za-z0-9_.\-]{1,40}"

    def read(self, text: str) -> str:
        if not re.fullmatch(self.pattern, text):
            raise ValueError(text)
        return text

    def write(self, value: Any) -> str:
        return self.read(str(value))


@dataclass(frozen=True)
class Word:
    """A fixed word in the data ("go", "no"): it tells kinds with one prefix apart."""

    word: str
    name: str = ""

    def read(self, text: str) -> None:
        if text != self.word:
            raise ValueError(text)

    def write(self, value: Any) -> str:
        return self.word


@dataclass(frozen=True, eq=False)
class Kind:
    """One kind of button: a prefix and its parts, in the order they appear in the data."""

    name: str
    prefix: str
    parts: tuple[Part, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        """The names of the values a press carries."""
        return tuple(part.name for part in self.parts if part.name)

    def data(self, **values: Any) -> str:
        """Return the callback data for these values; raise BadButton when it cannot be made."""
        if set(values) != set(self.fields):
            raise BadButton(f"{self.name} takes {self.fields}, not {tuple(values)}")
        try:
            texts = [part.write(values.get(part.name)) for part in self.parts]
        except ValueError as error:
            raise BadButton(f"{self.name} cannot carry {values}") from error
        data = SEPARATOR.join((self.prefix, *texts))
        if len(data.encode("utf-8")) > DATA_LIMIT:
            raise BadButton(f"callback data over {DATA_LIMIT} bytes: {data!r}")
        return data

    def button(self, label: str, args: Mapping[str, Any] | None = None, **values: Any) -> Button:
        """Return a button with this label that presses this kind with these values."""
        return Button(label, self.data(**values), args=dict(args or {}))

    def read(self, texts: list[str]) -> dict[str, Any] | None:
        """Return the values in the parts after the prefix, or None when they do not fit."""
        if len(texts) != len(self.parts):
            return None
        values: dict[str, Any] = {}
        try:
            for part, text in zip(self.parts, texts, strict=True):
                value = part.read(text)
                if part.name:
                    values[part.name] = value
        except ValueError:  # BadNumber is a ValueError
            return None
        return values


@dataclass(frozen=True)
class Press:
    """A press we could have made: its kind and the values it carries."""

    kind: Kind
    values: dict[str, Any] = field(default_factory=dict)


KINDS: dict[str, Kind] = {}
_BY_PREFIX: dict[str, list[Kind]] = {}


def kind(name: str, prefix: str, *parts: Part) -> Kind:
    """Declare a button kind; two kinds with one prefix must differ in a fixed word or a type."""
    if name in KINDS:
        raise ValueError(f"button kind {name} declared twice")
    declared = Kind(name, prefix, parts)
    KINDS[name] = declared
    _BY_PREFIX.setdefault(prefix, []).append(declared)
    return declared


def parse(data: str) -> Press | None:
    """Return the press this data stands for, or None for forged, stale or unknown data."""
    if len(data.encode("utf-8")) > DATA_LIMIT:
        return None
    prefix, *texts = data.split(SEPARATOR)
    for candidate in _BY_PREFIX.get(prefix, ()):
        values = candidate.read(texts)
        if values is not None:
            return Press(candidate, values)
    return None


_PHASES = tuple(str(phase) for phase in Phase)
_CLOCK = r"[0-2][0-9]\.[0-5][0-9]"  # "14.00": a colon would split the data
_DAYS = 366  # the longest pause is a year

# Joining and leaving (flows/invites.py, flows/placements.py, flows/account.py).
CONSENT = kind("consent", "cs", Flag("agreed"), Id("invite"))
INVITE_FOR = kind("invite_for", "pl", Id("placement"))
INVITE_ROLE = kind("invite_role", "iv", Id("placement"), Choice("role", ("o", "g", "b")))
STOP = kind("stop", "st", Choice("choice", ("resume", "pause", "erase", "erase!", "no")))
# "Berichten weer aanzetten" under the pause confirmation and under /start while paused.
RESUME = kind("resume", "re")
LANGUAGE = kind("language", "lang", Choice("language", LANGUAGES))
CONTACT = kind("contact", "cr", Id("placement"))

# The weekly check-in (flows/checkins.py).
CHECKIN_ANSWER = kind(
    "checkin_answer", "ck", Id("checkin"), Number("index", 99), Token("value", r"[a-z0-9]{1,16}")
)
CHECKIN_SKIP = kind("checkin_skip", "ck", Id("checkin"), Word("skip"))
CHECKIN_WHY = kind("checkin_why", "ck", Id("checkin"), Word("why"), Choice("reason", SKIP_REASONS))
CHECKIN_DONE = kind("checkin_done", "ck", Id("checkin"), Word("done"))
CHECKIN_GO = kind("checkin_go", "ck", Id("checkin"), Word("go"))

# Settings (flows/preferences.py): open a choice, then pick a value.
SETTING = kind("setting", "in", Choice("what", ("d", "t", "od", "ot", "z", "p", "r")))
SET_DAY = kind("set_day", "in", Word("d"), Number("day", 6))
SET_TIME = kind("set_time", "in", Word("t"), Token("time", _CLOCK))
SET_DIGEST_DAY = kind("set_digest_day", "in", Word("od"), Number("day", 6))
SET_DIGEST_TIME = kind("set_digest_time", "in", Word("ot"), Token("time", _CLOCK))
SET_ZONE = kind("set_zone", "in", Word("z"), Number("zone", 99))
SET_PAUSE = kind("set_pause", "in", Word("p"), Number("days", _DAYS))

# The next phase (flows/phases.py) and the questionnaire (flows/measurement.py).
NEVER_MIND = kind("never_mind", "fa", Word("no"))
PHASE_FOR = kind("phase_for", "fa", Id("placement"))
PHASE_GO = kind("phase_go", "fa", Id("placement"), Choice("phase", _PHASES))
MEASURE_FOR = kind("measure_for", "me", Id("placement"))
MEASURE_GO = kind("measure_go", "me", Id("placement"), Word("go"))

# Meetings (flows/meetings.py): the /afspraak steps read their own state, then list and answer.
MEETING_QUIT = kind("meeting_quit", "mt", Word("x"))
MEETING_STEP = kind("meeting_step", "mt", Choice("step", ("nowhere", "done", "ok")))
MEETING_PICK = kind("meeting_pick", "mt", Choice("step", ("p", "t", "w")), Token("choice"))
MEETING_MOVE = kind("meeting_move", "mv", Id("meeting"))
MEETING_CANCEL = kind("meeting_cancel", "mc", Id("meeting"))
MEETING_CANCEL_YES = kind("meeting_cancel_yes", "mc", Id("meeting"), Word("y"))
RSVP = kind("rsvp", "rs", Id("meeting"), Choice("answer", ("y", "n", "t")))

# The plan review after a talk (flows/plan/review.py): each press is checked against the state.
REVIEW_START = kind("review_start", "pv", Word("p"), Id("placement"))
REVIEW_ACT = kind(
    "review_act", "pv", Word("g"), Id("review"), Id("goal"), Choice("act", ("k", "a", "r", "d"))
)
REVIEW_STEP = kind(
    "review_step", "pv", Word("s"), Id("review"), Choice("step", ("add", "done", "nonote"))
)
REVIEW_SIDE = kind("review_side", "pv", Word("w"), Id("review"), Choice("side", ("o", "g", "s")))
REVIEW_NEXT = kind("review_next", "pv", Word("n"), Id("review"), Number("months", 24))

# The digest (flows/digest_details.py): one placement's details, for its begeleider.
DETAILS = kind("placement_details", "dd", Id("placement"))

# The begeleidingsplan (flows/plan/estimate.py, flows/plan/goals.py): the plan view of one
# placement, its estimate steps, adding and changing goals, and a participant's confirmation.
_SIDES = ("ouder", "gezinshuisouder", "samen")
_GOAL_ACTIONS = ("adjust", "reached", "dropped", "open")
PLAN_FOR = kind("plan_for", "pn", Id("placement"))
PLAN_ESTIMATE = kind("plan_estimate", "pn", Id("placement"), Word("e"))
PLAN_SCORE = kind(
    "plan_score", "pn", Id("placement"), Word("s"), Number("item", 9), Number("score", 5)
)
PLAN_NO_NOTE = kind("plan_no_note", "pn", Id("placement"), Word("nn"))
PLAN_ADD = kind("plan_add", "pn", Id("placement"), Word("a"))
PLAN_SIDE = kind("plan_side", "pn", Id("placement"), Word("sd"), Choice("side", _SIDES))
PLAN_SUGGEST = kind(
    "plan_suggest", "pn", Id("placement"), Word("g"), Choice("side", _SIDES), Token("code")
)
PLAN_TYPE = kind("plan_type", "pn", Id("placement"), Word("t"), Choice("side", _SIDES))
PLAN_SEND = kind("plan_send", "pn", Id("placement"), Word("send"))
GOAL_ACT = kind("goal_act", "gl", Id("goal"), Choice("action", _GOAL_ACTIONS))
# A participant's answer to "Klopt dit voor jou?": the role the message was sent to (o/g).
GOAL_CONFIRM = kind(
    "goal_confirm", "gk", Id("placement"), Choice("role", ("o", "g")), Flag("agreed")
)

# The evaluatiefase's reflections (flows/plan/reflections.py): skip question `index`.
REFLECT_SKIP = kind("reflect_skip", "rf", Id("placement"), Number("index", 9))

# Closing a placement (flows/plan/ending.py): each step carries the choices so far, so a restart
# loses nothing. `talks` is a bit mask over route.CLOSING_TALKS.
# "Nu afsluiten" under /fase's confirm: a placement may end early (a breakdown) from any phase.
END_BEGIN = kind("end_begin", "ed", Id("placement"), Word("b"))
_REASONS = ("thuis", "zelfstandig", "overplaatsing", "breakdown", "anders")
END_TALK = kind(
    "end_talk", "ed", Id("placement"), Number("talks", 7), Word("t"), Number("toggle", 2)
)
END_REASONS = kind("end_reasons", "ed", Id("placement"), Number("talks", 7), Word("r"))
END_REASON = kind(
    "end_reason", "ed", Id("placement"), Number("talks", 7), Word("r"), Choice("reason", _REASONS)
)
END_HANDOVER = kind(
    "end_handover",
    "ed",
    Id("placement"),
    Number("talks", 7),
    Choice("reason", _REASONS),
    Flag("handover"),
)
END_GO = kind(
    "end_go",
    "ed",
    Id("placement"),
    Number("talks", 7),
    Choice("reason", _REASONS),
    Flag("handover"),
    Word("go"),
)

# The coordinator's team (flows/team.py) and the research question (flows/research.py).
TEAM_INVITE = kind("team_invite", "tm", Word("i"), Id("organisation"))
TEAM_ROLE = kind("team_role", "tm", Word("r"), Id("organisation"), Choice("role", ("b", "h", "c")))
TEAM_OFF = kind("team_off", "tm", Word("o"), Id("organisation"), Number("page", 99))
TEAM_PICK = kind("team_pick", "tm", Word("p"), Id("staff"))
TEAM_OFF_GO = kind("team_off_go", "tm", Word("x"), Id("staff"))
# "o": asked once after joining; "s": the switch in /instellingen.
RESEARCH = kind("research", "rc", Choice("where", ("o", "s")), Flag("agreed"))
# h4: the pilot export for researchers (the coordinator, under /organisatie).
PILOT_EXPORT = kind("pilot_export", "px", Id("organisation"))
# /overdragen (flows/handover.py): from whom (a staff id), what (a placement id, or 0 for all of
# theirs), to whom (a staff id), then go. Every press carries all it needs and is checked again.
HANDOVER_FROM = kind("handover_from", "ho", Word("f"), Id("source"))
HANDOVER_WHAT = kind("handover_what", "ho", Word("w"), Id("source"), Number("placement", ID_MAX))
HANDOVER_TO = kind(
    "handover_to", "ho", Word("t"), Id("source"), Number("placement", ID_MAX), Id("target")
)
HANDOVER_GO = kind(
    "handover_go", "ho", Word("g"), Id("source"), Number("placement", ID_MAX), Id("target")
)
