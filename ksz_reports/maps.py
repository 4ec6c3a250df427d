"""Choropleth maps of a value per municipality, from the shipped GeoJSON (no GIS libraries).

The polygons are ``municipalities.geojson`` (581 municipalities of 2019–2024, WGS84). They are
drawn in a simple projection that keeps areas nearly right at Belgian latitudes:
``x = lon × cos(50.5°)``, ``y = lat``, as one compound path per colour class, one for the hidden
values and one for all borders (a handful of SVG elements instead of ~1,400 for Belgium: the PDF
renderer's cost is per element).

**2025 geography.** ``merges={old_nis: new_nis}`` (e.g. :func:`mergers_2025`) draws a merged
municipality as the union of its predecessors: every predecessor polygon is filled with the
merged municipality's colour, with its edge in the same colour (no seam), and only the borders
*between different municipalities* are drawn. The file is one topology (neighbours share the
very same vertices), so a border is a segment that two polygons of different municipalities
share, and a predecessor-to-predecessor segment is internal and left out. The report's
municipality is outlined thick (black on a white halo) along its own outer border.

Outlines are simplified for the printed scale (:func:`simplified_polygons`, 0.15 mm; topology
kept), which makes a map of Belgium about 0.5 MB of SVG instead of 1.7 MB. Everything geometric
— the area's municipalities, their simplified rings, the borders, the extent — is computed once
per process and area (:func:`_layer`); a report only adds the colours and its outline.

Classes are quantiles of the values as published (rounded once with :mod:`formatting`), so a
municipality that shows ``12,4`` in a table is in the class whose legend reads ``12,4 – 15,0``.
Municipalities without a published value are hatched grey, with a legend entry per symbol.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import matplotlib
import numpy as np
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath

from .charts import (
    WIDTH_MM,
    Chart,
    DataTable,
    chart_style,
    default_chart_id,
    make_chart,
    new_figure,
    point,
    records,
    unit_label,
)
from .formatting import (
    FLAG_SYMBOLS,
    default_decimals,
    flag_label,
    flag_symbol,
    fmt_cell,
    fmt_number,
    round_decimal,
)
from .i18n import gettext
from .resources import data_path

COS_LAT = math.cos(math.radians(50.5))
BELGIUM = "01000"
REGIONS = ("02000", "03000", "04000")
NA_FACE = "#e3e3e3"
NA_HATCH = "#8c8c8c"
BORDER = "#ffffff"
CMAP = "YlGnBu"
#: Simplification of the outlines for drawing: 0.15 mm on the printed map.
SIMPLIFY_MM = 0.15

Segment = tuple[tuple[float, float], tuple[float, float]]


# --------------------------------------------------------------------------- reference data


@dataclass(frozen=True)
class Municipality:
    """A municipality of the reference list (``municipalities.csv``, 2019–2024)."""

    nis: str
    name_nl: str
    name_fr: str
    province: str
    region: str
    province_nl: str
    province_fr: str


@cache
def municipalities() -> dict[str, Municipality]:
    """The 581 municipalities of 2019–2024 by NIS code."""
    with open(data_path("municipalities.csv"), encoding="utf-8", newline="") as fh:
        return {
            r["nis"]: Municipality(
                r["nis"],
                r["name_nl"],
                r["name_fr"],
                r["province_nis"],
                r["region_nis"],
                r["province_nl"],
                r["province_fr"],
            )
            for r in csv.DictReader(fh)
        }


@cache
def _mergers_table() -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    merges: dict[str, str] = {}
    new: dict[str, tuple[str, str]] = {}
    with open(data_path("mergers_2025.csv"), encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            merges[r["old_nis"]] = r["new_nis"]
            new[r["new_nis"]] = (r["new_name"], r["new_province_nis"])
    return merges, new


def mergers_2025() -> dict[str, str]:
    """The shipped old → new NIS map of 1 January 2025 (only the 30 municipalities involved)."""
    return dict(_mergers_table()[0])


@cache
def _polygons() -> dict[str, tuple[tuple[tuple[float, float], ...], ...]]:
    """Exterior rings of every municipality, ``nis → (ring, …)``, WGS84 lon/lat as in the file."""
    with open(data_path("municipalities.geojson"), encoding="utf-8") as fh:
        collection = json.load(fh)
    out: dict[str, tuple[tuple[tuple[float, float], ...], ...]] = {}
    for feature in collection["features"]:
        geom = feature["geometry"]
        polygons = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        # The file has no holes (checked at build); interior rings would be other municipalities.
        out[feature["properties"]["nis"]] = tuple(
            tuple((float(x), float(y)) for x, y in polygon[0]) for polygon in polygons
        )
    return out


Point = tuple[float, float]


def _project(ring: Sequence[Point]) -> tuple[Point, ...]:
    return tuple((x * COS_LAT, y) for x, y in ring)


def _area2(a: Point, b: Point, c: Point) -> float:
    return abs((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1]))


@cache
def simplified_polygons(tolerance: float) -> dict[str, tuple[tuple[Point, ...], ...]]:
    """Projected rings of every municipality, simplified for drawing at ``tolerance``.

    Visvalingam–Whyatt, kept topological: a vertex where borders meet (it has different
    neighbours in different rings) is never removed, and a vertex is removed only when it is the
    smallest triangle among its neighbours (so no two neighbours go in one pass) in *every* ring
    that has it. Both sides of a border therefore keep the very same vertices: no gap, no overlap,
    and the border extraction of :func:`_border_lines` still works. ``tolerance`` is a distance in
    projected degrees; 0 returns the file's geometry.
    """
    return _simplify(tuple(_polygons()), tolerance)


def _simplify(codes: tuple[str, ...], tolerance: float) -> dict[str, tuple[tuple[Point, ...], ...]]:
    """:func:`simplified_polygons` of the municipalities ``codes`` only (a map's area: the
    topology that matters is the one between the municipalities drawn)."""
    raw = _polygons()
    rings: list[tuple[str, list[Point]]] = [
        (nis, list(_project(ring))[:-1]) for nis in codes for ring in raw[nis]
    ]
    if tolerance > 0:
        neighbours: dict[Point, set[frozenset[Point]]] = {}
        for _nis, pts in rings:
            for i, v in enumerate(pts):
                neighbours.setdefault(v, set()).add(
                    frozenset((pts[i - 1], pts[(i + 1) % len(pts)]))
                )
        fixed = {v for v, pairs in neighbours.items() if len(pairs) > 1}
        limit = tolerance * tolerance
        for _pass in range(64):
            votes: dict[Point, bool] = {}
            for _nis, pts in rings:
                n = len(pts)
                keys = [(_area2(pts[i - 1], pts[i], pts[(i + 1) % n]), pts[i]) for i in range(n)]
                for i, (importance, v) in enumerate(keys):
                    ok = (
                        n > 4
                        and v not in fixed
                        and importance < limit
                        and keys[i] < keys[i - 1]
                        and keys[i] < keys[(i + 1) % n]
                    )
                    votes[v] = votes.get(v, True) and ok
            drop = {v for v, ok in votes.items() if ok}
            if not drop:
                break
            rings = [(nis, [v for v in pts if v not in drop]) for nis, pts in rings]
    out: dict[str, list[tuple[Point, ...]]] = {}
    for nis, pts in rings:
        out.setdefault(nis, []).append((*pts, pts[0]))
    return {nis: tuple(r) for nis, r in out.items()}


def _name(nis: str, lang: str, olds: Sequence[str]) -> str:
    """Name of a municipality of the map: its own, the merger table's, or its predecessors'."""
    munis = municipalities()
    merged_names = _mergers_table()[1]
    if olds == [nis] or (nis in munis and nis not in merged_names):
        m = munis[nis]
        return m.name_nl if lang == "nl" or (lang == "en" and m.region == "02000") else m.name_fr
    if nis in merged_names:
        return merged_names[nis][0]
    return " / ".join(_name(old, lang, [old]) for old in olds)


def _new_province_region(new_nis: str, olds: Sequence[str]) -> tuple[str, str]:
    munis = municipalities()
    merged = _mergers_table()[1]
    region = munis[olds[0]].region
    if new_nis in merged:
        return merged[new_nis][1], region
    return munis[olds[0]].province, region


def area_name(area: str | None, lang: str) -> str:
    """Name of a map area: Belgium, a region or a province NIS code."""
    _ = gettext(lang)
    if area in (None, BELGIUM):
        return _("Belgium")
    names = {
        "02000": _("Flemish Region"),
        "03000": _("Walloon Region"),
        "04000": _("Brussels-Capital Region"),
    }
    if area in names:
        return names[area]
    for m in municipalities().values():
        if m.province == area:
            return m.province_fr if lang == "fr" else m.province_nl
    raise ValueError(f"unknown area {area!r}: a province or region NIS code, or {BELGIUM}")


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


# --------------------------------------------------------------------------- borders


def _segment_keys(ring: Sequence[Point]) -> list[Segment]:
    return [(a, b) if a <= b else (b, a) for a, b in zip(ring, ring[1:], strict=False)]


def _border_keys(rings: Sequence[tuple[str, Sequence[Point]]]) -> set[Segment]:
    """The segments of ``rings`` (``(new_nis, ring)``) that are a border: on the outside of the
    map, or shared by two different municipalities (not by two predecessors of one)."""
    owners: dict[Segment, set[str]] = {}
    count: dict[Segment, int] = {}
    for nis, ring in rings:
        for key in _segment_keys(ring):
            owners.setdefault(key, set()).add(nis)
            count[key] = count.get(key, 0) + 1
    return {key for key, who in owners.items() if count[key] == 1 or len(who) > 1}


def _runs(ring: Sequence[Point], keys: Sequence[Segment], wanted) -> list[list[Point]]:
    """The polylines of the consecutive segments of ``ring`` for which ``wanted(key)`` holds."""
    out: list[list[Point]] = []
    run: list[Point] = []
    for i, key in enumerate(keys):
        if wanted(key):
            run = run or [ring[i]]
            run.append(ring[i + 1])
        elif run:
            out.append(run)
            run = []
    if run:
        out.append(run)
    return out


def _border_lines(
    rings: Sequence[tuple[str, Sequence[Point]]], highlight: str | None
) -> tuple[list[list[Point]], list[list[Point]]]:
    """Polylines of the borders between different municipalities, and of ``highlight``'s border.

    ``rings`` are ``(new_nis, ring)``. A segment shared by two rings of the same municipality is
    internal (a former border of a merger) and dropped. Each border is drawn once.
    """
    border = _border_keys(rings)
    borders: list[list[Point]] = []
    outline: list[list[Point]] = []
    drawn: set[Segment] = set()

    def first_time(key: Segment) -> bool:
        if key in border and key not in drawn:
            drawn.add(key)
            return True
        return False

    for nis, ring in rings:
        keys = _segment_keys(ring)
        borders += _runs(ring, keys, first_time)
        if nis == highlight:
            outline += _runs(ring, keys, border.__contains__)
    return borders, outline


def _compound(lines: Sequence[Sequence[Point]], closed: bool) -> MplPath:
    """One path of many polylines (or closed rings): a single ``<path>`` in the SVG.

    WeasyPrint's cost is per SVG element far more than per vertex: a map of Belgium as one path
    per class colour instead of one per municipality draws about 4 times faster.
    """
    verts: list[Point] = []
    codes: list[int] = []
    for line in lines:
        verts.extend(line)
        codes.append(MplPath.MOVETO)
        codes.extend([MplPath.LINETO] * (len(line) - 1))
        if closed:
            codes[-1] = MplPath.CLOSEPOLY
    return MplPath(np.asarray(verts, dtype=float), np.asarray(codes, dtype=np.uint8))


def _dissolve(rings: Sequence[Sequence[Point]]) -> list[list[Point]]:
    """The outline of the union of ``rings`` (closed, one topology): loops of the edges that are
    not shared by two of the rings, holes included.

    Rings are first turned counter-clockwise, so an edge shared by two rings appears once in each
    direction and cancels; what is left chains into closed loops (outer ones counter-clockwise,
    holes clockwise), which the non-zero fill rule paints exactly as the rings would. A class of
    a choropleth drawn this way has about half the vertices (no border inside the class), and
    the predecessors of a merged municipality join without a seam by construction.
    """
    edges: dict[Point, list[Point]] = {}
    directed: set[tuple[Point, Point]] = set()
    for ring in rings:
        pts = list(ring[:-1])
        area = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(pts, pts[1:] + pts[:1], strict=True))
        if area < 0:
            pts.reverse()
        for a, b in zip(pts, pts[1:] + pts[:1], strict=True):
            directed.add((a, b))
    for a, b in sorted(directed):
        if (b, a) not in directed:
            edges.setdefault(a, []).append(b)
    loops: list[list[Point]] = []
    for start in sorted(edges):
        while edges.get(start):
            loop = [start]
            point = start
            while True:
                nxt = edges[point].pop()
                if nxt == start:
                    break
                loop.append(nxt)
                point = nxt
            loops.append([*loop, start])
    return loops


MAP_WIDTH_MM = 118.0
#: At most this tall (figure, mm): two maps and their captions fit on one A4 page. A tall area
#: (Luxembourg, Namur) is drawn narrower instead.
MAP_MAX_HEIGHT_MM = 108.0


@dataclass(frozen=True)
class _Layer:
    """The geometry of one map (an area on one geography), the same for every report of a
    process: only the colours and the highlighted outline differ between reports."""

    groups: Mapping[str, tuple[str, ...]]  # every municipality of the geography → its old codes
    scope: Mapping[str, tuple[str, ...]]  # the municipalities of the area → their old codes
    rings: Mapping[str, tuple[tuple[Point, ...], ...]]  # simplified rings of each, in scope
    border_keys: frozenset[Segment]
    borders: MplPath  # every border between municipalities (and the area's outline), once
    extent: tuple[float, float, float, float]  # x_min, x_max, y_min, y_max (projected)
    height_mm: float
    width_mm: float  # of the map itself; its legend is drawn to the right of it


@cache
def _layer(area: str | None, merges: tuple[tuple[str, str], ...]) -> _Layer:
    """The cached :class:`_Layer` of ``area`` with ``merges`` (sorted ``(old, new)`` pairs)."""
    merge_map = dict(merges)
    groups: dict[str, list[str]] = {}
    for old in _polygons():
        groups.setdefault(merge_map.get(old, old), []).append(old)
    scope = {
        new: tuple(sorted(olds))
        for new, olds in sorted(groups.items())
        if area in (None, BELGIUM) or area in _new_province_region(new, olds)
    }
    if not scope:
        raise ValueError(f"no municipality in area {area!r}")
    raw = _polygons()
    xs = [
        x * COS_LAT
        for olds in scope.values()
        for old in olds
        for ring in raw[old]
        for x, _y in ring
    ]
    ys = [y for olds in scope.values() for old in olds for ring in raw[old] for _x, y in ring]
    extent = (min(xs), max(xs), min(ys), max(ys))
    width, height = extent[1] - extent[0], extent[3] - extent[2]
    width_mm = min(MAP_WIDTH_MM, (MAP_MAX_HEIGHT_MM - 12) * width / height)
    height_mm = min(MAP_MAX_HEIGHT_MM, max(70.0, width_mm * height / width + 12))
    tolerance = float(f"{SIMPLIFY_MM * width / width_mm:.2g}")
    polygons = (
        simplified_polygons(tolerance)
        if area is None
        else _simplify(tuple(old for olds in scope.values() for old in olds), tolerance)
    )
    rings = {
        nis: tuple(ring for old in olds for ring in polygons[old]) for nis, olds in scope.items()
    }
    all_rings = [(nis, ring) for nis, rs in rings.items() for ring in rs]
    borders, _outline = _border_lines(all_rings, None)
    return _Layer(
        groups={new: tuple(olds) for new, olds in groups.items()},
        scope=scope,
        rings=rings,
        border_keys=frozenset(_border_keys(all_rings)),
        borders=_compound(borders, closed=False),
        extent=extent,
        height_mm=height_mm,
        width_mm=width_mm,
    )


def _outline(layer: _Layer, nis: str) -> list[list[Point]]:
    """The outer border of municipality ``nis`` (of a merged one: of the union)."""
    out: list[list[Point]] = []
    for ring in layer.rings[nis]:
        out += _runs(ring, _segment_keys(ring), layer.border_keys.__contains__)
    return out


# --------------------------------------------------------------------------- map_choropleth


def map_choropleth(
    data: Any,
    *,
    title: str,
    lang: str,
    kind: str = "rate_per_1000",
    highlight: str | None = None,
    area: str | None = None,
    merges: Mapping[str, str] | None = None,
    n_classes: int = 5,
    legend_title: str | None = None,
    chart_id: str | None = None,
    alt: str | None = None,
    png: bool = False,
    decimals: int | None = None,
) -> Chart:
    """A choropleth of a value per municipality, for a province, a region or Belgium.

    Rows: ``geo`` (NIS code on the map's geography: the 2019 codes, or the 2025 codes when
    ``merges`` is given), ``value``, ``flag``; a municipality in the area without a row is
    ``not_available``. ``area``: a province (``40000``), a region (``02000``) or None/``01000`` for
    Belgium. ``merges``: ``{old_nis: new_nis}`` for the municipalities that merged (others keep
    their code). ``highlight``: the report's municipality (outlined). Returns a :class:`Chart`
    whose table lists every municipality with its value and class.
    """
    merges = dict(merges or {})
    decimals = default_decimals() if decimals is None else decimals
    unknown = sorted(set(merges) - set(_polygons()))
    if unknown:
        raise ValueError(f"merges name municipalities that are not on the map: {unknown}")
    layer = _layer(None if area == BELGIUM else area, tuple(sorted(merges.items())))
    scope = layer.scope
    if highlight is not None and highlight not in scope:
        raise ValueError(f"highlight {highlight!r} is not a municipality of the map")

    by_geo = {str(r["geo"]).zfill(5): r for r in records(data)}
    outside = sorted(set(by_geo) - set(layer.groups))
    if outside:
        raise ValueError(f"values for codes that are not on the map's geography: {outside[:5]}")
    points = {nis: point(by_geo.get(nis, {}), nis, "value") for nis in scope}
    rounded = {nis: round_decimal(p.raw, decimals) for nis, p in points.items() if p.shown}
    classes = quantile_classes(rounded.values(), n_classes, lang, decimals)
    names = {nis: _name(nis, lang, list(scope[nis])) for nis in scope}
    chart_id = chart_id or default_chart_id("map", title)
    _ = gettext(lang)

    by_class: dict[int, list[tuple[Point, ...]]] = {}
    hidden_rings: list[tuple[Point, ...]] = []
    for nis in scope:
        if nis in rounded:
            by_class.setdefault(classes.index(rounded[nis]), []).extend(layer.rings[nis])
        else:
            hidden_rings.extend(layer.rings[nis])
    outline = _outline(layer, highlight) if highlight is not None else []
    x_min, x_max, y_min, y_max = layer.extent

    with chart_style():
        fig = new_figure(layer.height_mm, layout=None)
        ax = fig.add_axes((0.0, 0.0, layer.width_mm / WIDTH_MM, 1.0))
        ax.set_aspect("equal")
        ax.set_axis_off()
        if by_class:
            # One path per class. Edge = face: predecessors of a merged municipality join
            # without a seam, and neighbours of one class without a hairline gap.
            colors = [classes.colors[k] for k in sorted(by_class)]
            ax.add_collection(
                PathCollection(
                    [_compound(_dissolve(by_class[k]), closed=True) for k in sorted(by_class)],
                    facecolors=colors,
                    edgecolors=colors,
                    linewidths=0.3,
                )
            )
        if hidden_rings:
            hidden = PathCollection(
                [_compound(_dissolve(hidden_rings), closed=True)],
                facecolors=NA_FACE,
                edgecolors=NA_FACE,
                linewidths=0.3,
                hatch="//////",
            )
            hidden.set_hatchcolor(NA_HATCH)
            ax.add_collection(hidden)
        ax.add_collection(
            PathCollection([layer.borders], facecolors="none", edgecolors=BORDER, linewidths=0.35)
        )
        handles: list[Any] = [
            Patch(facecolor=c, edgecolor=c, label=lab)
            for c, lab in zip(classes.colors, classes.labels, strict=True)
        ]
        if outline:
            ax.add_collection(
                LineCollection(
                    outline, colors="white", linewidths=3.2, capstyle="round", joinstyle="round"
                )
            )
            ax.add_collection(
                LineCollection(
                    outline, colors="black", linewidths=1.5, capstyle="round", joinstyle="round"
                )
            )
            handles.append(Line2D([], [], color="black", linewidth=1.5, label=names[highlight]))
        hidden_flags = {points[nis].flag for nis in scope if nis not in rounded}
        by_symbol = {FLAG_SYMBOLS[f]: f for f in reversed(FLAG_SYMBOLS) if f in hidden_flags}
        for symbol, flag in sorted(by_symbol.items(), key=lambda t: list(FLAG_SYMBOLS).index(t[1])):
            handles.append(
                Patch(
                    facecolor=NA_FACE,
                    edgecolor=NA_HATCH,
                    hatch="//////",
                    linewidth=0,
                    label=f"{symbol}  {flag_label(flag, lang)}",
                )
            )
        margin = 0.01 * (x_max - x_min)
        ax.set_xlim(x_min - margin, x_max + margin)
        ax.set_ylim(y_min - margin, y_max + margin)
        ax.legend(
            handles=handles,
            loc="center left",
            bbox_to_anchor=(1.0, 0.5),
            title=legend_title if legend_title is not None else unit_label(kind, lang),
            alignment="left",
            handlelength=1.6,
            handleheight=1.1,
        )

        table = DataTable(
            title,
            (_("Municipality"), unit_label(kind, lang), _("Class")),
            tuple(
                (
                    names[nis],
                    fmt_cell(points[nis].raw, kind, points[nis].flag, lang, decimals=decimals),
                    classes.labels[classes.index(rounded[nis])]
                    if nis in rounded
                    else flag_symbol(points[nis].flag) or "",
                )
                for nis in sorted(scope, key=lambda n: (names[n].casefold(), n))
            ),
        )
        if alt is None:
            alt = _("%(title)s. Map of %(n)s municipalities (%(area)s) in %(k)s classes.") % {
                "title": title,
                "n": str(len(scope)),
                "area": area_name(area, lang),
                "k": str(len(classes.lower)),
            }
            if classes.labels:
                alt += " " + _("From %(low)s to %(high)s.") % {
                    "low": fmt_number(min(rounded.values()), lang, decimals),
                    "high": fmt_number(max(rounded.values()), lang, decimals),
                }
            if highlight is not None:
                p = points[highlight]
                value = fmt_cell(p.raw, kind, p.flag, lang, decimals=decimals)
                alt += " " + _("%(name)s: %(value)s.") % {"name": names[highlight], "value": value}
            n_hidden = len(scope) - len(rounded)
            if n_hidden:
                alt += " " + _("%(n)s municipalities without a published value are hatched.") % {
                    "n": str(n_hidden)
                }
        return make_chart(
            fig,
            chart_id=chart_id,
            title=title,
            alt=alt,
            table=table,
            png=png,
            flags=(p.flag for p in points.values()),
            plotted=[(nis, "value") for nis in sorted(rounded)],
        )
