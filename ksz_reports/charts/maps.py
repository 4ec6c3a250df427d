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
— the area's municipalities, their simplified rings and edges, the borders, the place on the
figure and the SVG coordinates — is computed once per process and area (:func:`_layer`); a
report only adds the colours (the union of each class's municipalities, :func:`_dissolve`), its
outline and the legend. For speed (a map of Belgium in ~45 ms instead of ~180), the map has no
axes, its legend is a few plain artists (:func:`_legend`), and the SVG path data of its large
paths is joined from the layer's coordinates, formatted once (:class:`_PathData`).

Classes are quantiles of the values as published (rounded once with :mod:`formatting`), so a
municipality that shows ``12,4`` in a table is in the class whose legend reads ``12,4 – 15,0``.
Municipalities without a published value are hatched grey, with a legend entry per symbol.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

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

from ksz_reports.charts.base import (
    FONT_FAMILY,
    MM,
    Chart,
    DataTable,
    _compact_path,
    chart_style,
    default_chart_id,
    make_chart,
    new_figure,
    point,
    records,
    register_fonts,
    render_figure,
    unit_label,
)
from ksz_reports.core.resources import data_path
from ksz_reports.l10n.catalogs import gettext
from ksz_reports.l10n.numbers import (
    FLAG_SYMBOLS,
    default_decimals,
    flag_label,
    flag_symbol,
    fmt_cell,
    fmt_number,
    round_decimal,
)

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


@dataclass(frozen=True)
class _Edges:
    """The rings of a map as directed edges, to dissolve any grouping of its municipalities with
    array operations (:func:`_dissolve`).

    Every ring is turned counter-clockwise and its edges are stored one after the other in ring
    order: edge ``e`` starts at vertex ``start[e]``, and its ring is the edges ``first[e]`` to
    ``first[e] + length[e] - 1``. Neighbours share a border by the very same vertices (one
    topology) and run along it in opposite directions: ``twin[e]`` is the edge on the other side,
    or -1 on the outside of the map.
    """

    points: np.ndarray  # (V, 2) projected vertices
    start: np.ndarray  # (E,) vertex index
    owner: np.ndarray  # (E,) municipality: index into the map's list of municipalities
    twin: np.ndarray  # (E,) the same segment in the other direction, -1 when none
    first: np.ndarray  # (E,) first edge of the ring
    length: np.ndarray  # (E,) number of edges of the ring

    def following(self, edge: np.ndarray, steps: np.ndarray | int = 1) -> np.ndarray:
        """The edges ``steps`` further along the ring of each of ``edge`` (negative: back)."""
        return self.first[edge] + (edge - self.first[edge] + steps) % self.length[edge]


def _edges(municipalities: Sequence[Sequence[Sequence[Point]]]) -> _Edges:
    """:class:`_Edges` of closed rings, ``municipalities[i]`` the rings of municipality ``i``."""
    vertex: dict[Point, int] = {}
    start: list[int] = []
    end: list[int] = []
    owner: list[int] = []
    first: list[int] = []
    length: list[int] = []
    for i, rings in enumerate(municipalities):
        for ring in rings:
            pts = list(ring[:-1])
            area2 = sum(
                a[0] * b[1] - b[0] * a[1] for a, b in zip(pts, [*pts[1:], pts[0]], strict=True)
            )
            if area2 < 0:
                pts.reverse()
            ids = [vertex.setdefault(p, len(vertex)) for p in pts]
            first += [len(start)] * len(ids)
            length += [len(ids)] * len(ids)
            owner += [i] * len(ids)
            start += ids
            end += [*ids[1:], ids[0]]
    n = len(vertex)
    key = np.asarray(start, dtype=np.int64) * n + np.asarray(end, dtype=np.int64)
    reverse = np.asarray(end, dtype=np.int64) * n + np.asarray(start, dtype=np.int64)
    order = np.argsort(key)
    if np.any(key[order][1:] == key[order][:-1]):
        raise ValueError("overlapping rings: a segment is run twice in the same direction")
    at = order[np.minimum(np.searchsorted(key, reverse, sorter=order), len(key) - 1)]
    return _Edges(
        points=np.asarray(list(vertex), dtype=float),
        start=np.asarray(start, dtype=np.int64),
        owner=np.asarray(owner, dtype=np.int64),
        twin=np.where(key[at] == reverse, at, -1),
        first=np.asarray(first, dtype=np.int64),
        length=np.asarray(length, dtype=np.int64),
    )


class _Loops(NamedTuple):
    """Closed loops of the vertices of an :class:`_Edges`: ``index`` into its points, and the
    matplotlib path ``codes`` (a loop is MOVETO, LINETO…, then CLOSEPOLY on its first vertex)."""

    index: np.ndarray
    codes: np.ndarray

    def path(self, edges: _Edges) -> MplPath:
        """The loops as one matplotlib path."""
        return MplPath(edges.points[self.index], self.codes)

    def svg(self, svg_points: np.ndarray) -> str:
        """The loops as SVG path data, ``svg_points`` the formatted points of their edges."""
        return _svg_path_data(svg_points[self.index], self.codes)


def _dissolve(edges: _Edges, labels: np.ndarray) -> dict[int, _Loops]:
    """The closed loops of each label: the outline of the union of the municipalities of that
    label (``labels[i]`` of municipality ``i``, labels >= 0), holes included.

    An edge whose twin has the same label is inside a union and left out; the others chain into
    closed loops (outer ones counter-clockwise, holes clockwise), which the non-zero fill rule
    paints exactly as the rings would. A class of a choropleth drawn this way has about half the
    vertices (no border inside the class), and the predecessors of a merged municipality join
    without a seam by construction. The kept edges are taken in runs (consecutive kept edges of
    a ring); a run ends where a run of the same label starts, which closes the loops (several
    runs may start at a vertex where a union touches itself: any of them does).
    """
    label = labels[edges.owner]
    other = np.where(edges.twin >= 0, label[edges.twin], -1)
    kept = label != other
    every = np.arange(len(kept))
    begins = np.flatnonzero(kept & ~kept[edges.following(every, -1)])
    ends = np.flatnonzero(kept & ~kept[edges.following(every)])
    # The end of a run is the first end after its beginning in the same ring, or, for the run
    # that wraps around the ring's first edge, the first end of the ring.
    at = np.searchsorted(ends, begins)
    wraps = (at == len(ends)) | (
        edges.first[ends[np.minimum(at, len(ends) - 1)]] != edges.first[begins]
    )
    at[wraps] = np.searchsorted(ends, edges.first[begins[wraps]])
    lengths = (ends[at] - begins) % edges.length[begins] + 1
    # Rings kept whole (surrounded by other labels) are one run each.
    ring_firsts = np.flatnonzero(every == edges.first)
    whole = ring_firsts[np.logical_and.reduceat(kept, ring_firsts)]
    begins = np.concatenate([begins, whole])
    lengths = np.concatenate([lengths, edges.length[whole]])

    n_points = len(edges.points)
    run_label = label[begins]
    key_from = (run_label * n_points + edges.start[begins]).tolist()
    key_to = (run_label * n_points + edges.start[edges.following(begins, lengths)]).tolist()
    waiting: dict[int, list[int]] = {}
    for run, key in enumerate(key_from):
        waiting.setdefault(key, []).append(run)
    order: list[int] = []
    loop_starts: list[int] = []
    for key0 in sorted(waiting):  # by label, then vertex: deterministic, grouped by label
        while waiting[key0]:
            loop_starts.append(len(order))
            run = waiting[key0].pop()
            order.append(run)
            while key_to[run] != key0:
                run = waiting[key_to[run]].pop()
                order.append(run)

    runs = np.asarray(order, dtype=np.int64)
    bounds = np.asarray([*loop_starts, len(order)], dtype=np.int64)  # of the loops, in runs
    loop_label = run_label[runs[bounds[:-1]]]
    out: dict[int, _Loops] = {}
    for value in np.unique(loop_label).tolist():
        loops = np.flatnonzero(loop_label == value)  # consecutive
        of_label = runs[bounds[loops[0]] : bounds[loops[-1] + 1]]
        out[value] = _loops_of_runs(
            edges, begins[of_label], lengths[of_label], bounds[loops] - bounds[loops[0]]
        )
    return out


def _loops_of_runs(
    edges: _Edges, begins: np.ndarray, lengths: np.ndarray, loop_starts: np.ndarray
) -> _Loops:
    """The loops of runs of ``lengths`` edges from ``begins``, in loop order, a new loop at each
    index of ``loop_starts``."""
    offsets = np.cumsum(lengths) - lengths
    run = np.repeat(np.arange(len(begins)), lengths)
    index = edges.start[edges.following(begins[run], np.arange(len(run)) - offsets[run])]
    starts = offsets[loop_starts]  # first vertex of each loop
    stops = np.append(starts[1:], len(index))
    index = np.insert(index, stops, index[starts])  # each loop closed
    codes = np.full(len(index), MplPath.LINETO, dtype=np.uint8)
    shift = np.arange(len(starts))
    codes[starts + shift] = MplPath.MOVETO
    codes[stops + shift] = MplPath.CLOSEPOLY
    return _Loops(index, codes)


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
    edges: _Edges  # of the rings, municipalities indexed in the order of scope
    border_keys: frozenset[Segment]
    borders: MplPath  # every border between municipalities (and the area's outline), once
    height_mm: float  # of the figure
    to_points: tuple[float, ...]  # projected → points of the figure (from its bottom left)
    legend_at: Point  # the middle of the map's right edge, in points of the figure
    svg_points: np.ndarray  # "x y" of each point of edges in the figure's SVG (object array)
    svg_borders: str  # the SVG path data of borders


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
    border_path = _compound(borders, closed=False)
    edges = _edges(list(rings.values()))
    # The map fills the figure's height or its width_mm, centred (equal scales, 1 % margin);
    # its legend is drawn to the right of it.
    margin = 0.01 * width
    box_width, box_height = width_mm * MM * 72, height_mm * MM * 72
    scale = min(box_width / (width + 2 * margin), box_height / (height + 2 * margin))
    left = (box_width - scale * (width + 2 * margin)) / 2
    bottom = (box_height - scale * (height + 2 * margin)) / 2
    to_points = (
        Affine2D()
        .translate(margin - extent[0], margin - extent[2])
        .scale(scale)
        .translate(left, bottom)
    )
    # SVG user units are points from the top left.
    to_svg = to_points + Affine2D().scale(1, -1).translate(0, box_height)
    # matplotlib simplifies an unfilled path (path.simplify) as it writes it.
    svg_borders = border_path.cleaned(transform=to_svg, simplify=True)
    drawn = svg_borders.codes != MplPath.STOP
    return _Layer(
        groups={new: tuple(olds) for new, olds in groups.items()},
        scope=scope,
        rings=rings,
        edges=edges,
        border_keys=frozenset(_border_keys(all_rings)),
        borders=border_path,
        height_mm=height_mm,
        to_points=tuple(to_points.to_values()),
        legend_at=(box_width - left, box_height / 2),
        svg_points=_svg_points(to_svg.transform(edges.points)),
        svg_borders=_svg_path_data(
            _svg_points(svg_borders.vertices[drawn]), svg_borders.codes[drawn]
        ),
    )


def prepare(area: str | None = None, merges: Mapping[str, str] | None = None) -> None:
    """Compute the geometry of an area's maps now (once per process), e.g. when a batch worker
    starts: the simplified outlines of every municipality and the area's layer (default: the
    map of Belgium, which every report shows)."""
    _layer(None if area == BELGIUM else area, tuple(sorted((merges or {}).items())))


def _outline(layer: _Layer, nis: str) -> list[list[Point]]:
    """The outer border of municipality ``nis`` (of a merged one: of the union)."""
    out: list[list[Point]] = []
    for ring in layer.rings[nis]:
        out += _runs(ring, _segment_keys(ring), layer.border_keys.__contains__)
    return out


# --------------------------------------------------------------------------- SVG path data

#: The link around a placeholder path of :class:`_PathData` (``<i>``: the index of its data).
_PLACEHOLDER_URL = "ksz-path-data:"
_PLACEHOLDER = re.compile(
    r'<a xlink:href="' + _PLACEHOLDER_URL + r'(\d+)"[^>]*>\s*<path d="[^"]*"([^>]*)/>\s*</a>'
)


class _PathData:
    """The large paths of a map (one per class, the hidden values, the borders), whose SVG path
    data is joined here from coordinates formatted once per layer (:attr:`_Layer.svg_points`).

    They are nearly all of a map's SVG: matplotlib would write every coordinate of every map,
    then :func:`~ksz_reports.charts.base.render_figure` would parse and cut them to 0.01 pt, over half
    the time of a map of Belgium. Instead, matplotlib draws each of them as a one-point
    placeholder inside a link ``ksz-path-data:<i>`` (writing its style and hatch as for any
    path), and :meth:`render` replaces the placeholder and its link with the path data: the very
    same SVG as matplotlib's.
    """

    def __init__(self) -> None:
        self._patches: list[tuple[PathPatch, MplPath]] = []
        self._data: list[str] = []

    def patch(self, path: MplPath, svg_data: str, **kwargs: Any) -> PathPatch:
        """A :class:`PathPatch` of ``path`` (``kwargs`` its style) whose SVG path data is
        ``svg_data`` (:func:`_svg_path_data` of the same points).

        A patch, not a collection: matplotlib draws a collection of one path and one colour as
        a marker (``<defs>`` and ``<use>``), with no link."""
        url = f"{_PLACEHOLDER_URL}{len(self._data)}"
        patch = PathPatch(MplPath(path.vertices[:1]), url=url, **kwargs)
        self._patches.append((patch, path))
        self._data.append(svg_data)
        return patch

    def render(self, fig: Figure, *, png: bool, **chart: Any) -> Chart:
        """:func:`~ksz_reports.charts.base.make_chart` of ``fig``, with the path data in its SVG.

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


def _svg_points(xy: np.ndarray) -> np.ndarray:
    """``"x y"`` of each point (SVG user units), as matplotlib writes and
    :func:`~ksz_reports.charts.base.render_figure` compacts them (``%f`` cut to 0.01)."""
    return np.asarray([_compact_path(f"{x:f} {y:f}") for x, y in xy.tolist()], dtype=object)


def _svg_path_data(points: np.ndarray, codes: np.ndarray) -> str:
    """The SVG path data of a path of ``codes`` (MOVETO, LINETO, CLOSEPOLY) through ``points``
    (:func:`_svg_points`): implicit lineto, as :func:`~ksz_reports.charts.base.render_figure`
    writes a path."""
    words = points.copy()
    move = codes == MplPath.MOVETO
    words[move] = "M " + words[move]
    words[codes == MplPath.CLOSEPOLY] = "z"
    return " ".join(words.tolist())


# --------------------------------------------------------------------------- legend

#: Font sizes of the legend's entries and title (``legend.fontsize`` and ``font.size`` of
#: :func:`~ksz_reports.charts.base.chart_style`), in points.
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

        def add(path: MplPath, svg_data: str, **style: Any) -> None:
            fig.add_artist(
                path_data.patch(path, svg_data, transform=to_display, joinstyle="round", **style)
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
        return path_data.render(
            fig,
            chart_id=chart_id,
            title=title,
            alt=alt,
            table=table,
            png=png,
            flags=(p.flag for p in points.values()),
            plotted=[(nis, "value") for nis in sorted(rounded)],
        )
