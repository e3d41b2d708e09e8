"""Render the organisation overview (flows/org_overview.py): one message and one chart.

The message stays within Telegram's 4,096 characters whatever the organisation's size: the
list of placements that need attention is cut ("en nog N") until it fits. Under the message
sits the button for the pilot export (`keyboard_rows`).
The chart: the response rate per side per week for the last 8 weeks; a week in which fewer
than 5 check-ins were asked of a side is left out and marked grey, so no point shows a small
number.
"""

from __future__ import annotations

import datetime as dt
import io
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.digest import TELEGRAM_LIMIT, telegram_length
from bot.render import Renderer
from flows import org_overview
from flows.buttons import PILOT_EXPORT
from flows.org_overview import OrgOverview, Rendered
from flows.replies import Button
from flows.settings import MeetingRules, SignalSettings

CHART_SIZE = (8.0, 4.2)  # inches, whatever the organisation's size


def keyboard_rows(overview: OrgOverview) -> list[tuple[Button, ...]]:
    """The button rows under the overview message: the pilot export for the researchers."""
    export = PILOT_EXPORT.button("pilot_export", organisation=overview.organisation_id)
    return [(export,)]


def message(renderer: Renderer, language: str, overview: OrgOverview) -> str:
    """The overview text, the alias list cut until it fits one Telegram message."""
    listed = len(overview.attention)
    text = renderer.render(language, "organisation/overview", org_overview.context(overview))
    while telegram_length(text) > TELEGRAM_LIMIT and listed > 0:
        # Cut by a share of what is too long, at least one alias at a time.
        listed = max(0, min(listed - 1, listed * TELEGRAM_LIMIT // telegram_length(text)))
        context = org_overview.context(overview, listed=listed)
        text = renderer.render(language, "organisation/overview", context)
    return text


def chart_png(renderer: Renderer, language: str, overview: OrgOverview) -> bytes | None:
    """Response rate per side per week (last 8 weeks); None when no week can be shown."""
    points = org_overview.chart_points(overview)
    if all(value is None for values in points.values() for value in values):
        return None
    import matplotlib  # imported only when a chart is drawn (memory, start-up)

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.patches import Patch

    def label(name: str, **args: Any) -> str:
        return renderer.label(language, name, args)

    sides = {
        "ouder": (label("chart_ouders"), "#1f6fb4", "o"),
        "gezinshuisouder": (label("chart_gezinshuisouders"), "#e07b00", "s"),
    }
    weeks = list(range(-len(overview.weeks) + 1, 1))
    figure, axis = pyplot.subplots(figsize=CHART_SIZE)
    try:
        for side, (name, colour, marker) in sides.items():
            values = points[side]
            ys = [float(v) if v is not None else float("nan") for v in values]
            axis.plot(weeks, ys, color=colour, marker=marker, linewidth=2.5, label=name)
        # Weeks with too few check-ins asked (of either side): greyed, never drawn as a value.
        for week, *values in zip(weeks, *points.values(), strict=True):
            if any(value is None for value in values):
                axis.axvspan(week - 0.5, week + 0.5, color="#dddddd", zorder=0)
        handles, _ = axis.get_legend_handles_labels()
        handles.append(Patch(color="#dddddd", label=label("org_chart_too_few")))
        axis.set_ylim(0, 105)
        axis.set_xlim(weeks[0] - 0.5, 0.5)
        axis.set_xticks(weeks, [str(-w) for w in weeks])
        axis.set_yticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
        axis.set_xlabel(label("chart_week"), fontsize=9)
        axis.set_title(label("org_chart_title"), fontsize=11, loc="left", fontweight="bold")
        axis.grid(alpha=0.3)
        axis.legend(handles=handles, loc="lower left", fontsize=9, frameon=False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()
    finally:
        pyplot.close(figure)


def render(renderer: Renderer, language: str, overview: OrgOverview) -> Rendered:
    """The overview as one message with its keyboard rows, and the chart."""
    text = message(renderer, language, overview)
    return Rendered(
        [(text, tuple(keyboard_rows(overview)))], chart_png(renderer, language, overview)
    )


async def plan_weekly(
    session: AsyncSession,
    renderer: Renderer,
    now: dt.datetime,
    signals: SignalSettings | None = None,
    meetings: MeetingRules | None = None,
) -> int:
    """Queue the weekly overviews that are due (flows.org_overview decides)."""
    return await org_overview.plan_weekly(
        session, partial(render, renderer), now, signals, meetings
    )
