"""How the charts look: sizes, colours, series styles, rcParams and the shipped fonts.

Text is laid out with the shipped DejaVu Sans (``templates/fonts``), registered with
``font_manager.addfont`` and preferred over any copy of the same family, and written into the SVG
as real ``<text>`` (``svg.fonttype: none``) in the report's font family ``KSZ Sans`` — the very
same font files, declared by ``report.css`` for the HTML and the PDF
(:mod:`~ksz_reports.charts.svg`).

matplotlib's rcParams are process-global: render one chart at a time per process (a batch uses
processes, not threads). :func:`chart_style` sets them for the time of one chart.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path

from ksz_reports.core.resources import templates_dir

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

    The charts place their axes themselves (:func:`~ksz_reports.charts.axes.set_margins`,
    margins measured from the labels): matplotlib's constrained layout measures every text of the
    figure once more and cost a third of the drawing time.
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


def _series_styles(names: Sequence[str], highlight: str | None) -> dict[str, dict[str, Any]]:
    """The line (or bar) style of each series: ``highlight`` (default: the first) in the accent
    colour, the others in the colours, dashes and markers of :data:`SERIES_STYLES`."""
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
