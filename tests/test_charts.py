"""Charts: hidden values are never plotted, output is deterministic, text uses the shipped font."""

from __future__ import annotations

import math
import re
from xml.etree import ElementTree

import pytest
from matplotlib.collections import PathCollection
from matplotlib.font_manager import FontProperties, findfont

from ksz_reports import charts
from ksz_reports.charts import result
from ksz_reports.core.resources import templates_dir

SECRET = 987.0  # the value behind a suppressed cell: must never reach the drawing


@pytest.fixture
def figures(monkeypatch):
    """Capture the matplotlib figure of every chart rendered in the test."""
    captured = []
    real = result.make_chart

    def capture(fig, **kwargs):
        captured.append(fig)
        return real(fig, **kwargs)

    monkeypatch.setattr(result, "make_chart", capture)
    return captured


def texts(ax, role):
    """The texts a chart drew in one role: "symbol", "value", "tick-x", "tick-y", "legend"…"""
    return [t.get_text() for t in ax.texts if t.get_label() == role]


def bars(ax):
    """(width, face colour) of every bar (bars are polygons of collections)."""
    from matplotlib.collections import PolyCollection

    out = []
    for collection in ax.collections:
        if isinstance(collection, PolyCollection):
            for path, face in zip(collection.get_paths(), collection.get_facecolors(), strict=True):
                xs = path.vertices[:, 0]
                out.append((float(xs[abs(xs).argmax()]), tuple(face)))
    return out


def series_rows():
    rows = []
    for name, base in (("Gent", 30.0), ("Vlaams Gewest", 20.0), ("België", 25.0)):
        for i, period in enumerate(("2017", "2018", "2019", "2020", "2021")):
            rows.append({"series": name, "period": period, "value": base + i, "flag": None})
    rows[1] = {**rows[1], "value": SECRET, "flag": "suppressed"}  # Gent 2018
    rows[3] = {**rows[3], "value": None, "flag": None}  # Gent 2020: no value, no flag
    rows[6] = {**rows[6], "flag": "unreliable"}  # Vlaams Gewest 2018
    return rows


def test_shipped_font_wins_over_other_copies():
    paths = charts.register_fonts()
    with charts.chart_style():
        regular = findfont(FontProperties(family=["sans-serif"]))
        bold = findfont(FontProperties(family="DejaVu Sans", weight="bold"))
    fonts = templates_dir() / "fonts"
    assert regular == paths["normal"] == str(fonts / "DejaVuSans.ttf")
    assert bold == paths["bold"] == str(fonts / "DejaVuSans-Bold.ttf")


def test_series_never_plots_a_suppressed_value(figures):
    chart = charts.chart_series(series_rows(), title="Leefloon", lang="nl", highlight="Gent")
    ax = figures[0].axes[0]
    gent = next(line for line in ax.lines if line.get_label() == "Gent")
    y = list(gent.get_ydata())
    assert math.isnan(y[1]) and math.isnan(y[3])  # gaps in the line
    assert all(SECRET not in list(line.get_ydata()) for line in ax.lines)
    assert ax.get_ylim()[1] < 100  # the axis did not stretch to the secret
    assert ("Gent", "2018") not in chart.plotted and ("Gent", "2020") not in chart.plotted
    assert ("Gent", "2019") in chart.plotted and len(chart.plotted) == 13
    assert sorted(texts(ax, "symbol")) == [":", "x"]  # the symbols stand in for the gaps
    assert texts(ax, "legend") == ["Gent", "Vlaams Gewest", "België"]
    assert chart.table.columns == ("Periode", "Gent", "Vlaams Gewest", "België")
    assert chart.table.rows[1] == ("2018", "x", "(21,0)", "26,0")
    assert chart.table.rows[3] == ("2020", ":", "23,0", "28,0")
    assert chart.flags == {"suppressed", "not_available", "unreliable"}
    assert chart.alt.startswith("Leefloon. Lijndiagram, 2017 tot 2021. Gent: 30,0 in 2017,")
    assert "Niet gepubliceerde waarden worden niet getekend" in chart.alt


