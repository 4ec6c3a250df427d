"""Acceptance of issue 12, as a user meets it: reports on today's 565 municipalities.

The dataset is the sample cut to Oost-Vlaanderen (``oost_vlaanderen_data``: the 2019–2024 codes
of today's province, Zwijndrecht included). One publication on today's geography is prepared by a
small ``batch`` (Melle and Gent, HTML only), and the ``report`` commands of the tests render into
the same folder, so they reuse it; one more publication is prepared for ``--geography 2019``.

Expected figures are computed here from the unsuppressed canonical table (``ksz_reports.open``)
and from the shipped ``mergers_2025.csv`` / population, never copied from a report.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import ksz_reports
from ksz_reports import l10n
from ksz_reports.charts.geometry import _segment_keys
from ksz_reports.charts.layer import _layer, _outline
from ksz_reports.cli import cli, main
from ksz_reports.core.resources import data_path
from ksz_reports.core.schema import is_total
from ksz_reports.geo import geography, population

MERELBEKE_MELLE, MERELBEKE, MELLE, GENT = "44088", "44043", "44040", "44021"
NOTE = "Melle (44040) is part of Merelbeke-Melle (44088) since 1 January 2025"


def mergers() -> pd.DataFrame:
    """The shipped ``mergers_2025.csv`` (the same file as ``../shared/data``)."""
    return pd.read_csv(data_path("mergers_2025.csv"), dtype=str, keep_default_na=False)


def to_2025(code: str) -> str:
    """A 2019–2024 code → today's, read from the mergers file (not from the registry)."""
    new = dict(zip(mergers()["old_nis"], mergers()["new_nis"], strict=True))
    return new.get(code, code)


