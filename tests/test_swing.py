"""The Swing layout of Provincies in Cijfers (issue 14, docs/dialects.md §6, SPEC §10).

Every input is written here by hand, small: one header row ``period, geolevel, geoitem`` (any
order) and one column per indicator code; the missing codes ``-99997`` (censored), ``-99999``
(unknown), ``-99998`` (not applicable), ``-99996`` (empty); geolevels ``gemeente2018``,
``gemeente2024``, ``gemeente``; aggregate rows (``provincie``, ``gewest`` with ``2000``); the
year label of a stock by the following 1 January; absent rows as zero or not reported.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from ksz_reports import read_export
from ksz_reports.cli import main
from ksz_reports.core.config import load_config
from ksz_reports.core.errors import InputError
from ksz_reports.geo import geography, successor_map

VINTAGE = "2024-03-01"  # in the file name: the extraction date of the hand-made uploads


def flemish(geo_id: int | None) -> list[str]:
    g = geography(geo_id)
    return [c for c in g.codes if g.parent["region"][c] == "02000"]


def count_of(i: int) -> int:
    """A plausible count for the i-th municipality (never a small one: nothing is suppressed)."""
    return 20 + (i * 7) % 31


def write_csv(path: Path, header: list[str], rows: list[list], sep: str = ",") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        rc = 0
    except SystemExit as exc:
        rc = int(exc.code or 0)
    out = capsys.readouterr()
    return rc, out.out, out.err


def compare(capsys: pytest.CaptureFixture, data: Path, level: str, *extra: str) -> pd.DataFrame:
    rc, out, err = run(
        capsys, *extra, "compare", "--data", str(data), "--indicator", "pension", "--level", level
    )
    assert rc == 0, err
    return pd.read_csv(io.StringIO(out), dtype={"geo": str})


def pension_upload(folder: Path, cells: dict[str, object]) -> tuple[Path, dict[str, object]]:
    """Pension counts of every Flemish municipality of 2019–2024 (geolevel gemeente2024), period
    2023 = the stock of 31/12/2022; ``cells`` overrides some municipalities' values."""
    values: dict[str, object] = {c: count_of(i) for i, c in enumerate(flemish(2019))}
    values.update(cells)
    rows = [[2023, "gemeente2024", code, v] for code, v in values.items()]
    path = write_csv(
        folder / f"pinc_pensioen_{VINTAGE}.csv", ["period", "geolevel", "geoitem", "pension"], rows
    )
    return path, values


def not_available(table: pd.DataFrame, geo: str) -> bool:
    """No number for ``geo``, never 0: a row without a count (flagged why), or no row at all (no
    municipality of the area is in the data)."""
    if geo not in table.index:
        return True
    return bool(pd.isna(table.at[geo, "count"]) and not pd.isna(table.at[geo, "flag"]))


def ingest(capsys: pytest.CaptureFixture, files: list[Path], out: Path, *extra: str) -> None:
    rc, _out, err = run(capsys, *extra, "ingest", *map(str, files), "--out", str(out))
    assert rc == 0, err


# ------------------------------------------------------------------------------------------
# acceptance


def unchanged_flemish() -> list[str]:
    """Flemish codes of 2019–2024 that are still municipalities today (not merged in 2025)."""
    today = set(geography().codes)
    return [c for c in flemish(2019) if c in today]


def test_acceptance_absent_codes_do_not_break_the_flemish_total(tmp_path, capsys):
    a, b = unchanged_flemish()[3], unchanged_flemish()[40]
    path, values = pension_upload(tmp_path, {a: -99996, b: -99998})
    ingest(capsys, [path], tmp_path / "data")
    region = compare(capsys, tmp_path / "data", "region").set_index("geo")
    expected = sum(v for v in values.values() if isinstance(v, int) and v >= 0)
    assert region.at["02000", "count"] == expected
    assert pd.isna(region.at["02000", "flag"])
    # Wallonia and Brussels are absent from the file: not available, never 0
    for other in ("03000", "04000"):
        assert not_available(region, other)


