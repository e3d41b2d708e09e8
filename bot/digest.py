"""Render digests into a few Telegram messages (with a details button per placement) and one chart.

The layout: a header; the placements that need attention, each with its reasons and one suggested
step; the calm ones one line each; route meetings still to plan, once, at the end. It fits in at
most `MAX_MESSAGES` messages whatever the caseload: when the full layout does not fit, attention
placements beyond the first become one line each, then calm ones a list of names.
Whose digest is due and queueing it is route logic: flows/digest_plan.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bot.render import Renderer
from flows import buttons, digest_plan
from flows.digest import Digest, Section
from flows.digest_plan import RenderedDigest
from flows.replies import Button
from flows.settings import MeetingRules, SignalSettings
from storage.db import Database

TELEGRAM_LIMIT = 4096
MAX_MESSAGES = 3  # text messages per digest, whatever the caseload (plus one chart)
BUTTONS_PER_MESSAGE = 99  # Telegram allows 100 per keyboard
BUTTONS_PER_ROW = 4
NAMES_PER_PIECE = 60  # calm placements as a list of names: this many per splittable piece
DUE_LISTED = 12  # placements named per route meeting still to plan; the rest counted
CHART_PLACEMENTS = 6  # small multiples: at most 3 rows of 2
# Inches per small multiple, and the strip below them for the legend. The image grows with the
# placements it shows, up to 3 rows, never with the caseload: at most 8 x 8.7 inches.
CHART_CELL = (4.0, 2.7)
CHART_LEGEND = 0.6
_TAG = re.compile(r"<[^>]+>")


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 units of the text after HTML parsing."""
    plain = html.unescape(_TAG.sub("", text))
    return len(plain.encode("utf-16-le")) // 2


@dataclass
class _Piece:
    """A block of a message, never split. Pieces of one `group` (lines) follow each other on
    the next line; anything else after a blank line."""

    html: str
    group: str | None = None
    placements: list[tuple[int, str]] = field(default_factory=list)  # (id, youth) for buttons


def render_messages(
    renderer: Renderer,
    language: str,
    digest: Digest,
    *,
    brief: bool = False,
    last_rounds: dict[int, dt.date] | None = None,
) -> list[tuple[str, tuple[tuple[Button, ...], ...]]]:
    """The digest as at most MAX_MESSAGES messages, each with the details buttons of its
    placements (none in the brief overview: a behandelaar does not see the answers)."""
    if brief:
        pieces = _brief_pieces(renderer, language, digest, last_rounds or {})
        return [(text, ()) for text, _ in _pack(pieces)]
    attention = [s for s in digest.sections if s.needs_attention]
    calm = [s for s in digest.sections if not s.needs_attention]
    header = _Piece(renderer.render(language, "digest/header", digest.header))
    full = [_section_piece(renderer, language, s) for s in attention]
    short = [_attention_line(renderer, language, s) for s in attention]
    lines = [_calm_piece(renderer, language, s) for s in calm]
    names = _calm_names(renderer, language, calm)
    due = _due_piece(renderer, language, digest.sections)
    best: list[tuple[str, list[tuple[int, str]]]] = []
    # The full layout first; then fewer full sections; then calm ones as names only.
    for compact in (False, True):
        for kept in range(len(full), -1, -1):
            pieces = [header, *full[:kept], *short[kept:]]
            pieces += names if compact else lines
            pieces += due
            best = _pack(pieces)
            if len(best) <= MAX_MESSAGES:
                return [(text, _keyboard(ids)) for text, ids in best]
            if not compact and not calm:
                break
    # Thousands of placements: the first messages, and the rest on request (/overzicht).
    more = renderer.render(language, "digest/more", {})
    kept_messages = best[:MAX_MESSAGES]
    last_text, last_ids = kept_messages[-1]
    kept_messages[-1] = (_fit(last_text, more), last_ids)
    return [(text, _keyboard(ids)) for text, ids in kept_messages]


def render_parts(
    renderer: Renderer,
    language: str,
    digest: Digest,
    *,
    brief: bool = False,
    last_rounds: dict[int, dt.date] | None = None,
) -> list[str]:
    """The digest's message texts only (see `render_messages`)."""
    messages = render_messages(renderer, language, digest, brief=brief, last_rounds=last_rounds)
    return [text for text, _ in messages]


