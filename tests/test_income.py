"""Statbel income (TF_SOC_ADI_MUNTY, SPEC §11): the shipped table, the xlsx and CSV readers, the
``income import`` command, and the report's scatter plot of the leefloon rate against income."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from ksz_reports.core.errors import InputError
from ksz_reports.geo import geography
from ksz_reports.geo import income as inc

XLSX = Path("/work/shared/data/statbel/TF_SOC_ADI_MUNTY.xlsx")
HERSTAPPE = "73028"
ELSENE = "21009"  # Ixelles: MS_MEDIAN empty (not published) in 2015–2019

needs_xlsx = pytest.mark.skipif(not XLSX.is_file(), reason="Statbel's xlsx is not available")


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty user data folder; the income cache is reset before and after."""
    folder = tmp_path / "home"
    monkeypatch.setenv("KSZ_REPORTS_HOME", str(folder))
    inc.reload_income()
    yield folder
    inc.reload_income()


@pytest.fixture(scope="module")
def from_xlsx() -> pd.DataFrame:
    return inc.read_income(XLSX)


def _xlsx_as_csv(path: Path) -> Path:
    """The xlsx written the way Statbel's CSV variant is: comma-separated, Windows-1252, every
    value as text (year and code as in the xlsx, numbers with a decimal point)."""
    book = openpyxl.load_workbook(XLSX, read_only=True)
    with open(path, "w", encoding="cp1252", newline="") as fh:
        writer = csv.writer(fh, delimiter=",", lineterminator="\r\n")
        for row in book.worksheets[0].iter_rows(values_only=True):
            if all(v is None for v in row):
                break
            writer.writerow(["" if v is None else v for v in row])
    book.close()
    return path


@needs_xlsx
def test_shipped_table_is_the_xlsx(from_xlsx, home):
    shipped = inc.income_table()
    pd.testing.assert_frame_equal(shipped, from_xlsx, check_dtype=False)
    assert inc.income_years() == list(range(2015, 2023))
    assert len(from_xlsx) == 8 * 580 and from_xlsx["nis"].str.len().eq(5).all()


@needs_xlsx
def test_csv_cp1252_gives_the_same_table(from_xlsx, tmp_path):
    path = _xlsx_as_csv(tmp_path / "TF_SOC_ADI_MUNTY.csv")
    assert "é".encode("cp1252") in path.read_bytes()  # really Windows-1252 (Région flamande)
    pd.testing.assert_frame_equal(inc.read_income(path), from_xlsx)


def test_herstappe_is_absent_and_empty_values_are_missing_not_zero(home):
    table = inc.income_table()
    assert HERSTAPPE not in set(table["nis"])
    elsene = table[(table["nis"] == ELSENE) & (table["year"] == 2015)].iloc[0]
    assert math.isnan(elsene["median"]) and math.isnan(elsene["arop"])
    assert (table["median"].dropna() > 0).all()
    frame = inc.income(2022, at="2019")
    herstappe = frame[frame["nis"] == HERSTAPPE].iloc[0]
    assert herstappe["note"] == "absent" and math.isnan(herstappe["median"])
    old = inc.income(2016, at="2019").set_index("nis")
    assert old.at[ELSENE, "note"] == "not_published" and math.isnan(old.at[ELSENE, "median"])


def test_merged_municipalities_have_no_income_and_medians_are_never_summed(home):
    today = geography()
    frame = inc.income(2022, at=today).set_index("nis")
    assert set(frame.index) == set(today.codes)  # municipalities only: no aggregate has income
    shipped = inc.income_table()
    by_code = shipped[shipped["year"] == 2022].set_index("nis")["median"]
    for code in today.codes:
        preds = today.predecessors(code)
        if len(preds) > 1:
            assert frame.at[code, "note"] == "merged" and math.isnan(frame.at[code, "median"])
        elif preds[0] in by_code.index and not math.isnan(by_code[preds[0]]):
            assert frame.at[code, "median"] == by_code[preds[0]]
    assert (frame["note"] == "merged").sum() == 14
    assert inc.income_year_for(2024) == 2022 and inc.income_year_for(2014) is None


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "KSZ_REPORTS_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "ksz_reports.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_cli_income_import_end_to_end(home, tmp_path):
    shipped = inc.income_table()
    newer = shipped[shipped["year"] == 2022].copy()
    newer["year"] = 2023
    newer["median"] = newer["median"] + 1000
    path = tmp_path / "TF_SOC_ADI_MUNTY_2023.csv"
    out = newer.rename(
        columns={
            "year": "CD_YEAR",
            "nis": "CD_MUNTY_REFNIS",
            "median": "MS_MEDIAN",
            "q1": "MS_Q1",
            "q3": "MS_Q3",
            "arop": "MS_ADMIN_AROP",
        }
    )
    out["TX_MUNTY_DESCR_FR"] = [geography(2019).name(c, "fr") for c in newer["nis"]]
    out.to_csv(path, index=False, encoding="cp1252")
    result = _cli("income", "import", str(path), home=home)
    assert result.returncode == 0, result.stderr
    assert "Income 2023: 580 municipalities" in result.stdout
    assert (home / "income" / "income.parquet").is_file()
    inc.reload_income()
    assert inc.income_years() == list(range(2015, 2024))
    got = inc.income(2023).set_index("nis")
    assert got.at["11001", "median"] == 30562.0 + 1000
    assert inc.income_year_for(2024) == 2023


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("CD_YEAR,CD_MUNTY_REFNIS,MS_Q1\n2022,11001,1\n", "required column missing: MS_MEDIAN"),
        ("CD_YEAR,CD_MUNTY_REFNIS,MS_MEDIAN\n2022,99999,1\n", "unknown municipality code"),
        ("CD_YEAR,CD_MUNTY_REFNIS,MS_MEDIAN\n2022,11001,abc\n", "is not a number"),
    ],
)
def test_cli_income_import_bad_file_is_one_line_exit_2(home, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="cp1252")
    result = _cli("income", "import", str(path), home=home)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], lines
    assert "bad.csv" in lines[0]
    assert not (home / "income").exists()