def ksz(*args: str) -> tuple[str, str]:
    """Run the CLI in-process; exit 0 expected. Returns (stdout, stderr)."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def cells(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "cells.csv", dtype=str, keep_default_na=False)


def html_of(folder: Path) -> str:
    return (folder / "report.html").read_text(encoding="utf-8")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def municipal_totals(table: pd.DataFrame, indicator: str, year: str) -> pd.DataFrame:
    """The monthly municipal totals (no breakdown) of ``indicator`` in ``year``."""
    rows = table[
        (table["indicator"] == indicator)
        & table["period"].astype(str).str.startswith(f"{year}-")
        & is_total(table)
    ]
    return rows.assign(geo=rows["geo"].astype(str))


def yearly_average(totals: pd.DataFrame, codes) -> float:
    """Σ over ``codes`` of the 12 monthly counts / 12 (every month present, none masked)."""
    rows = totals[totals["geo"].isin(set(codes))]
    assert len(rows) == 12 * len(set(codes)), "a month is missing"
    assert rows["value"].notna().all(), "a month is masked at source"
    return float(rows["value"].astype("int64").sum()) / 12


def svg_texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def figure(html: str, figure_id: str) -> str:
    start = html.index(f'<figure class="chart" id="{figure_id}">')
    return html[start : html.index("</figure>", start)]


def row_headers(part: str) -> list[str]:
    return re.findall(r'<th scope="row">([^<]*)</th>', part)


def names_in(html: str, name: str) -> int:
    """Occurrences of ``name`` as a whole name (``Melle`` does not count in ``Merelbeke-Melle``)."""
    return len(re.findall(rf"(?<![\w-]){re.escape(name)}(?![\w-])", html))


# --------------------------------------------------------------------------------------------
# unit level: the geography (fast)


def test_zwijndrecht_is_part_of_a_municipality_of_oost_vlaanderen():
    today, before = geography(), geography(2019)
    rows = mergers()
    bkz = rows[rows["new_nis"] == "46030"]
    assert set(bkz["old_nis"]) == {"11056", "46003", "46013"}
    assert set(bkz["new_province_nis"]) == {"40000"}
    assert before.municipality("11056").province == "10000"  # Antwerpen until 2024
    assert today.predecessors("46030") == sorted(bkz["old_nis"])
    assert today.successor("11056") == "46030"
    assert today.municipality("46030").province == "40000"
    assert today.parents_of("46030")["arrondissement"] == "46000"
    assert "46030" in today.members("40000") and "46030" not in today.members("10000")
    assert not today.is_municipality("11056")
    # today's Oost-Vlaanderen is the 60 of 2019 − 5 by mergers (Zwijndrecht joins a merger)
    assert len(today.members("40000")) == 55
    olds = {old for new in today.members("40000") for old in today.predecessors(new)}
    assert olds == set(before.members("40000")) | {"11056"}


def test_the_map_outlines_merelbeke_melle_along_its_outer_border_only():
    layer = _layer("40000", geography())
    assert layer.scope[MERELBEKE_MELLE] == (MELLE, MERELBEKE)
    assert {MELLE, MERELBEKE, "11056"}.isdisjoint(layer.scope)
    assert "11056" in layer.scope["46030"]
    segments: dict = {}
    for ring in layer.rings[MERELBEKE_MELLE]:
        for key in _segment_keys(ring):
            segments[key] = segments.get(key, 0) + 1
    internal = {key for key, n in segments.items() if n > 1}  # Melle–Merelbeke
    assert internal
    drawn = {key for line in _outline(layer, MERELBEKE_MELLE) for key in _segment_keys(line)}
    assert drawn == set(segments) - internal


def test_municipalities_search_shows_melle_and_merelbeke_melle():
    out, _err = ksz("municipalities", "--search", "melle")
    lines = out.splitlines()
    merged = [line for line in lines if re.match(r"^44088\s+Merelbeke-Melle\b", line)]
    old = [line for line in lines if re.match(r"^44040\s+Melle\b", line)]
    assert len(merged) == 1 and len(old) == 1, out
    assert NOTE in old[0]
    assert lines.index(merged[0]) < lines.index(old[0])  # today's municipality first


# --------------------------------------------------------------------------------------------
# end to end on the Oost-Vlaanderen cut


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """An empty user data folder: no imported population changes the figures."""
    from ksz_reports.geo import reload_population

    mp = pytest.MonkeyPatch()
    mp.setenv("KSZ_REPORTS_HOME", str(tmp_path_factory.mktemp("home")))
    reload_population()
    yield
    mp.undo()
    reload_population()


@pytest.fixture(scope="module")
def today(home, oost_vlaanderen_data: Path, tmp_path_factory) -> Path:
    """``batch --municipalities`` (Melle, Gent) on today's geography, default options."""
    out = tmp_path_factory.mktemp("today") / "out"
    scope = out.parent / "scope.txt"
    scope.write_text("Melle\n44021\n", encoding="utf-8")
    ksz(
        "batch",
        "--data",
        str(oost_vlaanderen_data),
        "--out",
        str(out),
        "--municipalities",
        str(scope),
        "--format",
        "html",
        "--jobs",
        "1",
        "--quiet",
    )
    return out


