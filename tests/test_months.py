"""The monthly barometer (issue 13): months published by default, shown in the reports, answered by
``compare`` and the API (one month or a range), protected together with their yearly averages.

The acceptance input is written here, not by the sample generator: 140,678 leefloon persons in
October 2017 (the barometer's own figure) spread over the 581 municipalities of 2019 by their
population on 1 January 2017.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from attacker import attack
from click.testing import CliRunner
from clirun import run_main

import ksz_reports
from ksz_reports.cli import cli
from ksz_reports.core.config import load_config
from ksz_reports.core.schema import CANONICAL_SCHEMA, DIMENSIONS, TOTAL
from ksz_reports.disclosure.build import plan
from ksz_reports.geo import geography
from ksz_reports.measures.indicators import window_start
from ksz_reports.measures.statistics import avg_monthly_growth_pct

POPULATION = Path(ksz_reports.__file__).parent / "data" / "population.csv"
LEEFLOON_OCTOBER_2017 = 140_678
PODMI = ("rmi", "ll", "gpmi", "rmh", "ell", "spi")


def _spread(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` split over ``weights`` in whole persons (largest remainders): sums to total."""
    exact = total * weights / weights.sum()
    out = np.floor(exact).astype(np.int64)
    out[np.argsort(-(exact - out), kind="stable")[: total - int(out.sum())]] += 1
    return out


@pytest.fixture(scope="module")
def october_2017(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset of one canonical Parquet: the leefloon of October 2017 per municipality."""
    pop = pd.read_csv(POPULATION, dtype={"nis": str})
    pop = pop[(pop["year"] == 2017) & (pop["sex"] == TOTAL) & (pop["age_group"] == TOTAL)]
    codes = list(geography(2019).codes)
    weights = pop.set_index("nis")["population"].reindex(codes).to_numpy(dtype=float)
    assert not np.isnan(weights).any()
    counts = _spread(LEEFLOON_OCTOBER_2017, weights)
    n = len(codes)
    columns = {
        "indicator": ["ll"] * n,
        "period": ["2017-10"] * n,
        "geo": codes,
        **{d: [TOTAL] * n for d in DIMENSIONS},
        "value": counts.tolist(),
        "lower": [None] * n,
        "upper": [None] * n,
        "source": ["podmi_barometer"] * n,
        "vintage": [dt.date(2023, 6, 30)] * n,
    }
    folder = tmp_path_factory.mktemp("october_2017")
    export = folder / "leefloon_2017-10.parquet"
    pq.write_table(pa.Table.from_pydict(columns, schema=CANONICAL_SCHEMA), export)
    data = folder / "data"
    ksz_reports.ingest([export], data)
    return data


def test_acceptance_compare_answers_october_2017(october_2017: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "compare",
            "--data",
            str(october_2017),
            "--indicator",
            "ll",
            "--level",
            "country",
            "--period",
            "2017-10",
        ],
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(pd.io.common.StringIO(result.stdout), dtype={"geo": str})
    assert frame["geo"].tolist() == ["01000"]
    assert ",140678," in result.stdout  # a whole number, never 140678.0
    assert frame["count"].iloc[0] == LEEFLOON_OCTOBER_2017
    assert round(float(frame["rate"].iloc[0]), 1) == 12.4


def test_the_api_answers_a_month_with_whole_counts(october_2017: Path) -> None:
    ks = ksz_reports.open(october_2017)
    country = ks.indicator("ll", period="2017-10", level="country")
    assert country["count"].iloc[0] == LEEFLOON_OCTOBER_2017
    assert ks.published_periods("ll") == ["2017-10"]
    regions = ks.indicator("ll", period="2017-10", level="region")
    published = regions[regions["flag"] == ""]
    assert len(published) == 3
    assert published["count"].sum() == LEEFLOON_OCTOBER_2017
    json = CliRunner().invoke(
        cli,
        ["compare", "--data", str(october_2017), "--indicator", "ll", "--level", "country"]
        + ["--period", "2017-10", "--format", "json"],
    )
    assert '"count": 140678,' in json.stdout


def _with_month_breakdowns(folder: Path, levels: str = "[municipality, region, country]") -> Path:
    """A configuration that publishes the monthly breakdowns of ``levels`` (the shipped one:
    the region and Belgium only)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.yaml").write_text(
        f"publication:\n  month_breakdowns: 12\n  month_breakdown_levels: {levels}\n",
        encoding="utf-8",
    )
    return folder


