"""ingest → the canonical dataset folder; open_dataset and its checks."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ksz_reports import __version__
from ksz_reports.core.config import load_config
from ksz_reports.core.errors import InputError, UsageError
from ksz_reports.core.schema import CANONICAL_SCHEMA
from ksz_reports.ingest.dataset import ingest, open_dataset

FIXTURES = Path(__file__).parent / "data" / "exports"
ALL = sorted(p for p in FIXTURES.glob("*") if p.suffix in (".csv", ".xlsx", ".parquet"))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("ds") / "data"
    summary = ingest(ALL, out)
    return out, summary


def test_summary(dataset: tuple[Path, object]) -> None:
    out, summary = dataset
    # 4 + 9 + 20 + 24 + 6 + 7 cells read; 2 identical cells (canonical parquet = podmi
    # 2023-03-31) kept once
    assert summary.rows == 68
    assert summary.duplicates_dropped == 2
    assert summary.cells == {
        "ses_position": 20,
        "pension": 8,
        "work_incapacity_primary": 1,
        "social_assistance": 2,
        "rmi": 2,
        "ll": 9,
        "gpmi": 2,
        "ll_distinct": 24,
    }
    assert summary.masked == 9
    assert summary.vintages == ["2023-03-15", "2023-03-31", "2023-06-30"]
    assert summary.periods["ll"] == ["2022-10", "2022-11", "2022-12"]
    assert summary.seconds > 0
    assert "68 cells (9 masked) from 6 file(s)" in str(summary)
    json.dumps(summary.to_dict())


def test_files_written(dataset: tuple[Path, object]) -> None:
    out, _summary = dataset
    assert sorted(p.name for p in out.iterdir()) == ["canonical.parquet", "ingest.json"]
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp left
    meta = json.loads((out / "ingest.json").read_text())
    assert meta["software"] == {"name": "ksz_reports", "version": __version__}
    assert meta["config_hash"] == load_config().hash
    by_name = {i["name"]: i for i in meta["inputs"]}
    assert set(by_name) == {p.name for p in ALL}
    for p in ALL:
        entry = by_name[p.name]
        assert entry["sha256"] == hashlib.sha256(p.read_bytes()).hexdigest()
        assert entry["size"] == p.stat().st_size
    assert by_name["podmi_barometer.xlsx"]["dialect"] == "podmi_barometer_xlsx"
    assert by_name["podmi_barometer.xlsx"]["vintage"] == ["2023-03-15"]
    assert by_name["ksz_dwh_wide_2023-06-30.csv"]["rows"] == 4
    assert by_name["ksz_dwh_wide_2023-06-30.csv"]["cells"] == 20
    pf = pq.ParquetFile(out / "canonical.parquet")
    assert pf.metadata.row_group(0).column(0).compression == "ZSTD"
    assert [c.column_index for c in pf.metadata.row_group(0).sorting_columns] == [0, 2, 1]


def test_open_dataset(dataset: tuple[Path, object]) -> None:
    out, _summary = dataset
    ds = open_dataset(out)
    assert ds.table.schema.equals(CANONICAL_SCHEMA)
    assert ds.table.num_rows == 68
    assert ds.vintages == [dt.date(2023, 3, 15), dt.date(2023, 3, 31), dt.date(2023, 6, 30)]
    assert ds.indicators == [
        "gpmi",
        "ll",
        "ll_distinct",
        "pension",
        "rmi",
        "ses_position",
        "social_assistance",
        "work_incapacity_primary",
    ]
    assert ds.periods("ll") == ["2022-10", "2022-11", "2022-12"]
    assert ds.periods("nope") == []
    assert ds.meta["format_version"] == 2
    assert open_dataset(out / "canonical.parquet").table.num_rows == 68


def test_sorted_by_indicator_geo_period(dataset: tuple[Path, object]) -> None:
    out, _summary = dataset
    table = open_dataset(out).table
    keys = list(
        zip(
            table["indicator"].to_pylist(),
            table["geo"].to_pylist(),
            table["period"].to_pylist(),
            strict=True,
        )
    )
    assert keys == sorted(keys)


def test_frame(dataset: tuple[Path, object]) -> None:
    out, _summary = dataset
    frame = open_dataset(out).frame()
    assert isinstance(frame["geo"].dtype, pd.CategoricalDtype)
    assert isinstance(frame["sex"].dtype, pd.CategoricalDtype)
    assert frame["value"].dtype == pd.Int64Dtype()
    assert frame["value"].isna().sum() == 9
    # both podmi vintages are kept (the revision of 2022-10 Gent LL total)
    gent = frame[
        (frame["indicator"] == "ll")
        & (frame["geo"] == "44021")
        & (frame["period"] == "2022-10")
        & (frame["family_category"] == "total")
        & (frame["sex"] == "total")
    ]
    assert sorted(gent["value"].tolist()) == [2345, 2350]


def test_reingest_the_canonical_table(dataset: tuple[Path, object], tmp_path: Path) -> None:
    """The dataset's own Parquet is an export (dialect canonical_parquet): same cells back."""
    out, _summary = dataset
    again = tmp_path / "again"
    ingest([out / "canonical.parquet"], again)
    first, second = open_dataset(out).table, open_dataset(again).table
    assert first.to_pylist() == second.to_pylist()


def test_replaces_a_previous_dataset_atomically(tmp_path: Path) -> None:
    out = tmp_path / "data"
    ingest([FIXTURES / "ksz_dwh_long_2023-06-30.csv"], out)
    assert open_dataset(out).table.num_rows == 9
    ingest([FIXTURES / "podmi_monthly_2023-03-31.csv"], out)
    assert open_dataset(out).table.num_rows == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_refuses_a_folder_that_is_not_a_dataset(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not empty and is not a dataset"):
        ingest([FIXTURES / "ksz_dwh_long_2023-06-30.csv"], out)
    assert (out / "notes.txt").read_text() == "keep me"
    empty = tmp_path / "empty"
    empty.mkdir()
    ingest([FIXTURES / "ksz_dwh_long_2023-06-30.csv"], empty)  # an empty folder is fine


def test_open_dataset_checks(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a ksz_reports dataset: no such folder"):
        open_dataset(tmp_path / "nope")
    (tmp_path / "half").mkdir()
    with pytest.raises(InputError, match="no canonical.parquet and no ingest.json"):
        open_dataset(tmp_path / "half")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "ingest.json").write_text(json.dumps({"format": "ksz_reports canonical dataset"}))
    pq.write_table(pa.table({"indicator": ["pension"], "value": [1]}), bad / "canonical.parquet")
    with pytest.raises(InputError) as info:
        open_dataset(bad)
    assert str(info.value).startswith(
        f"{bad}: not a ksz_reports dataset: canonical.parquet does "
        "not have the canonical columns (missing ['period'"
    )
    (bad / "ingest.json").write_text("{")
    with pytest.raises(InputError, match="ingest.json is not valid JSON"):
        open_dataset(bad)
