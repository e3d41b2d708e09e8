"""`samenopvoeden route`: the route table of flows/route.py as plain text, for review."""

from __future__ import annotations

import html
import re
from typing import Any

from bot.render import Renderer
from flows import route
from flows.settings import CheckinRules, MeetingRules
from storage.models import Role

# The questions and tips are shown as people read them, with these sample names.
SAMPLE_YOUTH = "Sam"
SAMPLE_NAMES = {route.OUDER: "Olga", route.GHO: "Kees"}
_TAG = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    """Telegram HTML as plain text: tags dropped, entities read."""
    return html.unescape(_TAG.sub("", text)).strip()


def _hh_mm(value: Any) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def _weeks(value: Any) -> int | None:
    return None if value is None else int(value.days // 7)


def overview_context(
    renderer: Renderer, language: str, checkin: CheckinRules, meetings: MeetingRules
) -> dict[str, Any]:
    """The route table as template context: each text rendered from its own template."""

    def text(template: str, context: dict[str, Any]) -> str:
        return plain(renderer.render(language, template, context))

    def question(role: Role, question_id: str) -> str:
        return text(f"checkin/q_{question_id}", {"youth": SAMPLE_YOUTH, "role": str(role)})

    def tip(role: Role, tip_id: str) -> str:
        context = {"youth": SAMPLE_YOUTH, "name": SAMPLE_NAMES[role]}
        return text(f"prompt/{tip_id}", context)

    phases = []
    for phase in route.PHASES:
        roles = []
        for role in route.PARTICIPANTS:
            asked = route.QUESTIONS[(role, phase)]
            weekday, at = route.CHECKIN_MOMENT[role]
            roles.append(
                {
                    "name": str(role),
                    "moment": {"weekday": weekday, "time": at},
                    "base": [question(role, q) for q in asked.base],
                    "rotating": [question(role, q) for q in asked.rotating],
                    "tips": [tip(role, t) for t in route.TIPS.get((role, phase), ())],
                }
            )
        phases.append(
            {
                "name": str(phase),
                "next": str(route.NEXT_PHASE[phase]),
                "goal": text(f"route/goal_{phase}", {}),
                "roles": roles,
                "meetings": [
                    {
                        "type": kind.code,
                        "roles": [str(r) for r in kind.roles],
                        "first_weeks": _weeks(kind.first_due),
                        "every_weeks": _weeks(kind.every),
                    }
                    for kind in route.MEETING_TYPES.values()
                    if phase in kind.phases
                ],
            }
        )
    digest_day, digest_at = route.DIGEST_MOMENT
    rules = {
        "reminder_hours": int(checkin.reminder_after.total_seconds() // 3600),
        "closes_days": checkin.closes_after.days,
        "quiet_start": _hh_mm(checkin.quiet.start),
        "quiet_end": _hh_mm(checkin.quiet.end),
        "tip_days": route.TIP_DAYS_AFTER_CHECKIN,
        "digest": {"weekday": digest_day, "time": digest_at},
        "meeting_days_before": meetings.day_before.days,
        "meeting_at": _hh_mm(meetings.day_before_at),
        "meeting_hours_before": int(meetings.shortly_before.total_seconds() // 3600),
        "warning_weeks": _weeks(meetings.route_warning),
    }
    return {"youth": SAMPLE_YOUTH, "rules": rules, "phases": phases}


def render_overview(
    renderer: Renderer, language: str, checkin: CheckinRules, meetings: MeetingRules
) -> str:
    """The whole route table as plain text in one language."""
    context = overview_context(renderer, language, checkin, meetings)
    return renderer.render(language, "route/overview.txt", context)
