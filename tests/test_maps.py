"""Choropleth maps: province and Belgium, the 2025 mergers drawn as unions, hatched hidden values."""

from __future__ import annotations

import csv
import random
import re
from decimal import Decimal
from xml.etree import ElementTree

import numpy as np
import pytest
from matplotlib.patches import PathPatch, Rectangle

from ksz_reports import charts
from ksz_reports.charts import geometry, maps
from ksz_reports.charts.layer import _layer
from ksz_reports.core.resources import data_path
from ksz_reports.geo import geography


@pytest.fixture
def figures(monkeypatch):
    captured = []
    real = maps.make_chart

    def capture(fig, **kwargs):
        captured.append(fig)
        return real(fig, **kwargs)

    monkeypatch.setattr(maps, "make_chart", capture)
    return captured


def values(codes, hidden=()):
    """A deterministic value per code; codes in ``hidden`` suppressed (with a secret value)."""
    return [
        {
            "geo": code,
            "value": 999.0 if code in hidden else 5 + (int(code) * 7919 % 3500) / 100,
            "flag": "suppressed" if code in hidden else None,
        }
        for code in codes
    ]


def test_province_map_2019_geography(figures):
    codes = geography(2019).members("40000")
    assert len(codes) == 60
    chart = charts.map_choropleth(
        values(codes, hidden={"44043"}),
        title="Leefloon per 1000 inwoners",
        lang="nl",
        area="40000",
        highlight="44021",
        png=True,
    )
    assert len(chart.table.rows) == 60
    assert chart.table.columns == ("Gemeente", "per 1000 inwoners", "Klasse")
    assert ("Merelbeke", "x", "x") in chart.table.rows
    assert chart.alt.startswith(
        "Leefloon per 1000 inwoners. Kaart van 60 gemeenten (Provincie Oost-Vlaanderen) in 5 "
        "klassen."
    )
    assert "1 gemeenten zonder gepubliceerde waarde zijn gearceerd." in chart.alt
    assert chart.flags == {"suppressed"}
    assert ("44043", "value") not in chart.plotted and len(chart.plotted) == 59
    fig = figures[0]
    hatched = [a for a in fig.artists if isinstance(a, PathPatch) and a.get_hatch()]
    assert len(hatched) == 1  # Merelbeke
    legend = [t.get_text() for t in fig.texts]
    assert legend[-2:] == ["Gent", "x  niet gepubliceerd"]
    assert chart.png.startswith(b"\x89PNG") and chart.svg.startswith("<svg")


def test_belgium_map_with_2025_mergers(figures):
    new_codes = list(geography().codes)
    assert len(new_codes) == 565
    chart = charts.map_choropleth(
        values(new_codes, hidden={"21004"}),
        title="RMI",
        lang="fr",
        geography=geography(),
        highlight="46030",
    )
    assert len(chart.table.rows) == 565
    names = [row[0] for row in chart.table.rows]
    assert "Beveren-Kruibeke-Zwijndrecht" in names and "Zwijndrecht" not in names
    assert "Pajottegem" in names and "Bastogne" in names and "Bertogne" not in names
    assert "Beveren-Kruibeke-Zwijndrecht\u00a0:" in chart.alt and "(Belgique)" in chart.alt
    # one path per class, one for the hidden, one for all borders, two for the outline: a map of
    # Belgium is a handful of SVG elements (WeasyPrint's cost is per element), well-formed
    svg = chart.svg.replace(
        "<svg ",
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ',
        1,
    )
    ElementTree.fromstring(svg)
    assert chart.svg.count("<path") < 30


def test_merged_municipality_has_no_internal_border():
    merges = charts.map_merges(geography())
    polygons = charts.simplified_polygons(0.0)
    rings = [(merges.get(old, old), ring) for old, rings in polygons.items() for ring in rings]
    borders, outline = geometry._border_lines(rings, "46030")

    def segments(lines):
        return {frozenset(pair) for line in lines for pair in zip(line, line[1:], strict=False)}

    def ring_segments(nis):
        return {
            frozenset(pair) for ring in polygons[nis] for pair in zip(ring, ring[1:], strict=False)
        }

    drawn, own = segments(borders), segments(outline)
    beveren, kruibeke, zwijndrecht = (ring_segments(n) for n in ("46003", "46013", "11056"))
    internal = (beveren & kruibeke) | (beveren & zwijndrecht) | (kruibeke & zwijndrecht)
    assert internal and not internal & drawn and not internal & own
    outer = (beveren | kruibeke | zwijndrecht) - internal
    assert own == outer and outer <= drawn
    # Without the merger map, the old borders are drawn.
    borders_2019, _ = geometry._border_lines(
        [(old, r) for old, rs in polygons.items() for r in rs], None
    )
    assert internal <= segments(borders_2019)


def test_province_follows_the_2025_geography():
    chart = charts.map_choropleth(
        values(list(geography().codes)), title="T", lang="nl", area="40000", geography=geography()
    )
    names = {row[0] for row in chart.table.rows}
    assert len(names) == 55  # 60 − 5 by mergers; Zwijndrecht came from province Antwerpen
    assert {"Beveren-Kruibeke-Zwijndrecht", "Merelbeke-Melle", "Lokeren"} <= names