def _section_piece(renderer: Renderer, language: str, section: Section) -> _Piece:
    text = renderer.render(language, "digest/section", section.context)
    if telegram_length(text) > TELEGRAM_LIMIT:
        text = _shorten(text)
    return _Piece(text, placements=[(section.placement_id, _youth(section))])


def _attention_line(renderer: Renderer, language: str, section: Section) -> _Piece:
    text = renderer.render(language, "digest/attention_line", section.context)
    return _Piece(text, "attention", placements=[(section.placement_id, _youth(section))])


def _calm_piece(renderer: Renderer, language: str, section: Section) -> _Piece:
    text = renderer.render(language, "digest/calm_line", section.context)
    return _Piece(text, "calm", placements=[(section.placement_id, _youth(section))])


def _calm_names(renderer: Renderer, language: str, calm: list[Section]) -> list[_Piece]:
    pieces = []
    for start in range(0, len(calm), NAMES_PER_PIECE):
        chunk = calm[start : start + NAMES_PER_PIECE]
        context = {
            "youths": [_youth(s) for s in chunk],
            "first": start == 0,
            "last": start + NAMES_PER_PIECE >= len(calm),
            "count": len(calm),
        }
        pieces.append(_Piece(renderer.render(language, "digest/calm_names", context), "calm"))
    return pieces


def _due_piece(renderer: Renderer, language: str, sections: list[Section]) -> list[_Piece]:
    """Route meetings to plan that are not overdue yet (overdue ones are a placement's reason)."""
    by_type: dict[str, list[dict[str, object]]] = {}
    for section in sections:
        due = section.context.get("due")
        assert isinstance(due, list)
        for item in due:
            if not item["overdue"]:
                by_type.setdefault(str(item["type"]), []).append(
                    {"youth": _youth(section), "due": item["due"]}
                )
    if not by_type:
        return []
    items = [
        {
            "type": kind,
            "placements": found[:DUE_LISTED],
            "more": max(0, len(found) - DUE_LISTED),
        }
        for kind, found in by_type.items()
    ]
    return [_Piece(renderer.render(language, "digest/due", {"items": items}))]


def _brief_pieces(
    renderer: Renderer, language: str, digest: Digest, last_rounds: dict[int, dt.date]
) -> list[_Piece]:
    pieces = [_Piece(renderer.render(language, "digest/header", digest.header))]
    for section in digest.sections:
        context = {**section.context, "last_round": last_rounds.get(section.placement_id)}
        pieces.append(_Piece(renderer.render(language, "digest/section_brief", context)))
    return pieces


def _youth(section: Section) -> str:
    return str(section.context["youth"])


def _pack(pieces: Sequence[_Piece]) -> list[tuple[str, list[tuple[int, str]]]]:
    """Put pieces into as few messages as fit, never splitting one."""
    messages: list[tuple[str, list[tuple[int, str]]]] = []
    current, ids = "", list[tuple[int, str]]()
    group: str | None = None
    for piece in pieces:
        joint = "\n" if piece.group is not None and piece.group == group else "\n\n"
        group = piece.group
        candidate = f"{current}{joint}{piece.html}" if current else piece.html
        if current and telegram_length(candidate) > TELEGRAM_LIMIT:
            messages.append((current, ids))
            candidate, ids = piece.html, []
        current = candidate
        ids = [*ids, *piece.placements]
    if current:
        messages.append((current, ids))
    return messages


def _keyboard(placements: list[tuple[int, str]]) -> tuple[tuple[Button, ...], ...]:
    shown = [
        buttons.DETAILS.button("details_for", {"youth": youth}, placement=placement_id)
        for placement_id, youth in placements[:BUTTONS_PER_MESSAGE]
    ]
    return tuple(
        tuple(shown[start : start + BUTTONS_PER_ROW])
        for start in range(0, len(shown), BUTTONS_PER_ROW)
    )


