"""Sample exports (ksz_reports.sample.generate): formats per docs/dialects.md, determinism, additivity, levels.

The default sample is generated once per module; every check reads the files with pandas or
openpyxl directly (not through the reader), so it tests what is on disk.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ksz_reports.core.errors import UsageError
from ksz_reports.core.resources import data_path
from ksz_reports.core.text import normalize
from ksz_reports.sample import (
    DIALECTS,
    KSZ_YEARS,
    SampleSummary,
    generate_sample,
    plan_ksz_tables,
    sample_file_names,
)

LONG = "ksz_dwh_long_2023-03-01.csv"
WIDE = "ksz_dwh_wide_2023-03-01.csv"
PODMI_1 = "podmi_monthly_2023-01-15.csv"
PODMI_2 = "podmi_monthly_2023-04-15.csv"
BAROMETER = "podmi_barometer_2023-03-15.xlsx"

LONG_HEADER = (
    "Indicator;Referentiedatum;NIS-code;Gemeente;Geslacht;Leeftijdsklasse;"
    "Positie in het huishouden;Herkomst;Nationaliteit;Aantal"
)
WIDE_HEADER = (
    "Code INS,Commune,Indicateur,Sexe,Classe d'âge,Position socio-économique,"
    "2017,2018,2019,2020,2021"
)
PODMI_HEADER = "Maand;NIS;OCMW;Maatregel;Categorie;Geslacht;Leeftijdsklasse;Nationaliteit;Aantal"
LONG_DIMS = [
    "Geslacht",
    "Leeftijdsklasse",
    "Positie in het huishouden",
    "Herkomst",
    "Nationaliteit",
]
PODMI_DIMS = ["Categorie", "Geslacht", "Leeftijdsklasse", "Nationaliteit"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleSummary]:
    out = tmp_path_factory.mktemp("sample")
    return out, generate_sample(out, seed=1)


@pytest.fixture(scope="module")
def out(sample: tuple[Path, SampleSummary]) -> Path:
    return sample[0]


@pytest.fixture(scope="module")
def municipalities() -> pd.DataFrame:
    return pd.read_csv(data_path("municipalities.csv"), dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def population_2017() -> pd.Series:
    pop = pd.read_csv(data_path("population.csv"), dtype={"nis": str})
    sel = pop[(pop["year"] == 2017) & (pop["sex"] == "total") & (pop["age_group"] == "total")]
    return sel.set_index("nis")["population"]


@pytest.fixture(scope="module")
def long(out: Path) -> pd.DataFrame:
    df = pd.read_csv(
        out / LONG, sep=";", encoding="cp1252", dtype=str, keep_default_na=False, engine="pyarrow"
    )
    df["value"] = _counts(df["Aantal"], r"\.")
    bits = np.zeros(len(df), dtype=np.int64)
    for i, col in enumerate(LONG_DIMS):
        bits |= (df[col] != "Totaal").to_numpy().astype(np.int64) << i
    df["table"] = bits
    return df


def _podmi(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, engine="pyarrow")
    df["value"] = _counts(df["Aantal"])
    return df


@pytest.fixture(scope="module")
def podmi_1(out: Path) -> pd.DataFrame:
    return _podmi(out / PODMI_1)


@pytest.fixture(scope="module")
def podmi_2(out: Path) -> pd.DataFrame:
    return _podmi(out / PODMI_2)


@pytest.fixture(scope="module")
def wide(out: Path) -> pd.DataFrame:
    df = pd.read_csv(out / WIDE, sep=",", dtype=str, keep_default_na=False, engine="pyarrow")
    for year in KSZ_YEARS:
        df[f"v{year}"] = _counts(df[str(year)], "[ \u00a0\u202f]", zero="-")
    return df


def _counts(text: pd.Series, separators: str | None = None, zero: str | None = None) -> pd.Series:
    """Counts as float (NaN = masked token) from their text, without thousands separators."""
    arr = pa.array(text)
    if separators:
        arr = pc.replace_substring_regex(arr, separators, "")
    if zero:
        arr = pc.if_else(pc.equal(arr, zero), "0", arr)
    arr = pc.if_else(pc.match_substring_regex(arr, r"^\d+$"), arr, pa.scalar(None, arr.type))
    return pd.Series(pc.cast(arr, pa.int64()).to_numpy(zero_copy_only=False), index=text.index)


def _with_nis(df: pd.DataFrame, municipalities: pd.DataFrame) -> pd.DataFrame:
    """POD MI rows with the NIS resolved where only the OCMW name is given."""
    by_name = {
        normalize(n): nis
        for nis, n in zip(municipalities["nis"], municipalities["name_nl"], strict=True)
    }
    df = df.copy()
    empty = df["NIS"] == ""
    df.loc[empty, "NIS"] = df.loc[empty, "OCMW"].map(lambda n: by_name[normalize(n)])
    return df


def _total_rows(df: pd.DataFrame, dims: list[str]) -> pd.Series:
    return (df[dims] == "Totaal").all(axis=1)


# --------------------------------------------------------------------------------------------


def test_files_and_summary(sample: tuple[Path, SampleSummary]) -> None:
    out, summary = sample
    names = sorted(p.name for p in out.iterdir())
    expected = sorted(n for files in sample_file_names().values() for n in files)
    assert names == expected == sorted([LONG, WIDE, PODMI_1, PODMI_2, BAROMETER])
    for dialect in DIALECTS:
        for name in sample_file_names()[dialect]:
            prefix = dialect.removesuffix("_xlsx")
            assert re.fullmatch(rf"{prefix}_\d{{4}}-\d{{2}}-\d{{2}}\.(csv|xlsx)", name)
    assert [f.name for f in summary.files] == [LONG, WIDE, PODMI_1, PODMI_2, BAROMETER]
    for f in summary.files:
        assert f.bytes == (out / f.name).stat().st_size and f.rows > 0
    text = str(summary)
    assert LONG in text and "POD MI LL monthly average Belgium 2017" in text
    assert summary.total_cells > summary.total_rows


def test_long_format(out: Path) -> None:
    raw = (out / LONG).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # "financiële" is one cp1252 byte
    text = raw.decode("cp1252")
    assert text.split("\r\n", 1)[0] == LONG_HEADER
    assert raw.count(b"\n") == raw.count(b"\r\n") and raw.endswith(b"\r\n")
    assert "Personen met leefloon of financiële hulp;31/12/2021;" in text
    assert ";25031;Genepiën;" in text and ";52055;Pont-à-Celles;" in text
    assert ";'s Gravenbrakel;" in text  # apostrophes need no quoting with ';'
    assert re.search(r";\d{1,3}\.\d{3}\r\n", text)  # 1.234
    assert "\r\n;" not in text


def test_wide_format(out: Path) -> None:
    raw = (out / WIDE).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    lines = raw.decode("utf-8-sig").split("\n")
    assert lines[0] == ",".join(f'"{h}"' for h in WIDE_HEADER.split(","))
    assert lines[-1] == ""
    assert all(re.fullmatch(r'"[^"]*"(,"[^"]*")*', line) for line in lines[1:2000])
    body = "\n".join(lines[1:])
    assert re.search(r'"\d{1,3} \d{3}"', body) and '"-"' in body and '"c"' in body
    assert re.search(r'"\d{1,3}\u00a0\d{3}"', body)


def test_podmi_format(out: Path) -> None:
    for name in (PODMI_1, PODMI_2):
        raw = (out / name).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
        assert raw.decode("utf-8").split("\n", 1)[0] == PODMI_HEADER


def test_determinism(out: Path, tmp_path: Path) -> None:
    again = generate_sample(tmp_path / "again", seed=1)
    for f in again.files:
        assert (tmp_path / "again" / f.name).read_bytes() == (out / f.name).read_bytes(), f.name
    # `only` does not change the content of the other files; another seed does
    generate_sample(tmp_path / "only", seed=1, only=["podmi_barometer_xlsx"])
    assert (tmp_path / "only" / BAROMETER).read_bytes() == (out / BAROMETER).read_bytes()
    assert [p.name for p in (tmp_path / "only").iterdir()] == [BAROMETER]
    other = generate_sample(
        tmp_path / "other", seed=2, only=["ksz_dwh_wide", "podmi_barometer_xlsx"]
    )
    for f in other.files:
        assert (tmp_path / "other" / f.name).read_bytes() != (out / f.name).read_bytes()


def test_long_additivity(long: pd.DataFrame) -> None:
    key = ["Indicator", "Referentiedatum", "NIS-code"]
    masked = long["value"].isna()
    groups = long.assign(masked=masked).groupby([*key, "table"], sort=False)
    sums = groups["value"].sum()
    has_mask = groups["masked"].any()
    totals = long[long["table"] == 0].set_index(key)["value"]
    cmp = sums[~has_mask].reset_index()
    cmp["total"] = totals.reindex(pd.MultiIndex.from_frame(cmp[key])).to_numpy()
    assert len(cmp) > 100_000
    assert (cmp["value"] == cmp["total"]).all()
    # sex × age class adds up to the sex table
    sex = long[long["table"] == 1].set_index([*key, "Geslacht"])["value"]
    cross = long[long["table"] == 3]
    by_sex = cross.assign(masked=cross["value"].isna()).groupby([*key, "Geslacht"])
    ok = ~by_sex["masked"].any()
    assert (by_sex["value"].sum()[ok] == sex.reindex(ok[ok].index)).all()


def test_long_content(long: pd.DataFrame) -> None:
    assert long["NIS-code"].nunique() == 581
    assert sorted(long["Referentiedatum"].unique()) == [f"31/12/{y}" for y in KSZ_YEARS]
    assert long["Indicator"].nunique() == 8
    assert len(long) < 900_000
    # masked at source: a few hundred small breakdown cells, never a total row
    masked = long["value"].isna()
    assert 100 <= masked.sum() <= 1000
    assert (long.loc[masked, "table"] != 0).all() and (long.loc[masked, "Aantal"] == "x").all()
    # work intensity has no 65+; pensions no children; dimension values are Dutch labels
    wi = long[long["Indicator"].str.startswith("Personen in een gezin")]
    assert not wi["Leeftijdsklasse"].isin(["65-79 jaar", "80 jaar en ouder"]).any()
    pension = long[long["Indicator"] == "Pensioentrekkenden"]
    assert "0-17 jaar" not in set(pension["Leeftijdsklasse"].unique())
    assert {"Man", "Vrouw", "Totaal"} == set(long["Geslacht"].unique())
    assert {"Belg", "EU-burger", "Niet-EU-burger", "Totaal"} == set(long["Nationaliteit"].unique())


def test_long_levels(long: pd.DataFrame, municipalities: pd.DataFrame) -> None:
    total = long[(long["table"] == 0) & (long["Referentiedatum"] == "31/12/2021")]
    by_ind = total.groupby("Indicator")["value"].sum()
    population_2022 = 11_584_008
    assert 2_300_000 <= by_ind["Pensioentrekkenden"] <= 2_500_000
    assert by_ind["Arbeidsongeschikten, invaliditeit"] == pytest.approx(470_000, rel=0.03)
    assert by_ind["Personen met leefloon of financiële hulp"] / population_2022 == pytest.approx(
        0.014, abs=0.002
    )
    assert by_ind[
        "Verhoogde tegemoetkoming in de ziekteverzekering"
    ] / population_2022 == pytest.approx(0.18, abs=0.01)
    region = municipalities.set_index("nis")["region_nis"]
    sa = total[total["Indicator"] == "Personen met leefloon of financiële hulp"]
    by_region = sa.groupby(sa["NIS-code"].map(region))["value"].sum()
    assert by_region["04000"] > by_region["02000"] * 0.8  # Brussels ≫ Flanders per inhabitant
    assert by_region["03000"] > by_region["02000"]


def test_small_cells_in_small_municipalities(
    long: pd.DataFrame, podmi_1: pd.DataFrame, population_2017: pd.Series
) -> None:
    small = set(population_2017[population_2017 < 3000].index)
    assert len(small) >= 5
    cells = long[long["NIS-code"].isin(small) & long["value"].between(1, 4)]
    assert len(cells) > 1000
    pod = podmi_1[podmi_1["NIS"].isin(small) & podmi_1["value"].between(1, 4)]
    assert len(pod) > 1000


def test_wide_content_and_additivity(wide: pd.DataFrame) -> None:
    assert len(wide) == 581 * 3 * 6 * 20
    assert set(wide["Position socio-économique"].unique()) == {
        "total",
        *(f"{i:02d}" for i in range(1, 21)),
    } - {"14"}
    assert set(wide["Sexe"].unique()) == {"total", "M", "F"}
    assert set(wide["Classe d'âge"].unique()) == {
        "total",
        "18-24",
        "25-34",
        "35-44",
        "45-54",
        "55-64",
    }
    values = [f"v{y}" for y in KSZ_YEARS]
    masked = wide[values].isna()
    assert 50 <= masked.to_numpy().sum() <= 2000
    status_total = wide["Position socio-économique"] == "total"
    assert not masked[status_total].to_numpy().any()
    key = ["Code INS", "Sexe", "Classe d'âge"]
    for col in values:
        parts = wide[~status_total].assign(m=wide[col].isna()).groupby(key)
        ok = ~parts["m"].any()
        total = wide[status_total].set_index(key)[col]
        assert (parts[col].sum()[ok] == total.reindex(ok[ok].index)).all()
    # the status total is the population 18-64, by sex and age class, of the following 1 January
    grand = wide[status_total & (wide["Sexe"] == "total") & (wide["Classe d'âge"] == "total")]
    assert grand["v2021"].sum() == pytest.approx(7_150_000, rel=0.03)
    statuses = wide[(wide["Sexe"] == "total") & (wide["Classe d'âge"] == "total") & ~status_total]
    by_status = statuses.groupby("Position socio-économique")["v2021"].sum()
    working = by_status[[f"{i:02d}" for i in range(1, 7)]].sum() / grand["v2021"].sum()
    seekers = by_status[["07", "08", "09"]].sum() / grand["v2021"].sum()
    assert working == pytest.approx(0.66, abs=0.015) and seekers == pytest.approx(0.07, abs=0.01)
    assert wide["Code INS"].str.fullmatch(r"[1-9]\d{4}").all()


def test_podmi_additivity(
    podmi_1: pd.DataFrame, podmi_2: pd.DataFrame, municipalities: pd.DataFrame
) -> None:
    for df in (podmi_1, podmi_2):
        df = _with_nis(df, municipalities)
        key = ["Maand", "NIS", "Maatregel"]
        total = df[_total_rows(df, PODMI_DIMS)].set_index(key)["value"]
        assert total.notna().all()  # totals are never masked
        for dim in PODMI_DIMS:
            others = [d for d in PODMI_DIMS if d != dim]
            part = df[(df[dim] != "Totaal") & _total_rows(df, others)]
            grouped = part.assign(m=part["value"].isna()).groupby(key)
            ok = ~grouped["m"].any()
            assert (grouped["value"].sum()[ok] == total.reindex(ok[ok].index)).all(), dim
        wide = df[_total_rows(df, PODMI_DIMS)].pivot(
            index=["Maand", "NIS"], columns="Maatregel", values="value"
        )
        assert (wide["LL"] <= wide["RMI"]).all() and (wide["GPMI"] <= wide["RMI"]).all()
        assert (wide["ELL"] <= wide["RMH"]).all() and (wide["SPI"] <= wide["LL"]).all()


def test_podmi_levels(
    podmi_1: pd.DataFrame, podmi_2: pd.DataFrame, municipalities: pd.DataFrame
) -> None:
    ll = podmi_1[(podmi_1["Maatregel"] == "LL") & _total_rows(podmi_1, PODMI_DIMS)]
    ll = _with_nis(ll, municipalities)
    year = ll["Maand"].str[:4]
    monthly = ll.groupby([year, "Maand"])["value"].sum().groupby(level=0).mean()
    assert monthly["2017"] == pytest.approx(140_149, rel=0.01)
    assert monthly["2019"] == pytest.approx(146_753, rel=0.01)
    assert monthly["2020"] == pytest.approx(153_270, rel=0.01)
    region = ll["NIS"].map(municipalities.set_index("nis")["region_nis"])
    y2020 = ll[year == "2020"]
    by_region = y2020.groupby(region[year == "2020"])["value"].sum() / 12
    assert by_region["04000"] == pytest.approx(41_800, rel=0.05)
    assert by_region["02000"] == pytest.approx(38_400, rel=0.05)
    assert by_region["03000"] == pytest.approx(73_100, rel=0.05)
    ll2 = podmi_2[(podmi_2["Maatregel"] == "LL") & _total_rows(podmi_2, PODMI_DIMS)]
    assert ll2.groupby("Maand")["value"].sum().mean() == pytest.approx(152_300, rel=0.01)
    totals = podmi_1[_total_rows(podmi_1, PODMI_DIMS) & podmi_1["Maand"].str.startswith("2020")]
    by_measure = totals.groupby("Maatregel")["value"].sum()
    ratio = by_measure / by_measure["LL"]
    assert ratio["RMI"] == pytest.approx(1.08, abs=0.02)
    assert ratio["GPMI"] == pytest.approx(0.35, abs=0.03)
    assert ratio["RMH"] == pytest.approx(0.22, abs=0.02)
    assert ratio["ELL"] == pytest.approx(0.17, abs=0.02)
    assert ratio["SPI"] == pytest.approx(0.03, abs=0.01)


def test_podmi_vintages(
    podmi_1: pd.DataFrame, podmi_2: pd.DataFrame, municipalities: pd.DataFrame
) -> None:
    v1 = _with_nis(podmi_1, municipalities)
    v2 = _with_nis(podmi_2, municipalities)
    reported = v1.groupby("Maand")["NIS"].nunique()
    assert (reported[:"2022-10"] == 581).all()
    assert 0.03 <= 1 - reported["2022-11"] / 581 <= 0.08
    assert 0.10 <= 1 - reported["2022-12"] / 581 <= 0.20
    assert sorted(v2["Maand"].unique()) == [f"2022-{m:02d}" for m in range(1, 13)]
    assert (v2.groupby("Maand")["NIS"].nunique() == 581).all()
    assert len(v2) == 581 * 12 * 31
    key = ["Maand", "NIS", "Maatregel", *PODMI_DIMS]
    both = v1[v1["Maand"] >= "2022-01"].merge(v2, on=key, suffixes=("_1", "_2"))
    older = both["Maand"] <= "2022-09"
    assert (both.loc[older, "Aantal_1"] == both.loc[older, "Aantal_2"]).all()
    totals = both[_total_rows(both, PODMI_DIMS) & (both["Maatregel"] == "LL")]
    growth = totals.groupby("Maand")[["value_2", "value_1"]].sum().eval("value_2 / value_1 - 1")
    assert (growth[:"2022-09"] == 0).all()
    assert ((growth["2022-10":] > 0.005) & (growth["2022-10":] < 0.06)).all()
    assert growth["2022-10"] < growth["2022-11"] < growth["2022-12"]


def test_podmi_masks_and_names(
    podmi_1: pd.DataFrame, podmi_2: pd.DataFrame, municipalities: pd.DataFrame
) -> None:
    for df in (podmi_1, podmi_2):
        masked = df["Aantal"] == "<5"
        small = df["value"].between(1, 4) & ~_total_rows(df, PODMI_DIMS)
        share = masked.sum() / (masked.sum() + small.sum())
        assert 0.005 <= share <= 0.02
        assert not (masked & _total_rows(df, PODMI_DIMS)).any()
        name_only = df[df["NIS"] == ""]
        assert 15 <= len(name_only) <= 25
        names = {normalize(n) for n in municipalities["name_nl"]}
        assert all(normalize(n) in names for n in name_only["OCMW"])
        assert not name_only["OCMW"].isin(municipalities["name_nl"]).all()  # case/accents vary


def test_barometer(out: Path, podmi_1: pd.DataFrame) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(out / BAROMETER, read_only=True)
    assert wb.sheetnames == ["Barometer"]
    rows = [tuple(c for c in r) for r in wb["Barometer"].iter_rows(values_only=True)]
    assert rows[0][0] == "Barometer maatschappelijke integratie"
    assert rows[2][0] == "Extractiedatum: 15/03/2023"
    assert all(c is None for c in rows[3])
    assert rows[4] == (
        "NIS-code",
        "Gemeente",
        "Categorie",
        "2017",
        "2018",
        "2019",
        "2020",
        "2021",
        "2022",
    )
    data = rows[5 : 5 + 581 * 4]
    assert all(c is None for c in rows[5 + 581 * 4])
    assert rows[-2][0].startswith("Bron: POD") and rows[-1][0].startswith("<5")
    df = pd.DataFrame(data, columns=rows[4])
    assert set(df["Categorie"]) == {
        "Samenwonende",
        "Alleenstaande",
        "Met gezin ten laste",
        "Totaal",
    }
    cells = df[[str(y) for y in range(2017, 2023)]].to_numpy().ravel()
    assert (cells == "<5").sum() > 100
    assert {-99997, -99999} <= set(c for c in cells if not isinstance(c, str))
    assert not any(isinstance(c, int) and 1 <= c <= 4 for c in cells)
    total = df[df["Categorie"] == "Totaal"]["2019"]
    distinct = sum(v for v in total if isinstance(v, int) and v > 0)
    ll = podmi_1[
        (podmi_1["Maatregel"] == "LL")
        & _total_rows(podmi_1, PODMI_DIMS)
        & podmi_1["Maand"].str.startswith("2019")
    ]
    assert distinct / (ll["value"].sum() / 12) == pytest.approx(1.45, abs=0.08)


def test_rows_scaling(tmp_path: Path) -> None:
    summary = generate_sample(tmp_path, seed=3, rows=200_000, only=["ksz_dwh_long"])
    assert [f.name for f in summary.files] == [LONG]
    n = (tmp_path / LONG).read_bytes().count(b"\r\n") - 1
    assert n == summary.files[0].rows and n == pytest.approx(200_000, rel=0.1)
    for target in (50_000, 2_000_000, 10_000_000):
        plan = plan_ksz_tables(target)
        assert all(tables[0] == () for tables in plan.values())
        shapes_rows = _planned_rows(plan)
        assert shapes_rows == pytest.approx(target, rel=0.1)


def _planned_rows(plan: dict[str, list[tuple[str, ...]]]) -> int:
    from ksz_reports.sample.ksz import _ksz_shapes

    shapes = _ksz_shapes()
    return sum(
        581 * len(KSZ_YEARS) * int(np.prod([shapes[ind][d] for d in t]))
        for ind, tables in plan.items()
        for t in tables
    )


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown sample dialect"):
        generate_sample(tmp_path, only=["ksz_dwh_longg"])
    with pytest.raises(UsageError):
        generate_sample(tmp_path, rows=0)


@pytest.mark.parametrize("name", [LONG, WIDE, PODMI_1, PODMI_2, BAROMETER])
def test_reader_reads_samples(sample: tuple[Path, SampleSummary], name: str) -> None:
    """The shipped reader reads every sample file: one canonical row per cell, masks kept as null."""
    exports = pytest.importorskip("ksz_reports.ingest.reader")
    out, summary = sample
    table = exports.read_export(out / name)
    expected = summary.file(name)[0]
    assert table.num_rows == expected.cells
    limit = 0.05 if name == BAROMETER else 0.01  # the barometer masks every 1-4
    assert 0 < table.column("value").null_count < limit * table.num_rows
    assert set(table.column("geo").combine_chunks().dictionary.to_pylist()) >= {"11001", "93090"}
    if name == PODMI_1:
        frame = table.select(["indicator", "period", "value", *DIMS]).to_pandas()
        ll = frame[(frame["indicator"] == "ll") & (frame[list(DIMS)] == "total").all(axis=1)]
        monthly = ll[ll["period"].str.startswith("2017")].groupby("period")["value"].sum()
        assert monthly.mean() == pytest.approx(140_149, rel=0.01)


DIMS = (
    "sex",
    "age_class",
    "household_type",
    "origin",
    "nationality_group",
    "ses_position",
    "family_category",
)