def test_acceptance_a_censored_cell_makes_its_parents_not_available(tmp_path, capsys):
    g = geography()
    masked = unchanged_flemish()[3]
    path, _values = pension_upload(tmp_path, {masked: -99997})
    ingest(capsys, [path], tmp_path / "data")
    parents = g.parents_of(masked)
    for level in ("arrondissement", "province", "region"):
        table = compare(capsys, tmp_path / "data", level).set_index("geo")
        mine = table.loc[parents[level]]
        assert pd.isna(mine["count"]) and mine["flag"] == "not_available", level
        others = table[
            table.index.map(lambda c: g.region_of[c] == "02000") & (table.index != parents[level])
        ]
        assert others["count"].notna().all(), level  # only the areas that contain it
    region = compare(capsys, tmp_path / "data", "region").set_index("geo")
    assert not_available(region, "03000")
    country = compare(capsys, tmp_path / "data", "country").set_index("geo")
    assert not_available(country, "01000")


def test_acceptance_gemeente2018_lands_on_todays_geography_with_the_merger_sums(tmp_path, capsys):
    old = flemish(1983)
    values = {c: count_of(i) for i, c in enumerate(old)}
    rows = [["gemeente2018", 2018, c, v] for c, v in values.items()]
    path = write_csv(
        tmp_path / f"pinc_2018_{VINTAGE}.csv", ["geolevel", "period", "geoitem", "pension"], rows
    )
    ingest(capsys, [path], tmp_path / "data")
    table = compare(capsys, tmp_path / "data", "municipality").set_index("geo")
    onto = successor_map(geography(1983), geography())
    expected: dict[str, int] = {}
    for code, v in values.items():
        expected[onto[code]] = expected.get(onto[code], 0) + v
    assert set(expected) == set(flemish(None))
    merged_2019 = {onto[c] for c in old if onto[c] != c and c.startswith("44")}
    assert merged_2019 and any(len([c for c in old if onto[c] == m]) > 2 for m in onto.values())
    for code, total in expected.items():
        assert table.at[code, "count"] == total, code
    assert (table.loc[list(expected), "period"].astype(str) == "2017").all()  # 2018 = 31/12/2017


# ------------------------------------------------------------------------------------------
# missing codes, vintages, year labels, absent rows


def read(path: Path, config=None) -> pd.DataFrame:
    t = read_export(path, config=config).to_pandas()
    for col in ("geo", "period", "indicator", "sex"):
        t[col] = t[col].astype(str)
    return t.set_index("geo")


def small_upload(
    folder: Path, values: dict[str, object], *, level: str = "gemeente2024", period: int = 2023
) -> Path:
    rows = [[period, level, code, v] for code, v in values.items()]
    return write_csv(
        folder / f"small_{VINTAGE}.csv", ["period", "geolevel", "geoitem", "pension"], rows
    )


def test_each_missing_code(tmp_path):
    codes = flemish(2019)
    t = read(
        small_upload(
            tmp_path,
            {codes[0]: -99997, codes[1]: -99999, codes[2]: -99998, codes[3]: -99996, codes[4]: 12},
        )
    )
    masked, unknown = t.loc[codes[0]], t.loc[codes[1]]
    assert pd.isna(masked["value"]) and masked["lower"] == 0  # censored: masked, protected
    assert pd.isna(unknown["value"]) and pd.isna(unknown["lower"])  # unknown: no range
    assert t.loc[codes[2], "value"] == 0 and t.loc[codes[3], "value"] == 0  # break no sum
    assert t.loc[codes[4], "value"] == 12
    # absent rows are zeros (PinC completes its uploads): every Flemish municipality has a cell
    assert set(t.index) == set(codes) and t.loc[codes[10], "value"] == 0


