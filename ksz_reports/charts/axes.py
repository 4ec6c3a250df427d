"""The drawing surface of the chart families: the reused figure and its axes, the margins,
and the axes drawn by hand (ticks, grid lines, axis labels, the legend row).

matplotlib's Axis draws every tick as five artists (two marks, a grid line, two labels), created,
styled and laid out anew for each chart, and its Legend as a packed tree of boxes: together more
than half of a chart's time. The charts switch both off (``set_axis_off``) and draw what a reader
needs with plain artists: tick and axis labels as texts, grid lines as one collection, the legend
as a row of samples and texts. Offsets are in points (:func:`shifted`), so the layout is the same
in the SVG (72 dpi) and the PNG (200 dpi).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Affine2D, ScaledTranslation, offset_copy

from ksz_reports.charts.style import (
    GRID_COLOR,
    LABEL_PAD,
    LABEL_SIZE,
    LINE,
    MM,
    RC,
    TEXT_COLOR,
    TICK_PAD,
    TICK_SIZE,
    WIDTH_MM,
    new_figure,
    text_width,
)
from ksz_reports.core.vocabulary import INTEGER_KINDS
from ksz_reports.l10n import NumberStyle, axis_formatter


def set_margins(
    ax: Axes, *, left: float, bottom: float, right: float = 8.0, top: float = 6.0
) -> None:
    """Place ``ax`` with the given margins (points) inside its figure."""
    width, height = (float(v) * 72 for v in ax.figure.get_size_inches())
    ax.set_position(
        (left / width, bottom / height, 1 - (left + right) / width, 1 - (bottom + top) / height)
    )


@cache
def _canvas() -> tuple[Figure, Axes]:
    figure = new_figure(60.0)
    axes = figure.add_subplot()
    axes.set_axis_off()
    return figure, axes


def chart_canvas(height_mm: float) -> tuple[Figure, Axes]:
    """An empty figure ``height_mm`` high with its axes, axis and spines off (drawn by hand).

    The same figure and axes serve every chart of the process (call inside
    :func:`~ksz_reports.charts.style.chart_style`): matplotlib builds a new Axes — two Axis objects with their ticks,
    four spines — in a quarter of a chart's time. Charts are drawn one at a time per process,
    and what the previous chart added is removed here, its limits and their orientation reset.
    """
    fig, ax = _canvas()
    for artist in [*ax.lines, *ax.texts, *ax.collections, *ax.patches]:
        artist.remove()
    ax.relim()
    # limits in the normal orientation (a bar chart inverts y; autoscaling would keep that)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_autoscale_on(True)
    fig.set_size_inches(WIDTH_MM * MM, height_mm * MM)
    return fig, ax


def shifted(ax: Axes, base: Any, dx: float = 0.0, dy: float = 0.0) -> Any:
    """``base`` transform moved by (``dx``, ``dy``) points."""
    return offset_copy(base, ax.figure, x=dx, y=dy, units="points")


def value_ticks(
    low: float, high: float, kind: str, lang: str, style: NumberStyle | None
) -> list[tuple[float, str]]:
    """Round tick positions between ``low`` and ``high`` with their labels, written like the
    table cells (:func:`~ksz_reports.l10n.numbers.axis_formatter`)."""
    locator = MaxNLocator(
        nbins=6, steps=[1, 2, 2.5, 5, 10], min_n_ticks=3, integer=kind in INTEGER_KINDS
    )
    locs = [float(v) for v in locator.tick_values(low, high) if _within(v, (low, high))]
    formatter = axis_formatter(kind, lang, style)
    formatter.set_locs(locs)
    return [(v, formatter(v, i)) for i, v in enumerate(locs)]


def _within(v: float, interval: Sequence[float]) -> bool:
    low, high = sorted(interval)
    slack = (high - low) * 1e-9
    return low - slack <= v <= high + slack


def _grid(ax: Axes, which: str, values: Iterable[float]) -> None:
    """Light grid lines across the axes at ``values`` of the x or y axis, behind everything."""
    if which == "x":
        segments = [[(v, 0.0), (v, 1.0)] for v in values]
        transform = ax.get_xaxis_transform()
    else:
        segments = [[(0.0, v), (1.0, v)] for v in values]
        transform = ax.get_yaxis_transform()
    ax.add_collection(
        LineCollection(
            segments, transform=transform, colors=GRID_COLOR, linewidths=0.5, zorder=0.5
        ),
        autolim=False,
    )


def _labels_left(ax: Axes, ticks: Sequence[tuple[float, str]], bold: str | None = None) -> None:
    """Tick labels left of the axes, right-aligned, at data ``y`` positions."""
    transform = shifted(ax, ax.get_yaxis_transform(), dx=-TICK_PAD)
    for y, text in ticks:
        ax.text(
            0.0,
            y,
            text,
            transform=transform,
            ha="right",
            va="center",
            fontsize=TICK_SIZE,
            fontweight="bold" if bold is not None and text == bold else "normal",
            color=TEXT_COLOR,
            label="tick-y",
        )


def _labels_below(ax: Axes, ticks: Sequence[tuple[float, str]]) -> None:
    """Tick labels below the axes, centred on data ``x`` positions."""
    transform = shifted(ax, ax.get_xaxis_transform(), dy=-TICK_PAD)
    for x, text in ticks:
        if text:
            ax.text(
                x,
                0.0,
                text,
                transform=transform,
                ha="center",
                va="top",
                fontsize=TICK_SIZE,
                color=TEXT_COLOR,
                label="tick-x",
            )


def _axis_label_left(ax: Axes, text: str, tick_width: float) -> None:
    """The y axis label, rotated, left of tick labels ``tick_width`` points wide."""
    ax.text(
        0.0,
        0.5,
        text,
        transform=shifted(ax, ax.transAxes, dx=-(TICK_PAD + tick_width + LABEL_PAD)),
        rotation=90,
        ha="right",
        va="center",
        fontsize=LABEL_SIZE,
        color=TEXT_COLOR,
        label="axis-label",
    )


def _axis_label_below(ax: Axes, text: str) -> None:
    """The x axis label, centred under the tick labels."""
    ax.text(
        0.5,
        0.0,
        text,
        transform=shifted(ax, ax.transAxes, dy=-(TICK_PAD + TICK_SIZE * LINE + LABEL_PAD)),
        ha="center",
        va="top",
        fontsize=LABEL_SIZE,
        color=TEXT_COLOR,
        label="axis-label",
    )


def _x_axis_height(with_label: bool) -> float:
    """Points below the axes taken by x tick labels (and the x label)."""
    height = TICK_PAD + TICK_SIZE * LINE
    return height + (LABEL_PAD + LABEL_SIZE * LINE if with_label else 0.0)


def _tick_width(ticks: Sequence[tuple[float, str]]) -> float:
    return max((text_width(t) for _v, t in ticks), default=0.0)


def _y_axis_width(ticks: Sequence[tuple[float, str]], with_label: bool) -> float:
    """Points left of the axes taken by y tick labels (and the rotated y label)."""
    width = TICK_PAD + _tick_width(ticks)
    return width + (LABEL_PAD + LABEL_SIZE * LINE if with_label else 0.0)


#: Points above the axes taken by a one-row legend (:func:`_legend_row`).
LEGEND_HEIGHT = 20.0
LEGEND_SAMPLE = 19.5  # length of a line sample (2.6 font sizes)
LEGEND_GAP = 12.0  # between two entries


def _top_left_points(ax: Axes) -> Any:
    """Coordinates in points from the top-left corner of the axes (x right, y up)."""
    return (
        Affine2D().scale(1 / 72)
        + ax.figure.dpi_scale_trans
        + ScaledTranslation(0.0, 1.0, ax.transAxes)
    )


def _legend_row(ax: Axes, entries: Sequence[tuple[str, Mapping[str, Any]]], bars: bool) -> None:
    """A one-row legend above the axes, left-aligned with them (read before the chart).

    ``entries``: (label, style of :func:`_series_styles`): a line sample with its marker, or
    with ``bars`` a square of the style's colour.
    """
    transform = _top_left_points(ax)
    y = LEGEND_HEIGHT / 2
    x = 0.0
    for label, style in entries:
        if bars:
            sample = TICK_SIZE
            ax.add_patch(
                Rectangle(
                    (x, y - sample / 2),
                    sample,
                    sample,
                    transform=transform,
                    facecolor=style["color"],
                    linewidth=0,
                    clip_on=False,
                    label="_legend",
                )
            )
        else:
            sample = LEGEND_SAMPLE
            ax.add_line(
                Line2D(
                    [x, x + sample / 2, x + sample],
                    [y, y, y],
                    transform=transform,
                    color=style["color"],
                    linestyle=style["linestyle"],
                    linewidth=style.get("linewidth", RC["lines.linewidth"]),
                    marker=style["marker"],
                    markevery=[1],
                    markerfacecolor=style["color"],
                    clip_on=False,
                    label="_legend",
                )
            )
        ax.text(
            x + sample + 4.0,
            y,
            label,
            transform=transform,
            ha="left",
            va="center_baseline",
            fontsize=TICK_SIZE,
            color=TEXT_COLOR,
            label="legend",
        )
        x += sample + 4.0 + text_width(label) + LEGEND_GAP
