"""Render digests into Telegram messages (split on placement boundaries) and a chart image.

Whose digest is due and queueing it is route logic: flows/digest_plan.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.render import Renderer
from flows import digest_plan
from flows.digest import Digest
from flows.settings import MeetingRules, SignalSettings

TELEGRAM_LIMIT = 4096
_TAG = re.compile(r"<[^>]+>")


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 units of the text after HTML parsing."""
    plain = html.unescape(_TAG.sub("", text))
    return len(plain.encode("utf-16-le")) // 2


def render_parts(
    renderer: Renderer,
    language: str,
    digest: Digest,
    *,
    brief: bool = False,
    last_rounds: dict[int, dt.date] | None = None,
) -> list[str]:
    """Header and sections, packed into as few messages as fit (never split inside one)."""
    parts = [renderer.render(language, "digest/header", digest.header)]
    template = "digest/section_brief" if brief else "digest/section"
    for section in digest.sections:
        context = dict(section.context)
        if brief:
            context["last_round"] = (last_rounds or {}).get(section.placement_id)
        parts.append(renderer.render(language, template, context))
    messages: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}\n\n{part}" if current else part
        if current and telegram_length(candidate) > TELEGRAM_LIMIT:
            messages.append(current)
            candidate = part
        if telegram_length(candidate) > TELEGRAM_LIMIT:
            candidate = _shorten(candidate)
        current = candidate
    if current:
        messages.append(current)
    return messages


def _shorten(text: str) -> str:
    # One placement longer than a message (very long open answers): cut at a line boundary.
    lines, kept = text.split("\n"), list[str]()
    for line in lines:
        if telegram_length("\n".join([*kept, line, "…"])) > TELEGRAM_LIMIT:
            break
        kept.append(line)
    return "\n".join([*kept, "…"])


def chart_png(renderer: Renderer, language: str, digest: Digest) -> bytes | None:
    """A line chart per placement that needs attention: ouders and gezinshuisouders."""
    charts = [s.chart for s in digest.sections if s.chart is not None]
    if not charts:
        return None
    import matplotlib  # imported only when a chart is drawn (memory, start-up)

    matplotlib.use("Agg")
    from matplotlib import pyplot  # after choosing the non-GUI backend

    labels = {
        "ouder": renderer.label(language, "chart_ouders"),
        "gho": renderer.label(language, "chart_gezinshuisouders"),
        "week": renderer.label(language, "chart_week"),
    }
    rows = len(charts)
    figure, axes = pyplot.subplots(rows, 1, figsize=(6, 1.8 * rows + 0.6), squeeze=False)
    try:
        for axis, (youth, ouder, gho) in zip(axes[:, 0], charts, strict=True):
            weeks = list(range(-len(ouder) + 1, 1))
            axis.plot(
                weeks,
                [v if v is not None else float("nan") for v in ouder],
                marker="o",
                label=labels["ouder"],
            )
            axis.plot(
                weeks,
                [v if v is not None else float("nan") for v in gho],
                marker="s",
                label=labels["gho"],
            )
            axis.set_title(youth, fontsize=10, loc="left")
            axis.set_ylim(0.5, 5.5)
            axis.set_xlim(weeks[0] - 0.5, 0.5)
            axis.set_xticks(weeks, [str(-w) for w in weeks])
            axis.set_yticks([1, 2, 3, 4, 5])
            axis.set_xlabel(labels["week"], fontsize=8)
            axis.grid(alpha=0.3)
        axes[0, 0].legend(fontsize=8, loc="lower left")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()
    finally:
        pyplot.close(figure)


def weekly_parts(
    renderer: Renderer, language: str, digest: Digest
) -> tuple[list[str], bytes | None]:
    """The weekly digest as Telegram messages and its chart (flows.digest_plan queues them)."""
    return render_parts(renderer, language, digest), chart_png(renderer, language, digest)


async def plan_weekly(
    session: AsyncSession,
    renderer: Renderer,
    now: dt.datetime,
    signals: SignalSettings | None = None,
    meetings: MeetingRules | None = None,
) -> int:
    """Queue the digests that are due (flows.digest_plan decides), rendered by `renderer`."""
    render = partial(weekly_parts, renderer)
    return await digest_plan.plan_weekly(session, render, now, signals, meetings)


def photo_of(context: dict[str, Any] | Any) -> bytes | None:
    """The chart bytes carried in a queued message's context, if any."""
    value = context.get("photo") if isinstance(context, dict) else None
    return base64.b64decode(value) if isinstance(value, str) else None
