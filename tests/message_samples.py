"""Sample contexts that render every template; BASE is a superset, VARIANTS cover branches.

A new template variable fails the template test until a sample is added here: on purpose.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace as NS
from typing import Any

from flows.questions import QUESTIONS

NOW = dt.datetime(2026, 3, 12, 9, 5, tzinfo=dt.UTC)
HOSTILE = '<b>Sam & "co"</b> 😀 &amp; </i>'  # typed text must never break a message

PLACEMENTS = [
    {
        "youth": "Sam",
        "gezinshuis": "De Linde",
        "phase": "installatiefase",
        "weeks_in_phase": 0,
        "ouders": ["Olga", "Piet"],
        "gezinshuisouders": [],
        "behandelaar": None,
        "mine_as": "begeleider",
        "open_invites": {"gezinshuisouder": 2, "behandelaar": 1},
    },
    {
        "youth": "Anne-Fleur",
        "gezinshuis": HOSTILE,
        "phase": "afgesloten",
        "weeks_in_phase": 5,
        "ouders": [],
        "gezinshuisouders": [HOSTILE],
        "behandelaar": "Bea",
        "mine_as": "behandelaar",
        "open_invites": {"ouder": 1},
    },
]
EXPORT = {
    "person": NS(first_name="Olga", created_at=NOW, paused=True, paused_until=NOW),
    "link": NS(
        telegram_user_id=123456789, language="nl", time_zone="Europe/Amsterdam", reachable=True
    ),
    "now": NOW,
    "retention_days": 730,
    "participations": [
        {"role": "ouder", "youth": "Sam", "joined_at": NOW, "phase": "stabilisatiefase"}
    ],
    "staff": [{"role": "begeleider"}],
    "staff_placements": [{"youth": "Sam", "phase": "installatiefase", "as": "begeleider"}],
    "consents": [
        {"decision": "given", "version": "2026-11", "at": NOW},
        {"decision": "withdrawn", "version": "2026-11", "at": NOW},
    ],
    "access": [
        {"action": "export_own_data", "at": NOW, "what": []},
        {"action": "overview", "at": NOW, "what": ["Sam", HOSTILE, "#12"]},
        {"action": "something_new", "at": NOW, "what": []},
    ],
    "viewed_by": [
        {"who": "Bea (person 1)", "action": "weekly_digest", "at": NOW, "youth": "Sam"},
        {"who": HOSTILE, "action": "measurement_results", "at": NOW, "youth": None},
    ],
    "contact_requests": [{"at": NOW, "youth": "Sam"}],
    "meetings": [
        {
            "type": "kennismakingsgesprek",
            "at": NOW,
            "where": HOSTILE,
            "cancelled": False,
            "rsvp": r,
            "rsvp_at": NOW if r else None,
        }
        for r in ("yes", "no", "other_time", None)
    ]
    + [
        {
            "type": "intervisie",
            "at": NOW,
            "where": None,
            "cancelled": True,
            "rsvp": None,
            "rsvp_at": None,
        }
    ],
    "answers": [
        {
            "youth": "Sam",
            "period": "2026-W10",
            "question": "samenwerken",
            "role": "ouder",
            "value": "4",
            "text": None,
            "at": NOW,
            "changed_at": NOW,
        },
        {
            "youth": "Sam",
            "period": "2026-W10",
            "question": "open",
            "role": "ouder",
            "value": None,
            "text": HOSTILE,
            "at": NOW,
            "changed_at": None,
        },
    ],
    "skipped": [{"period": "2026-W11", "reason": "druk", "youth": "Sam"}],
}
# Answers to a retired question and to a house parent's question read as they were asked.
EXPORT["plan_reviews"] = [
    {"at": NOW, "youth": HOSTILE, "next": NOW.date(), "note": HOSTILE},
    {"at": NOW, "youth": "Sam", "next": None, "note": None},
]
EXPORT["answers"] += [
    {**EXPORT["answers"][0], "question": "kennismaking", "value": "3", "changed_at": None},
    {**EXPORT["answers"][0], "question": "spanning", "role": "gezinshuisouder", "value": "nee"},
    {**EXPORT["answers"][0], "question": "dim_respect", "youth": HOSTILE, "value": "5"},
    *(
        {**EXPORT["answers"][0], "question": "doel", "value": v, "text": None, "goal": g}
        for v, g in (
            ("4", {"suggestion": "ouder_kennen", "text": None}),
            ("nu", {"suggestion": None, "text": HOSTILE}),
            ("3", None),
        )
    ),
]

BASE: dict[str, Any] = {
    "youth": "Sam",
    "gezinshuis": "De Linde",
    "name": "Olga",
    "role": "ouder",
    "roles": ["ouder"],
    "count": 1,
    "retention_days": 365,
    "max": 30,
    "today": dt.date(2026, 3, 12),
    "start": dt.date(2026, 9, 1),
    "days": 14,
    "links": {r: f"https://t.me/x?start={r}" for r in ("ouder", "gezinshuisouder", "behandelaar")},
    "link": "https://t.me/x?start=D",
    "placements": PLACEMENTS,
    "paused": False,
    "had_open": True,
    "asked": True,
    "inviter": "Bea",
    "organisation": "Zorg & Co",
    "invitee": None,
    "begeleider": "Bea",
    "phase": "installatiefase",
}

BASE.update(
    {
        "begeleider": True,
        "digest_weekday": 1,
        "digest_time": dt.time(9, 0),
        "question": "samenwerken",
        "kind": "faces",
        "number": 1,
        "total": 5,
        "intro": 0,
        "measurement": False,
        "chosen_face": None,
        "chosen_label": None,
        "closed": False,
        "variant": 0,
        "wrote": False,
        "reason": "druk",
        "status": "open",
        "reached": True,
        "cut": False,
        "weekday": 6,
        "time": dt.time(19, 0),
        "zone": "Europe/Amsterdam",
        "until": dt.date(2026, 4, 1),
        "participant": True,
        "quiet_start": dt.time(21, 30),
        "quiet_end": dt.time(8, 0),
    }
)

VARIANTS: dict[str, list[dict[str, Any]]] = {
    "checkin/question": [
        {
            **BASE,
            "question": q,
            "kind": k,
            "intro": i,
            "role": r,
            "measurement": m,
            "chosen_face": f,
            "chosen_label": c,
            "closed": closed,
        }
        for q in QUESTIONS
        for k, i, r, m, f, c, closed in [
            ("faces", 0, "ouder", False, None, None, False),
            ("choice", None, "gezinshuisouder", False, None, "contact_app", False),
            ("faces", 3, "ouder", True, "😐", None, True),
            ("faces", 1, "ouder", False, None, None, True),
            ("faces", 2, "ouder", False, None, None, False),
        ]
    ],
    "checkin/thanks": [{"variant": v} for v in range(4)],
    "settings/menu": [
        {**BASE, "paused": p, "until": u, "participant": part, "begeleider": b}
        for p, u, part, b in (
            (True, dt.date(2026, 4, 1), True, False),
            (True, None, True, True),
            (False, None, False, True),
        )
    ],
    "account/paused_notice": [{**BASE, "until": u} for u in (None, dt.date(2026, 4, 1))],
    "checkin/closed": [{**BASE, "status": s} for s in ("skipped", "missed")],
    "checkin/open_saved": [{"begeleider": b} for b in ("Bea", None)],
    "checkin/reminder": [{**BASE, "measurement": m} for m in (True, False)],
    "checkin/open_question": [{**BASE, "measurement": m} for m in (True, False)],
    "contact/requested": [
        {**BASE, "reached": r, "begeleider": b, "phone": p, "role": role}
        for r, b, p, role in (
            (True, "Bea", "088 123 45 67", "ouder"),
            (True, "Bea", None, "ouder"),
            (False, None, None, "gezinshuisouder"),
            (False, "Bea", "+31 88 123 45 67", "gezinshuisouder"),
        )
    ],
    "contact/already_asked": [
        {**BASE, "begeleider": b, "phone": p, "role": r}
        for b, p, r in (("Bea", None, "ouder"), (None, "088 123 45 67", "gezinshuisouder"))
    ],
    "contact/_call": [
        {**BASE, "phone": p, "role": r}
        for p, r in ((None, "ouder"), (None, "gezinshuisouder"), ("088 123 45 67", "ouder"))
    ],
    "account/export.txt": [
        EXPORT,
        {
            **EXPORT,
            "participations": [],
            "staff": [],
            "staff_placements": [],
            "access": [],
            "viewed_by": [],
            "contact_requests": [],
            "meetings": [],
            "goals": [],
            "person": NS(first_name="Kees", created_at=NOW, paused=False, paused_until=None),
        },
    ],
    "account/help": [
        {"roles": r, "phone": p}
        for r, p in (
            (["ouder"], "088 123 45 67"),
            (["gezinshuisouder"], None),
            (["begeleider", "behandelaar"], None),
            (["admin"], None),
        )
    ],
    "placements/list": [{"placements": PLACEMENTS}, {"placements": []}],
    "onboarding/consent_request": [
        {**BASE, "role": r, "inviter": i, "youth": y, "invitee": n}
        for r, i, y, n in [
            ("ouder", "Bea", "Sam", None),
            ("gezinshuisouder", None, "Sam", "Kees"),
            ("begeleider", None, None, "Bea"),
        ]
    ],
    "onboarding/welcome_ouder": [
        {**BASE, "phase": p, "begeleider": b}
        for p in ("installatiefase", "stabilisatiefase", "evaluatiefase")
        for b in ("Bea", None)
    ],
    "onboarding/welcome_behandelaar": [{**BASE, "youth": y} for y in ("Sam", None)],
    "onboarding/start_known": [
        {**BASE, "roles": ["begeleider", "behandelaar"]},
        {**BASE, "roles": ["ouder"], "paused": True},
    ],
    "onboarding/invite_already_in": [{**BASE, "youth": y} for y in ("Sam", None)],
    "onboarding/invite_wrong_person": [{**BASE, "own": o} for o in (True, False)],
    "onboarding/wrong_person_notice": [
        {**BASE, "role": r} for r in ("ouder", "gezinshuisouder", "behandelaar")
    ],
    "placements/role_full": [{**BASE, "role": r} for r in ("behandelaar", "gezinshuisouder")],
    "account/erase_blocked": [{**BASE, "count": c} for c in (1, 3)],
    "account/stop_menu": [{"paused": p} for p in (True, False)],
    "common/cancelled": [{"had_open": h} for h in (True, False)],
    "common/only_text": [{"asked": a} for a in (True, False)],
    "account/privacy": [
        {"retention_days": d, "keep_days": k} for d, k in ((365, 7), (730, 14), (400, 1))
    ],
}

LABEL_ARGS: dict[str, Any] = {
    "code": "vertrouwen",
    "phase": "stabilisatiefase",
    "type": "begeleidingsgesprek_ouders",
    "at": dt.datetime(2026, 3, 12, 14, 0, tzinfo=dt.UTC),
    "kind": "gezinshuisouder",
    "on": True,
    "youth": HOSTILE,
    "name": "ouder",
    "d": NOW,
    "days": 730,
    "face": "😐",
    "text": "Ja",
    "role": "ouder",
    "n": 3,
    "time": "19:00",
    "zone": "Europe/Amsterdam",
    "people": [{"name": HOSTILE, "role": "ouder"}, {"name": "Kees", "role": "gezinshuisouder"}],
    "reason": "liever_niet",
}
LABEL_SPECIAL: dict[str, dict[str, Any]] = {
    "review_side_name": {"name": "samen"},
    "plan_score": {"score": 3},
    "plan_estimate": {"again": True},
    "plan_side": {"side": "gezinshuisouder"},
    "goal_suggestion": {"code": "samen_praten"},
    "goal_adjust": {"n": 2},
    "goal_reached": {"n": 2},
    "goal_dropped": {"n": 2},
    "goal_reopen": {"n": 2},
    "phase": {"name": "evaluatiefase"},
    "phase_staff": {"name": "evaluatiefase"},
}

BASE.update({"current": "installatiefase", "next": "stabilisatiefase"})
# The goal question (flows/plan/progress.py): a suggested goal, typed words, passed over.
VARIANTS["checkin/question"] += [
    {
        **BASE,
        "question": "doel",
        "kind": "faces",
        "intro": None,
        "number": 5,
        "total": 5,
        "role": "ouder",
        "measurement": False,
        "chosen_face": f,
        "chosen_label": None,
        "closed": False,
        "not_now": n,
        "goal": g,
    }
    for g, f, n in (
        ({"suggestion": "ouder_kennen", "text": None}, None, False),
        ({"suggestion": None, "text": HOSTILE}, "🙂", False),
        ({"suggestion": "samen_afspraken", "text": None}, None, True),
        (None, None, False),
    )
]
VARIANTS["plan/_goal_words"] = [
    {"goal": {"suggestion": None, "text": HOSTILE}},
    {"goal": {"suggestion": "gho_kennen", "text": None}},
]

VARIANTS["phase/confirm"] = [
    {**BASE, "next": n} for n in ("stabilisatiefase", "evaluatiefase", "afgesloten")
]
VARIANTS["phase/notice"] = [
    {**BASE, "phase": p, "role": r}
    for p in ("stabilisatiefase", "evaluatiefase", "afgesloten")
    for r in ("ouder", "gezinshuisouder")
]
VARIANTS["phase/changed"] = [{**BASE, "phase": p} for p in ("evaluatiefase", "afgesloten")]

MEETING_AT = dt.datetime(2026, 3, 12, 14, 0, tzinfo=dt.UTC)
BASE.update(
    {
        "at": MEETING_AT,
        "old": MEETING_AT,
        "where": HOSTILE,
        "soon": False,
        "who": [{"name": "Olga", "role": "ouder"}, {"name": HOSTILE, "role": "begeleider"}],
        "type": "samenwerkingsgesprek",
        "rsvp": "yes",
        "due": dt.date(2026, 3, 20),
        "overdue": False,
        "meetings": [
            {
                "type": "kennismakingsgesprek",
                "youth": "Sam",
                "where": None,
                "at": MEETING_AT,
                "mine": True,
                "who": [],
                "rsvps": [
                    {"name": "Olga", "role": "ouder", "rsvp": r}
                    for r in ("yes", "no", "other_time", None)
                ],
            },
            {
                "type": "intervisie",
                "youth": None,
                "where": "online",
                "at": MEETING_AT,
                "mine": False,
                "who": [],
                "rsvps": [],
            },
        ],
    }
)
for _name in (
    "meeting/reminder",
    "meeting/rsvp_thanks",
    "meeting/rsvp_notice",
    "meeting/list",
    "meeting/planned",
):
    VARIANTS[_name] = [
        {**BASE, "soon": s, "rsvp": r, "overdue": o, "youth": y, "where": w, "meetings": m}
        for s, r, o, y, w, m in (
            (True, "no", True, None, None, []),
            (False, "other_time", False, "Sam", "kantoor", BASE["meetings"]),
            (False, "yes", False, "Sam", None, BASE["meetings"]),
        )
    ]

REASONS = [
    {
        "code": "contact_request",
        "people": [{"name": HOSTILE, "role": "ouder"}],
        "facts": {"count": 2},
    },
    {"code": "unreachable", "people": [{"name": "Kees", "role": "gezinshuisouder"}], "facts": {}},
    {
        "code": "drop",
        "people": [{"name": "Olga", "role": "ouder"}],
        "facts": {"score": 2, "mean": 4.25},
    },
    {"code": "low_score", "people": [{"name": "Olga", "role": "ouder"}], "facts": {"score": 2}},
    {"code": "gap", "people": [], "facts": {"ouder": 2.0, "gezinshuisouder": 4.5, "gap": 2.5}},
    {"code": "tension", "people": [], "facts": {"weeks": 2, "window": 4}},
    {
        "code": "no_contact",
        "people": [
            {"name": "Olga", "role": "ouder"},
            {"name": HOSTILE, "role": "gezinshuisouder"},
        ],
        "facts": {"weeks": 3},
    },
    {"code": "silent", "people": [{"name": "Olga", "role": "ouder"}], "facts": {"weeks": 2}},
    {
        "code": "meeting_overdue",
        "people": [],
        "facts": {
            "meetings": [
                {"type": "samenwerkingsgesprek", "due": dt.date(2026, 3, 9)},
                {"type": "begeleidingsgesprek_ouders", "due": dt.date(2026, 3, 9)},
                {"type": "kennismakingsgesprek", "due": dt.date(2026, 3, 2)},
            ]
        },
    },
]
_GOAL_SIDES = {
    "ouder": {"last": 4, "before": 3},
    "gezinshuisouder": {"last": None, "before": None},
}
GOALS = {
    "open": 3,
    "reached": 1,
    "goals": [
        {
            "id": 1,
            "side": side,
            "phase": "installatiefase",
            "suggestion": suggestion,
            "text": text,
            "status": "open",
            "sides": sides,
            "answered": bool(weekly),
            "stalled": not weekly,
            "quiet_weeks": 1 if weekly else 9,
            "weekly": weekly,
        }
        for side, suggestion, text, sides, weekly in (
            (
                "samen",
                "samen_afspraken",
                None,
                _GOAL_SIDES,
                [
                    {"date": dt.date(2026, 2, 8), "role": "ouder", "score": 3},
                    {"date": dt.date(2026, 3, 8), "role": "ouder", "score": 4},
                ],
            ),
            ("ouder", None, HOSTILE, {**_GOAL_SIDES, "ouder": {"last": 2, "before": None}}, []),
            ("gezinshuisouder", "gho_kennen", None, _GOAL_SIDES, []),
        )
    ],
}
REASONS.append(
    {
        "code": "goal_stalled",
        "people": [],
        "facts": {"goal": GOALS["goals"][1], "weeks": 9, "answered": False},
    }
)
UPCOMING = [
    {
        "type": "samenwerkingsgesprek",
        "at": MEETING_AT,
        "rsvps": [
            {"name": "Olga", "role": "ouder", "rsvp": r} for r in ("yes", "no", "other_time", None)
        ],
    }
]
STEP = {
    "code": "discuss",
    "people": [{"name": HOSTILE, "role": "ouder"}],
    "facts": {},
    "meeting": None,
    "overdue": [],
    "together": None,
}
MARKS = [
    {"week": dt.date(2026, 3, 9), "score": score, "mark": mark}
    for score, mark in (
        (None, "none"),
        (4.0, "answered"),
        (3.5, "answered"),
        (None, "skipped"),
        (None, "missed"),
        (None, "open"),
        (5.0, "answered"),
        (2.0, "answered"),
    )
]
SECTION = {
    **BASE,
    "placement_id": 7,
    "week": dt.date(2026, 3, 9),
    "week_end": dt.date(2026, 3, 15),
    "weeks_in_phase": 5,
    "stalling": True,
    "attention": True,
    "reasons": REASONS,
    "step": STEP,
    "goals": GOALS,
    "scores": {"ouder": 2.0, "gezinshuisouder": None},
    "mean": 3.25,
    "answered": 1,
    "expected": 2,
    "weeks": {"ouder": MARKS, "gezinshuisouder": MARKS[:2]},
    "people": [
        {
            "name": "Olga",
            "role": "ouder",
            "status": s,
            "reason": r,
            "contact": c,
            "score": score,
            "tension": t,
            "paused": p,
            "reachable": reach,
        }
        for s, r, c, score, t, p, reach in (
            ("answered", None, "gesproken", 4, "beetje", False, True),
            ("answered", None, "app", 2, None, False, True),
            ("answered", None, "geen", None, "ja", False, True),
            ("skipped", "druk", None, None, None, False, True),
            ("skipped", "liever_niet", None, None, None, False, True),
            ("missed", None, None, None, None, False, True),
            ("open", None, None, None, None, False, True),
            ("none", None, None, None, None, True, True),
            ("none", None, None, None, None, False, False),
        )
    ],
    "open_answers": [{"name": "Olga", "role": "ouder", "text": HOSTILE, "shortened": True}],
    "meetings": UPCOMING,
    "due": [
        {"type": "kennismakingsgesprek", "due": dt.date(2026, 3, 20), "overdue": o}
        for o in (True, False)
    ],
    "last_round": dt.date(2026, 3, 1),
}
BASE.update(
    {
        "week": dt.date(2026, 3, 9),
        "week_end": dt.date(2026, 3, 15),
        "placements": 3,
        "attention": 2,
        "stalling": 1,
        "answered": 4,
        "expected": 6,
        "html": "<b>x</b>",
        "more": 3,
    }
)
_CALM = {**SECTION, "stalling": False, "attention": False, "reasons": [], "step": None}
VARIANTS["digest/section"] = [
    SECTION,
    {**SECTION, "stalling": False, "open_answers": []},
    *(
        {**SECTION, "stalling": st, "reasons": REASONS[:1], "step": {**STEP, "code": c, **x}}
        for st, c, x in (
            (False, "call_back", {}),
            (False, "reach_otherwise", {}),
            (False, "discuss", {"meeting": UPCOMING[0]}),
            (False, "discuss", {"together": "samenwerkingsgesprek"}),
            (False, "discuss", {}),
            (True, "discuss", {}),
            (False, "discuss_transition", {}),
            (False, "restart_contact", {}),
            (False, "ask_how", {}),
            (False, "plan_meeting", {}),
            (False, "plan_meeting", {"overdue": ["samenwerkingsgesprek", "intervisie"]}),
            (False, "goal_talk", {}),
            (False, "review_plan", {}),
        )
    ),
]
VARIANTS["digest/attention_line"] = [SECTION, {**SECTION, "reasons": REASONS[-1:]}]
VARIANTS["digest/calm_line"] = [
    _CALM,
    {**_CALM, "expected": 0, "mean": None, "open_answers": [], "goals": None},
]
VARIANTS["digest/calm_names"] = [
    {"youths": ["Sam", HOSTILE], "first": f, "last": not f, "count": 2} for f in (True, False)
]
VARIANTS["digest/due"] = [
    {
        "items": [
            {
                "type": "samenwerkingsgesprek",
                "placements": [{"youth": HOSTILE, "due": NOW}] * 2,
                "more": 0,
            },
            {
                "type": "kennismakingsgesprek",
                "placements": [{"youth": "Sam", "due": NOW}],
                "more": 7,
            },
        ]
    }
]
VARIANTS["digest/details"] = [
    SECTION,
    {**_CALM, "people": [], "open_answers": [], "meetings": [], "due": [], "goals": None},
    {**SECTION, "plan": {"intensity": "extra", "open": 3, "reached": 1}},
    {**SECTION, "plan": {"intensity": None, "open": 0, "reached": 0}},
]
VARIANTS["digest/_goals"] = [SECTION]
VARIANTS["digest/section_brief"] = [SECTION, {**_CALM, "last_round": None}]
VARIANTS["digest/_reason"] = [{**SECTION, "r": r} for r in REASONS] + [
    {**SECTION, "r": {"code": "review_overdue", "people": [], "facts": {"since": NOW.date()}}}
]
VARIANTS["digest/_step"] = VARIANTS["digest/section"]
VARIANTS["digest/chart_caption"] = [{**BASE, "more": m} for m in (0, 4)]
VARIANTS["digest/header"] = [
    {**BASE, "stalling": s, "placements": n, "attention": a}
    for s, n, a in ((0, 1, 1), (2, 5, 3), (0, 4, 0))
]

BASE["items"] = [
    {"type": "kennismakingsgesprek", "youth": HOSTILE, "due": dt.date(2026, 3, 20), "overdue": o}
    for o in (True, False)
]
BASE["more"] = 0

BASE["rows"] = [
    {"dimension": d, "ouder": o, "gezinshuisouder": g, "gap": gap}
    for d, o, g, gap in (
        ("respect", 4.0, 2.0, 2.0),
        ("vertrouwen", None, 3.5, None),
        ("samen_oplossen", 3.0, 3.0, 0.0),
    )
]
BASE["cards"] = ["respect", "vertrouwen"]
BASE["answered"] = {"ouder": {"done": 1, "total": 2}, "gezinshuisouder": {"done": 1, "total": 1}}
VARIANTS["measurement/results"] = [BASE, {**BASE, "cards": []}]
for _card in (
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
):
    VARIANTS[f"cards/{_card}"] = [BASE]

# `samenopvoeden route`: one phase with both kinds of role and meeting (tests/test_cli.py
# renders the real table from flows/route.py).
_ROUTE_ROLE = {
    "name": "ouder",
    "moment": {"weekday": 6, "time": dt.time(19, 0)},
    "base": ["Had je deze week contact met de gezinshuisouders van Sam?"],
    "rotating": [],
    "tips": [HOSTILE],
}
VARIANTS["route/overview.txt"] = [
    {
        "youth": "Sam",
        "rules": {
            "reminder_hours": 24,
            "closes_days": 4,
            "quiet_start": "21:30",
            "quiet_end": "08:00",
            "tip_days": 3,
            "digest": {"weekday": 0, "time": dt.time(8, 30)},
            "meeting_days_before": 2,
            "meeting_at": "18:00",
            "meeting_hours_before": 2,
            "warning_weeks": 3,
        },
        "phases": [
            {
                "name": "stabilisatiefase",
                "next": "evaluatiefase",
                "goal": "Rust in de samenwerking.",
                "roles": [_ROUTE_ROLE, {**_ROUTE_ROLE, "name": "gezinshuisouder", "tips": []}],
                "meetings": [
                    {
                        "type": "samenwerkingsgesprek",
                        "roles": ["ouder", "behandelaar"],
                        "first_weeks": 12,
                        "every_weeks": 26,
                    },
                    {"type": "intervisie", "roles": ["gezinshuisouder"], "first_weeks": None},
                ],
            }
        ],
    }
]

# Typed meeting moments (flows/dates.py): each reason a moment cannot be used, and the follow-ups.
_MOMENT = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
VARIANTS["meeting/bad_when"] = [
    {"problem": p, "part": part, "day": day, "at": at, "today": dt.date(2026, 12, 3)}
    for p, part, day, at in (
        ("unreadable", HOSTILE, None, None),
        ("no_such_day", "31 februari", None, None),
        ("bad_time", "25:00", None, None),
        ("past", "vandaag 9:00", _MOMENT.date(), _MOMENT),
        ("past", "gisteren", dt.date(2026, 12, 2), None),
        ("other_weekday", "11 december", dt.date(2026, 12, 11), None),
        ("too_far", "", None, dt.datetime(2028, 1, 4, 10, 0, tzinfo=dt.UTC)),
    )
]
VARIANTS["meeting/ask_time"] = [
    {"day": dt.date(2026, 12, 5), "daypart": d} for d in (None, "ochtend", "middag", "avond")
]
VARIANTS["meeting/ask_day"] = [{"time": dt.time(15, 30)}]

# The plan review (flows/plan/review.py).
_REVIEW_GOALS = [
    {
        "id": 1,
        "side": "ouder",
        "phase": "stabilisatiefase",
        "suggestion": "ouder_rol",
        "text": None,
        "status": "open",
        "progress": [],
        "number": 1,
        "done": False,
    },
    {
        "id": 2,
        "side": "samen",
        "phase": "stabilisatiefase",
        "suggestion": None,
        "text": HOSTILE,
        "status": "reached",
        "number": 2,
        "done": True,
        "progress": [
            {"role": "ouder", "score": 4, "date": NOW.date()},
            {"role": "gezinshuisouder", "score": 2, "date": NOW.date()},
        ],
    },
]
_REVIEW_PLAN = {
    "youth": HOSTILE,
    "meeting": {"type": "samenwerkingsgesprek", "at": NOW},
    "estimate": {"intensity": "extra", "date": NOW.date()},
    "sides": [
        {"side": "ouder", "goals": _REVIEW_GOALS[:1]},
        {"side": "gezinshuisouder", "goals": []},
        {"side": "samen", "goals": _REVIEW_GOALS[1:]},
    ],
    "questionnaire": {
        "date": NOW.date(),
        "ouder": 3.4,
        "gezinshuisouder": 4.1,
        "gaps": [{"dimension": "vertrouwen", "ouder": 2.0, "gezinshuisouder": 4.5}],
    },
}
VARIANTS["plan/review_before"] = [
    _REVIEW_PLAN,
    {**_REVIEW_PLAN, "estimate": None, "questionnaire": None},
    {
        **_REVIEW_PLAN,
        "estimate": {"intensity": "standaard", "date": NOW.date()},
        "questionnaire": {"date": NOW.date(), "ouder": None, "gezinshuisouder": 4.0, "gaps": []},
    },
]
VARIANTS["plan/review_after"] = [{"youth": HOSTILE, "meeting": "begeleidingsgesprek_ouders"}]
VARIANTS["plan/review_goals"] = [
    {"youth": HOSTILE, "goals": _REVIEW_GOALS},
    {"youth": "Sam", "goals": []},
]
VARIANTS["plan/review_ask"] = [
    {
        "what": w,
        "goal": _REVIEW_GOALS[1],
        "side": side,
        "months": 6,
        "next": NOW.date(),
        "limit": 300,
    }
    for w, side in (
        ("adjust", "ouder"),
        ("choose", "ouder"),
        ("side", "ouder"),
        ("add", "ouder"),
        ("add", "gezinshuisouder"),
        ("add", "samen"),
        ("next", "ouder"),
        ("note", "ouder"),
        ("empty", "ouder"),
        ("too_long", "ouder"),
        ("bad_date", "ouder"),
        ("use_buttons", "ouder"),
    )
]
VARIANTS["plan/review_reply"] = [
    {"what": w, "goal": _REVIEW_GOALS[0], "youth": HOSTILE, "next": NOW.date()}
    for w in (
        "kept",
        "reached",
        "dropped",
        "adjusted",
        "added",
        "done_before",
        "already",
        "recorded",
        "stopped",
    )
]

# The begeleidingsplan (flows/plan/estimate.py, flows/plan/goals.py).
_GOALS = [
    {
        "id": 1,
        "number": 1,
        "side": "ouder",
        "phase": "installatiefase",
        "status": "open",
        "suggestion": "ouder_kennen",
        "text": None,
        "responses": [{"name": "Olga", "agreed": True, "comment": None}],
    },
    {
        "id": 2,
        "number": 2,
        "side": "gezinshuisouder",
        "phase": "installatiefase",
        "status": "reached",
        "suggestion": None,
        "text": HOSTILE,
        "responses": [{"name": HOSTILE, "agreed": False, "comment": HOSTILE}],
    },
    {
        "id": 3,
        "number": 3,
        "side": "samen",
        "phase": "installatiefase",
        "status": "dropped",
        "suggestion": "samen_contact",
        "text": None,
        "responses": [],
    },
]
BASE.update(
    {
        "number": 1,
        "total": 4,
        "version": 2,
        "intensity": "standard",
        "goals": _GOALS,
        "estimate": {
            "intensity": "extra",
            "version": 2,
            "date": dt.date(2026, 3, 12),
            "scores": {"bereid_ouders": 2, "bereid_gezinshuisouders": 4},
            "note": HOSTILE,
        },
        "closed": False,
        "side": "samen",
        "suggestions": ["samen_afspraken", "samen_contact"],
        "empty": True,
        "names": ["Olga", "Kees"],
        "word": False,
    }
)
VARIANTS["plan/estimate_saved"] = [{**BASE, "intensity": i} for i in ("standard", "extra")]
VARIANTS["plan/goals_view"] = [BASE, {**BASE, "estimate": None, "goals": [], "closed": True}]
VARIANTS["plan/goals_sent"] = [BASE, {**BASE, "names": []}]
VARIANTS["plan/goals_thanks"] = [{**BASE, "word": w} for w in (True, False)]
VARIANTS["plan/goals_bad_text"] = [{**BASE, "empty": e} for e in (True, False)]
VARIANTS["plan/goals_ask_text"] = [
    {**BASE, "side": s} for s in ("ouder", "gezinshuisouder", "samen")
]
VARIANTS["plan/goals_confirm"] = [
    {**BASE, "goals": [g for g in _GOALS if g["side"] != "gezinshuisouder"], "role": "ouder"}
]
EXPORT["goals"] = [
    {**_GOALS[0], "youth": "Sam", "agreed": True, "comment": None, "answered_at": NOW},
    {**_GOALS[1], "youth": HOSTILE, "agreed": False, "comment": HOSTILE, "answered_at": NOW},
    {**_GOALS[2], "youth": "Sam", "agreed": None, "comment": None, "answered_at": None},
]

# The begeleidingsplan's ending (flows/plan/reflections.py, flows/plan/ending.py).
LABEL_SPECIAL.update(
    {
        "closing_talk": {"talk": "afsluitend_gesprek"},
        "end_talk": {"talk": "afrondend_gesprek_ouders", "on": False},
        "ending_reason": {"reason": "breakdown"},
        "end_reason": {"reason": "thuis"},
    }
)
VARIANTS["plan/reflect_question"] = [
    {**BASE, "question": q, "number": n, "total": 3}
    for n, q in enumerate(("goed", "lastig", "meenemen"), start=1)
]
VARIANTS["plan/reflect_done"] = [{**BASE, "name": HOSTILE, "youth": HOSTILE}]
VARIANTS["plan/ending_confirm"] = [
    {**BASE, "youth": HOSTILE, "talks": t, "reason": r, "handover": h}
    for t, r, h in (
        ([], "breakdown", False),
        (["afrondend_gesprek_ouders", "afsluitend_gesprek"], "thuis", True),
    )
]
VARIANTS["plan/ending_last"] = [
    {**BASE, "role": r, "phone": p, "erased_on": dt.date(2027, 12, 3)}
    for r, p in (("ouder", "088 123 45 67"), ("gezinshuisouder", None))
]
_SUMMARY = {
    "youth": HOSTILE,
    "gezinshuis": "De Linde",
    "start_date": dt.date(2026, 1, 5),
    "evaluation_since": NOW,
    "closed_at": NOW,
    "intensity": "extra",
    "goals": {
        "ouder": [{"text": HOSTILE, "suggestion": None, "status": "reached"}],
        "gezinshuisouder": [{"text": None, "suggestion": "contact", "status": "dropped"}],
        "samen": [],
    },
    "reflections": {
        "ouder": [
            {"name": "Olga", "question": "goed", "text": HOSTILE, "skipped": False},
            {"name": "Olga", "question": "lastig", "text": None, "skipped": True},
            {"name": "Olga", "question": "meenemen", "text": None, "skipped": False},
        ],
        "gezinshuisouder": [],
    },
    "trend": {"ouder": 3.5},
    "trend_weeks": 8,
    "meetings": [{"type": "afsluitend_gesprek", "at": NOW}],
    "talks": ["afsluitend_gesprek"],
    "reason": "breakdown",
    "planned": False,
    "handover": True,
}
VARIANTS["plan/ending_summary.txt"] = [
    _SUMMARY,
    {**_SUMMARY, "intensity": None, "evaluation_since": None, "meetings": [], "talks": []},
]

EXPORT["reflections"] = [
    {"youth": "Sam", "question": "goed", "text": HOSTILE, "answered": True, "at": NOW},
    {"youth": "Sam", "question": "lastig", "text": None, "answered": True, "at": NOW},
    {"youth": "Sam", "question": "meenemen", "text": None, "answered": False, "at": NOW},
]


# --- The organisation overview (h3) ---------------------------------------------------------
def _organisation_overview(attention: int, rates: bool) -> dict[str, Any]:
    from flows import org_overview

    weeks = [dt.date(2026, 1, 5) + dt.timedelta(weeks=n) for n in range(8)]
    found = org_overview.OrgOverview(7, HOSTILE, NOW.date(), weeks, dt.date(2026, 1, 1))
    found.phases = {"installatiefase": 3, "stabilisatiefase": 12, "evaluatiefase": 0}
    found.reasons = {code: n for n, code in enumerate(org_overview.REASONS)} if attention else {}
    found.attention = [(HOSTILE, HOSTILE) if n == 0 else ("Sam", "Bea") for n in range(attention)]
    found.meetings_due, found.meetings_overdue, found.planned = 2, 6, 0
    found.premature = {"breakdown": 2, "anders": 5} if rates else {}
    found.caseload = [(HOSTILE, 12), ("Bea", 0)] if rates else []
    for week in weeks:
        for side in org_overview.SIDES:
            asked = 5 if rates else 1
            answered = min(asked, 3)
            found.side_weeks[(side, week)] = org_overview.SideWeek(week, side, asked, answered)
    return {**BASE, **org_overview.context(found, listed=3 if attention > 3 else None)}


VARIANTS["organisation/overview"] = [
    _organisation_overview(attention, rates)
    for attention, rates in ((0, False), (1, True), (4, False), (7, True))
]
LABEL_SPECIAL["org_phase"] = {"name": "stabilisatiefase"}
LABEL_SPECIAL["org_side"] = {"side": "gezinshuisouder"}
LABEL_SPECIAL["org_reason"] = {"code": "review_overdue"}
# The coordinator's team (flows/team.py) and the research question (flows/research.py), h1.
_MEMBER = {"name": "Bea", "role": "begeleider", "leads": 3, "treats": 0, "me": False}
VARIANTS["team/list"] = [
    {
        "organisation": HOSTILE,
        "members": [
            {**_MEMBER, "name": "Cora", "role": "coordinator", "leads": 0, "me": True},
            _MEMBER,
            {**_MEMBER, "name": HOSTILE, "role": "behandelaar", "leads": 0, "treats": 4},
        ],
        "first": True,
        "total": 3,
        "more": 0,
        "inactive": ["Dirk", HOSTILE],
        "inactive_more": 2,
    },
    {
        "organisation": "Zorg",
        "members": [{**_MEMBER, "name": "x" * 32, "leads": 99, "treats": 99}] * 30,
        "first": True,
        "total": 200,
        "more": 170,
        "inactive": [],
        "inactive_more": 0,
    },
    {
        "organisation": "Zorg",
        "members": [],
        "first": False,
        "total": 0,
        "more": 0,
        "inactive": ["y" * 32] * 20,
        "inactive_more": 180,
    },
]
for _name in ("ask_name", "invite_link", "confirm", "deactivated", "ended_notice"):
    VARIANTS[f"team/{_name}"] = [
        {**BASE, "name": HOSTILE, "role": r, "organisation": HOSTILE, "told": t}
        for r, t in (("begeleider", True), ("behandelaar", False), ("coordinator", True))
    ]
VARIANTS["team/still_placements"] = [{**BASE, "name": HOSTILE, "count": c} for c in (1, 3)]
VARIANTS["team/choose_member"] = [{"page": p} for p in (0, 1)]
VARIANTS["research/answered"] = [{"agreed": a} for a in (True, False)]
VARIANTS["research/changed"] = [{"agreed": a} for a in (True, False)]
VARIANTS["settings/menu"] = [
    {**context, "research": research}
    for context in VARIANTS["settings/menu"]
    for research in (True, False)
]
BASE["research"] = False
EXPORT["person"].research_consent = True
EXPORT["consents"].append(
    {"decision": "given", "version": "2026-11", "at": NOW, "purpose": "research"}
)
for _consent in EXPORT["consents"]:
    _consent.setdefault("purpose", "care")
LABEL_SPECIAL.update(
    {
        "team_role": {"name": "coordinator"},
        "team_member": {"name": HOSTILE, "role": "behandelaar"},
        "team_off_yes": {"name": HOSTILE},
    }
)
VARIANTS["account/export.txt"][1]["person"].research_consent = False
# h4: the pilot export's caption (the coordinator).
VARIANTS["export/pilot_caption"] = [{"placements": n} for n in (0, 1, 25)]
# /overdragen (flows/handover.py)
_HANDOVER_AT = dt.datetime(2026, 3, 12, 14, 0, tzinfo=dt.UTC)
_HANDOVER_WHAT = [
    {"youth": "Sam", "phase": "installatiefase"},
    {"youth": HOSTILE, "phase": "stabilisatiefase"},
]
_HANDOVER = {
    **BASE,
    "name": "Bea",
    "role": "begeleider",
    "count": 3,
    "target": "Bert",
    "placements": _HANDOVER_WHAT,
    "shown": 40,
}
for _name in ("choose_what", "choose_target", "no_targets", "confirm", "done", "_what"):
    VARIANTS[f"handover/{_name}"] = [
        _HANDOVER,
        {**_HANDOVER, "role": "behandelaar", "count": 1, "placements": _HANDOVER_WHAT[:1]},
        # 200 placements at once: the texts name 20 and count the rest.
        {**_HANDOVER, "count": 200, "placements": _HANDOVER_WHAT * 100},
    ]
VARIANTS["handover/family_notice"] = [
    {
        "new": "Bert",
        "old": "Bea",
        "role": role,
        "youths": youths,
        "meetings": meetings,
    }
    for role, youths, meetings in (
        ("begeleider", ["Sam"], []),
        ("begeleider", ["Sam", "Lina"], [{"type": "kennismakingsgesprek", "at": _HANDOVER_AT}]),
        ("behandelaar", ["Sam", "Lina", HOSTILE], []),
    )
]
VARIANTS["handover/meeting_notice"] = [
    {
        "new": "Bert",
        "old": "Bea",
        "role": "begeleider",
        "youths": [],
        "meetings": [
            {"type": "kennismakingsgesprek", "at": _HANDOVER_AT, "youth": "Sam"},
            {"type": "samenwerkingsgesprek", "at": _HANDOVER_AT, "youth": HOSTILE},
        ],
    }
]
VARIANTS["handover/received"] = [
    {**section, "old": "Bea", "by": by, "as": role, "plan": plan}
    for section in VARIANTS["digest/details"][:2]
    for by, role, plan in (
        ("Carla", "begeleider", {"intensity": "extra", "open": 3, "reached": 1}),
        (None, "behandelaar", {"intensity": None, "open": 0, "reached": 0}),
    )
]
VARIANTS["handover/taken"] = [
    {"by": "Carla", "new": "Bert", "youths": y} for y in (["Sam"], ["Sam", HOSTILE] * 100)
]
VARIANTS["handover/erase_blocked_notice"] = [{"name": "Bea", "count": c} for c in (1, 3)]
VARIANTS["handover/already"] = [{"youth": HOSTILE}]
VARIANTS["handover/nothing_left"] = [{"name": "Bea"}]
VARIANTS["handover/target_inactive"] = [{"name": "Bert"}]
VARIANTS["account/erase_blocked"] = [
    {**BASE, "count": c, "told": t} for c in (1, 3) for t in (True, False)
]
LABEL_SPECIAL["handover_source"] = {"name": "Bea", "kind": "behandelaar", "count": 3, "left": True}
LABEL_SPECIAL["handover_all"] = {"count": 3}