def test_plan_months_and_the_window_of_their_breakdowns(tmp_path: Path) -> None:
    shipped = load_config().settings.publication
    assert shipped.month_breakdowns == 12  # a year of monthly breakdowns by default
    assert shipped.month_breakdown_levels == ["region", "country"]  # not the municipalities'
    config = load_config(_with_month_breakdowns(tmp_path / "config"))
    months = [f"{y}-{m:02d}" for y in (2020, 2021, 2022) for m in range(1, 13)][:-2]  # to 2022-10
    p = plan({"ll": ["2020", "2021", *months]}, config)["ll"]
    assert p["totals"] == ["2020", "2021"]
    assert p["breakdowns"] == ["2021"]
    assert p["months"] == months
    # the latest 12 kept months begin in 2021-11, a year whose breakdowns are published: its
    # other months are context (unknown to a reader, in the relations, not published)
    assert p["month_breakdowns"] == months[-12:]
    assert p["month_breakdowns"][0] == "2021-11"
    assert p["context_months"] == [f"2021-{m:02d}" for m in range(1, 11)]
    # a window outside every year with published breakdowns needs no context
    p = plan({"ll": ["2020", *months]}, config)["ll"]
    assert p["breakdowns"] == ["2020"]
    assert p["month_breakdowns"] == months[-12:]
    assert p["context_months"] == []
    # the shipped levels: the region has yearly breakdowns too, so 2021 has its context months
    p = plan({"ll": ["2020", "2021", *months]}, load_config())["ll"]
    assert p["context_months"] == [f"2021-{m:02d}" for m in range(1, 11)]
    # no level with breakdowns of both the year and its months: the average bounds no month
    only_belgium = load_config(_with_month_breakdowns(tmp_path / "be", "[country]"))
    assert plan({"ll": ["2020", "2021", *months]}, only_belgium)["ll"]["context_months"] == []


def test_the_measures_compute_the_breakdowns_a_publication_needs_only(tmp_path: Path) -> None:
    from ksz_reports.disclosure.build import _breakdowns_needed

    config = load_config()  # monthly breakdowns of the region and Belgium
    months = [f"{y}-{m:02d}" for y in (2020, 2021, 2022) for m in range(1, 13)][:-2]  # to 2022-10
    p = plan({"ll": ["2020", "2021", *months]}, config)["ll"]
    needed = _breakdowns_needed(p, 12, config.settings.publication)
    # the published ones, the context months of 2021, the year before the published year, the
    # month before the window and the first months of the windows' average monthly growths
    assert list(needed) == sorted(
        {"2020", "2021", *p["month_breakdowns"], *p["context_months"], "2020-11", "2020-12"}
    )
    assert not set(needed) & {"2020-01", "2020-10"}  # never shown, never compared with
    # each at the levels it is shown (or compared) at: a month's never for the municipalities
    assert needed["2021"] == needed["2020"] == ("municipality", "region")
    assert needed["2022-10"] == needed["2020-11"] == ("country", "region")
    # a context month (in the relations of the region's average), the month before 2021-11 and
    # the first month of 2022-10's window
    assert needed["2021-10"] == ("country", "region")


def test_window_start() -> None:
    assert window_start("2022-10", 12) == "2021-10"
    assert window_start("2022-01", 1) == "2021-12"
    assert window_start("2022-03", 14) == "2021-01"


@pytest.fixture(scope="module")
def limburg_months(limburg_data: Path) -> ksz_reports.KszData:
    return ksz_reports.open(limburg_data)


