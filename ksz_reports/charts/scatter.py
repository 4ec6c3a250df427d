"""Scatter plots: all municipalities as points, x against y, the report's municipality
highlighted (:func:`chart_scatter`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.lines import Line2D
from matplotlib.path import Path as MplPath
from matplotlib.transforms import IdentityTransform

from ksz_reports.charts.axes import (
    _axis_label_below,
    _axis_label_left,
    _grid,
    _labels_below,
    _labels_left,
    _tick_width,
    _x_axis_height,
    _y_axis_width,
    chart_canvas,
    set_margins,
    shifted,
    value_ticks,
)
from ksz_reports.charts.points import _cell, _label, _Point, point, records
from ksz_reports.charts.result import Chart, finish
from ksz_reports.charts.style import ACCENT, GREY, GREY_DARK, LABEL_SIZE, VALUE_SIZE, chart_style
from ksz_reports.l10n import NumberStyle, gettext

_K = 0.5522847498  # cubic Bézier arcs of a circle
#: A unit circle of four Bézier arcs (matplotlib's has eight): 14 vertices per point.
_CIRCLE = MplPath(
    [
        (1, 0),
        (1, _K),
        (_K, 1),
        (0, 1),
        (-_K, 1),
        (-1, _K),
        (-1, 0),
        (-1, -_K),
        (-_K, -1),
        (0, -1),
        (_K, -1),
        (1, -_K),
        (1, 0),
        (1, 0),
    ],
    [MplPath.MOVETO, *[MplPath.CURVE4] * 12, MplPath.CLOSEPOLY],
)


class _Dots(PathCollection):
    """Scatter points of one colour drawn as **one** compound path.

    matplotlib writes a scatter as one ``<use>`` per point; WeasyPrint then resolves, transforms
    and draws each separately (0.4 s for 580 municipalities, against 0.05 s for one path).
    The offsets stay the data of the collection (``get_offsets``), as for ``ax.scatter``.
    """

    def draw(self, renderer: Any) -> None:
        offsets = self.get_offsets()
        if not self.get_visible() or not len(offsets):
            return
        centres = self.get_offset_transform().transform(offsets)
        radius = renderer.points_to_pixels(math.sqrt(float(self.get_sizes()[0])) / 2)
        vertices = (_CIRCLE.vertices[None, :, :] * radius + centres[:, None, :]).reshape(-1, 2)
        codes = np.tile(_CIRCLE.codes, len(centres))
        gc = renderer.new_gc()
        self._set_gc_clip(gc)
        gc.set_linewidth(0)
        renderer.open_group("dots", self.get_gid())
        renderer.draw_path(
            gc, MplPath(vertices, codes), IdentityTransform(), tuple(self.get_facecolor()[0])
        )
        renderer.close_group("dots")
        gc.restore()
        self.stale = False


def chart_scatter(
    data: Any,
    *,
    title: str,
    lang: str,
    highlight: str,
    x_kind: str,
    y_kind: str,
    x_label: str,
    y_label: str,
    chart_id: str | None = None,
    alt: str | None = None,
    png: bool = False,
    style: NumberStyle | None = None,
) -> Chart:
    """All municipalities as points (x against y), the report's municipality highlighted.

    Rows: ``label``, ``x``, ``y`` and ``flag`` (or ``flag_x`` / ``flag_y``): a point with either
    coordinate hidden is not drawn; how many were left out is written in the chart and the alt
    text. ``highlight`` is the label of the report's municipality.
    """
    rows = records(data)
    xs_pts: list[_Point] = []
    ys_pts: list[_Point] = []
    for r in rows:
        label = str(r["label"])
        xs_pts.append(point(r, label, "x", "x", "flag_x" if "flag_x" in r else "flag"))
        ys_pts.append(point(r, label, "y", "y", "flag_y" if "flag_y" in r else "flag"))
    labels = [p.series for p in xs_pts]
    if highlight not in labels:
        raise ValueError(f"highlight {highlight!r} is not among the labels")
    _ = gettext(lang)
    with chart_style():
        fig, ax = chart_canvas(92.0)
        shown = [(px, py) for px, py in zip(xs_pts, ys_pts, strict=True) if px.shown and py.shown]
        others = [(px, py) for px, py in shown if px.series != highlight]
        if others:
            offsets = np.array([(p.value, q.value) for p, q in others], dtype=float)
            ax.add_collection(
                _Dots(
                    [_CIRCLE],
                    sizes=[9.0],
                    offsets=offsets,
                    offset_transform=ax.transData,
                    facecolors=GREY,
                    linewidths=0,
                    zorder=2,
                ),
                autolim=False,
            )
            ax.update_datalim(offsets)
            ax.autoscale_view()
        mine = [(px, py) for px, py in shown if px.series == highlight]
        for px, py in mine:
            ax.scatter(
                [px.value],
                [py.value],
                s=46,
                color=ACCENT,
                edgecolors="white",
                linewidths=0.8,
                zorder=4,
            )
        # the limits are those of the points (5 % margins), fixed before placing labels
        ax.set_xlim(*ax.get_xlim())
        ax.set_ylim(*ax.get_ylim())
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        for px, py in mine:
            # the name on the side with room: left of a point in the right quarter, below a
            # point at the top
            right = (px.value - x0) > 0.75 * (x1 - x0)  # type: ignore[operator]
            top = (py.value - y0) > 0.9 * (y1 - y0)  # type: ignore[operator]
            ax.text(
                px.value,  # type: ignore[arg-type]
                py.value,  # type: ignore[arg-type]
                highlight,
                transform=shifted(ax, ax.transData, -6 if right else 6, -4 if top else 4),
                ha="right" if right else "left",
                va="top" if top else "baseline",
                fontweight="bold",
                color=ACCENT,
                fontsize=LABEL_SIZE,
                zorder=5,
                label="highlight",
            )
        n_hidden = len(rows) - len(shown)
        not_shown = _("%(n)s not shown (not published)") % {"n": str(n_hidden)} if n_hidden else ""
        if not_shown:
            ax.text(
                1.0,
                0.0,
                not_shown,
                transform=shifted(ax, ax.transAxes, -2, 3),
                ha="right",
                va="bottom",
                fontsize=VALUE_SIZE,
                color=GREY_DARK,
                label="note",
            )
        x_ticks = value_ticks(x0, x1, x_kind, lang, style)
        y_ticks = value_ticks(y0, y1, y_kind, lang, style)
        _grid(ax, "x", (v for v, _t in x_ticks))
        _grid(ax, "y", (v for v, _t in y_ticks))
        # the two axis lines, left and bottom
        ax.add_line(
            Line2D([0, 0, 1], [1, 0, 0], transform=ax.transAxes, color=GREY_DARK, linewidth=0.6)
        )
        _labels_below(ax, x_ticks)
        _labels_left(ax, y_ticks)
        _axis_label_below(ax, x_label)
        _axis_label_left(ax, y_label, _tick_width(y_ticks))
        set_margins(
            ax,
            left=_y_axis_width(y_ticks, with_label=True) + 2,
            bottom=_x_axis_height(with_label=True) + 2,
            right=10.0,
            top=8.0,
        )
        return finish(
            fig,
            family="scatter",
            chart_id=chart_id,
            title=title,
            alt=alt,
            describe=lambda: _alt_scatter(
                title,
                lang,
                style,
                len(shown),
                mine[0] if mine else None,
                (x_label, x_kind),
                (y_label, y_kind),
                not_shown,
            ),
            columns=(_("Municipality"), x_label, y_label),
            rows=(
                (px.series, _cell(px, x_kind, lang, style), _cell(py, y_kind, lang, style))
                for px, py in sorted(zip(xs_pts, ys_pts, strict=True), key=lambda t: t[0].series)
            ),
            png=png,
            flags=[p.flag for p in xs_pts + ys_pts],
            plotted=[(px.series, "xy") for px, _py in shown],
        )


def _alt_scatter(
    title: str,
    lang: str,
    style: NumberStyle | None,
    n_shown: int,
    mine: tuple[_Point, _Point] | None,
    x: tuple[str, str],
    y: tuple[str, str],
    not_shown: str,
) -> str:
    """The alt text of a scatter plot of ``n_shown`` points: ``mine`` the highlighted point,
    ``x`` and ``y`` the (label, kind) of each axis, ``not_shown`` the note on hidden points."""
    _ = gettext(lang)
    alt = _("%(title)s. Scatter plot of %(n)s municipalities.") % {
        "title": title,
        "n": str(n_shown),
    }
    if mine is not None:
        px, py = mine
        alt += " " + _("%(name)s: %(x_label)s %(x)s, %(y_label)s %(y)s.") % {
            "name": px.series,
            "x_label": x[0],
            "x": _label(px, x[1], lang, style),
            "y_label": y[0],
            "y": _label(py, y[1], lang, style),
        }
    if not_shown:
        alt += " " + not_shown + "."
    return alt
