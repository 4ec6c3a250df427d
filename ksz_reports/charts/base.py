"""Charts of the reports: matplotlib (Agg, no pyplot), deterministic SVG, optional PNG.

One function per chart family, all with the same contract:

- input: tidy rows (a sequence of mappings, or a pandas DataFrame) with a ``value`` and a
  ``flag`` (SPEC §8). A value whose flag hides it (``suppressed``, ``secondary``,
  ``not_available``, ``unstable``, ``incomplete``) is **never plotted**, whatever the row's
  ``value`` holds: a gap in a line, no bar, no point — with the flag's symbol in its place. A value
  that is None/NaN without a flag counts as ``not_available``. ``unreliable`` values are plotted
  (hollow marker, hatched bar) and written between parentheses, as in the tables;
- output: a :class:`Chart` — title, alt text (generated from the data, translated; or given),
  the SVG to inline in HTML, optionally PNG bytes, the data table as preformatted rows, the flags
  used (for the symbol footnotes) and the list of what was plotted.

Numbers on axes and labels come from :mod:`ksz_reports.l10n.numbers` (the tick formatter is built
from the same functions as the table cells). Text is laid out with the shipped DejaVu Sans
(``templates/fonts``), registered with ``font_manager.addfont`` and preferred over any copy of the
same family, and written into the SVG as real ``<text>`` (``svg.fonttype: none``) in the report's
font family ``KSZ Sans`` — the very same font files, declared by ``report.css`` for the HTML and
the PDF. Chart text is therefore selectable and searchable in the PDF, and costs WeasyPrint a
fraction of what glyph outlines (one ``<use>`` per letter) cost. SVG ids are prefixed with the
chart id (several charts inline in one page never clash), ``svg.hashsalt`` is fixed, and the date
and creator metadata are left out: the same input gives the same bytes. PNG metadata is stripped
as well.

matplotlib's rcParams are process-global: render one chart at a time per process (a batch uses
processes, not threads).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.textpath import text_to_path
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Affine2D, IdentityTransform, ScaledTranslation, offset_copy

from ksz_reports.core.resources import templates_dir
from ksz_reports.l10n.catalogs import N_, gettext, ngettext
from ksz_reports.l10n.numbers import (
    INTEGER_KINDS,
    UNRELIABLE,
    axis_formatter,
    flag_symbol,
    fmt_cell,
    fmt_period,
    fmt_value,
    is_shown,
)

#: Width of a chart: the text width of the A4 page of report.css (210 − 2 × 16 mm).
WIDTH_MM = 178.0
MM = 1 / 25.4
PNG_DPI = 200

ACCENT = "#0b4f8a"  # the report's municipality (8.6:1 on white)
GREY_DARK = "#4d4d4d"
GREY = "#7b8fa6"  # other municipalities (3.3:1 on white)
#: Series styles after the highlighted one: colour (Okabe–Ito, ≥ 3:1 on white), line, marker.
SERIES_STYLES = (
    ("#d55e00", (0, (5, 2)), "s"),
    (GREY_DARK, (0, (1.5, 1.5)), "^"),
    ("#007a5a", (0, (6, 2, 1.5, 2)), "D"),
    ("#a8327d", (0, (3, 1.5)), "v"),
)

FONT_FILES = {"normal": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}
FONT_FAMILY = "DejaVu Sans"
#: The font family of the SVG text: report.css declares "KSZ Sans" (the shipped DejaVu Sans files,
#: the ones matplotlib measured the text with); DejaVu Sans is the fallback outside the report.
SVG_FONT_FAMILY = "'KSZ Sans', 'DejaVu Sans', sans-serif"

RC: dict[str, Any] = {
    "svg.hashsalt": "ksz-reports",
    "svg.fonttype": "none",
    "svg.image_inline": True,
    "font.family": "sans-serif",
    "font.sans-serif": [FONT_FAMILY],
    "font.size": 8.0,
    "axes.titlesize": 9.0,
    "axes.labelsize": 8.0,
    "axes.edgecolor": GREY_DARK,
    "axes.labelcolor": "#1a1a1a",
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
    "axes.unicode_minus": True,
    "xtick.color": GREY_DARK,
    "ytick.color": GREY_DARK,
    "xtick.labelcolor": "#1a1a1a",
    "ytick.labelcolor": "#1a1a1a",
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "grid.color": "#d9d9d9",
    "grid.linewidth": 0.5,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "lines.markersize": 4.0,
    "hatch.linewidth": 0.6,
    "path.simplify": True,
    "figure.dpi": 100,
    "savefig.dpi": PNG_DPI,
    # No white rectangles behind the figure and the axes: the page is white already.
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
}


# --------------------------------------------------------------------------- result types


@dataclass(frozen=True)
class DataTable:
    """The data behind a chart, preformatted: ``columns`` headers, ``rows`` of strings."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    """A rendered chart, ready for ``components/chart.html.j2``.

    ``svg`` is inline-ready markup (no XML prolog, ids prefixed with ``id``, ``<title>`` = alt text,
    ``role="img"``). ``flags`` are the flags of the values in the data (for
    :func:`~ksz_reports.l10n.numbers.flag_footnotes`); ``plotted`` the ``(series, key)`` pairs that
    were drawn.
    """

    id: str
    title: str
    alt: str
    svg: str
    table: DataTable
    width_pt: float
    height_pt: float
    png: bytes | None = None
    flags: frozenset[str] = frozenset()
    plotted: tuple[tuple[str, str], ...] = field(default=())

    @property
    def png_data_url(self) -> str:
        """The PNG as a ``data:`` URL (for ``<img src>``); empty when rendered without PNG."""
        if self.png is None:
            return ""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    @property
    def width_px(self) -> str:
        """Width in CSS px (text, for the ``<img width>`` attribute)."""
        return str(round(self.width_pt * 96 / 72))

    @property
    def height_px(self) -> str:
        """Height in CSS px (text, for the ``<img height>`` attribute)."""
        return str(round(self.height_pt * 96 / 72))


@dataclass(frozen=True)
class _Point:
    series: str
    key: str
    value: float | None  # None when not shown
    raw: Any
    flag: str | None

    @property
    def shown(self) -> bool:
        return self.value is not None


# --------------------------------------------------------------------------- fonts and rendering


@cache
def register_fonts() -> dict[str, str]:
    """Register the shipped DejaVu Sans with matplotlib, ahead of any other copy of the family.

    ``font_manager.addfont`` appends; ``findfont`` takes the first best match, which would be
    matplotlib's own DejaVu Sans. The shipped entries are therefore moved to the front of
    ``fontManager.ttflist``. Returns ``{weight: path}``.
    """
    manager = font_manager.fontManager
    paths = {weight: str(templates_dir() / "fonts" / name) for weight, name in FONT_FILES.items()}
    for path in paths.values():
        manager.addfont(path)
    ours = [entry for entry in manager.ttflist if entry.fname in paths.values()]
    manager.ttflist = ours + [
        entry for entry in manager.ttflist if entry.fname not in paths.values()
    ]
    manager._findfont_cached.cache_clear()  # noqa: SLF001 - the cache of findfont
    return paths


@contextmanager
def chart_style():
    """Context with the chart rcParams and the shipped fonts (nothing global is changed)."""
    register_fonts()
    with matplotlib.rc_context(RC):
        yield


def new_figure(height_mm: float, width_mm: float = WIDTH_MM) -> Figure:
    """A pyplot-free figure of the given size (call inside :func:`chart_style`).

    The charts place their axes themselves (:func:`set_margins`, margins measured from the
    labels): matplotlib's constrained layout measures every text of the figure once more and
    cost a third of the drawing time.
    """
    return Figure(figsize=(width_mm * MM, height_mm * MM))


#: Text metrics of the chart texts (rcParams above), in points.
TICK_SIZE = 7.5
LABEL_SIZE = 8.0
VALUE_SIZE = 7.0  # the value written at the end of a bar
TICK_PAD = 4.0  # between the axes and their tick labels
LABEL_PAD = 4.0  # between the tick labels and the axis label
LINE = 1.2  # line height of a text line, in font sizes
TEXT_COLOR = "#1a1a1a"
GRID_COLOR = "#d9d9d9"


@functools.lru_cache(maxsize=4096)
def text_width(text: str, size: float = TICK_SIZE, bold: bool = False) -> float:
    """Width in points of ``text`` in the chart font, as matplotlib lays it out."""
    register_fonts()
    prop = FontProperties(family=FONT_FAMILY, size=size, weight="bold" if bold else "normal")
    return text_to_path.get_text_width_height_descent(text, prop, ismath=False)[0]


def set_margins(
    ax: Axes, *, left: float, bottom: float, right: float = 8.0, top: float = 6.0
) -> None:
    """Place ``ax`` with the given margins (points) inside its figure."""
    width, height = (float(v) * 72 for v in ax.figure.get_size_inches())
    ax.set_position(
        (left / width, bottom / height, 1 - (left + right) / width, 1 - (bottom + top) / height)
    )


# --------------------------------------------------------------------------- axes drawn by hand
#
# matplotlib's Axis draws every tick as five artists (two marks, a grid line, two labels),
# created, styled and laid out anew for each chart, and its Legend as a packed tree of boxes:
# together more than half of a chart's time. The charts switch both off (``set_axis_off``) and
# draw what a reader needs with plain artists: tick and axis labels as texts, grid lines as one
# collection, the legend as a row of samples and texts. Offsets are in points (``shifted``), so
# the layout is the same in the SVG (72 dpi) and the PNG (200 dpi).


@cache
def _canvas() -> tuple[Figure, Axes]:
    figure = new_figure(60.0)
    axes = figure.add_subplot()
    axes.set_axis_off()
    return figure, axes


def chart_canvas(height_mm: float) -> tuple[Figure, Axes]:
    """An empty figure ``height_mm`` high with its axes, axis and spines off (drawn by hand).

    The same figure and axes serve every chart of the process (call inside
    :func:`chart_style`): matplotlib builds a new Axes — two Axis objects with their ticks,
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
    low: float, high: float, kind: str, lang: str, decimals: int | None
) -> list[tuple[float, str]]:
    """Round tick positions between ``low`` and ``high`` with their labels, written like the
    table cells (:func:`~ksz_reports.l10n.numbers.axis_formatter`)."""
    locator = MaxNLocator(
        nbins=6, steps=[1, 2, 2.5, 5, 10], min_n_ticks=3, integer=kind in INTEGER_KINDS
    )
    locs = [float(v) for v in locator.tick_values(low, high) if _within(v, (low, high))]
    formatter = axis_formatter(kind, lang, decimals)
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