def _fit(text: str, tail: str) -> str:
    """The text with a last line added, cut at a line boundary when it would be too long."""
    kept = text.split("\n")
    while kept and telegram_length("\n".join([*kept, "", tail])) > TELEGRAM_LIMIT:
        kept.pop()
    return "\n".join([*kept, "", tail])


def _shorten(text: str) -> str:
    # One placement longer than a message (very long open answers): cut at a line boundary.
    lines, kept = text.split("\n"), list[str]()
    for line in lines:
        if telegram_length("\n".join([*kept, line, "…"])) > TELEGRAM_LIMIT:
            break
        kept.append(line)
    return "\n".join([*kept, "…"])


def chart_sections(digest: Digest) -> tuple[list[Section], int]:
    """The placements the chart shows (the first that need attention) and how many it leaves."""
    charted = [s for s in digest.sections if s.chart is not None]
    return charted[:CHART_PLACEMENTS], max(0, len(charted) - CHART_PLACEMENTS)


@dataclass
class _ChartFrame:
    """What a chart of one shape shares with every other chart of that shape: the figure, its
    axes with their ticks, scale words, grid and floor line, and the legend. Building it (ticks
    measure every label) and laying it out (tight_layout measures them all again) cost more than
    drawing the data, and both are the same for each of Monday's charts of that shape: the frame
    is built once, and each layout (it depends only on how high and deep the titles are, while
    they fit their panel) is measured once and its pixels without data or titles kept."""

    figure: Any
    axes: list[Any]
    # (top, bottom) of each title against its panel, in pixels -> subplot parameters, pixels.
    layouts: dict[tuple[tuple[float, float], ...], tuple[dict[str, float], Any]] = field(
        default_factory=dict
    )
    drawn: list[Any] = field(default_factory=list)  # this chart's artists, removed for the next
    # A new figure's subplot parameters: tight_layout's result depends a little on where it
    # starts from, and it always started from a new figure.
    start: dict[str, float] = field(default_factory=dict)
    # Each panel's width in pixels at that start: tight_layout measures what sticks out of the
    # panels there, so a title as wide as that moves the panels.
    start_widths: list[float] = field(default_factory=list)


_FRAMES: dict[tuple[object, ...], _ChartFrame] = {}
# Memory: a frame is a figure with its Agg canvas (up to 800 x 870 RGBA, 2.8 MB), and each of
# its layouts keeps the frame's pixels once more. Shapes: 1-6 placements per language; layouts:
# one per combination of title heights (nearly every name is as tall as "lp"; a capital with
# an accent is taller), so a few per frame. Past the bound the cache starts afresh.
_FRAMES_KEPT = 12
_LAYOUTS_KEPT = 8  # per frame
_FRAME_LOCK = threading.Lock()  # one chart at a time on a frame (were it ever drawn in threads)
_SUBPLOT_PARAMETERS = ("left", "right", "bottom", "top", "wspace", "hspace")


def chart_png(renderer: Renderer, language: str, digest: Digest) -> bytes | None:
    """One image, fixed in size: per placement that needs attention (at most six), both sides'
    collaboration per week on a 1-5 scale in words; skipped and unanswered weeks marked."""
    shown, _ = chart_sections(digest)
    if not shown:
        return None

    def label(name: str, **args: Any) -> str:
        return renderer.label(language, name, args)

    # Parents drawn wide underneath, house parents narrow on top: equal scores stay visible.
    sides = {
        "ouder": (label("chart_ouders"), "#1f6fb4", "o", 4.0, 9.0),
        "gezinshuisouder": (label("chart_gezinshuisouders"), "#e07b00", "s", 1.6, 5.0),
    }
    charts = [section.chart for section in shown if section.chart is not None]
    texts = (
        tuple(label("chart_scale", n=n) for n in range(1, 6)),
        label("chart_week"),
        label("chart_skipped"),
        label("chart_no_answer"),
        tuple(sides.values()),
    )
    # The weeks each panel shows (its ticks): the same for every placement in practice.
    spans = tuple(len(chart.weeks["ouder"]) for chart in charts)
    with _FRAME_LOCK:
        key = (texts, spans)
        frame = _FRAMES.get(key)
        if frame is None:
            if len(_FRAMES) >= _FRAMES_KEPT:
                _FRAMES.clear()
            frame = _FRAMES[key] = _chart_frame(texts, spans)
        return _draw_chart(frame, charts, sides)