def test_simplification_keeps_shared_borders():
    simplified = charts.simplified_polygons(0.003)
    full = charts.simplified_polygons(0.0)
    assert sum(map(len, (r for rs in simplified.values() for r in rs))) < 0.8 * sum(
        map(len, (r for rs in full.values() for r in rs))
    )

    def segments(nis):
        return {frozenset(p) for ring in simplified[nis] for p in zip(ring, ring[1:], strict=False)}

    with open(data_path("neighbours.csv"), encoding="utf-8") as fh:
        pairs = [(r["nis_a"], r["nis_b"]) for r in csv.DictReader(fh)]
    assert len(pairs) == 1617
    assert all(segments(a) & segments(b) for a, b in pairs)


def test_quantile_classes_use_published_values():
    values_ = [Decimal(v) for v in ("1.0", "2.0", "2.0", "3.5", "8.1", "12.4", "15.0", "20.0")]
    classes = charts.quantile_classes(values_, 4, "nl", 1)
    assert classes.lower == (Decimal("1.0"), Decimal("2.0"), Decimal("8.1"), Decimal("15.0"))
    assert classes.labels == ("1,0 – 1,9", "2,0 – 8,0", "8,1 – 14,9", "15,0 – 20,0")
    assert classes.index(Decimal("8.1")) == 2 and classes.index(Decimal("8.0")) == 1
    assert len(set(classes.colors)) == 4
    assert charts.quantile_classes([Decimal("3.0")] * 5, 5, "en", 1).labels == ("3.0",)


def test_input_errors():
    with pytest.raises(ValueError, match="not on the map"):
        charts.map_choropleth([{"geo": "46030", "value": 1.0}], title="T", lang="nl")
    with pytest.raises(ValueError, match="highlight"):
        charts.map_choropleth([], title="T", lang="nl", area="40000", highlight="11002")
    with pytest.raises(ValueError, match="no municipality"):
        charts.map_choropleth([], title="T", lang="nl", area="99999")


def test_dissolve_keeps_the_edges_between_labels():
    layer = _layer(None, geography())
    edges = layer.edges
    labels = np.random.default_rng(1).integers(0, 6, len(layer.scope))
    loops = geometry._dissolve(edges, labels)
    assert sorted(loops) == list(range(6))
    for label, part in loops.items():
        # a union's outline: the edges of its municipalities without a twin among them, once
        members = labels[edges.owner] == label
        inner = members & (edges.twin >= 0) & (labels[edges.owner[edges.twin]] == label)
        end = edges.start[edges.following(np.arange(len(edges.start)))]
        expected = set(zip(edges.start[members & ~inner], end[members & ~inner], strict=True))
        starts = np.flatnonzero(part.codes == geometry.MplPath.MOVETO)
        closes = np.flatnonzero(part.codes == geometry.MplPath.CLOSEPOLY)
        assert (part.index[starts] == part.index[closes]).all()  # closed loops
        drawn = [
            (a, b)
            for first, last in zip(starts, closes, strict=True)
            for a, b in zip(part.index[first:last], part.index[first + 1 : last + 1], strict=True)
        ]
        assert len(drawn) == len(expected) and set(drawn) == expected


@pytest.mark.parametrize(
    ("area", "merged", "highlight"),
    [(None, False, "71022"), (None, True, "46030"), ("70000", True, None)],
)
def test_svg_path_data_is_matplotlibs(figures, area, merged, highlight):
    """The path data joined from the layer's coordinates is what matplotlib writes for the
    figure's paths, whatever the geography, the area, the values and the highlight."""
    geo = geography() if merged else geography(2019)
    codes = list(geo.codes)
    rng = random.Random(f"{area}-{merged}")
    rows = [{"geo": code, "value": rng.uniform(0, 50)} for code in codes if rng.random() > 0.1]
    chart = charts.map_choropleth(
        rows, title="T", lang="nl", area=area, geography=geo, highlight=highlight, png=True
    )
    with charts.chart_style():  # the figure holds the real paths since it drew the PNG
        svg, _png = charts.render_figure(figures[-1], chart.id, chart.alt, png=False)
    assert chart.svg == svg
    assert "ksz-path-data" not in chart.svg


def test_legend_is_placed_like_matplotlibs():
    labels = ["1,0 – 1,9", "Écaussinnes", "Ågg", "x  niet gepubliceerd"]

    def svg(draw_legend):
        with charts.chart_style():
            fig = charts.new_figure(80.0)
            ax = fig.add_axes((0.0, 0.0, 0.5, 1.0))
            ax.set_axis_off()
            draw_legend(fig, ax, [Rectangle((0, 0), 0, 0, label=label) for label in labels])
            return charts.render_figure(fig, "t", "T", png=False)[0]

    ours = svg(  # at the middle of the right edge of the axes, in points
        lambda fig, _ax, handles: maps._legend(
            fig, (fig.get_figwidth() * 72 / 2, fig.get_figheight() * 72 / 2), handles, "Titel"
        )
    )
    theirs = svg(
        lambda _fig, ax, handles: ax.legend(
            handles=handles,
            title="Titel",
            loc="center left",
            bbox_to_anchor=(1.0, 0.5),
            alignment="left",
            handlelength=1.6,
            handleheight=1.1,
        )
    )
    elements = re.compile(r"<text[^>]*>[^<]*</text>|<path d=\"M [^\"]* z\"[^>]*>")
    assert len(elements.findall(ours)) == 2 * len(labels) + 1
    assert sorted(elements.findall(ours)) == sorted(elements.findall(theirs))
