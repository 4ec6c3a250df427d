"""The geometry of the maps, from the shipped GeoJSON (no GIS libraries).

The polygons are ``municipalities.geojson`` (581 municipalities of 2019–2024, WGS84). They are
drawn in a simple projection that keeps areas nearly right at Belgian latitudes:
``x = lon × cos(50.5°)``, ``y = lat``. The file is one topology (neighbours share the very same
vertices): outlines are simplified keeping it (:func:`simplified_polygons`), a border is a segment
that two polygons of different municipalities share (:func:`_border_lines`), and any grouping of
municipalities is dissolved into the outlines of its unions with array operations
(:class:`_Edges`, :func:`_dissolve`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import numpy as np
from matplotlib.path import Path as MplPath

from ksz_reports.charts.svg import _svg_path_data
from ksz_reports.core.cache import cached_bytes
from ksz_reports.core.fingerprints import file_sha256
from ksz_reports.core.resources import data_path

COS_LAT = math.cos(math.radians(50.5))

Segment = tuple[tuple[float, float], tuple[float, float]]


# --------------------------------------------------------------------------- polygons


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


#: The version of :func:`_simplify_now`'s result: raise it when the algorithm changes, so the
#: asset cache (:mod:`ksz_reports.core.cache`) does not serve outlines of the old one.
SIMPLIFY_VERSION = 1


def _simplify(codes: tuple[str, ...], tolerance: float) -> dict[str, tuple[tuple[Point, ...], ...]]:
    """:func:`simplified_polygons` of the municipalities ``codes`` only (a map's area: the
    topology that matters is the one between the municipalities drawn), computed once per
    machine and version (the asset cache), as JSON (floats round-trip exactly)."""
    key = {
        "borders": _borders_sha256(),
        "codes": hashlib.sha256(",".join(codes).encode()).hexdigest(),
        "tolerance": repr(float(tolerance)),
        "algorithm": SIMPLIFY_VERSION,
    }

    def compute() -> bytes:
        return json.dumps(_simplify_now(codes, tolerance), separators=(",", ":")).encode()

    rings = json.loads(cached_bytes("outlines", key, compute))
    return {
        nis: tuple(tuple((x, y) for x, y in ring) for ring in polygon)
        for nis, polygon in rings.items()
    }


@cache
def _borders_sha256() -> str:
    return file_sha256(data_path("municipalities.geojson"))


def _simplify_now(
    codes: tuple[str, ...], tolerance: float
) -> dict[str, tuple[tuple[Point, ...], ...]]:
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


# --------------------------------------------------------------------------- dissolve


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