def _chart_frame(texts: tuple[Any, ...], spans: tuple[int, ...]) -> _ChartFrame:
    """The figure for charts of `len(spans)` panels, without data or titles."""
    # Imported only when a chart is drawn (memory, start-up). A Figure of its own with the Agg
    # canvas, not pyplot: no global figure registry, and it lives as long as the frame.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    scale, week_label, skipped, no_answer, sides = texts
    columns = 1 if len(spans) == 1 else 2
    rows = math.ceil(len(spans) / columns)
    height = CHART_CELL[1] * rows + CHART_LEGEND
    figure = Figure(figsize=(CHART_CELL[0] * columns, height))
    canvas: Any = FigureCanvasAgg(figure)  # get_renderer is untyped in matplotlib
    grid = figure.subplots(rows, columns, squeeze=False)
    axes = []
    for index, axis in enumerate(grid.flat):
        if index >= len(spans):
            axis.set_visible(False)
            continue
        weeks = list(range(-spans[index] + 1, 1))
        axis.set_ylim(0.0, 5.5)
        axis.set_xlim(weeks[0] - 0.5, 0.5)
        axis.set_xticks(weeks, [str(-w) for w in weeks])
        axis.set_yticks([1, 2, 3, 4, 5], scale)
        # The floor line, in the frame: no data comes near it, and savefig draws it before
        # the spines at its ends.
        axis.axhline(0.7, color="#999999", linewidth=0.6)
        axis.tick_params(labelsize=8)
        axis.grid(alpha=0.3)
        axis.set_xlabel(week_label, fontsize=8)
        axes.append(axis)
    handles = [
        Line2D([], [], color=colour, marker=marker, linewidth=width, label=name)
        for name, colour, marker, width, _ in sides
    ]
    handles += [
        Line2D([], [], color="#555555", marker="v", linestyle="", label=skipped),
        Line2D(
            [], [], color="#555555", marker="x", markeredgewidth=2, linestyle="", label=no_answer
        ),
    ]
    # Below the plots, never over the data.
    figure.legend(handles=handles, loc="lower center", ncol=2, fontsize=9, frameon=False)
    start = {name: getattr(figure.subplotpars, name) for name in _SUBPLOT_PARAMETERS}
    renderer = canvas.get_renderer()
    widths = [axis.get_window_extent(renderer).width for axis in axes]
    return _ChartFrame(figure, axes, start=start, start_widths=widths)


def _draw_chart(frame: _ChartFrame, charts: list[Any], sides: dict[str, Any]) -> bytes:
    """The chart's PNG, as savefig draws it after tight_layout: pixel for pixel the same.

    Usually the layout for these titles' heights is known: its pixels without data or titles
    are copied, and the data and titles drawn over them. savefig draws the frame's spines after
    the data, this draws them before: they never meet (half a week and half a scale step of
    room). A title about as wide as its panel (in a new figure's layout, where tight_layout
    measures, or in this one) moves the panels: that chart is laid out and drawn
    whole, as it always was."""
    from matplotlib.image import imsave

    figure = frame.figure
    canvas = figure.canvas
    renderer = canvas.get_renderer()
    for artist in frame.drawn:
        artist.remove()
    frame.drawn.clear()
    titles = [
        axis.set_title(chart.youth, fontsize=11, loc="left", fontweight="bold")
        for axis, chart in zip(frame.axes, charts, strict=True)
    ]
    for title in titles:
        title.set_y(1.0)  # where tight_layout puts a title of one line (it leaves it there)
    extents = [
        (title.get_window_extent(renderer), axis.get_window_extent(renderer))
        for title, axis in zip(titles, frame.axes, strict=True)
    ]
    key = tuple((round(t.y1 - a.y1, 3), round(t.y0 - a.y1, 3)) for t, a in extents)
    known = frame.layouts.get(key)
    if known is None:
        params = _tight_layout(figure, frame.start)
    else:
        params, background = known
        figure.subplots_adjust(**params)
    for axis, chart in zip(frame.axes, charts, strict=True):
        frame.drawn += _plot_marks(axis, chart, sides)
    buffer = io.BytesIO()
    if any(
        title.get_window_extent(renderer).width
        >= min(width, axis.get_window_extent(renderer).width) - 1
        for title, axis, width in zip(titles, frame.axes, frame.start_widths, strict=True)
    ):
        if known is not None:
            _tight_layout(figure, frame.start)  # the known layout had no room for this title
        figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()
    if known is None:
        # The frame's pixels: without data, and with empty titles (an invisible one would be
        # measured as empty but not empty, and moved).
        for artist in frame.drawn:
            artist.set_visible(False)
        for title in titles:
            title.set_text("")
        canvas.draw()
        background = canvas.copy_from_bbox(figure.bbox)
        for artist in frame.drawn:
            artist.set_visible(True)
        for title, chart in zip(titles, charts, strict=True):
            title.set_text(chart.youth)
        if len(frame.layouts) >= _LAYOUTS_KEPT:
            frame.layouts.clear()
        frame.layouts[key] = (params, background)
    canvas.restore_region(background)
    for axis, title in zip(frame.axes, titles, strict=True):
        for artist in frame.drawn:
            if artist.axes is axis:
                axis.draw_artist(artist)
        axis.draw_artist(title)
    # As savefig writes it (FigureCanvasAgg.print_png).
    imsave(buffer, canvas.buffer_rgba(), format="png", origin="upper", dpi=figure.dpi)
    return buffer.getvalue()


