"""Choropleth maps of a value per municipality (:func:`map_choropleth`).

A map is drawn as one compound path per colour class, one for the hidden values and one for all
borders (a handful of SVG elements instead of ~1,400 for Belgium: the PDF renderer's cost is per
element), on the cached geometry of its area (:mod:`ksz_reports.charts.layer`).

**Geography.** The shipped borders are those of 2019–2024; a map on another geography (today's,
2025) draws a merged municipality as the union of its predecessors: the union of each class's municipalities is one outline
(:func:`~ksz_reports.charts.geometry._dissolve`), so predecessors join without a seam, and only the
borders *between different municipalities* are drawn. The report's municipality is outlined thick
(black on a white halo) along its own outer border.

For speed (a map of Belgium in ~45 ms instead of ~180), the map has no axes, its legend is a few
plain artists (:func:`_legend`), and the SVG path data of its large paths is joined from the
layer's coordinates, formatted once (:class:`_PathData`).

Classes are quantiles of the values as published (rounded once with :mod:`formatting`), so a
municipality that shows ``12,4`` in a table is in the class whose legend reads ``12,4 – 15,0``.
Municipalities without a published value are hatched grey, with a legend entry per symbol.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import matplotlib
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, get_font
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.textpath import text_to_path
from matplotlib.transforms import Affine2D, Transform

from ksz_reports.charts.geometry import Point, _dissolve
from ksz_reports.charts.layer import _layer, _outline
from ksz_reports.charts.points import _Point, point, records, unit_label
from ksz_reports.charts.result import Chart, finish, make_chart
from ksz_reports.charts.style import FONT_FAMILY, chart_style, new_figure, register_fonts
from ksz_reports.charts.svg import render_figure
from ksz_reports.geo import COUNTRY, Geography, shipped_geography
from ksz_reports.l10n import (
    DEFAULT_STYLE,
    FLAG_SYMBOLS,
    NumberStyle,
    flag_label,
    flag_symbol,
    fmt_cell,
    fmt_number,
    gettext,
    round_decimal,
)

NA_FACE = "#e3e3e3"
NA_HATCH = "#8c8c8c"
BORDER = "#ffffff"
CMAP = "YlGnBu"


# --------------------------------------------------------------------------- classes


@dataclass(frozen=True)
class Classes:
    """Quantile classes: lower bounds (rounded values), colours and legend labels."""

    lower: tuple[Decimal, ...]
    colors: tuple[str, ...]
    labels: tuple[str, ...]

    def index(self, value: Decimal) -> int:
        """The class of a rounded ``value``."""
        i = 0
        for j, lo in enumerate(self.lower):
            if value >= lo:
                i = j
        return i


def quantile_classes(
    values: Iterable[Decimal], n_classes: int, lang: str, decimals: int
) -> Classes:
    """Up to ``n_classes`` quantile classes of rounded ``values`` (fewer when values tie).

    Bounds are published values, so the legend never shows a number the tables would not:
    ``8,1 – 12,3`` then ``12,4 – 15,0`` (the upper bound is the next lower bound minus one unit of
    the last decimal).
    """
    ordered = sorted(values)
    if not ordered:
        return Classes((), (), ())
    n = len(ordered)
    lower = sorted({ordered[min(n - 1, (i * n) // n_classes)] for i in range(n_classes)})
    step = Decimal(1).scaleb(-decimals)
    cmap = matplotlib.colormaps[CMAP]
    k = len(lower)
    colors = tuple(to_hex(cmap(0.18 + 0.7 * (i / (k - 1) if k > 1 else 0.5))) for i in range(k))
    labels = []
    for i, lo in enumerate(lower):
        hi = lower[i + 1] - step if i + 1 < k else ordered[-1]
        lo_text, hi_text = fmt_number(lo, lang, decimals), fmt_number(hi, lang, decimals)
        labels.append(lo_text if hi == lo else f"{lo_text} \u2013 {hi_text}")
    return Classes(tuple(lower), colors, tuple(labels))


# --------------------------------------------------------------------------- SVG path data

#: The link around a placeholder path of :class:`_PathData` (``<i>``: the index of its data).
_PLACEHOLDER_URL = "ksz-path-data:"
_PLACEHOLDER = re.compile(
    r'<a xlink:href="' + _PLACEHOLDER_URL + r'(\d+)"[^>]*>\s*<path d="[^"]*"([^>]*)/>\s*</a>'
)


class _PathData:
    """The large paths of a map (one per class, the hidden values, the borders), whose SVG path
    data is joined here from coordinates formatted once per layer
    (:attr:`~ksz_reports.charts.layer._Layer.svg_points`).

    They are nearly all of a map's SVG: matplotlib would write every coordinate of every map,
    then :func:`~ksz_reports.charts.svg.render_figure` would parse and cut them to 0.01 pt, over
    half the time of a map of Belgium. Instead, matplotlib draws each of them as a one-point
    placeholder inside a link ``ksz-path-data:<i>`` (writing its style and hatch as for any
    path), and :meth:`render` replaces the placeholder and its link with the path data: the very
    same SVG as matplotlib's.
    """

    def __init__(self) -> None:
        self._patches: list[tuple[PathPatch, MplPath]] = []
        self._data: list[str] = []

    def patch(self, path: MplPath, svg_data: str, **kwargs: Any) -> PathPatch:
        """A :class:`PathPatch` of ``path`` (``kwargs`` its style) whose SVG path data is
        ``svg_data`` (:func:`~ksz_reports.charts.svg._svg_path_data` of the same points).

        A patch, not a collection: matplotlib draws a collection of one path and one colour as
        a marker (``<defs>`` and ``<use>``), with no link."""
        url = f"{_PLACEHOLDER_URL}{len(self._data)}"
        patch = PathPatch(MplPath(path.vertices[:1]), url=url, **kwargs)
        self._patches.append((patch, path))
        self._data.append(svg_data)
        return patch

    def render(self, fig: Figure, *, png: bool, **chart: Any) -> Chart:
        """:func:`~ksz_reports.charts.result.make_chart` of ``fig``, with the path data in its SVG.

        A PNG (tests, previews) is drawn again from the figure, with the real paths.
        """
        result = make_chart(fig, png=False, **chart)
        svg, found = _PLACEHOLDER.subn(
            lambda m: f'<path d="{self._data[int(m[1])]}"{m[2]}/>', result.svg
        )
        if found != len(self._data):
            raise RuntimeError(f"{found} of the {len(self._data)} map paths found in the SVG")
        png_bytes = None
        if png:
            for patch, path in self._patches:
                patch.set_path(path)
                patch.set_url(None)
            _svg, png_bytes = render_figure(fig, result.id, result.alt, png=True)
        return dataclasses.replace(result, svg=svg, png=png_bytes)


# --------------------------------------------------------------------------- legend

#: Font sizes of the legend's entries and title (``legend.fontsize`` and ``font.size`` of
#: :func:`~ksz_reports.charts.style.chart_style`), in points.
LEGEND_SIZE = 7.5
LEGEND_TITLE_SIZE = 8.0
#: A legend handle (colour swatch or line) is HANDLE_WIDTH wide and spans from HANDLE_DESCENT below
#: to HANDLE_ASCENT above the baseline of its label, in points: matplotlib's legend handle box of
#: ``handlelength=1.6, handleheight=1.1``.
HANDLE_WIDTH = 1.6 * LEGEND_SIZE
HANDLE_DESCENT = 0.35 * LEGEND_SIZE * (1.1 - 0.7)
HANDLE_ASCENT = 1.1 * LEGEND_SIZE - 2 * HANDLE_DESCENT


def _points_to_display(fig: Figure) -> Transform:
    """Points of ``fig`` (from its bottom left) → display coordinates, at any dpi."""
    return Affine2D().scale(1 / 72) + fig.dpi_scale_trans


@cache
def _typo_extent() -> tuple[float, float]:
    """The font's typographic ascent and descent, in font sizes: the least extent of a line."""
    font = get_font(register_fonts()["normal"])
    em = font.get_sfnt_table("head")["unitsPerEm"]
    metrics = font.get_sfnt_table("OS/2")
    return metrics["sTypoAscender"] / em, -metrics["sTypoDescender"] / em