_ID_REF = re.compile(r'(\bid="|href="#|url\(#)([^")]+)')
_PATH_DATA = re.compile(r'\sd="([^"]*)"')


def _compact_path(d: str) -> str:
    """Path data with coordinates cut to 0.01 user unit (0.01 pt) and implicit repeated lineto.

    matplotlib writes one command per line with every number in ``%f`` form, so a split on
    whitespace gives the tokens.
    """
    out: list[str] = []
    previous = ""
    for token in d.split():
        if token.isalpha():
            if token == "L" and previous in ("M", "L"):
                previous = "L"
                continue
            previous = token
            out.append(token)
            continue
        dot = token.find(".")
        if dot >= 0:
            token = token[: dot + 3].rstrip("0").rstrip(".")
            if token in ("-0", "-", ""):
                token = "0"
        out.append(token)
    return " ".join(out)


_STYLE_ATTR = re.compile(r'\sstyle="([^"]*)"')
_GROUP_TAG = re.compile(r"<g\b[^>]*>|</g>")
_BARE_GROUP = re.compile(r'<g(?:\s+id="[^"]*")?\s*>')
_BETWEEN_TAGS = re.compile(r">\s+<")
_INVISIBLE_PATH = re.compile(r'<path d="[^"]*" fill="none"/>')  # the transparent backgrounds
_NO_ROTATION = re.compile(r'\stransform="rotate\(-?0 [^)"]*\)"')


