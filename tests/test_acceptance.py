"""Issue acceptance on the realistic sample: ``ksz-reports sample`` → ``ingest`` → cutoffs.

The sample (seed 1) and its dataset are built once per session by ``tests/conftest.py``
(``sample_exports``, ``sample_data``); every test here reads them and writes only to its own
``tmp_path``. This is the one test file that uses the full sample (keep ``make test`` fast).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ksz_reports.core.schema import CANONICAL_SCHEMA, DIMENSIONS, groupby_masked_sum, is_total
from ksz_reports.geo import COUNTRY, geography
from ksz_reports.geo.aggregate import aggregate
from ksz_reports.ingest.dataset import DATA_FILE, Dataset, open_dataset
from ksz_reports.measures.cutoffs import (
    INCOMPLETE_MONTHS,
    KEPT,
    UNSTABLE_LAG,
    UNSTABLE_REVISION,
    CutoffReport,
    apply_cutoffs,
)
from ksz_reports.sample import PODMI_VINTAGES, generate_sample

#: SPEC §3, written out: the canonical columns in their order.
SPEC_COLUMNS = [
    "indicator",
    "period",
    "geo",
    "sex",
    "age_class",
    "household_type",
    "origin",
    "nationality_group",
    "ses_position",
    "family_category",
    "value",
    # the range a source gave for a cell it masked (SPEC §6: "the protection is judged from it")
    "lower",
    "upper",
    "source",
    "vintage",
]
#: Columns that are categories in SPEC §3 (dictionary-encoded in Arrow and in the Parquet file).
CATEGORY_COLUMNS = ["indicator", "geo", *DIMENSIONS]
#: Leefloon, monthly average, Belgium, 2017 (POD MI; SPEC §2).
LL_2017_MONTHLY_AVERAGE = 140_149


@pytest.fixture(scope="module")
def dataset(sample_data: Path) -> Dataset:
    return open_dataset(sample_data)


@pytest.fixture(scope="module")
def frame(dataset: Dataset) -> pd.DataFrame:
    """The canonical table as pandas (``value`` nullable Int64: NA = masked at source)."""
    return dataset.frame()


@pytest.fixture(scope="module")
def cutoffs(frame: pd.DataFrame) -> tuple[pd.DataFrame, CutoffReport]:
    """The cutoffs of the leefloon (``ll``); they are decided per indicator, so the other
    indicators are left out to keep the test fast."""
    return apply_cutoffs(frame[frame["indicator"] == "ll"])


# --------------------------------------------------------------------------------------------
# the canonical dataset


def test_canonical_columns_types_and_dictionary_encoding(sample_data: Path) -> None:
    path = sample_data / DATA_FILE
    schema = pq.read_schema(path)
    assert schema.names == SPEC_COLUMNS
    assert list(CANONICAL_SCHEMA.names) == SPEC_COLUMNS
    for field in CANONICAL_SCHEMA:
        assert schema.field(field.name).type == field.type, field.name
    for name in CATEGORY_COLUMNS:
        assert schema.field(name).type == pa.dictionary(pa.int32(), pa.string()), name
    assert schema.field("period").type == pa.string()
    assert schema.field("value").type == pa.int64()
    assert schema.field("vintage").type == pa.date32()
    # the dimensions are dictionary-encoded in the file too, not only in the Arrow schema
    meta = pq.ParquetFile(path).metadata
    columns = {meta.schema.column(i).name: i for i in range(meta.num_columns)}
    for name in CATEGORY_COLUMNS:
        encodings = meta.row_group(0).column(columns[name]).encodings
        assert "RLE_DICTIONARY" in encodings or "PLAIN_DICTIONARY" in encodings, name
    # open_dataset accepts it and gives the same schema
    assert open_dataset(sample_data).table.schema.names == SPEC_COLUMNS


def test_nis_codes_keep_their_leading_zeros_and_masks_are_null(frame: pd.DataFrame) -> None:
    geos = frame["geo"].cat.categories
    assert len(geos) == 581
    assert all(len(g) == 5 and g.isdigit() for g in geos)
    assert "21001" in geos  # Anderlecht; a Brussels code, never written as 21001.0 or 2100
    assert frame["value"].isna().sum() > 0  # masked cells are kept as masked (null) ...
    assert (frame["value"].dropna() >= 0).all()  # ... never as a negative or a special value


# --------------------------------------------------------------------------------------------
# numbers


def test_leefloon_2017_monthly_average_is_within_5_percent(frame: pd.DataFrame) -> None:
    ll = frame[(frame["indicator"] == "ll") & frame["period"].str.startswith("2017-")]
    assert set(ll["vintage"]) == {PODMI_VINTAGES[0]}  # one vintage: no cell counted twice
    # there are masked cells in 2017 (breakdowns of small municipalities) ...
    masked = ll["value"].isna()
    assert masked.sum() > 0
    # ... but not among the municipal totals, so the national totals are known
    totals = ll[is_total(ll)]
    assert totals["value"].isna().sum() == 0
    assert totals.groupby("period")["geo"].nunique().eq(581).all()
    national = groupby_masked_sum(totals, ["period"])
    assert list(national["period"]) == [f"2017-{m:02d}" for m in range(1, 13)]
    assert national["value"].notna().all()
    average = float(national["value"].astype("float64").mean())
    assert abs(average / LL_2017_MONTHLY_AVERAGE - 1) < 0.05, average
    # summing a breakdown with a masked member gives a masked total (not a total minus the cell)
    by_age = ll[
        (ll["age_class"] != "total")
        & is_total(ll, tuple(d for d in DIMENSIONS if d != "age_class"))
    ]
    per_month = groupby_masked_sum(by_age, ["period"])
    months_with_mask = set(by_age.loc[by_age["value"].isna(), "period"])
    assert months_with_mask  # the sample masks some age cells in 2017
    assert set(per_month.loc[per_month["value"].isna(), "period"]) == months_with_mask


def test_a_masked_cell_is_never_summed_as_zero(frame: pd.DataFrame) -> None:
    ll = frame[(frame["indicator"] == "ll") & (frame["period"] < "2022")]
    masked = ll[ll["value"].isna()].sort_values(["period", "geo"])
    assert len(masked) > 0
    cell = masked.iloc[0]
    key = ["indicator", "period", *DIMENSIONS]
    same_key = ll
    for c in key:
        same_key = same_key[same_key[c].astype(str) == str(cell[c])]
    assert same_key["geo"].is_unique and len(same_key) == 581  # every municipality, one vintage
    columns = ["indicator", "period", "geo", *DIMENSIONS, "value"]
    geo = geography(2019)  # the exports' municipalities
    arrondissement = geo.parents_of(str(cell["geo"]))["arrondissement"]
    members = geo.members(arrondissement)
    assert len(members) > 1
    out = aggregate(geo, same_key[columns], levels=("arrondissement", "country"))
    row = out[(out["level"] == "arrondissement") & (out["geo"] == arrondissement)]
    assert len(row) == 1
    assert pd.isna(row["value"].iloc[0])  # masked, not the sum of the other municipalities
    others = same_key[same_key["geo"].isin(members) & same_key["value"].notna()]
    assert len(others) == len(members) - 1  # the others are known: a sum could have been made
    assert pd.isna(out.loc[out["geo"] == COUNTRY, "value"].iloc[0])
    # an arrondissement without a masked member is the plain sum of its municipalities
    clean = same_key.groupby(same_key["geo"].map(geo.parent["arrondissement"]))["value"]
    full = clean.count() == clean.size()
    assert full.any()
    code = full[full].index[0]
    expected = int(same_key.loc[same_key["geo"].isin(geo.members(code)), "value"].sum())
    got = out.loc[(out["level"] == "arrondissement") & (out["geo"] == code), "value"].iloc[0]
    assert got == expected


# --------------------------------------------------------------------------------------------
# vintages and cutoffs


def test_both_pod_mi_vintages_are_in_the_dataset(dataset: Dataset, frame: pd.DataFrame) -> None:
    assert set(PODMI_VINTAGES) <= set(dataset.vintages)
    ll_2022 = frame[(frame["indicator"] == "ll") & frame["period"].str.startswith("2022-")]
    assert set(ll_2022["vintage"]) == set(PODMI_VINTAGES)
    assert dataset.meta["summary"]["vintages"] == sorted(v.isoformat() for v in dataset.vintages)


def test_cutoffs_cut_unstable_and_incomplete_periods_of_leefloon(
    cutoffs: tuple[pd.DataFrame, CutoffReport],
) -> None:
    kept, report = cutoffs
    # the last month is not final yet (lag, or revised too much between the two vintages)
    assert report.status("ll", "2022-12") in (UNSTABLE_LAG, UNSTABLE_REVISION)
    assert report.status("ll", "2022-12") == UNSTABLE_LAG  # final from 2023-04-30 > 2023-04-15
    # 2021 is complete and stable: its months and its yearly average are kept
    assert report.status("ll", "2021") == KEPT
    assert all(report.status("ll", f"2021-{m:02d}") == KEPT for m in range(1, 13))
    # the 2022 yearly average misses kept months: cut as incomplete_months, naming them
    assert report.status("ll", "2022") == INCOMPLETE_MONTHS
    row = report.rows[(report.rows["indicator"] == "ll") & (report.rows["period"] == "2022")]
    assert "2022-12" in row["detail"].iloc[0]
    assert any(line.startswith("ll 2022-12: unstable") for line in report.lines())
    # the kept table holds no cut period, and one value per cell (the latest vintage)
    ll_kept = kept[kept["indicator"] == "ll"]
    assert "2022-12" not in set(ll_kept["period"])
    assert "2021-12" in set(ll_kept["period"])
    oct22 = ll_kept[ll_kept["period"] == "2022-10"]
    assert len(oct22) > 0
    assert set(pd.to_datetime(oct22["vintage"]).dt.date) == {PODMI_VINTAGES[1]}
    assert not oct22.duplicated(["geo", *DIMENSIONS]).any()


def test_the_readme_api_entry_point() -> None:
    import ksz_reports

    assert callable(getattr(ksz_reports, "open", None))


# --------------------------------------------------------------------------------------------
# the sample itself


def test_sample_is_deterministic(tmp_path: Path) -> None:
    """Two runs with the same seed write byte-identical files (the .xlsx included: no
    timestamps in the workbook), and the files are those the summary lists."""
    only = ["podmi_barometer_xlsx", "ksz_dwh_wide"]
    first = generate_sample(tmp_path / "a", seed=3, only=only)
    second = generate_sample(tmp_path / "b", seed=3, only=only)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert names == sorted(f.name for f in first.files) == sorted(f.name for f in second.files)
    assert len(names) == 2
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_sample_vintages_are_in_the_file_names(sample_exports: Path) -> None:
    names = sorted(p.name for p in sample_exports.iterdir())
    assert names == [
        "ksz_dwh_long_2023-03-01.csv",
        "ksz_dwh_wide_2023-03-01.csv",
        "podmi_barometer_2023-03-15.xlsx",
        "podmi_monthly_2023-01-15.csv",
        "podmi_monthly_2023-04-15.csv",
    ]
    assert (dt.date(2023, 1, 15), dt.date(2023, 4, 15)) == PODMI_VINTAGES