@pytest.fixture(scope="module")
def manifest(today: Path) -> dict:
    return json.loads((today / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def table(oost_vlaanderen_data: Path) -> pd.DataFrame:
    """The canonical cells kept by the cutoffs, before any suppression (library API)."""
    return ksz_reports.open(oost_vlaanderen_data).table


@pytest.fixture(scope="module")
def melle_2019(home, oost_vlaanderen_data: Path, tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("y2019") / "out"
    _out, err = ksz(
        "report",
        "Melle",
        "--data",
        str(oost_vlaanderen_data),
        "--out",
        str(out),
        "--format",
        "html",
        "--geography",
        "2019",
    )
    return out, err


@pytest.mark.slow
def test_the_batch_renders_merelbeke_melle_for_melle_and_gent(today, manifest):
    reports = {r["nis"]: r for r in manifest["reports"]}
    assert set(reports) == {MERELBEKE_MELLE, GENT}
    assert {r["status"] for r in reports.values()} == {"ok"}
    assert reports[MERELBEKE_MELLE]["name"] == "Merelbeke-Melle"
    folders = sorted(p.name for p in today.iterdir() if p.is_dir() and p.name[0] != ".")
    assert folders == [GENT, MERELBEKE_MELLE]


@pytest.mark.slow
@pytest.mark.parametrize("asked", ["44088", "Melle"])
def test_report_by_new_code_or_old_name_is_merelbeke_melle(
    asked, today, manifest, oost_vlaanderen_data
):
    out, err = ksz(
        "report",
        asked,
        "--data",
        str(oost_vlaanderen_data),
        "--out",
        str(today),
        "--format",
        "html",
    )
    folder = today / MERELBEKE_MELLE
    assert out.split() == [str(folder / "cells.csv"), str(folder / "report.html")]
    notes = [line for line in err.splitlines() if line.startswith("Note:")]
    if asked == "Melle":
        assert notes == [f"Note: {NOTE}."]
    else:
        assert notes == []
    # the same report as the batch made for "Melle", byte for byte
    files = {f["name"]: f["sha256"] for f in _entry(manifest, MERELBEKE_MELLE)["files"]}
    assert sha256(folder / "report.html") == files["report.html"]
    assert sha256(folder / "cells.csv") == files["cells.csv"]
    assert re.search(r"<title>[^<]*Merelbeke-Melle", html_of(folder))


@pytest.mark.slow
def test_leefloon_2021_of_merelbeke_melle_is_the_sum_of_its_predecessors(today, table):
    totals = municipal_totals(table, "ll", "2021")
    expected = yearly_average(totals, [MERELBEKE, MELLE])
    c = cells(today / MERELBEKE_MELLE)
    count = c[
        (c["indicator"] == "ll")
        & (c["period"] == "2021")
        & (c["geo"] == MERELBEKE_MELLE)
        & (c["kind"] == "count")
        & is_total(c)
    ]
    assert "key_figures" in set(count["table"])
    assert (count["flag"] == "").all()
    assert count["value"].astype(float).tolist() == pytest.approx([expected] * len(count))
    # the rate is recomputed on the summed population of the predecessors, not summed
    rate = c[
        (c["table"] == "key_figures")
        & (c["indicator"] == "ll")
        & (c["period"] == "2021")
        & (c["geo"] == MERELBEKE_MELLE)
        & (c["kind"] == "rate_per_1000")
    ]
    summed = population(2021, MERELBEKE) + population(2021, MELLE)
    assert float(rate["value"].iloc[0]) == pytest.approx(1000 * expected / summed)
    # no predecessor is shown anywhere in the report
    assert not {MELLE, MERELBEKE} & set(c["geo"])


@pytest.mark.slow
def test_the_province_includes_zwijndrecht(today, table):
    """Oost-Vlaanderen's leefloon rate in the report = its 55 municipalities of today, i.e. the
    61 codes of 2019–2024 with Zwijndrecht, on their summed population."""
    olds = {old for new in geography().members("40000") for old in geography().predecessors(new)}
    assert "11056" in olds and len(olds) == 61
    totals = municipal_totals(table, "ll", "2021")
    expected = 1000 * yearly_average(totals, olds) / sum(population(2021, o) for o in olds)
    c = cells(today / MERELBEKE_MELLE)
    rate = c[
        (c["table"] == "key_figures")
        & (c["indicator"] == "ll")
        & (c["period"] == "2021")
        & (c["geo"] == "40000")
        & (c["kind"] == "rate_per_1000")
    ]
    assert float(rate["value"].iloc[0]) == pytest.approx(expected)
    html = html_of(today / MERELBEKE_MELLE)
    assert "Beveren-Kruibeke-Zwijndrecht" in row_headers(figure(html, "map-ll-province"))


@pytest.mark.slow
def test_merelbeke_melle_neighbours_and_province_map(today):
    # expected: the 2019 neighbours of Melle and Merelbeke, renamed with mergers_2025.csv
    before = geography(2019)
    expected = {to_2025(n) for old in (MELLE, MERELBEKE) for n in before.neighbours(old)}
    expected -= {MERELBEKE_MELLE}
    assert GENT in expected
    c = cells(today / MERELBEKE_MELLE)
    compared = set(c.loc[c["table"] == "ll_comparison", "geo"])
    municipalities = {g for g in compared if geography().is_municipality(g)}
    assert municipalities == expected | {MERELBEKE_MELLE}

    html = html_of(today / MERELBEKE_MELLE)
    part = figure(html, "map-ll-province")
    svg = re.search(r"<svg.*?</svg>", part, flags=re.S).group(0)
    # the thick outline's legend entry names the merged municipality, never a predecessor
    labels = svg_texts(svg)
    assert "Merelbeke-Melle" in labels
    assert "Melle" not in labels and "Merelbeke" not in labels
    # the map's data table: today's 55 municipalities of the province
    rows = row_headers(part)
    assert len(rows) == len(geography().members("40000"))
    assert "Merelbeke-Melle" in rows and "Gent" in rows
    assert not {"Melle", "Merelbeke", "De Pinte", "Nazareth", "Zwijndrecht"} & set(rows)


@pytest.mark.slow
def test_gent_lists_the_merged_neighbours_not_the_old_ones(today):
    rows = mergers()
    gone = set(rows["old_nis"]) - set(rows["new_nis"])
    assert {"44012", MELLE, MERELBEKE} <= gone
    expected = {to_2025(n) for n in geography(2019).neighbours(GENT)}
    assert {"44086", "44087", MERELBEKE_MELLE} <= expected  # Nazareth-De Pinte, Lochristi

    c = cells(today / GENT)
    assert not gone & set(c["geo"])
    compared = set(c.loc[c["table"] == "ll_comparison", "geo"])
    assert {g for g in compared if geography().is_municipality(g)} == expected | {GENT}

    html = html_of(today / GENT)
    for name in ("Nazareth-De Pinte", "Merelbeke-Melle"):
        assert names_in(html, name) > 0, name
    for name in ("De Pinte", "Melle", "Merelbeke", "Nazareth", "Lochristi (44034)"):
        assert names_in(html, name) == 0, name
    comparison = figure(html, "cmp-ll")
    assert "Nazareth-De Pinte" in comparison and "Merelbeke-Melle" in comparison


@pytest.mark.slow
def test_the_report_index_and_manifest_say_today_geography(today, manifest):
    text = l10n.fmt_geography(geography(), "nl")
    assert "565 gemeenten van 1 januari 2025" in text
    assert text in html_of(today / MERELBEKE_MELLE)
    assert text in (today / "index.html").read_text(encoding="utf-8")
    assert manifest["publication"]["geography"] == "2025"
    assert manifest["publication"]["municipalities"] == 565


@pytest.mark.slow
def test_audit_of_the_batch_is_clean(today):
    result = CliRunner().invoke(cli, ["audit", str(today)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "audit: OK" in result.stdout


@pytest.mark.slow
def test_geography_2019_renders_melle_itself(melle_2019, table):
    out, err = melle_2019
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [MELLE]
    assert "Note:" not in err
    html = html_of(out / MELLE)
    assert l10n.fmt_geography(geography(2019), "nl") in html
    assert "581 gemeenten van 1 januari 2019" in html
    assert "565 gemeenten" not in html
    c = cells(out / MELLE)
    assert MERELBEKE_MELLE not in set(c["geo"])
    count = c[
        (c["table"] == "key_figures")
        & (c["indicator"] == "ll")
        & (c["period"] == "2021")
        & (c["geo"] == MELLE)
        & (c["kind"] == "count")
    ]
    assert float(count["value"].iloc[0]) == pytest.approx(
        yearly_average(municipal_totals(table, "ll", "2021"), [MELLE])
    )
    compared = set(c.loc[c["table"] == "ll_comparison", "geo"])
    assert MERELBEKE in compared  # on 2019–2024 Merelbeke is Melle's neighbour


def _entry(manifest: dict, nis: str) -> dict:
    return next(r for r in manifest["reports"] if r["nis"] == nis)


def test_a_geography_before_2019_is_refused_in_one_line(oost_vlaanderen_data, capsys):
    """The data are on the 2019 municipalities: the 589 of 1983–2018 cannot be rebuilt from them
    (a merger is not undone), so --geography 2018 is refused before any publication is made."""
    args = ["compare", "--data", str(oost_vlaanderen_data), "--indicator", "pension"]
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--level", "region", "--geography", "2018"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "Error: the geography of before 2019-01-01 (since 1983) cannot be published: the data are "
        "on the municipalities of 2019 and later, and a merger cannot be undone; use --geography "
        "2019 or today's (the default)"
    ]