@functools.lru_cache(maxsize=4096)
def _line_extent(text: str, size: float) -> tuple[float, float]:
    """Ascent and descent of a line of ``text`` (points), as matplotlib lays it out."""
    prop = FontProperties(family=FONT_FAMILY, size=size)
    _width, height, descent = text_to_path.get_text_width_height_descent(text, prop, ismath=False)
    typo_ascent, typo_descent = _typo_extent()
    return max(height - descent, typo_ascent * size), max(descent, typo_descent * size)


def _legend(fig: Figure, at: Point, handles: Sequence[Rectangle | Line2D], title: str) -> None:
    """The legend of a map: ``title``, then each handle with its label, to the right of ``at``
    (points of ``fig``), centred on it vertically.

    Drawn as plain artists of the figure, placed the way ``ax.legend(handles=handles,
    title=title, loc="center left", bbox_to_anchor=(1, 0.5), alignment="left",
    handlelength=1.6, handleheight=1.1)`` places them right of an axes ``ax``: matplotlib's
    legend measures each text several times and took a third of the time of a province map.
    Rows are as tall as their handle, or their label where it is taller (an accented capital).
    """
    to_display = Affine2D().translate(*at) + _points_to_display(fig)
    pad = 0.4 * LEGEND_SIZE  # inside the legend box
    space = 0.5 * LEGEND_SIZE  # between rows, and between the map and the legend box
    left = space + pad
    title_ascent, title_descent = _line_extent(title, LEGEND_TITLE_SIZE)
    rows = []
    for handle in handles:
        ascent, descent = _line_extent(handle.get_label(), LEGEND_SIZE)
        rows.append((max(ascent, HANDLE_ASCENT), max(descent, HANDLE_DESCENT)))
    height = 2 * pad + title_ascent + title_descent + sum(a + d + space for a, d in rows)
    baseline = height / 2 - pad - title_ascent
    fig.text(left, baseline, title, transform=to_display, size=LEGEND_TITLE_SIZE)
    below = title_descent
    for handle, (ascent, descent) in zip(handles, rows, strict=True):
        baseline -= below + space + ascent
        below = descent
        if isinstance(handle, Rectangle):
            handle.set_bounds(
                left, baseline - HANDLE_DESCENT, HANDLE_WIDTH, HANDLE_ASCENT + HANDLE_DESCENT
            )
        else:
            y = baseline + HANDLE_ASCENT / 2  # where matplotlib's legend draws a line
            handle.set_data([left, left + HANDLE_WIDTH], [y, y])
        handle.set_transform(to_display)
        fig.add_artist(handle)
        fig.text(
            left + HANDLE_WIDTH + 0.8 * LEGEND_SIZE,
            baseline,
            handle.get_label(),
            transform=to_display,
            size=LEGEND_SIZE,
        )