def _tight_layout(figure: Any, start: dict[str, float]) -> dict[str, float]:
    """tight_layout above the legend strip, from a new figure's layout; the parameters chosen."""
    figure.subplots_adjust(**start)
    figure.tight_layout(rect=(0, CHART_LEGEND / figure.get_size_inches()[1], 1, 1))
    # tight_layout leaves a placeholder layout engine behind, for which savefig would draw the
    # whole figure once more: the layout is done, drop it.
    figure.set_layout_engine(None)
    return {name: getattr(figure.subplotpars, name) for name in _SUBPLOT_PARAMETERS}


def _plot_marks(axis: Any, chart: Any, sides: dict[str, Any]) -> list[Any]:
    """Both sides' scores per week, and a mark on the floor of the plot for a week without."""
    drawn: list[Any] = []
    for offset, (side, (_, colour, marker, width, size)) in zip(
        (-0.12, 0.12), sides.items(), strict=True
    ):
        marks = chart.weeks[side]
        weeks = list(range(-len(marks) + 1, 1))
        scores = [float(str(m["score"])) if m["score"] is not None else math.nan for m in marks]
        drawn += axis.plot(
            weeks, scores, color=colour, marker=marker, linewidth=width, markersize=size
        )
        # One kind of mark per reason.
        for week, mark in zip(weeks, marks, strict=True):
            if mark["mark"] == "skipped":
                drawn += axis.plot(week + offset, 0.35, marker="v", color=colour, markersize=7)
            elif mark["mark"] in ("missed", "open"):
                drawn += axis.plot(
                    week + offset, 0.35, marker="x", color=colour, markersize=7, markeredgewidth=2
                )
    return drawn


def weekly_parts(renderer: Renderer, language: str, digest: Digest) -> RenderedDigest:
    """The weekly digest as Telegram messages and its chart (flows.digest_plan queues them)."""
    _, more = chart_sections(digest)
    return RenderedDigest(
        render_messages(renderer, language, digest), chart_png(renderer, language, digest), more
    )


async def plan_weekly(
    db: Database,
    renderer: Renderer,
    now: dt.datetime,
    signals: SignalSettings | None = None,
    meetings: MeetingRules | None = None,
) -> int:
    """Queue the digests that are due (flows.digest_plan decides), rendered by `renderer`."""
    render = partial(weekly_parts, renderer)
    return await digest_plan.plan_weekly(db, render, now, signals, meetings)


def photo_of(context: dict[str, Any] | Any) -> bytes | None:
    """The chart bytes carried in a queued message's context, if any."""
    value = context.get("photo") if isinstance(context, dict) else None
    return base64.b64decode(value) if isinstance(value, str) else None
