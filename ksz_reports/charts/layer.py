"""The layer of a map: everything geometric of one area on one geography — its
municipalities, their simplified rings and edges, the borders, the place on the figure and the
SVG coordinates — computed once per process and area (:func:`_layer`, :func:`prepare`); a report
only adds the colours, its outline and the legend.

Outlines are simplified for the printed scale
(:func:`~ksz_reports.charts.geometry.simplified_polygons`, 0.15 mm; topology kept), which makes a
map of Belgium about 0.5 MB of SVG instead of 1.7 MB.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
from matplotlib.path import Path as MplPath
from matplotlib.transforms import Affine2D

from ksz_reports.charts.geometry import (
    COS_LAT,
    Point,
    Segment,
    _border_keys,
    _border_lines,
    _compound,
    _Edges,
    _edges,
    _polygons,
    _runs,
    _segment_keys,
    _simplify,
    simplified_polygons,
)
from ksz_reports.charts.style import MM
from ksz_reports.charts.svg import _svg_path_data, _svg_points
from ksz_reports.geo import COUNTRY, Geography, geography

#: Simplification of the outlines for drawing: 0.15 mm on the printed map.
SIMPLIFY_MM = 0.15

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


def map_merges(geo: Geography) -> dict[str, str]:
    """``{old: new}`` for the municipalities of the shipped borders that are merged (or renumbered)
    on ``geo`` (none on the borders' own geography, 2019–2024)."""
    return {old: new for old in _polygons() if (new := geo.successors.get(old, old)) != old}


def _layer(area: str | None, geo: Geography) -> _Layer:
    """The :class:`_Layer` of ``area`` (a province or region code; None: Belgium) on ``geo``."""
    return _layer_of(None if area == COUNTRY else area, geo.id)


@cache
def _layer_of(area: str | None, geography_id: str) -> _Layer:
    geo = geography(geography_id)
    merge_map = map_merges(geo)
    groups: dict[str, list[str]] = {}
    for old in _polygons():
        groups.setdefault(merge_map.get(old, old), []).append(old)
    scope = {
        new: tuple(sorted(olds))
        for new, olds in sorted(groups.items())
        if area is None or area in (geo.parents_of(new)["province"], geo.parents_of(new)["region"])
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


def prepare(area: str | None = None, geo: Geography | None = None) -> None:
    """Compute the geometry of an area's maps on ``geo`` (default: the shipped borders' own
    geography) now, once per process, e.g. when a batch worker starts: the simplified outlines
    of every municipality and the area's layer (default: the map of Belgium, which every report
    shows)."""
    _layer(area, geo or geography(2019))


def _outline(layer: _Layer, nis: str) -> list[list[Point]]:
    """The outer border of municipality ``nis`` (of a merged one: of the union)."""
    out: list[list[Point]] = []
    for ring in layer.rings[nis]:
        out += _runs(ring, _segment_keys(ring), layer.border_keys.__contains__)
    return out