def test_series_ticks_use_the_report_formatting(figures):
    rows = [
        {"series": "Gent", "period": p, "value": v}
        for p, v in (("2021-10", 1200.0), ("2021-11", 1500.0), ("2021-12", 2600.0))
    ]
    chart = charts.chart_series(rows, title="T", lang="nl", kind="count")
    ax = figures[0].axes[0]
    labels = texts(ax, "tick-y")
    assert "1.000" in labels and "2.500" in labels
    assert texts(ax, "axis-label") == ["personen"]
    assert texts(ax, "tick-x") == [
        "oktober 2021",
        "november 2021",
        "december 2021",
    ]
    assert chart.table.rows[2] == ("december 2021", "2.600")


def test_bars_never_draw_a_suppressed_bar(figures):
    rows = [
        {"category": "18-24", "value": 12.3},
        {"category": "25-34", "value": SECRET, "flag": "secondary"},
        {"category": "35-44", "value": -2.5, "flag": "unreliable"},
        {"category": "65+", "value": 20.05},
    ]
    chart = charts.chart_bars(rows, title="Per leeftijd", lang="fr")
    ax = figures[0].axes[0]
    widths = sorted(round(width, 6) for width, _face in bars(ax))
    assert widths == [-2.5, 12.3, 20.05]
    assert ax.get_xlim()[1] < 100
    assert sorted(texts(ax, "value")) == ["(−2,5)", "12,3", "20,1"]
    assert texts(ax, "symbol") == ["x"]
    assert texts(ax, "tick-y") == ["18-24", "25-34", "35-44", "65+"]
    assert chart.table.rows == (
        ("18-24", "12,3"),
        ("25-34", "x"),
        ("35-44", "(−2,5)"),
        ("65+", "20,1"),
    )
    assert "maximum 65+ (20,1), minimum 35-44 (−2,5)" in chart.alt


def test_grouped_bars_and_dataframe_input(figures):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "series": ["Gent", "Gent", "Vlaams Gewest", "Vlaams Gewest"],
            "category": ["M", "V", "M", "V"],
            "value": [10.0, float("nan"), 8.0, 9.0],
            "flag": [None, "suppressed", None, None],
        }
    )
    chart = charts.chart_bars(frame, title="Per geslacht", lang="nl")
    assert len(bars(figures[0].axes[0])) == 3
    assert texts(figures[0].axes[0], "legend") == ["Gent", "Vlaams Gewest"]
    assert chart.table.columns == ("Categorie", "Gent", "Vlaams Gewest")
    assert chart.table.rows == (("M", "10,0", "8,0"), ("V", "x", "9,0"))


def test_comparison_highlights_and_skips_hidden(figures):
    rows = [
        {"label": "Gent", "value": 30.0, "level": "municipality"},
        {"label": "Merelbeke", "value": 12.0, "level": "neighbour"},
        {"label": "Melle", "value": SECRET, "flag": "secondary", "level": "neighbour"},
        {"label": "Vlaams Gewest", "value": 15.55, "level": "region"},
    ]
    chart = charts.chart_comparison(rows, title="Vergelijking", lang="nl", highlight="Gent")
    ax = figures[0].axes[0]
    faces = {round(width, 2): face for width, face in bars(ax)}
    assert sorted(faces) == [12.0, 15.55, 30.0]
    assert faces[30.0][:3] == pytest.approx((11 / 255, 79 / 255, 138 / 255))  # accent
    bold = [t.get_text() for t in ax.texts if t.get_fontweight() == "bold"]
    assert bold == ["x", "Gent"]  # the hidden value's symbol, the municipality's name
    assert chart.table.rows[2] == ("Melle", "x")
    assert chart.alt == (
        "Vergelijking. Staafdiagram dat 4 gebieden vergelijkt. Gent: 30,0. De andere van 12,0 "
        "(Merelbeke) tot 15,6 (Vlaams Gewest). Niet gepubliceerde waarden worden niet getekend; "
        "hun teken staat in de plaats."
    )
    with pytest.raises(ValueError, match="highlight"):
        charts.chart_comparison(rows, title="V", lang="nl", highlight="Gentbrugge")


