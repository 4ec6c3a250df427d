"""The SVG of a chart: matplotlib's SVG renderer with memoised text metrics, then cleaned up
for inlining in HTML.

Chart text is real ``<text>`` in the report's font family (:data:`~ksz_reports.charts.style.
SVG_FONT_FAMILY`): selectable and searchable in the PDF, and a fraction of what glyph outlines (one
``<use>`` per letter) cost WeasyPrint. SVG ids are prefixed with the chart id (several charts inline
in one page never clash), ``svg.hashsalt`` is fixed, and the date and creator metadata are left
out: the same input gives the same bytes. PNG metadata is stripped as well. The clean-up flattens
bare groups, writes styles as presentation attributes and compacts the path data
(:func:`_compact_path`), which :func:`_svg_points` and :func:`_svg_path_data` reproduce for path
data joined outside matplotlib (the maps).
"""

from __future__ import annotations

import functools
import io
import re
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.path import Path as MplPath
from matplotlib.textpath import text_to_path

from ksz_reports.charts.style import PNG_DPI, SVG_FONT_FAMILY

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


def _svg_points(xy: np.ndarray) -> np.ndarray:
    """``"x y"`` of each point (SVG user units), as matplotlib writes and
    :func:`render_figure` compacts them (``%f`` cut to 0.01)."""
    return np.asarray([_compact_path(f"{x:f} {y:f}") for x, y in xy.tolist()], dtype=object)


def _svg_path_data(points: np.ndarray, codes: np.ndarray) -> str:
    """The SVG path data of a path of ``codes`` (MOVETO, LINETO, CLOSEPOLY) through ``points``
    (:func:`_svg_points`): implicit lineto, as :func:`render_figure` writes a path."""
    words = points.copy()
    move = codes == MplPath.MOVETO
    words[move] = "M " + words[move]
    words[codes == MplPath.CLOSEPOLY] = "z"
    return " ".join(words.tolist())