def _presentation_attributes(match: re.Match[str]) -> str:
    """``style="fill: #fff; stroke: none"`` → ``fill="#fff" stroke="none"``.

    The SVG of a chart is inlined in HTML, where WeasyPrint's HTML engine reads every ``style``
    attribute (and warns on each SVG property); presentation attributes are for SVG only.
    """
    out = []
    for declaration in match[1].split(";"):
        name, sep, value = declaration.partition(":")
        if sep:
            name, value = name.strip(), value.strip()
            if name == "font-family":
                value = SVG_FONT_FAMILY
            out.append(f' {name}="{value}"')
    return "".join(out)


def _flatten_groups(svg: str) -> str:
    """Unwrap the ``<g>`` elements that carry nothing but an id (matplotlib wraps every artist,
    tick and label in one or two): the drawing is the same, and WeasyPrint, which walks, cascades
    and transforms every node, draws a chart 40 % faster. Groups with a transform, a clip path
    or a style stay."""
    out: list[str] = []
    keep: list[bool] = []
    pos = 0
    for match in _GROUP_TAG.finditer(svg):
        tag = match[0]
        if tag.endswith("/>"):
            kept = False  # an empty group (e.g. of a tick without a mark): nothing to draw
        elif tag == "</g>":
            kept = keep.pop()
        else:
            kept = _BARE_GROUP.fullmatch(tag) is None
            keep.append(kept)
        out.append(svg[pos : match.start()])
        if kept:
            out.append(tag)
        pos = match.end()
    out.append(svg[pos:])
    return "".join(out)


def _clean_svg(svg: str, chart_id: str, alt: str) -> str:
    """Inline-ready SVG: no prolog/doctype/metadata/xmlns, ids prefixed, ``<title>`` = ``alt``,
    styles as presentation attributes, path data compacted, no empty groups nor whitespace
    between elements."""
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = _ID_REF.sub(lambda m: f"{m[1]}{chart_id}-{m[2]}", svg)
    svg = _PATH_DATA.sub(lambda m: f' d="{_compact_path(m[1])}"', svg)
    svg = _STYLE_ATTR.sub(_presentation_attributes, svg)
    svg = _NO_ROTATION.sub("", svg)
    svg = _BETWEEN_TAGS.sub("><", _flatten_groups(svg))
    svg = _INVISIBLE_PATH.sub("", svg)
    svg = re.sub(r"\s*<defs>\s*<style[^>]*>[^<]*</style>\s*</defs>", "", svg, count=1)
    title = f'<title id="{chart_id}-title">{escape(alt)}</title>'
    svg = re.sub(
        r"<svg\b",
        f'<svg id="{chart_id}-svg" class="chart-svg" role="img" aria-labelledby="{chart_id}-title"'
        ' stroke-linejoin="round" stroke-linecap="butt"',
        svg,
        count=1,
    )
    svg = re.sub(r"(<svg\b[^>]*>)", lambda m: m[1] + title, svg, count=1)
    return svg.strip() + "\n"


class _SVGRenderer(RendererSVG):
    """matplotlib's SVG renderer, with the text metrics memoised for the whole process.

    matplotlib caches the size of a text per renderer, that is per chart; the charts of a batch
    measure the same tick labels, categories and municipality names again and again (a tenth
    of a chart's time).
    """

    def get_text_width_height_descent(self, s: str, prop: FontProperties, ismath: Any) -> Any:
        return _text_metrics(s, prop, ismath)