# --------------------------------------------------------------------------- map_choropleth


def map_choropleth(
    data: Any,
    *,
    title: str,
    lang: str,
    kind: str = "rate_per_1000",
    highlight: str | None = None,
    area: str | None = None,
    geography: Geography | None = None,
    n_classes: int = 5,
    legend_title: str | None = None,
    chart_id: str | None = None,
    alt: str | None = None,
    png: bool = False,
    style: NumberStyle | None = None,
) -> Chart:
    """A choropleth of a value per municipality, for a province, a region or Belgium.

    Rows: ``geo`` (NIS code of a municipality of ``geography``: default the shipped borders'
    own, 2019–2024), ``value``, ``flag``; a municipality in the area without a row is
    ``not_available``. ``area``: a province (``40000``), a region (``02000``) or None/``01000`` for
    Belgium, on ``geography``. ``highlight``: the report's municipality (outlined). Names come
    from ``geography`` in ``lang``. Returns a :class:`Chart` whose table lists every municipality
    with its value and class.
    """
    geography = geography or shipped_geography()
    style = style or DEFAULT_STYLE
    layer = _layer(area, geography)
    scope = layer.scope
    if highlight is not None and highlight not in scope:
        raise ValueError(f"highlight {highlight!r} is not a municipality of the map")

    by_geo = {str(r["geo"]).zfill(5): r for r in records(data)}
    outside = sorted(set(by_geo) - set(layer.groups))
    if outside:
        raise ValueError(f"values for codes that are not on the map's geography: {outside[:5]}")
    points = {nis: point(by_geo.get(nis, {}), nis, "value") for nis in scope}
    rounded = {
        nis: round_decimal(p.raw, style.decimals, style.rounding)
        for nis, p in points.items()
        if p.shown
    }
    classes = quantile_classes(rounded.values(), n_classes, lang, style.decimals)
    names = {nis: geography.name(nis, lang) for nis in scope}
    _ = gettext(lang)

    hidden_label = len(classes.lower)
    labels = np.asarray(
        [classes.index(rounded[nis]) if nis in rounded else hidden_label for nis in scope],
        dtype=np.int64,
    )
    loops = _dissolve(layer.edges, labels)
    hidden_loops = loops.pop(hidden_label, None)
    outline = _outline(layer, highlight) if highlight is not None else []

    with chart_style():
        fig = new_figure(layer.height_mm)
        # No axes (more costly to make and draw than the map): the layer places the map.
        to_display = Affine2D.from_values(*layer.to_points) + _points_to_display(fig)
        path_data = _PathData()

        def add(path: MplPath, svg_data: str, **props: Any) -> None:
            fig.add_artist(
                path_data.patch(path, svg_data, transform=to_display, joinstyle="round", **props)
            )

        for k, part in sorted(loops.items()):
            # One path per class. Edge = face: predecessors of a merged municipality join
            # without a seam, and neighbours of one class without a hairline gap.
            color = classes.colors[k]
            add(
                part.path(layer.edges),
                part.svg(layer.svg_points),
                facecolor=color,
                edgecolor=color,
                linewidth=0.3,
            )
        if hidden_loops is not None:
            add(
                hidden_loops.path(layer.edges),
                hidden_loops.svg(layer.svg_points),
                facecolor=NA_FACE,
                edgecolor=NA_FACE,
                linewidth=0.3,
                hatch="//////",
                hatchcolor=NA_HATCH,
            )
        add(layer.borders, layer.svg_borders, facecolor="none", edgecolor=BORDER, linewidth=0.35)
        handles: list[Rectangle | Line2D] = [
            Rectangle((0, 0), 0, 0, facecolor=c, edgecolor=c, label=lab)
            for c, lab in zip(classes.colors, classes.labels, strict=True)
        ]
        if outline:
            for color, width in (("white", 3.2), ("black", 1.5)):
                fig.add_artist(
                    LineCollection(
                        outline,
                        colors=color,
                        linewidths=width,
                        capstyle="round",
                        joinstyle="round",
                        transform=to_display,
                    )
                )
            handles.append(Line2D([], [], color="black", linewidth=1.5, label=names[highlight]))
        hidden_flags = {points[nis].flag for nis in scope if nis not in rounded}
        by_symbol = {FLAG_SYMBOLS[f]: f for f in reversed(FLAG_SYMBOLS) if f in hidden_flags}
        for symbol, flag in sorted(by_symbol.items(), key=lambda t: list(FLAG_SYMBOLS).index(t[1])):
            handles.append(
                Rectangle(
                    (0, 0),
                    0,
                    0,
                    facecolor=NA_FACE,
                    edgecolor=NA_HATCH,
                    hatch="//////",
                    linewidth=0,
                    label=f"{symbol}  {flag_label(flag, lang)}",
                )
            )
        _legend(
            fig,
            layer.legend_at,
            handles,
            title=legend_title if legend_title is not None else unit_label(kind, lang),
        )

        return finish(
            fig,
            family="map",
            chart_id=chart_id,
            title=title,
            alt=alt,
            describe=lambda: _alt_map(
                title,
                lang,
                kind,
                style,
                geography.name(area or COUNTRY, lang),
                classes,
                points,
                rounded,
                names,
                highlight,
            ),
            columns=(_("Municipality"), unit_label(kind, lang), _("Class")),
            rows=(
                (
                    names[nis],
                    fmt_cell(points[nis].raw, kind, points[nis].flag, lang, style=style),
                    classes.labels[classes.index(rounded[nis])]
                    if nis in rounded
                    else flag_symbol(points[nis].flag) or "",
                )
                for nis in sorted(scope, key=lambda n: (names[n].casefold(), n))
            ),
            png=png,
            flags=(p.flag for p in points.values()),
            plotted=[(nis, "value") for nis in sorted(rounded)],
            render=path_data.render,
        )