def test_absent_rows_not_reported_are_unknown_and_a_region_absent_is_not_invented(tmp_path, capsys):
    folder = tmp_path / "cfg" / "dialects"
    folder.mkdir(parents=True)
    (folder / "swing.yaml").write_text("absent_rows: not_reported\n", encoding="utf-8")
    codes = flemish(2019)
    path = small_upload(tmp_path, {codes[0]: 30, codes[1]: 40})
    t = read(path, load_config(tmp_path / "cfg"))
    assert t.loc[codes[0], "value"] == 30
    assert pd.isna(t.loc[codes[5], "value"]) and pd.isna(t.loc[codes[5], "lower"])
    assert not any(geography(2019).parent["region"].get(c) == "03000" for c in t.index)
    ingest(capsys, [path], tmp_path / "data", "--config", str(tmp_path / "cfg"))
    region = compare(capsys, tmp_path / "data", "region", "--config", str(tmp_path / "cfg"))
    assert region["count"].isna().all()  # Flanders not reported whole, the others absent


def test_year_label_following_january_and_reference_year(tmp_path):
    codes = flemish(2019)
    path = small_upload(tmp_path, {codes[0]: 30})
    assert set(read(path)["period"]) == {"2022"}  # shipped: 2023 = 1/1/2023 = 31/12/2022
    folder = tmp_path / "cfg" / "dialects"
    folder.mkdir(parents=True)
    (folder / "swing.yaml").write_text("year_label: reference_year\n", encoding="utf-8")
    assert set(read(path, load_config(tmp_path / "cfg"))["period"]) == {"2023"}


def test_geolevel_gemeente_takes_todays_codes_and_refuses_others(tmp_path):
    today = flemish(None)
    t = read(small_upload(tmp_path, {today[0]: 25, "44088": 31}, level="gemeente"))
    assert t.loc["44088", "value"] == 31 and set(t.index) == set(today)
    with pytest.raises(InputError) as info:
        read(small_upload(tmp_path, {"44088": 31}, level="gemeente2024"))
    assert "not a municipality of geolevel gemeente2024" in str(info.value)
    assert info.value.row == 2 and info.value.column == "geoitem"
    with pytest.raises(InputError, match="geolevel 'statsec' is not read"):
        read(small_upload(tmp_path, {"11001": 3}, level="statsec"))


def test_aggregate_rows_agree_or_one_located_error(tmp_path, capsys):
    g = geography(2019)
    codes = flemish(2019)
    values = {c: count_of(i) for i, c in enumerate(codes)}
    antwerpen = sum(v for c, v in values.items() if g.parent["province"][c] == "10000")
    rows = [[2023, "gemeente2024", c, v] for c, v in values.items()]
    rows += [
        [2023, "provincie", "10000", antwerpen],
        [2023, "gewest", "2000", sum(values.values())],
    ]
    header = ["period", "geolevel", "geoitem", "pension"]
    good = write_csv(tmp_path / f"agg_{VINTAGE}.csv", header, rows)
    t = read(good)
    assert not {"10000", "02000"} & set(t.index)  # checked, then dropped: computed, never read
    rows[-2][3] = antwerpen + 1
    bad = write_csv(tmp_path / f"agg_bad_{VINTAGE}.csv", header, rows)
    rc, out, err = run(capsys, "validate", str(bad))
    assert rc == 2
    lines = [ln for ln in (out + err).splitlines() if ln.strip()]
    assert any(
        f"row {len(rows)}, column 'pension'" in ln
        and f"{antwerpen + 1} in the file" in ln
        and str(antwerpen) in ln
        for ln in lines
    ), out + err
    # an aggregate given alone is not spread over municipalities
    alone = write_csv(
        tmp_path / f"alone_{VINTAGE}.csv", header, [[2023, "gewest", "3000", 5000], *rows[:-2]]
    )
    t = read(alone)
    assert not any(g.parent["region"].get(c) == "03000" for c in t.index)