def test_scatter_leaves_out_hidden_points(figures):
    charts.chart_bars([{"category": "a", "value": 1.0}], title="B", lang="nl")
    rows = [{"label": f"G{i}", "x": float(i), "y": float(i % 7), "flag": None} for i in range(40)]
    rows[5] = {**rows[5], "x": SECRET, "flag": "suppressed"}
    rows[6] = {"label": "G6", "x": 6.0, "y": SECRET, "flag_x": None, "flag_y": "secondary"}
    chart = charts.chart_scatter(
        rows,
        title="Spreiding",
        lang="en",
        highlight="G7",
        x_kind="rate_per_1000",
        y_kind="share_pct",
        x_label="RMI per 1,000",
        y_label="share in %",
    )
    ax = figures[-1].axes[0]
    low, high = ax.get_ylim()
    assert low < high  # upwards, although the figure drew an (inverted) bar chart before
    dots = [c for c in ax.collections if isinstance(c, PathCollection)]
    xs = [x for coll in dots for x, _y in coll.get_offsets()]
    ys = [y for coll in dots for _x, y in coll.get_offsets()]
    assert len(xs) == 38 and SECRET not in xs and SECRET not in ys
    assert ("G5", "xy") not in chart.plotted and ("G6", "xy") not in chart.plotted
    assert "2 not shown (not published)" in chart.alt
    assert ("G5", "x", "x") in chart.table.rows and ("G6", "6.0", "x") in chart.table.rows


def test_svg_is_deterministic_inline_ready_and_accessible():
    one = charts.chart_series(series_rows(), title="A", lang="nl", chart_id="c-a", png=True)
    # the figure is reused: what an earlier chart drew or scaled must not leak into the next
    charts.chart_bars([{"category": "a", "value": 5e6}], title="B", lang="nl")
    two = charts.chart_series(series_rows(), title="A", lang="nl", chart_id="c-a", png=True)
    assert one.svg == two.svg and one.png == two.png
    other = charts.chart_series(series_rows(), title="A", lang="nl", chart_id="c-b")
    ids_one = set(re.findall(r'\bid="([^"]+)"', one.svg))
    ids_other = set(re.findall(r'\bid="([^"]+)"', other.svg))
    assert ids_one and not ids_one & ids_other  # two charts in one page never clash
    assert all(i.startswith("c-a-") for i in ids_one)
    svg = one.svg
    assert svg.startswith('<svg id="c-a-svg" class="chart-svg" role="img"')
    assert f'<title id="c-a-title">{one.alt}</title>' in svg
    for absent in ("<?xml", "<!DOCTYPE", "http", "<metadata", "style=", "Matplotlib"):
        assert absent not in svg
    # Text is real text (selectable in the PDF) in the report's font, the shipped DejaVu Sans
    # that report.css declares as "KSZ Sans" and matplotlib measured the labels with.
    texts = re.findall(r"<text\b([^>]*)>([^<]*)</text>", svg)
    assert texts and all(
        "font-family=\"'KSZ Sans', 'DejaVu Sans', sans-serif\"" in attrs for attrs, _t in texts
    )
    assert "2017" in {t for _a, t in texts} and "rotate(-0" not in svg
    assert re.search(r'd="M [\d.]+ [\d.]+ [\d.]+', svg)  # compacted path data


