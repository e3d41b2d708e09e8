"""The digest chart is drawn from a frame reused between charts (bot.digest): the pixels must be
those the plain drawing gives (a new pyplot figure, tight_layout, savefig), chart after chart.

`_reference_png` is bot.digest.chart_png as it was before the frame was reused, kept here as
the oracle. Images are compared pixel by pixel (PNG bytes may differ in compression only).
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy
from PIL import Image

from bot.digest import CHART_CELL, CHART_LEGEND, chart_png, chart_sections
from bot.render import Renderer
from flows.digest import Chart, Digest, Section


def _week(score: int | None, mark: str) -> dict[str, object]:
    return {"score": score, "mark": mark}


def _chart(youth: str, seed: int) -> Chart:
    """Eight weeks per side, with skipped, missed and open weeks and some without a score."""
    ouder, huis = [], []
    for week in range(8):
        kind = (week * 3 + seed) % 7
        ouder.append(
            _week(None, "skipped")
            if kind == 0
            else _week(None, "missed")
            if kind == 1
            else _week(1 + (week + seed) % 5, "answered")
        )
        huis.append(
            _week(None, "open")
            if kind == 2 and week == 7
            else _week(1 + (week * seed) % 5, "answered")
        )
    return Chart(youth=youth, weeks={"ouder": ouder, "gezinshuisouder": huis})


def _digest(*youths: str) -> Digest:
    sections = [
        Section(
            placement_id=index,
            context={},
            stalling=True,
            needs_attention=True,
            chart=_chart(youth, index),
        )
        for index, youth in enumerate(youths)
    ]
    return Digest(header={}, sections=sections)


def _pixels(png: bytes) -> Any:
    return numpy.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def _reference_png(renderer: Renderer, language: str, digest: Digest) -> bytes | None:
    """One image, fixed in size: per placement that needs attention (at most six), both sides'
    collaboration per week on a 1-5 scale in words; skipped and unanswered weeks marked."""
    shown, _ = chart_sections(digest)
    if not shown:
        return None
    import matplotlib  # imported only when a chart is drawn (memory, start-up)

    matplotlib.use("Agg")
    from matplotlib import pyplot  # after choosing the non-GUI backend
    from matplotlib.lines import Line2D

    def label(name: str, **args: Any) -> str:
        return renderer.label(language, name, args)

    # Parents drawn wide underneath, house parents narrow on top: equal scores stay visible.
    sides = {
        "ouder": (label("chart_ouders"), "#1f6fb4", "o", 4.0, 9.0),
        "gezinshuisouder": (label("chart_gezinshuisouders"), "#e07b00", "s", 1.6, 5.0),
    }
    scale = [label("chart_scale", n=n) for n in range(1, 6)]
    columns = 1 if len(shown) == 1 else 2
    rows = math.ceil(len(shown) / columns)
    height = CHART_CELL[1] * rows + CHART_LEGEND
    figure, axes = pyplot.subplots(
        rows, columns, figsize=(CHART_CELL[0] * columns, height), squeeze=False
    )
    try:
        for index, axis in enumerate(axes.flat):
            if index >= len(shown):
                axis.set_visible(False)
                continue
            chart = shown[index].chart
            assert chart is not None  # chart_sections keeps charted sections only
            for offset, (side, (_, colour, marker, width, size)) in zip(
                (-0.12, 0.12), sides.items(), strict=True
            ):
                marks = chart.weeks[side]
                weeks = list(range(-len(marks) + 1, 1))
                scores = [
                    float(str(m["score"])) if m["score"] is not None else math.nan for m in marks
                ]
                axis.plot(
                    weeks, scores, color=colour, marker=marker, linewidth=width, markersize=size
                )
                # No score: a mark on the floor of the plot, one kind per reason.
                for week, mark in zip(weeks, marks, strict=True):
                    if mark["mark"] == "skipped":
                        axis.plot(week + offset, 0.35, marker="v", color=colour, markersize=7)
                    elif mark["mark"] in ("missed", "open"):
                        axis.plot(
                            week + offset,
                            0.35,
                            marker="x",
                            color=colour,
                            markersize=7,
                            markeredgewidth=2,
                        )
            axis.set_title(chart.youth, fontsize=11, loc="left", fontweight="bold")
            axis.set_ylim(0.0, 5.5)
            axis.set_xlim(weeks[0] - 0.5, 0.5)
            axis.set_xticks(weeks, [str(-w) for w in weeks])
            axis.set_yticks([1, 2, 3, 4, 5], scale)
            axis.axhline(0.7, color="#999999", linewidth=0.6)
            axis.tick_params(labelsize=8)
            axis.grid(alpha=0.3)
            axis.set_xlabel(label("chart_week"), fontsize=8)
        handles = [
            Line2D([], [], color=colour, marker=marker, linewidth=width, label=name)
            for name, colour, marker, width, _ in sides.values()
        ]
        handles += [
            Line2D(
                [], [], color="#555555", marker="v", linestyle="", label=label("chart_skipped")
            ),
            Line2D(
                [],
                [],
                color="#555555",
                marker="x",
                markeredgewidth=2,
                linestyle="",
                label=label("chart_no_answer"),
            ),
        ]
        # Below the plots, never over the data.
        figure.legend(handles=handles, loc="lower center", ncol=2, fontsize=9, frameon=False)
        figure.tight_layout(rect=(0, CHART_LEGEND / height, 1, 1))
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()
    finally:
        pyplot.close(figure)


NAMES = ["Tess", "Ömer", "Jayden", "Priya", "Sem", "Yusuf", "Lotte", "Giulia"]
LONG = "Maximiliaan-Alexander Wilhelmina Johanna van Oldenbarnevelt"  # wider than a panel


def test_chart_after_chart_the_pixels_are_those_of_the_plain_drawing() -> None:
    renderer = Renderer()
    # Shapes and names in turn, the same shape again after another, a title taller than "lp"
    # (Ö) first and second, one wider than its panel (and short ones after it again), the other
    # language in between.
    drawn = [
        ("nl", _digest(*NAMES[:6])),
        ("nl", _digest(*NAMES[:1])),
        ("nl", _digest(*NAMES[2:5])),
        ("nl", _digest(*NAMES[1:7])),
        ("en", _digest(*NAMES[:3])),
        ("nl", _digest(NAMES[0], LONG, *NAMES[2:4])),
        ("nl", _digest(*NAMES[:6])),
        ("nl", _digest(LONG)),
        ("nl", _digest(*NAMES[3:4])),
    ]
    for language, digest in drawn:
        png = chart_png(renderer, language, digest)
        reference = _reference_png(renderer, language, digest)
        assert png is not None
        assert reference is not None
        assert png.startswith(b"\x89PNG")
        youths = [s.chart.youth for s in digest.sections if s.chart is not None]
        numpy.testing.assert_array_equal(_pixels(png), _pixels(reference), err_msg=str(youths))


def test_titles_about_as_wide_as_their_panel_move_the_panels_as_before() -> None:
    renderer = Renderer()
    # Around where a title starts to stick out of its panel (in a new figure's layout, where
    # tight_layout measures it, or in the final one); short titles before and after.
    for length in [4, *range(22, 40, 2), 4]:
        digest = _digest("Jayden", ("Mohammed Jayden van der Berg-Oldenbarnevelt")[:length])
        png = chart_png(renderer, "nl", digest)
        reference = _reference_png(renderer, "nl", digest)
        assert png is not None
        assert reference is not None
        numpy.testing.assert_array_equal(_pixels(png), _pixels(reference), err_msg=str(length))


def test_no_chart_without_charted_placements() -> None:
    assert chart_png(Renderer(), "nl", Digest(header={}, sections=[])) is None
    assert chart_sections(_digest(*NAMES))[1] == 2