def located_upload(folder: Path, located: dict[str, object]) -> tuple[Path, dict[str, int]]:
    """Flanders, and Brussels, with unknown-location rows (``99991`` …) in the same period."""
    g = geography(2019)
    codes = [c for c in g.codes if g.parent["region"][c] in ("02000", "04000")]
    values = {c: count_of(i) for i, c in enumerate(codes)}
    rows = [[2023, "gemeente2024", c, v] for c, v in values.items()]
    rows += [[2023, "gemeente2024", c, v] for c, v in located.items()]
    header = ["period", "geolevel", "geoitem", "pension"]
    return write_csv(folder / f"located_{VINTAGE}.csv", header, rows), values


def test_unknown_locations_count_in_their_region_only(tmp_path, capsys):
    path, values = located_upload(tmp_path, {"99991": 37, "99992": 21, "99993": 5, "99999": 6})
    t = read(path)
    assert t.loc["99991", "value"] == 37 and t.loc["99992", "value"] == 21
    assert t.loc["99999", "value"] == 11  # 99993 and 99999: both somewhere in Belgium
    ingest(capsys, [path], tmp_path / "data")
    g = geography()
    flemish_sum = sum(
        v for c, v in values.items() if geography(2019).parent["region"][c] == "02000"
    )
    region = compare(capsys, tmp_path / "data", "region").set_index("geo")
    assert region.at["02000", "count"] == flemish_sum + 37
    assert region.at["04000", "count"] == sum(values.values()) - flemish_sum + 21
    province = compare(capsys, tmp_path / "data", "province").set_index("geo")
    antwerpen = [c for c in g.codes if g.parent["province"][c] == "10000"]
    onto = successor_map(geography(2019), g)
    assert province.at["10000", "count"] == sum(
        v for c, v in values.items() if onto[c] in antwerpen
    )
    munis = compare(capsys, tmp_path / "data", "municipality")
    assert not munis["geo"].isin(["99991", "99992", "99999"]).any()  # never shown on its own


def test_a_small_unknown_location_is_not_given_back_by_its_region(tmp_path, capsys):
    path, _values = located_upload(tmp_path, {"99991": 2})
    ingest(capsys, [path], tmp_path / "data")
    region = compare(capsys, tmp_path / "data", "region").set_index("geo")
    munis = compare(capsys, tmp_path / "data", "municipality")
    g = geography()
    flemish_rows = munis[munis["geo"].map(lambda c: g.region_of[c] == "02000")]
    published = flemish_rows["count"].notna().all() and not pd.isna(region.at["02000", "count"])
    assert not published  # region − Σ municipalities would be the 2 persons


# ------------------------------------------------------------------------------------------
# file shapes


def test_csv_with_a_pandas_index_column_and_keys_in_another_order(tmp_path):
    codes = flemish(2019)
    rows = [[i, c, 2023, "gemeente2024", 21 + i] for i, c in enumerate(codes[:3])]
    path = write_csv(
        tmp_path / f"indexed_{VINTAGE}.csv",
        ["", "geoitem", "period", "geolevel", "pension"],
        rows,
        sep=";",
    )
    t = read(path)
    assert [t.loc[c, "value"] for c in codes[:3]] == [21, 22, 23]