def test_bad_file_type_and_empty_file(tmp_path):
    with pytest.raises(InputError, match="unexpected file type"):
        (tmp_path / "x.pdf").write_bytes(b"%PDF")
        inc.read_income(tmp_path / "x.pdf")
    (tmp_path / "e.csv").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        inc.read_income(tmp_path / "e.csv")


def test_pearson_r():
    x = np.array([1.0, 2.0, 3.0, np.nan, 5.0])
    assert inc.pearson_r(x, -2 * x) == pytest.approx(-1.0)
    assert math.isnan(inc.pearson_r(np.array([1.0, 2.0]), np.array([1.0, 2.0])))


# --------------------------------------------------------------------------------------------
# the report


@pytest.fixture(scope="module")
def builder(limburg_data, tmp_path_factory):
    from ksz_reports.core.config import load_config
    from ksz_reports.disclosure.publication import prepare_publication
    from ksz_reports.report.builder import ReportBuilder

    out = tmp_path_factory.mktemp("income_reports")
    info = prepare_publication(limburg_data, out, geography="2019")
    return ReportBuilder(info, load_config())


@pytest.mark.slow
def test_scatter_x_values_are_incomes(builder):
    model = builder.model("71022")  # Hasselt, 2019–2024 geography
    assert model.scatter_info["x"] == "income"
    ll_year = int(model.scatter["period"].iloc[0][:4])
    year = model.scatter_info["income_year"]
    assert year == max(y for y in inc.income_years() if y <= ll_year)
    cells = model.cells()
    xs = cells[(cells["table"] == "scatter") & (cells["kind"] == "income_eur")]
    assert set(xs["indicator"]) == {"income"} and set(xs["period"]) == {str(year)}
    expected = inc.income_on(geography(2019), year).set_index("nis")["median"]
    got = xs.set_index("geo")["value"]
    assert set(got.index) == set(geography(2019).members("70000"))
    pd.testing.assert_series_equal(
        got.sort_index(), expected.reindex(got.index).sort_index(), check_names=False
    )
    # never suppressed: only a missing income is flagged, and then as unknown
    assert set(xs.loc[xs["value"].isna(), "flag"]) <= {"unknown"}
    assert set(xs.loc[xs["value"].notna(), "flag"]) == {""}
    assert xs.loc[xs["geo"] == HERSTAPPE, "flag"].tolist() == ["unknown"]
    r = cells[(cells["table"] == "scatter") & (cells["kind"] == "correlation")]
    assert len(r) == 1 and -1 <= float(r["value"].iloc[0]) <= 1
    # the chart is drawn from these cells: income on x
    chart, text, source = builder._renderer("nl")._scatter(model, _cells_of(model))
    assert "TF_SOC_ADI_MUNTY" in source and "Pearson" in text[0]
    assert "inkomen" in chart.title and str(year) in chart.title


def _cells_of(model):
    from ksz_reports.report.write import Cells

    return Cells(model.cells())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("nl", "Statbel publiceert geen mediaan inkomen van"),
        ("fr", "Statbel ne publie pas de revenu médian de"),
        ("en", "Statbel publishes no median income of"),
    ],
)
def test_report_sentence_for_herstappe(builder, tmp_path, lang, words):
    builder.render(HERSTAPPE, tmp_path, formats=("html",), lang=lang)
    html = (tmp_path / HERSTAPPE / "report.html").read_text(encoding="utf-8")
    assert words in html and "Herstappe" in html
    assert "r = " in html  # the correlation sentence
    cells = pd.read_csv(tmp_path / HERSTAPPE / "cells.csv", dtype=str, keep_default_na=False)
    mine = cells[(cells["kind"] == "income_eur") & (cells["geo"] == HERSTAPPE)]
    assert mine[["value", "flag"]].values.tolist() == [["", "unknown"]]


@pytest.mark.slow
def test_scatter_falls_back_without_income(builder, monkeypatch):
    from ksz_reports.report import model as model_module

    fresh = type(builder)(builder.info, builder.config)
    monkeypatch.setattr(model_module, "income_year_for", lambda year: None)
    model = fresh.model("71022")
    assert model.scatter_info["x"] == "increased_reimbursement" and model.context is None
    assert set(model.scatter["indicator"]) == {"ll", "increased_reimbursement"}