@functools.lru_cache(maxsize=16384)
def _text_metrics(s: str, prop: FontProperties, ismath: Any) -> Any:
    # matplotlib hands a copy of the text's FontProperties, hashed by value
    return text_to_path.get_text_width_height_descent(s, prop, ismath)


def svg_text(fig: Figure) -> str:
    """``fig`` as SVG text, as ``fig.savefig(format="svg")`` writes it (drawn at 72 dpi, no
    date), by :class:`_SVGRenderer`."""
    buffer = io.StringIO()
    dpi = fig.dpi
    width, height = fig.get_size_inches()
    fig.dpi = 72
    try:
        renderer = _SVGRenderer(
            width * 72, height * 72, buffer, image_dpi=PNG_DPI, metadata={"Date": None}
        )
        fig.draw(renderer)
        renderer.finalize()
    finally:
        fig.dpi = dpi
    return buffer.getvalue()


def render_figure(fig: Figure, chart_id: str, alt: str, png: bool) -> tuple[str, bytes | None]:
    """Save ``fig`` as inline SVG text (and PNG bytes when ``png``); deterministic."""
    svg = _clean_svg(svg_text(fig), chart_id, alt)
    png_bytes = None
    if png:
        raw = io.BytesIO()
        fig.savefig(raw, format="png", dpi=PNG_DPI, metadata={"Software": None})
        png_bytes = raw.getvalue()
    return svg, png_bytes


def make_chart(
    fig: Figure,
    *,
    chart_id: str,
    title: str,
    alt: str,
    table: DataTable,
    png: bool,
    flags: Iterable[str | None],
    plotted: Iterable[tuple[str, str]],
) -> Chart:
    """Render ``fig`` and wrap it with its metadata into a :class:`Chart`."""
    svg, png_bytes = render_figure(fig, chart_id, alt, png)
    width_in, height_in = fig.get_size_inches()
    return Chart(
        id=chart_id,
        title=title,
        alt=alt,
        svg=svg,
        png=png_bytes,
        table=table,
        width_pt=round(float(width_in) * 72, 2),
        height_pt=round(float(height_in) * 72, 2),
        flags=frozenset(f for f in flags if f),
        plotted=tuple(plotted),
    )


def default_chart_id(family: str, title: str) -> str:
    """A stable, valid HTML id for a chart: ``<family>-<hash of the title>``."""
    return f"{family}-" + hashlib.sha256(title.encode()).hexdigest()[:10]


# --------------------------------------------------------------------------- input


def records(data: Any) -> list[Mapping[str, Any]]:
    """Tidy rows from a sequence of mappings or a pandas DataFrame."""
    if hasattr(data, "to_dict") and hasattr(data, "columns"):
        return list(data.to_dict("records"))
    return list(data)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return value is not None and str(value) in {"<NA>", "nan", ""}