def test_xlsx_with_newline_headers_numeric_period_text_codes_and_empty_tail(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    folder = tmp_path / "cfg" / "dialects"
    folder.mkdir(parents=True)
    (folder / "swing.yaml").write_text(
        "swing:\n  codes:\n    v3122_pens_m: {indicator: pension, sex: M}\n"
        "    v3122_pens_v: {indicator: pension, sex: F}\n    v3122_pens: {indicator: pension}\n",
        encoding="utf-8",
    )
    codes = flemish(2019)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["geo\nitem", "period", "geolevel", "v3122_pens\n_m", "v3122_pens_v", "v3122_pens"])
    for i, c in enumerate(codes[:4]):  # geoitem as text, then as a number
        ws.append([str(c) if i % 2 else int(c), 2023, "gemeente2024", 10 + i, 20 + i, 30 + 2 * i])
    for r in range(6, 40):  # a long tail of empty rows
        ws.cell(row=r, column=1, value=None)
        ws.cell(row=r, column=2, value="")
    path = tmp_path / f"upload_{VINTAGE}.xlsx"
    wb.save(path)
    t = read(path, load_config(tmp_path / "cfg"))
    men = t[t["sex"] == "M"]
    assert men.loc[codes[2], "value"] == 12
    assert t[t["sex"] == "F"].loc[codes[3], "value"] == 23
    assert t[t["sex"] == "total"].loc[codes[1], "value"] == 32
    assert t[t["sex"] == "M"].loc[codes[10], "value"] == 0  # absent rows: zeros


def test_detection_never_confuses_swing_with_the_other_dialects(tmp_path):
    from ksz_reports.ingest.detect import detect_dialect

    codes = flemish(2019)
    assert detect_dialect(small_upload(tmp_path, {codes[0]: 3})).name == "swing"


def test_an_unmapped_indicator_code_is_one_located_line(tmp_path, capsys):
    path = write_csv(
        tmp_path / f"x_{VINTAGE}.csv",
        ["period", "geolevel", "geoitem", "pension", "v9999_x"],
        [[2023, "gemeente2024", "11001", 4, 5]],
    )
    rc, out, _err = run(capsys, "validate", str(path))
    assert rc == 2
    assert "row 1, column 'v9999_x': unknown indicator code 'v9999_x'" in out
    assert "swing.codes" in out


# ------------------------------------------------------------------------------------------
# a user indicator, no code: a --config folder with the indicator and its Swing codes

USER_INDICATOR = """\
rent_allowance:
  source: user
  frequency: year
  stat: stock
  labels: {nl: Ontvangers van de huurpremie, fr: Bénéficiaires de la prime au loyer, en: Rent allowance recipients}
  dimensions: [sex]
  denominators:
    - {id: pop_total, age_class: total, per: 1000}
  lag_months: 3
"""
USER_CODES = """\
swing:
  codes:
    v5101_huurpremie: {indicator: rent_allowance}
    v5101_huurpremie_m: {indicator: rent_allowance, sex: M}
    v5101_huurpremie_v: {indicator: rent_allowance, sex: F}
"""


def user_config(folder: Path, indicators: str = USER_INDICATOR, codes: str = USER_CODES) -> Path:
    (folder / "dialects").mkdir(parents=True)
    (folder / "indicators.yaml").write_text(indicators, encoding="utf-8")
    (folder / "dialects" / "swing.yaml").write_text(codes, encoding="utf-8")
    return folder