def _alt_map(
    title: str,
    lang: str,
    kind: str,
    style: NumberStyle,
    area_name: str,
    classes: Classes,
    points: Mapping[str, _Point],
    rounded: Mapping[str, Decimal],
    names: Mapping[str, str],
    highlight: str | None,
) -> str:
    """The alt text of a map of ``points`` (``rounded``: the published ones) in ``classes``."""
    _ = gettext(lang)
    alt = _("%(title)s. Map of %(n)s municipalities (%(area)s) in %(k)s classes.") % {
        "title": title,
        "n": str(len(points)),
        "area": area_name,
        "k": str(len(classes.lower)),
    }
    if classes.labels:
        alt += " " + _("From %(low)s to %(high)s.") % {
            "low": fmt_number(min(rounded.values()), lang, style.decimals),
            "high": fmt_number(max(rounded.values()), lang, style.decimals),
        }
    if highlight is not None:
        p = points[highlight]
        value = fmt_cell(p.raw, kind, p.flag, lang, style=style)
        alt += " " + _("%(name)s: %(value)s.") % {"name": names[highlight], "value": value}
    n_hidden = len(points) - len(rounded)
    if n_hidden:
        alt += " " + _("%(n)s municipalities without a published value are hatched.") % {
            "n": str(n_hidden)
        }
    return alt