def _flag(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def point(
    row: Mapping[str, Any], series: str, key: str, value_key: str = "value", flag_key: str = "flag"
) -> _Point:
    """Normalise one tidy row: a hidden flag wins over any value; no value, no flag → NA."""
    flag = _flag(row.get(flag_key))
    raw = row.get(value_key)
    if flag is None and _missing(raw):
        flag = "not_available"
    flag_symbol(flag)  # validates the flag
    if not is_shown(flag):
        return _Point(series, key, None, None, flag)
    return _Point(series, key, float(raw), raw, flag)


def _cell(p: _Point | None, kind: str, lang: str, decimals: int | None) -> str:
    if p is None:
        return fmt_cell(None, kind, "not_available", lang)
    return fmt_cell(p.raw, kind, p.flag, lang, decimals=decimals)


def _label(p: _Point, kind: str, lang: str, decimals: int | None) -> str:
    """A shown value in running text (alt text): the bare number, as in the table."""
    return fmt_value(p.raw, kind, lang, decimals)


# --------------------------------------------------------------------------- shared drawing


def unit_label(kind: str, lang: str) -> str:
    """Default axis label of a value ``kind`` (translated)."""
    _ = gettext(lang)
    labels = {
        "count": N_("persons"),
        "population": N_("inhabitants"),
        "rate_per_1000": N_("per 1000 inhabitants"),
        "ci_low": N_("per 1000 inhabitants"),
        "ci_high": N_("per 1000 inhabitants"),
        "share_pct": N_("share in %"),
        "growth_pct": N_("change in %"),
        "avg_monthly_growth_pct": N_("change in % per month"),
        "index": N_("index"),
    }
    return _(labels[kind])


def _series_styles(names: Sequence[str], highlight: str | None) -> dict[str, dict[str, Any]]:
    styles: dict[str, dict[str, Any]] = {}
    others = iter(SERIES_STYLES * (len(names) // len(SERIES_STYLES) + 1))
    for name in names:
        if name == highlight or (highlight is None and not styles):
            styles[name] = {
                "color": ACCENT,
                "linestyle": "-",
                "marker": "o",
                "zorder": 4,
                "linewidth": 2.0,
            }
        else:
            color, dash, marker = next(others)
            styles[name] = {"color": color, "linestyle": dash, "marker": marker, "zorder": 3}
    return styles


def _not_shown_note(lang: str, points: Iterable[_Point]) -> str:
    hidden = [p for p in points if not p.shown]
    if not hidden:
        return ""
    _ = gettext(lang)
    return " " + _("Values that are not published are not drawn; their symbol is shown instead.")


# --------------------------------------------------------------------------- chart_series


def chart_series(
    data: Any,
    *,
    title: str,
    lang: str,
    kind: str = "rate_per_1000",
    highlight: str | None = None,
    y_label: str | None = None,
    chart_id: str | None = None,
    alt: str | None = None,
    png: bool = False,
    decimals: int | None = None,
    height_mm: float = 62.0,
) -> Chart:
    """Evolution over periods: the municipality against region and Belgium (lines).

    Rows: ``series`` (label, e.g. "Gent"), ``period`` (canonical: ``2021``, ``2021Q4``,
    ``2021-10``), ``value``, ``flag``. ``highlight`` is the series drawn in the accent colour
    (default: the first). A hidden value breaks the line and shows its symbol above the axis.
    """
    rows = records(data)
    series_names = list(dict.fromkeys(str(r["series"]) for r in rows))
    periods = sorted({str(r["period"]) for r in rows})
    if len({len(p) for p in periods}) > 1:
        raise ValueError(f"periods of different frequencies in one series chart: {periods}")
    pos = {p: i for i, p in enumerate(periods)}
    points: dict[tuple[str, str], _Point] = {}
    for r in rows:
        key = (str(r["series"]), str(r["period"]))
        if key in points:
            raise ValueError(f"duplicate point {key}")
        points[key] = point(r, *key)
    chart_id = chart_id or default_chart_id("series", title)
    styles = _series_styles(series_names, highlight)
    period_labels = [fmt_period(p, lang) for p in periods]
    plotted: list[tuple[str, str]] = []

    with chart_style():
        fig, ax = chart_canvas(height_mm)
        for s_index, name in enumerate(series_names):
            style = styles[name]
            ys = [points[(name, p)].value if (name, p) in points else None for p in periods]
            y = [math.nan if v is None else v for v in ys]
            ax.plot(range(len(periods)), y, label=name, markerfacecolor=style["color"], **style)
            unreliable = [
                (pos[p], points[(name, p)].value)
                for p in periods
                if (name, p) in points and points[(name, p)].flag == UNRELIABLE
            ]
            if unreliable:
                xs, us = zip(*unreliable, strict=True)
                ax.plot(
                    xs,
                    us,
                    linestyle="none",
                    marker=style["marker"],
                    color=style["color"],
                    markerfacecolor="white",
                    zorder=5,
                )
            # the symbols of a series' gaps, one row per series just above the x axis
            symbol_at = shifted(ax, ax.get_xaxis_transform(), dy=3 + 8 * s_index)
            for p in periods:
                pt = points.get((name, p))
                if pt is not None and pt.shown:
                    plotted.append((name, p))
                else:
                    ax.text(
                        pos[p],
                        0.0,
                        flag_symbol(pt.flag if pt else "not_available"),
                        transform=symbol_at,
                        ha="center",
                        va="bottom",
                        color=style["color"],
                        fontsize=TICK_SIZE,
                        fontweight="bold",
                        label="symbol",
                    )
        ax.set_xlim(-0.5, len(periods) - 0.5)
        shown = [p.value for p in points.values() if p.shown]
        if shown and min(shown) >= 0:
            ax.set_ylim(bottom=0, top=max(shown) * 1.08 if max(shown) > 0 else 1)
        ax.set_ylim(*ax.get_ylim())  # fixed: the ticks are computed from these limits
        ticks = value_ticks(*ax.get_ylim(), kind, lang, decimals)
        _grid(ax, "y", (v for v, _t in ticks if v != 0))
        # the x axis line, or the zero line when values go below it
        ax.axhline(
            0 if shown and min(ax.get_ylim()) < 0 else ax.get_ylim()[0],
            color=GREY_DARK,
            linewidth=0.6,
            zorder=1,
        )
        step = max(1, math.ceil(len(periods) / 12))
        _labels_below(
            ax, [(i, lab if i % step == 0 else "") for i, lab in enumerate(period_labels)]
        )
        _labels_left(ax, ticks)
        _axis_label_left(
            ax, y_label if y_label is not None else unit_label(kind, lang), _tick_width(ticks)
        )
        legend = len(series_names) > 1
        if legend:
            _legend_row(ax, [(name, styles[name]) for name in series_names], bars=False)
        set_margins(
            ax,
            left=_y_axis_width(ticks, with_label=True) + 2,
            bottom=_x_axis_height(with_label=False) + 2,
            top=LEGEND_HEIGHT if legend else 6.0,
        )

        _ = gettext(lang)
        columns = (_("Period"), *series_names)
        table_rows = tuple(
            (
                period_labels[i],
                *(_cell(points.get((name, p)), kind, lang, decimals) for name in series_names),
            )
            for i, p in enumerate(periods)
        )
        table = DataTable(title, columns, table_rows)
        alt = alt or _alt_series(title, lang, kind, decimals, series_names, periods, points)
        return make_chart(
            fig,
            chart_id=chart_id,
            title=title,
            alt=alt,
            table=table,
            png=png,
            flags=(p.flag for p in points.values()),
            plotted=plotted,
        )


def _alt_series(
    title: str,
    lang: str,
    kind: str,
    decimals: int | None,
    names: Sequence[str],
    periods: Sequence[str],
    points: Mapping[tuple[str, str], _Point],
) -> str:
    _ = gettext(lang)
    parts = [
        _("%(title)s. Line chart, %(first)s to %(last)s.")
        % {
            "title": title,
            "first": fmt_period(periods[0], lang),
            "last": fmt_period(periods[-1], lang),
        }
    ]
    for name in names:
        shown = [
            points[(name, p)] for p in periods if (name, p) in points and points[(name, p)].shown
        ]
        if not shown:
            parts.append(_("%(series)s: no published values.") % {"series": name})
            continue
        first, last = shown[0], shown[-1]
        parts.append(
            _("%(series)s: %(first_value)s in %(first_period)s, %(last_value)s in %(last_period)s.")
            % {
                "series": name,
                "first_value": _label(first, kind, lang, decimals),
                "first_period": fmt_period(first.key, lang),
                "last_value": _label(last, kind, lang, decimals),
                "last_period": fmt_period(last.key, lang),
            }
        )
    return " ".join(parts) + _not_shown_note(lang, points.values())


# --------------------------------------------------------------------------- horizontal bars


def _hbars(
    ax: Axes,
    labels: Sequence[str],
    groups: Sequence[Sequence[_Point | None]],
    colors: Sequence[Sequence[str]],
    kind: str,
    lang: str,
    decimals: int | None,
    bold: str | None = None,
) -> list[tuple[str, str]]:
    """Horizontal bars, categories top to bottom; ``groups[g][i]`` is series g of category i.

    Each shown value is a bar with its value written at its end; a hidden one has no bar and its
    symbol at zero. Bars are polygons of one collection (a hatched one for ``unreliable``
    values). Returns the ``(series, key)`` pairs that were plotted.
    """
    n_groups = len(groups)
    height = 0.8 / n_groups
    plotted: list[tuple[str, str]] = []
    values = [p.value for g in groups for p in g if p is not None and p.shown]
    span = (max([0.0, *values]) - min([0.0, *values])) or 1.0
    right_of = shifted(ax, ax.transData, dx=3)
    left_of = shifted(ax, ax.transData, dx=-3)
    bars: dict[bool, tuple[list[Any], list[str]]] = {False: ([], []), True: ([], [])}
    for g, group in enumerate(groups):
        offset = (g - (n_groups - 1) / 2) * height
        for i, p in enumerate(group):
            y = i + offset
            if p is not None and p.shown:
                value = float(p.value)  # type: ignore[arg-type]
                low, high = y - height * 0.46, y + height * 0.46
                vertices, face = bars[p.flag == UNRELIABLE]
                vertices.append([(0, low), (0, high), (value, high), (value, low)])
                face.append(colors[g][i])
                ax.text(
                    value,
                    y,
                    _cell(p, kind, lang, decimals),
                    transform=right_of if value >= 0 else left_of,
                    va="center",
                    ha="left" if value >= 0 else "right",
                    fontsize=VALUE_SIZE,
                    color=TEXT_COLOR,
                    label="value",
                )
                plotted.append((p.series, p.key))
            else:
                ax.text(
                    0.0,
                    y,
                    flag_symbol(p.flag if p else "not_available"),
                    transform=right_of,
                    va="center",
                    ha="left",
                    fontsize=TICK_SIZE,
                    fontweight="bold",
                    color=GREY_DARK,
                    label="symbol",
                )
    for hatched, (vertices, face) in bars.items():
        if vertices:
            collection = PolyCollection(
                vertices, facecolors=face, edgecolors="none", linewidths=0, zorder=2
            )
            if hatched:
                collection.set_hatch("////")
                collection.set_hatchcolor("white")
            ax.add_collection(collection, autolim=False)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    low, high = min([0.0, *values]), max([0.0, *values])
    ax.set_xlim(low - (0.12 * span if low < 0 else 0), high + 0.14 * span)
    ax.axvline(0, color=GREY_DARK, linewidth=0.6, zorder=3)
    ticks = value_ticks(*ax.get_xlim(), kind, lang, decimals)
    _grid(ax, "x", (v for v, _t in ticks if v != 0))
    _labels_below(ax, ticks)
    _labels_left(ax, list(enumerate(labels)), bold=bold)
    return plotted


#: Vertical pitch of a bar chart category (mm): one bar, and each further series of a group.
BAR_PITCH_MM = 4.6
GROUP_PITCH_MM = 2.6


def _bar_height(n_categories: int, n_groups: int = 1) -> float:
    """Figure height (mm) of a bar chart: the categories, the x axis and (grouped) the legend."""
    fixed_pt = _x_axis_height(with_label=True) + 4 + (LEGEND_HEIGHT if n_groups > 1 else 6.0)
    return fixed_pt / 72 * 25.4 + n_categories * (BAR_PITCH_MM + GROUP_PITCH_MM * (n_groups - 1))


def _bar_margins(ax: Axes, labels: Sequence[str], bold: str | None, legend: bool) -> None:
    """Margins of a horizontal bar chart: as wide as its longest category label."""
    widest = max((text_width(lab, TICK_SIZE, lab == bold) for lab in labels), default=0.0)
    set_margins(
        ax,
        left=widest + TICK_PAD + 4,
        bottom=_x_axis_height(with_label=True) + 4,
        right=6.0,
        top=LEGEND_HEIGHT if legend else 6.0,
    )


def chart_bars(
    data: Any,
    *,
    title: str,
    lang: str,
    kind: str = "rate_per_1000",
    x_label: str | None = None,
    highlight: str | None = None,
    chart_id: str | None = None,
    alt: str | None = None,
    png: bool = False,
    decimals: int | None = None,
) -> Chart:
    """A breakdown by category (sex, age class, household type, …) as horizontal bars.

    Rows: ``category`` (label), ``value``, ``flag``, and optionally ``series`` (e.g. the
    municipality and the region side by side: grouped bars with a legend). Categories keep the
    order of the rows. ``highlight`` names the series in the accent colour (default: the first).
    A hidden value has no bar, its symbol stands at zero.
    """
    rows = records(data)
    categories = list(dict.fromkeys(str(r["category"]) for r in rows))
    names = list(dict.fromkeys(str(r.get("series", "")) for r in rows))
    points: dict[tuple[str, str], _Point] = {}
    for r in rows:
        key = (str(r.get("series", "")), str(r["category"]))
        if key in points:
            raise ValueError(f"duplicate bar {key}")
        points[key] = point(r, *key)
    chart_id = chart_id or default_chart_id("bars", title)
    styles = _series_styles(names, highlight)

    with chart_style():
        fig, ax = chart_canvas(_bar_height(len(categories), len(names)))
        groups = [[points.get((n, c)) for c in categories] for n in names]
        colors = [[styles[n]["color"]] * len(categories) for n in names]
        plotted = _hbars(
            ax,
            categories,
            groups,
            colors,
            kind,
            lang,
            decimals,
        )
        _axis_label_below(ax, x_label if x_label is not None else unit_label(kind, lang))
        if len(names) > 1:
            # every series, even one whose values are all hidden
            _legend_row(ax, [(n, styles[n]) for n in names], bars=True)
        _bar_margins(ax, categories, None, legend=len(names) > 1)
        _ = gettext(lang)
        columns = (_("Category"), *(names if len(names) > 1 else [unit_label(kind, lang)]))
        table = DataTable(
            title,
            columns,
            tuple(
                (c, *(_cell(points.get((n, c)), kind, lang, decimals) for n in names))
                for c in categories
            ),
        )
        alt = alt or _alt_bars(title, lang, kind, decimals, names, categories, points)
        return make_chart(
            fig,
            chart_id=chart_id,
            title=title,
            alt=alt,
            table=table,
            png=png,
            flags=(p.flag for p in points.values()),
            plotted=plotted,
        )


def _alt_bars(
    title: str,
    lang: str,
    kind: str,
    decimals: int | None,
    names: Sequence[str],
    categories: Sequence[str],
    points: Mapping[tuple[str, str], _Point],
) -> str:
    _ = gettext(lang)
    _n = ngettext(lang)
    n = len(categories)
    parts = [
        _n(
            "%(title)s. Bar chart of %(n)s category.",
            "%(title)s. Bar chart of %(n)s categories.",
            n,
        )
        % {"title": title, "n": str(n)}
    ]
    for name in names:
        shown = [
            points[(name, c)] for c in categories if (name, c) in points and points[(name, c)].shown
        ]
        if not shown:
            continue
        hi = max(shown, key=lambda p: p.value)  # type: ignore[arg-type, return-value]
        lo = min(shown, key=lambda p: p.value)  # type: ignore[arg-type, return-value]
        prefix = f"{name}: " if name else ""
        parts.append(
            prefix
            + _("highest %(high_category)s (%(high)s), lowest %(low_category)s (%(low)s).")
            % {
                "high_category": hi.key,
                "high": _label(hi, kind, lang, decimals),
                "low_category": lo.key,
                "low": _label(lo, kind, lang, decimals),
            }
        )
    return " ".join(parts) + _not_shown_note(lang, points.values())


# --------------------------------------------------------------------------- chart_comparison

#: Comparison levels that are aggregates (drawn dark), as against municipalities.
AGGREGATE_LEVELS = frozenset({"arrondissement", "province", "region", "country"})


def chart_comparison(
    data: Any,
    *,
    title: str,
    lang: str,
    highlight: str,
    kind: str = "rate_per_1000",
    x_label: str | None = None,
    chart_id: str | None = None,
    alt: str | None = None,
    png: bool = False,
    decimals: int | None = None,
) -> Chart:
    """The municipality among its neighbours and the higher levels (horizontal bars).

    Rows: ``label``, ``value``, ``flag`` and optionally ``level`` (``municipality``,
    ``neighbour``, ``arrondissement``, ``province``, ``region``, ``country``); rows keep their
    order. ``highlight`` is the label of the report's municipality (accent colour, bold label);
    other municipalities are light, aggregates dark.
    """
    rows = records(data)
    labels = [str(r["label"]) for r in rows]
    if len(set(labels)) != len(labels):
        raise ValueError("duplicate labels in a comparison chart")
    if highlight not in labels:
        raise ValueError(f"highlight {highlight!r} is not among the labels")
    pts = [point(r, "", str(r["label"])) for r in rows]
    colors = [
        ACCENT
        if lab == highlight
        else GREY_DARK
        if str(r.get("level", "")) in AGGREGATE_LEVELS
        else GREY
        for lab, r in zip(labels, rows, strict=True)
    ]
    chart_id = chart_id or default_chart_id("comparison", title)
    with chart_style():
        fig, ax = chart_canvas(_bar_height(len(labels)))
        plotted = _hbars(ax, labels, [pts], [colors], kind, lang, decimals, bold=highlight)
        me = pts[labels.index(highlight)]
        if me.shown:
            # A guide at the municipality's value, behind the bars: compare without a ruler.
            ax.axvline(me.value, color=ACCENT, linewidth=0.6, linestyle=(0, (3, 2)), zorder=0.5)
        first_aggregate = next(
            (i for i, r in enumerate(rows) if str(r.get("level", "")) in AGGREGATE_LEVELS), None
        )
        if first_aggregate:
            # municipalities above, the areas that contain them below
            ax.axhline(first_aggregate - 0.5, color=GREY_DARK, linewidth=0.5, zorder=0.5)
        _axis_label_below(ax, x_label if x_label is not None else unit_label(kind, lang))
        _bar_margins(ax, labels, highlight, legend=False)
        _ = gettext(lang)
        table = DataTable(
            title,
            (_("Area"), unit_label(kind, lang)),
            tuple((p.key, _cell(p, kind, lang, decimals)) for p in pts),
        )
        if alt is None:
            me = pts[labels.index(highlight)]
            others = [p for p in pts if p.key != highlight and p.shown]
            text = _("%(title)s. Bar chart comparing %(n)s areas.") % {
                "title": title,
                "n": str(len(pts)),
            }
            mine = _label(me, kind, lang, decimals) if me.shown else flag_symbol(me.flag)
            text += " " + _("%(name)s: %(value)s.") % {"name": highlight, "value": mine}
            if others:
                lo = min(others, key=lambda p: p.value)  # type: ignore[arg-type, return-value]
                hi = max(others, key=lambda p: p.value)  # type: ignore[arg-type, return-value]
                text += " " + _(
                    "Others from %(low)s (%(low_name)s) to %(high)s (%(high_name)s)."
                ) % {
                    "low": _label(lo, kind, lang, decimals),
                    "low_name": lo.key,
                    "high": _label(hi, kind, lang, decimals),
                    "high_name": hi.key,
                }
            alt = text + _not_shown_note(lang, pts)
        return make_chart(
            fig,
            chart_id=chart_id,
            title=title,
            alt=alt,
            table=table,
            png=png,
            flags=(p.flag for p in pts),
            plotted=plotted,
        )


# --------------------------------------------------------------------------- chart_scatter

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
    decimals: int | None = None,
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
    chart_id = chart_id or default_chart_id("scatter", title)
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
        if n_hidden:
            ax.text(
                1.0,
                0.0,
                _("%(n)s not shown (not published)") % {"n": str(n_hidden)},
                transform=shifted(ax, ax.transAxes, -2, 3),
                ha="right",
                va="bottom",
                fontsize=VALUE_SIZE,
                color=GREY_DARK,
                label="note",
            )
        x_ticks = value_ticks(x0, x1, x_kind, lang, decimals)
        y_ticks = value_ticks(y0, y1, y_kind, lang, decimals)
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
        table = DataTable(
            title,
            (_("Municipality"), x_label, y_label),
            tuple(
                (px.series, _cell(px, x_kind, lang, decimals), _cell(py, y_kind, lang, decimals))
                for px, py in sorted(zip(xs_pts, ys_pts, strict=True), key=lambda t: t[0].series)
            ),
        )
        if alt is None:
            alt = _("%(title)s. Scatter plot of %(n)s municipalities.") % {
                "title": title,
                "n": str(len(shown)),
            }
            if mine:
                px, py = mine[0]
                alt += " " + _("%(name)s: %(x_label)s %(x)s, %(y_label)s %(y)s.") % {
                    "name": highlight,
                    "x_label": x_label,
                    "x": _label(px, x_kind, lang, decimals),
                    "y_label": y_label,
                    "y": _label(py, y_kind, lang, decimals),
                }
            if n_hidden:
                alt += " " + _("%(n)s not shown (not published)") % {"n": str(n_hidden)} + "."
        flags = [p.flag for p in xs_pts + ys_pts]
        plotted = [(px.series, "xy") for px, _py in shown]
        return make_chart(
            fig,
            chart_id=chart_id,
            title=title,
            alt=alt,
            table=table,
            png=png,
            flags=flags,
            plotted=plotted,
        )


__all__ = [
    "Chart",
    "DataTable",
    "chart_bars",
    "chart_comparison",
    "chart_scatter",
    "chart_series",
    "chart_style",
    "register_fonts",
    "unit_label",
]