def test_a_user_indicator_end_to_end(tmp_path, capsys):
    import ksz_reports

    cfg = str(user_config(tmp_path / "cfg"))
    codes = flemish(2019)
    men = {c: 10 + i % 13 for i, c in enumerate(codes)}
    women = {c: 12 + i % 11 for i, c in enumerate(codes)}
    rows = [[c, "gemeente2024", 2024, men[c], women[c], men[c] + women[c]] for c in codes]
    header = [
        "geoitem",
        "geolevel",
        "period",
        "v5101_huurpremie_m",
        "v5101_huurpremie_v",
        "v5101_huurpremie",
    ]
    path = write_csv(tmp_path / "huurpremie_2024-06-30.csv", header, rows, sep=";")
    rc, out, _err = run(capsys, "--config", cfg, "validate", str(path))
    assert rc == 0 and "indicators rent_allowance" in out
    assert f"dialect swing, {len(codes)} rows, {3 * len(codes)} cells" in out  # the file's rows
    ingest(capsys, [path], tmp_path / "data", "--config", cfg)
    rc, out, err = run(
        capsys,
        "--config",
        cfg,
        "compare",
        "--data",
        str(tmp_path / "data"),
        "--indicator",
        "rent_allowance",
        "--level",
        "province",
    )
    assert rc == 0, err
    table = pd.read_csv(io.StringIO(out), dtype={"geo": str}).set_index("geo")
    g = geography(2019)
    limburg = sum(men[c] + women[c] for c in codes if g.parent["province"][c] == "70000")
    assert table.at["70000", "count"] == limburg and table.at["70000", "period"] == 2023
    assert not_available(table, "50000")  # Hainaut: not in the file
    api = ksz_reports.open(tmp_path / "data", config=load_config(cfg))
    cmp = api.compare(codes[0], "rent_allowance", geography="2019")
    mine = cmp[cmp["role"] == "municipality"].iloc[0]
    assert mine["count"] == men[codes[0]] + women[codes[0]]
    rc, _out, err = run(
        capsys,
        "--config",
        cfg,
        "report",
        codes[0],
        "--data",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "out"),
        "--format",
        "html",
        "--geography",
        "2019",
    )
    assert rc == 0, err
    html = (tmp_path / "out" / codes[0] / "report.html").read_text(encoding="utf-8")
    assert 'class="topic generic" id="topic-rent_allowance"' in html
    assert "Ontvangers van de huurpremie" in html and "Een eigen indicator" in html
    cells = pd.read_csv(tmp_path / "out" / codes[0] / "cells.csv", dtype=str)
    assert "rent_allowance" in set(cells["indicator"])


@pytest.mark.parametrize(
    ("indicators", "codes", "where"),
    [
        (
            USER_INDICATOR.replace("per: 1000", "per: 7"),
            USER_CODES,
            "indicators.yaml, key 'rent_allowance.denominators.0.per'",
        ),
        (
            USER_INDICATOR.replace("source: user", "source: own"),
            USER_CODES,
            "indicators.yaml, key 'rent_allowance.source'",
        ),
        (
            USER_INDICATOR,
            USER_CODES.replace("sex: M", "sex: X"),
            "swing.yaml, key 'swing.codes.v5101_huurpremie_m.sex'",
        ),
        (
            USER_INDICATOR,
            USER_CODES.replace("indicator: rent_allowance, sex: F", "indicator: rent, sex: F"),
            "swing.yaml, key 'swing.codes.v5101_huurpremie_v.indicator'",
        ),
    ],
)
def test_user_configuration_errors_name_file_and_key(tmp_path, capsys, indicators, codes, where):
    cfg = str(user_config(tmp_path / "cfg", indicators, codes))
    header = ["period", "geolevel", "geoitem", "v5101_huurpremie_m", "v5101_huurpremie_v"]
    path = write_csv(tmp_path / "h_2024-06-30.csv", header, [[2024, "gemeente2024", "11001", 3, 4]])
    rc, out, err = run(
        capsys, "--config", cfg, "ingest", str(path), "--out", str(tmp_path / "data")
    )
    assert rc != 0
    lines = [ln for ln in (out + err).splitlines() if ln.strip()]
    assert len(lines) == 1 and where in lines[0], lines