def test_svg_text_is_what_savefig_writes(figures):
    import io

    charts.chart_series(series_rows(), title="A", lang="nl", highlight="Gent")
    charts.chart_comparison(
        [
            {"label": "Gent", "value": 30.0, "level": "municipality"},
            {"label": "Vlaams Gewest", "value": 15.5, "level": "region"},
        ],
        title="C",
        lang="nl",
        highlight="Gent",
    )  # the canvas is reused: figures[0] now holds this chart
    fig = figures[-1]
    with charts.chart_style():
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
        assert charts.svg_text(fig) == buffer.getvalue()
        assert fig.dpi == charts.RC["figure.dpi"]


def _well_formed(svg: str):
    """The chart's SVG as WeasyPrint reads it (pdf.charts_as_images adds the namespaces)."""
    standalone = svg.replace(
        "<svg ",
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ',
        1,
    )
    return ElementTree.fromstring(standalone)


def test_every_chart_family_gives_well_formed_flat_svg():
    comparison = [
        {"label": "Gent", "value": 30.0, "level": "municipality"},
        {"label": "Melle", "flag": "secondary", "level": "neighbour"},
        {"label": "Vlaams Gewest", "value": 15.5, "level": "region"},
    ]
    scatter = [{"label": f"G{i}", "x": float(i), "y": float(i % 5)} for i in range(30)]
    made = [
        charts.chart_series(series_rows(), title="S", lang="nl", chart_id="s"),
        charts.chart_bars(
            [{"category": "a", "value": 1.0}, {"category": "b", "flag": "suppressed"}],
            title="B",
            lang="fr",
            chart_id="b",
        ),
        charts.chart_comparison(comparison, title="C", lang="nl", highlight="Gent", chart_id="c"),
        charts.chart_scatter(
            scatter,
            title="P",
            lang="en",
            highlight="G3",
            x_kind="rate_per_1000",
            y_kind="share_pct",
            x_label="x",
            y_label="y",
            chart_id="p",
        ),
    ]
    for chart in made:
        root = _well_formed(chart.svg)
        groups = root.iter("{http://www.w3.org/2000/svg}g")
        # no group left that carries nothing (they cost WeasyPrint a node each)
        assert all(set(g.attrib) - {"id"} for g in groups), chart.id
        assert "<g/>" not in chart.svg and not re.search(r'<g id="[^"]*"/>', chart.svg)
    # the scatter's 29 other municipalities are one compound path, not 29 <use> (only ticks)
    assert made[-1].svg.count("<use") < 20


def test_alt_text_counts_in_the_singular_and_the_plural():
    one = [{"category": "18-24", "value": 1.0}]
    two = [*one, {"category": "25-34", "value": 2.0}]
    assert charts.chart_bars(one, title="T", lang="nl").alt.startswith(
        "T. Staafdiagram met 1 categorie."
    )
    assert charts.chart_bars(two, title="T", lang="nl").alt.startswith(
        "T. Staafdiagram met 2 categorieën."
    )
    assert "de 1 catégorie." in charts.chart_bars(one, title="T", lang="fr").alt
    assert "of 1 category." in charts.chart_bars(one, title="T", lang="en").alt


def test_png_is_deterministic_without_metadata():
    chart = charts.chart_bars(
        [{"category": "a", "value": 1.0}], title="P", lang="en", chart_id="p", png=True
    )
    assert chart.png.startswith(b"\x89PNG")
    assert b"tEXt" not in chart.png and b"Software" not in chart.png and b"tIME" not in chart.png
    assert chart.png_data_url.startswith("data:image/png;base64,iVBOR")
    assert chart.width_px == "673"


def test_input_errors():
    with pytest.raises(ValueError, match="duplicate"):
        charts.chart_series(
            [{"series": "a", "period": "2020", "value": 1}] * 2, title="T", lang="nl"
        )
    with pytest.raises(ValueError, match="frequencies"):
        charts.chart_series(
            [{"series": "a", "period": p, "value": 1} for p in ("2020", "2020Q1")],
            title="T",
            lang="nl",
        )
    with pytest.raises(ValueError, match="unknown flag"):
        charts.chart_bars([{"category": "a", "value": 1, "flag": "secret"}], title="T", lang="nl")
