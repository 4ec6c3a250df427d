"""Dialects: the shipped YAMLs, strict validation, overrides, detection, and that a new dialect
(wide by category, following-January year labels, title rows in a CSV) needs no code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ksz_reports.core.config import load_config
from ksz_reports.core.errors import ConfigError, InputError
from ksz_reports.ingest.detect import detect_dialect
from ksz_reports.ingest.dialects import (
    Dialect,
    PeriodPattern,
    get_dialect,
    load_dialects,
)
from ksz_reports.ingest.reader import read_export

FIXTURES = Path(__file__).parent / "data" / "exports"
SHIPPED = {
    "ksz_dwh_long",
    "ksz_dwh_wide",
    "podmi_monthly",
    "podmi_barometer_xlsx",
    "canonical_parquet",
    "swing",
}


def test_shipped_dialects_load() -> None:
    dialects = load_dialects()
    assert set(dialects) == SHIPPED
    long = dialects["ksz_dwh_long"]
    assert long.format == "csv" and long.layout == "long"
    assert long.required_roles == ["indicator", "period", "geo", "value"]
    assert long.numbers.masked == ["x"]
    assert dialects["ksz_dwh_wide"].wide is not None
    assert dialects["podmi_barometer_xlsx"].indicator.fixed == "ll_distinct"
    assert dialects["podmi_barometer_xlsx"].header.row is None  # found below the title rows
    assert dialects["canonical_parquet"].vintage.column
    assert long.where == "config/dialects/ksz_dwh_long.yaml"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("ksz_dwh_long_2023-06-30.csv", "ksz_dwh_long"),
        ("ksz_dwh_wide_2023-06-30.csv", "ksz_dwh_wide"),
        ("podmi_monthly_2023-03-31.csv", "podmi_monthly"),
        ("podmi_barometer.xlsx", "podmi_barometer_xlsx"),
        ("canonical_2023-06-30.parquet", "canonical_parquet"),
        ("variants/ksz_dwh_long_fr_2023-06-30.csv", "ksz_dwh_long"),
        ("variants/ksz_dwh_long_comma_2023-06-30.csv", "ksz_dwh_long"),
        ("variants/ksz_dwh_long_bom_2023-06-30.csv", "ksz_dwh_long"),
    ],
)
def test_detect(path: str, name: str) -> None:
    assert detect_dialect(FIXTURES / path).name == name


def test_detect_does_not_depend_on_the_file_name(tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    target.write_bytes((FIXTURES / "podmi_monthly_2023-03-31.csv").read_bytes())
    assert detect_dialect(target).name == "podmi_monthly"


def test_get_dialect_unknown() -> None:
    with pytest.raises(InputError, match="unknown dialect 'nope'"):
        get_dialect("nope")
    assert get_dialect("ksz_dwh_long").name == "ksz_dwh_long"


def _write(folder: Path, name: str, text: str) -> Path:
    (folder / "dialects").mkdir(parents=True, exist_ok=True)
    path = folder / "dialects" / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "mine",
        "format: csv\ncolumns: {geo: [NIS], period: [Jaar], "
        "value: [Aantal]}\nindicator: {fixed: pension}\nnumbers: {thousand: ['.']}\n",
    )
    with pytest.raises(ConfigError) as info:
        load_dialects([tmp_path / "dialects"])
    assert info.value.file == str(path)
    assert info.value.key == "numbers.thousand"
    assert str(info.value) == f"{path}, key 'numbers.thousand': unknown key."


@pytest.mark.parametrize(
    ("body", "key", "message"),
    [
        (
            "format: xls\ncolumns: {geo: [N], period: [P], value: [V], indicator: [I]}\n",
            "format",
            "Input should be 'csv', 'xlsx' or 'parquet'",
        ),
        (
            "format: csv\ncolumns: {geo: [N], period: [P], value: [V], kleur: [K], indicator: [I]}\n",
            "columns",
            "unknown canonical column 'kleur'",
        ),
        (
            "format: csv\ncolumns: {geo: [N], period: [P], value: [V]}\n",
            None,
            "give an `indicator` column or `indicator.fixed`",
        ),
        (
            "format: csv\nlayout: wide\nwide: {columns: period}\ncolumns: {geo: [N], indicator: [I]}\n",
            None,
            "`wide.patterns` must say how a header becomes a period",
        ),
        (
            "format: csv\ncolumns: {geo: [N], period: [P], value: [V], indicator: [I]}\n"
            "period: {formats: [{pattern: '(?P<jaar>\\d{4})'}]}\n",
            "period.formats.0",
            "unknown named groups ['jaar']",
        ),
        (
            "format: csv\ncolumns: {geo: [N], period: [P], value: [V], indicator: [I]}\n"
            "vintage: {filename: '([0-9'}\n",
            "vintage.filename",
            "not a valid regular expression",
        ),
        (
            "format: csv\ncolumns: {geo: [N], period: [P], value: [V], indicator: [I]}\n"
            "csv: {encodings: [klingon]}\n",
            "csv.encodings",
            "unknown encoding 'klingon'",
        ),
        (
            "format: csv\ncolumns: {geo: [N, P], period: [P], value: [V], indicator: [I]}\n",
            "columns",
            "header 'P' is an alias of both geo and period",
        ),
    ],
)
def test_invalid_dialects(tmp_path: Path, body: str, key: str | None, message: str) -> None:
    _write(tmp_path, "bad", body)
    with pytest.raises(ConfigError) as info:
        load_dialects([tmp_path / "dialects"])
    assert info.value.key == key
    assert message in str(info.value)


def test_invalid_yaml(tmp_path: Path) -> None:
    path = _write(tmp_path, "broken", "format: csv\ncolumns: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML") as info:
        load_dialects([tmp_path / "dialects"])
    assert info.value.file == str(path)


def test_override_merges_key_by_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file of the same name in $KSZ_REPORTS_CONFIG/dialects is merged over the shipped one."""
    _write(tmp_path, "ksz_dwh_long", "numbers: {masked: [x, '<5']}\n")
    monkeypatch.setenv("KSZ_REPORTS_CONFIG", str(tmp_path))
    merged = load_dialects()["ksz_dwh_long"]
    assert merged.numbers.masked == ["x", "<5"]
    assert merged.numbers.thousands == [".", " ", "\u00a0", "\u202f"]  # kept from the shipped
    assert merged.columns["value"] == ["Aantal", "Nombre"]
    # and the reader uses it: '<5' is now a masked cell
    bad = Path(__file__).parent / "bad_inputs" / "masked_not_allowed_2023-06-30.csv"
    table = read_export(bad, config=load_config(tmp_path))
    assert table.column("value").null_count == 1