def test_a_user_indicator_without_denominator_is_counts_only(tmp_path, capsys):
    cfg = str(
        user_config(
            tmp_path / "cfg",
            USER_INDICATOR.replace(
                "  denominators:\n    - {id: pop_total, age_class: total, per: 1000}\n",
                "  denominators: []\n",
            ),
        )
    )
    codes = flemish(2019)
    rows = [[2024, "gemeente2024", c, 20 + i % 9] for i, c in enumerate(codes)]
    path = write_csv(
        tmp_path / "h_2024-06-30.csv", ["period", "geolevel", "geoitem", "v5101_huurpremie"], rows
    )
    ingest(capsys, [path], tmp_path / "data", "--config", cfg)
    rc, out, err = run(
        capsys,
        "--config",
        cfg,
        "compare",
        "--data",
        str(tmp_path / "data"),
        "--indicator",
        "rent_allowance",
        "--level",
        "region",
    )
    assert rc == 0, err
    row = pd.read_csv(io.StringIO(out), dtype={"geo": str}).set_index("geo").loc["02000"]
    assert (
        row["count"] == sum(r[3] for r in rows)
        and pd.isna(row["rate"])
        and pd.isna(row["population"])
    )
    rc, _out, err = run(
        capsys,
        "--config",
        cfg,
        "report",
        codes[0],
        "--data",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "out"),
        "--format",
        "html",
        "--geography",
        "2019",
    )
    assert rc == 0, err
    html = (tmp_path / "out" / codes[0] / "report.html").read_text(encoding="utf-8")
    assert 'id="topic-rent_allowance"' in html and "aantal personen (zonder noemer)" in html
    cells = pd.read_csv(tmp_path / "out" / codes[0] / "cells.csv", dtype=str)
    mine = cells[cells["indicator"] == "rent_allowance"]
    assert set(mine["kind"]) == {"count", "growth_pct"} or set(mine["kind"]) == {"count"}


def test_only_an_indicator_of_your_own_may_have_no_denominator(tmp_path, capsys):
    body = "pension:\n  denominators: []\n"
    cfg = str(user_config(tmp_path / "cfg", body, USER_CODES.replace("rent_allowance", "pension")))
    path = write_csv(
        tmp_path / f"p_{VINTAGE}.csv",
        ["period", "geolevel", "geoitem", "pension"],
        [[2023, "gemeente2024", "11001", 30]],
    )
    rc, out, err = run(capsys, "--config", cfg, "validate", str(path))
    assert rc == 2
    assert "indicators.yaml, key 'pension'" in out + err and "source: user" in out + err


def test_a_region_row_is_checked_with_its_unknown_location(tmp_path):
    codes = flemish(2019)
    values = {c: count_of(i) for i, c in enumerate(codes)}
    rows = [[2023, "gemeente2024", c, v] for c, v in values.items()] + [
        [2023, "gemeente2024", "99991", 8]
    ]
    header = ["period", "geolevel", "geoitem", "pension"]
    total = sum(values.values()) + 8
    read(
        write_csv(tmp_path / f"ok_{VINTAGE}.csv", header, [*rows, [2023, "gewest", "2000", total]])
    )
    with pytest.raises(InputError) as info:
        read(
            write_csv(
                tmp_path / f"bad_{VINTAGE}.csv",
                header,
                [*rows, [2023, "gewest", "2000", total - 8]],
            )
        )
    assert info.value.code == "aggregate-mismatch" and f"sum to {total}" in str(info.value)


def test_mergers_are_summed_before_suppression(tmp_path, capsys):
    """Predecessors of 1983–2018 each below the threshold: their sum on today's municipality is
    published (summed first, then protected), and no predecessor is shown on its own."""
    old = flemish(1983)
    onto = successor_map(geography(1983), geography())
    target = onto["44011"]  # Deinze's successor today
    parts = [c for c in old if onto[c] == target]
    assert len(parts) >= 2
    values = {c: count_of(i) for i, c in enumerate(old)}
    values.update({c: 2 + k % 2 for k, c in enumerate(parts)})  # 2 or 3 persons each
    rows = [[2018, "gemeente2018", c, v] for c, v in values.items()]
    path = write_csv(
        tmp_path / f"small_{VINTAGE}.csv", ["period", "geolevel", "geoitem", "pension"], rows
    )
    ingest(capsys, [path], tmp_path / "data")
    table = compare(capsys, tmp_path / "data", "municipality").set_index("geo")
    assert table.at[target, "count"] == sum(values[c] for c in parts) >= 5
    assert pd.isna(table.at[target, "flag"])
    assert not set(parts) - {target} & set(table.index)