@pytest.fixture(scope="module")
def limburg_month_breakdowns(
    limburg_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> ksz_reports.KszData:
    """The Limburg cut published with the monthly breakdowns of the municipalities too."""
    config = load_config(_with_month_breakdowns(tmp_path_factory.mktemp("mb12") / "config"))
    return ksz_reports.open(limburg_data, config=config)


def test_months_are_published_and_their_breakdowns_on_request(
    limburg_months, limburg_month_breakdowns
) -> None:
    ks = limburg_months
    for ind in PODMI:
        months = [p for p in ks.published_periods(ind) if len(p) == 7]
        assert len(months) >= 36, ind
    latest = ks.latest_period("ll", kind="month")
    # shipped: the latest 12 kept months broken down for the region and Belgium, not further
    for level in ("region", "country"):
        assert set(ks.indicator("ll", period=latest, level=level, breakdown="sex")["sex"]) == {
            "M",
            "F",
        }
    with pytest.raises(ksz_reports.core.errors.NotFoundError, match="month_breakdown_levels"):
        ks.indicator("ll", period=latest, breakdown="sex")
    with pytest.raises(ksz_reports.core.errors.NotFoundError, match="publication.month_breakdowns"):
        ks.indicator("ll", period="2019-10", level="region", breakdown="sex")
    # with the municipalities in publication.month_breakdown_levels, theirs too
    ks = limburg_month_breakdowns
    by_sex = ks.indicator("ll", period=latest, breakdown="sex")
    assert set(by_sex["sex"]) == {"M", "F"}
    months = [p for p in ks.published_periods("ll") if len(p) == 7]
    for period in months[-12:]:
        assert len(ks.indicator("ll", period=period, breakdown="sex")) > 0
    # the month before the window (a context month of the relations) has no breakdown
    with pytest.raises(ksz_reports.core.errors.NotFoundError, match="breakdown"):
        ks.indicator("ll", period=months[-13], breakdown="sex")


def test_average_monthly_growth_uses_published_counts_only(limburg_months) -> None:
    """Every published average monthly growth is the formula of two published counts; none
    where either count is hidden."""
    ks = limburg_months
    window = load_config().settings.statistics.growth_window_months
    months = [p for p in ks.published_periods("ll") if len(p) == 7]
    frame = ks.measures("ll", months)
    frame = frame[(frame[list(DIMENSIONS)].astype(str) == TOTAL).all(axis=1)]
    keyed = frame.set_index(["geo", "period"])
    checked = hidden = 0
    for (geo, period), row in keyed.iterrows():
        first = window_start(period, window)
        growth = row["avg_monthly_growth_pct"]
        if (geo, first) not in keyed.index:
            assert pd.isna(growth)
            continue
        start = keyed.loc[(geo, first)]
        if row["flag"] or start["flag"]:
            assert pd.isna(growth), (geo, period)
            hidden += 1
            continue
        expected = avg_monthly_growth_pct(
            np.array([row["count"]]), np.array([start["count"]]), window
        )[0]
        assert growth == pytest.approx(expected, nan_ok=True)
        checked += 1
    assert checked > 100 and hidden > 0


def test_a_range_is_a_tidy_series(limburg_months) -> None:
    ks = limburg_months
    series = ks.indicator("ll", period="2019-01:2019-12", level="province")
    assert series["period"].tolist() == [f"2019-{m:02d}" for m in range(1, 13)]
    assert (series["geo"] == "70000").all()
    assert series["count"].notna().all()
    years = ks.indicator("ll", period="2018:2019", level="province")
    assert years["period"].tolist() == ["2018", "2019"]


def test_range_errors_and_notes(limburg_data: Path, capsys) -> None:
    base = ["compare", "--data", str(limburg_data), "--indicator", "ll", "--level", "province"]
    code, _out, err = run_main([*base, "--period", "2019:2019-12"], capsys)
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "two periods of one kind" in err
    code, _out, err = run_main([*base, "--period", "2019-13"], capsys)
    assert code == 2 and "not a canonical period" in err
    ks = ksz_reports.open(limburg_data)
    cut = ks.cutoffs.cut
    cut_months = sorted(cut.loc[cut["indicator"] == "ll", "period"].astype(str))
    cut_months = [p for p in cut_months if len(p) == 7]
    assert cut_months, "the sample cuts its latest leefloon months"
    first = ks.latest_period("ll", kind="month")
    code, out, err = run_main([*base, "--period", f"{first}:{cut_months[-1]}"], capsys)
    assert code == 0, err
    assert out.count("\n") == 2  # header + the one published month
    assert "Note: not published, left out of the range" in err
    assert cut_months[-1] in err


@pytest.fixture(scope="module")
def maaseik_batch(limburg_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Reports (HTML) of the municipalities of arrondissement Maaseik, from the Limburg cut."""
    from ksz_reports import run_batch

    scope = list(geography().members("72000"))
    out = tmp_path_factory.mktemp("maaseik") / "out"
    result = run_batch(
        limburg_data, out, scope=scope, formats="html", jobs=2, progress=None, quiet=True
    )
    assert result.exit_code == 0, result
    return out


def test_reports_show_months_and_average_monthly_growth(maaseik_batch: Path) -> None:
    nis = sorted(p.name for p in maaseik_batch.iterdir() if p.name.isdigit())[0]
    cells = pd.read_csv(maaseik_batch / nis / "cells.csv", dtype=str, keep_default_na=False)
    html = (maaseik_batch / nis / "report.html").read_text(encoding="utf-8")
    for ind in PODMI:
        monthly = cells[cells["table"] == f"{ind}_months"]
        assert monthly["period"].nunique() == 36, ind
        assert set(monthly["geo"]) == {nis, "02000", "01000"}
        growth = cells[
            (cells["table"] == "key_figures")
            & (cells["indicator"] == ind)
            & (cells["kind"] == "avg_monthly_growth_pct")
        ]
        assert len(growth) == 1 and growth["period"].str.len().eq(7).all(), ind
        assert f'id="months-{ind}"' in html or f"months-{ind}" in html
    assert "Gemiddelde maandelijkse groei over de laatste 12 maanden" in html
    assert "De gemiddelde maandelijkse groei van een maand is" in html


def test_a_hidden_month_is_a_gap_with_its_symbol(maaseik_batch: Path) -> None:
    """A month that is not published is no point on the line: its value is empty in cells.csv,
    the chart's table shows its symbol."""
    found = False
    for folder in sorted(p for p in maaseik_batch.iterdir() if p.name.isdigit()):
        cells = pd.read_csv(folder / "cells.csv", dtype=str, keep_default_na=False)
        monthly = cells[cells["table"].str.endswith("_months") & (cells["geo"] == folder.name)]
        hidden = monthly[monthly["flag"].isin(["suppressed", "secondary"])]
        if hidden.empty:
            continue
        assert (hidden["value"] == "").all()
        found = True
        html = (folder / "report.html").read_text(encoding="utf-8")
        assert ">x<" in html
        break
    assert found, "no hidden month in the Maaseik reports"


def test_audit_and_an_outside_attacker_recover_no_month(maaseik_batch: Path) -> None:
    """The product's audit and an attacker that knows only the published cells — with
    12 × yearly average = Σ months among its relations — recover nothing."""
    from ksz_reports.disclosure.audit import audit_output

    report = audit_output(maaseik_batch, load_config())
    assert report.ok, report.summary_lines()
    outside = attack(maaseik_batch, 5)
    frame = outside.frame
    assert not frame["recovered"].any(), outside.text()
    assert not frame["narrow"].any(), outside.text()
    hidden_months = frame[frame["period"].astype(str).str.len() == 7]
    assert len(hidden_months) > 0


@pytest.fixture(scope="module")
def limburg_province_month_breakdowns(
    limburg_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> ksz_reports.KszData:
    """The Limburg cut with the monthly breakdowns of the province only — as the shipped ones
    of the region and Belgium (whose aggregates the cut leaves incomplete): summed from the
    municipalities' months, protected with them, no municipality's breakdown published."""
    folder = _with_month_breakdowns(tmp_path_factory.mktemp("mbp") / "config", "[province]")
    return ksz_reports.open(limburg_data, config=load_config(folder))


@pytest.mark.parametrize(
    "publication", ["limburg_month_breakdowns", "limburg_province_month_breakdowns"]
)
def test_an_attacker_of_everything_the_api_publishes_recovers_no_month(
    publication: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Every leefloon count the API gives with monthly breakdowns (months, their breakdowns,
    the yearly averages, every level) as one cells.csv for the outside attacker: the months of
    the breakdown year outside the window are not published, so 12 × average = Σ months is no
    relation it can use, and nothing sensitive is pinned down."""
    from ksz_reports.core.cells import CELLS_COLUMNS

    pub = (
        request.getfixturevalue(publication).published().frame(filters=[("indicator", "==", "ll")])
    )
    assert pub["period"].str.len().eq(7).any()
    month_breakdowns = pub[(pub["period"].str.len() == 7) & (pub["sex"] != TOTAL)]
    levels = set(month_breakdowns.loc[month_breakdowns["count"].notna(), "level"])
    if publication == "limburg_province_month_breakdowns":
        assert levels == {"province"}
    else:
        assert "municipality" in levels  # the region's and Belgium's: incomplete in the cut
    cells = pub.assign(table="api", kind="count", value=pub["count"])
    cells["flag"] = cells["flag"].fillna("").astype(str)
    folder = tmp_path / "api" / "all"
    folder.mkdir(parents=True)
    cells[list(CELLS_COLUMNS)].to_csv(folder / "cells.csv", index=False)
    frame = attack(folder.parent, 5).frame
    # the small counts: suppressed ones and a municipality's masked at the source. An aggregate
    # is masked when one of its parts is; with its categories published and those of its
    # municipalities not (the province's monthly breakdowns), it is their total minus the others
    # — no small count, and none of its masked parts comes with it
    municipal = frame["geo"].isin(set(pub.loc[pub["level"] == "municipality", "geo"]))
    masked = frame["flag"].eq("not_available")
    sensitive = frame["flag"].eq("suppressed") | (masked & municipal)
    assert sensitive.sum() > 100 and (masked & municipal).any()
    assert not frame.loc[sensitive, "recovered"].any()
    assert not frame.loc[sensitive, "narrow"].any()
    derived = masked & ~municipal & (frame["recovered"] | frame["narrow"])
    assert (frame.loc[derived, "lo"] >= 5).all()
    assert (frame["period"].astype(str).str.len() == 7).any()


def test_the_audit_uses_the_time_relations_and_the_counts_rates_give_away(tmp_path: Path) -> None:
    """``ksz-reports audit``: a hidden month is recovered from the yearly average and the other
    11 months (12 × average = Σ months), also when the months are shown as rates only — a
    rate's count is public through the population — and its own hidden rate is attacked."""
    from ksz_reports.core.cells import CELLS_COLUMNS
    from ksz_reports.disclosure.audit import audit_output

    def row(table, period, kind, value, flag=""):
        return {
            "table": table,
            "indicator": "ll",
            "period": period,
            "geo": "73022",
            **dict.fromkeys(DIMENSIONS, TOTAL),
            "kind": kind,
            "value": value,
            "flag": flag,
        }

    months = [f"2021-{m:02d}" for m in range(1, 13)]
    counts = [10, 12, 3, 11, 10, 9, 8, 10, 12, 11, 10, 14]
    rows = [row("key_figures", "2021", "count", sum(counts) / 12)]
    for period, n in zip(months, counts, strict=True):
        hidden = period == "2021-03"
        rows.append(
            row("ll_months", period, "count", "" if hidden else n, "suppressed" if hidden else "")
        )
    folder = tmp_path / "out" / "73022"
    folder.mkdir(parents=True)
    pd.DataFrame(rows)[list(CELLS_COLUMNS)].to_csv(folder / "cells.csv", index=False)
    report = audit_output(tmp_path / "out", load_config())
    assert not report.ok
    found = report.problems  # pinned to 3 (within the relation's tolerance)
    assert found["period"].tolist() == ["2021-03"]
    assert found["lo"].iloc[0] == pytest.approx(3, abs=1e-5)
    assert found["hi"].iloc[0] == pytest.approx(3, abs=1e-5)
    # the same months shown as rates only: the hidden rate's count is attacked, and without
    # the publication the shown rates give no count, so nothing is pinned down
    rates = [
        {**r, "kind": "rate_per_1000", "value": "" if r["flag"] else 1.0}
        if r["table"] == "ll_months"
        else r
        for r in rows
    ]
    pd.DataFrame(rates)[list(CELLS_COLUMNS)].to_csv(folder / "cells.csv", index=False)
    report = audit_output(tmp_path / "out", load_config())
    assert report.ok, report.summary_lines()
    assert report.attacked["primary"]["attacked"] == 1