WIDE_BY_SEX = """\
description: a wide export with one column per sex, labelled on 1 January (Provincies in Cijfers)
format: csv
filename: '^pinc_'
csv: {encodings: [utf-8], separator: ';'}
header: {row: null}
layout: wide
wide: {columns: sex}
columns:
  geo: [Gemeente code]
  period: [Jaar]
indicator: {fixed: pension}
year_label: following_january
numbers: {thousands: ['.'], zero_tokens: ['-'], masked: [':']}
vintage: {title: 'Bijgewerkt op (?P<date>[0-9/]+)'}
"""


def test_new_dialect_needs_no_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Wide by category, title lines above the header, year labels on 1 January."""
    _write(tmp_path, "pinc_wide_sex", WIDE_BY_SEX)
    monkeypatch.setenv("KSZ_REPORTS_CONFIG", str(tmp_path))
    export = tmp_path / "pinc_pension.csv"
    export.write_text(
        "Pensioentrekkenden per geslacht\nBijgewerkt op 01/02/2023\n\n"
        "Gemeente code;Jaar;Mannen;Vrouwen;Totaal\n"
        "11001;2022;1.600;1.856;3.456\n"
        "11001;01/01/2021;1.590;-;3.400\n"
        "11002;2022;:;:;12.000\n",
        encoding="utf-8",
    )
    cfg = load_config(tmp_path)
    assert detect_dialect(export, cfg).name == "pinc_wide_sex"
    table = read_export(export, config=cfg)
    got = sorted(
        zip(
            table["geo"].to_pylist(),
            table["period"].to_pylist(),
            table["sex"].to_pylist(),
            table["value"].to_pylist(),
            strict=True,
        ),
        key=str,
    )
    assert got == [
        ("11001", "2020", "F", 0),
        ("11001", "2020", "M", 1590),
        ("11001", "2020", "total", 3400),
        ("11001", "2021", "F", 1856),
        ("11001", "2021", "M", 1600),
        ("11001", "2021", "total", 3456),
        ("11002", "2021", "F", None),
        ("11002", "2021", "M", None),
        ("11002", "2021", "total", 12000),
    ]
    rows = table.to_pandas()
    assert set(rows["vintage"]) == {dt.date(2023, 2, 1)}


@pytest.mark.parametrize(
    ("pattern", "kind", "text", "expected"),
    [
        (
            r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})",
            None,
            "31/12/2021",
            ("date", 2021, 12, 31),
        ),
        (r"(?P<year>\d{4})-(?P<month>\d{2})", None, "2021-03", ("month", 2021, 3, 0)),
        (r"(?P<year>\d{4})Q(?P<quarter>[1-4])", None, "2021Q1", ("quarter", 2021, 1, 0)),
        (r"(\d{4})", "year", " 2021 ", ("year", 2021, 0, 0)),
        (r"(\d{4})-(\d{2})", "month", "2021-03", ("month", 2021, 3, 0)),
        (r"(\d{2})\.(\d{2})\.(\d{4})", "date", "31.12.2021", ("date", 2021, 12, 31)),
        (r"(\d{4})", "year", "2021x", None),
    ],
)
def test_period_patterns(pattern: str, kind: str | None, text: str, expected: tuple | None) -> None:
    assert PeriodPattern(pattern=pattern, kind=kind).match(text) == expected


def test_dialect_model_is_strict_and_frozen() -> None:
    d = Dialect(
        name="x",
        format="csv",
        columns={"geo": ["NIS"], "period": ["P"], "value": ["V"], "indicator": ["I"]},
    )
    assert d.file_extensions == ["csv", "txt", "tsv"]
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        d.layout = "wide"  # type: ignore[misc]
