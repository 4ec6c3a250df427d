"""Reading exports into the canonical table: every shipped dialect and every variant of docs/domain.md#raw-exports."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ksz_reports.core.errors import InputError
from ksz_reports.core.schema import CANONICAL_SCHEMA, groupby_masked_sum
from ksz_reports.ingest import sources
from ksz_reports.ingest.periods import parse_date
from ksz_reports.ingest.reader import iter_export, read_export
from ksz_reports.ingest.validate import validate

FIXTURES = Path(__file__).parent / "data" / "exports"
VARIANTS = FIXTURES / "variants"
LONG = FIXTURES / "ksz_dwh_long_2023-06-30.csv"
KEY = [
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
]
T = "total"


def rows(table: pa.Table, columns: list[str] = KEY) -> list[tuple]:
    """The table's rows as tuples of plain values."""
    data = [table.column(c).to_pylist() for c in columns]
    return list(zip(*data, strict=True))


LONG_ROWS = [
    ("pension", "2021", "11001", T, T, T, T, T, T, T, 3456),
    ("pension", "2021", "11001", "M", T, T, T, T, T, T, 1600),
    ("pension", "2021", "11001", "F", T, T, T, T, T, T, 1856),
    ("pension", "2021", "11001", "M", "80+", "SING", "BE", "BE", T, T, None),
    ("pension", "2021", "11001", "F", "80+", "SING", "BE", "BE", T, T, 7),
    ("pension", "2020", "11001", T, T, T, T, T, T, T, 3401),
    ("social_assistance", "2021", "62063", T, T, T, T, T, T, T, 12345),
    ("social_assistance", "2021", "62063", "F", "18-24", "H1PA", "NON_EU", "NON_EU", T, T, 0),
    ("work_incapacity_primary", "2021", "44021", T, T, T, T, T, T, T, 4321),
]


def test_ksz_dwh_long() -> None:
    table = read_export(LONG)
    assert table.schema.equals(CANONICAL_SCHEMA)
    assert rows(table) == LONG_ROWS
    assert set(table.column("source").to_pylist()) == {LONG.name}
    assert set(table.column("vintage").to_pylist()) == {dt.date(2023, 6, 30)}
    assert table.column("value").type == pa.int64()
    assert pa.types.is_dictionary(table.column("geo").type)


@pytest.mark.parametrize(
    "name",
    [
        "ksz_dwh_long_utf8_2023-06-30.csv",  # UTF-8, LF
        "ksz_dwh_long_bom_2023-06-30.csv",  # UTF-8 with BOM
        "ksz_dwh_long_comma_2023-06-30.csv",  # ',' with a quoted field holding ','
    ],
)
def test_long_variants_read_the_same(name: str) -> None:
    assert rows(read_export(VARIANTS / name)) == LONG_ROWS


def test_french_headers_any_case_and_labels() -> None:
    table = read_export(VARIANTS / "ksz_dwh_long_fr_2023-06-30.csv")
    assert rows(table) == LONG_ROWS[:1] + LONG_ROWS[3:5]


def test_codes_as_values_and_reference_dates() -> None:
    """Codes and ids instead of labels; a quarter end becomes a quarter; ISO dates."""
    table = read_export(VARIANTS / "ksz_dwh_long_codes_2023-06-30.csv")
    assert rows(table) == [
        ("pension", "2021", "11001", T, T, T, T, T, T, T, 3456),
        ("pension", "2021", "11001", "M", "80+", "SING", "BE", "BE", T, T, None),
        ("pension", "2021", "11001", "F", "80+", "SING", "BE", "BE", T, T, 7),
        ("pension", "2021Q2", "11001", T, T, T, T, T, T, T, 3420),
        ("pension", "2020", "11001", T, T, T, T, T, T, T, 3401),
    ]


def test_names_instead_of_codes() -> None:
    """Names (nl or fr, any case and accents) resolve; an aggregate row is dropped."""
    path = VARIANTS / "ksz_dwh_long_names_2023-06-30.csv"
    table = read_export(path)
    assert rows(table, ["geo", "value"]) == [
        ("44021", 50123),
        ("62063", 40456),
        ("46021", 17000),
        ("11001", 3456),
    ]
    report = validate([path])
    assert report.ok and report.files[0].dropped_aggregates == 1


def test_ksz_dwh_wide() -> None:
    """Wide by year; spaces / U+00A0 / U+202F thousands separators, '-' = 0, 'c' masked."""
    table = read_export(FIXTURES / "ksz_dwh_wide_2023-06-30.csv")
    got = {(r[1], r[2], r[3], r[4], r[8]): r[10] for r in rows(table)}
    assert len(got) == 20
    assert got[("2019", "11002", T, T, T)] == 529247  # U+00A0
    assert got[("2020", "11002", T, T, T)] == 530504  # U+202F
    assert got[("2017", "11002", "M", "18-24", "01")] == 12345
    assert got[("2018", "11002", "M", "18-24", "01")] == 0  # '-'
    assert got[("2019", "11002", "M", "18-24", "01")] is None  # 'c'
    assert got[("2018", "44021", "F", "65-79", "13")] is None
    assert got[("2021", "44021", T, T, "20")] == 1270
    assert set(table.column("indicator").to_pylist()) == {"ses_position"}


def test_podmi_monthly() -> None:
    table = read_export(FIXTURES / "podmi_monthly_2023-03-31.csv")
    assert rows(
        table,
        [
            "indicator",
            "period",
            "geo",
            "sex",
            "age_class",
            "nationality_group",
            "family_category",
            "value",
        ],
    ) == [
        ("ll", "2022-10", "44021", T, T, T, T, 2345),
        ("ll", "2022-10", "44021", T, T, T, "SGL", 1200),
        ("ll", "2022-10", "44021", "M", "18-24", "BE", "COH", None),  # '<5', measure 'll'
        ("rmi", "2022-10", "62063", T, T, T, T, 5678),  # NIS empty: 'Liège'
        ("gpmi", "2022-10", "46021", T, T, T, T, 321),  # NIS empty: 'sint-niklaas'
        ("ll", "2022-11", "44021", T, T, T, T, 2360),
    ]


def test_podmi_barometer_xlsx() -> None:
    """Title rows, the header found on row 5, footnotes ignored, vintage from the title."""
    table = read_export(FIXTURES / "podmi_barometer.xlsx")
    got = {(r[1], r[2], r[9]): r[10] for r in rows(table)}
    assert len(got) == 24
    assert got[("2017", "44021", T)] == 4100
    assert got[("2020", "44021", "SGL")] is None  # '<5'
    assert got[("2019", "11001", T)] is None  # -99997
    assert got[("2021", "11001", T)] is None  # -99999
    assert got[("2022", "62063", "FAM")] == 0
    assert set(table.column("indicator").to_pylist()) == {"ll_distinct"}
    assert set(table.column("vintage").to_pylist()) == {dt.date(2023, 3, 15)}


def test_canonical_parquet() -> None:
    """Parquet: null stays masked; per-row source and vintage are kept."""
    table = read_export(FIXTURES / "canonical_2023-06-30.parquet")
    assert rows(table, ["indicator", "period", "geo", "sex", "value", "source", "vintage"]) == [
        ("pension", "2021", "11002", T, 3456, "ksz_dwh_long_2023-06-30.csv", dt.date(2023, 6, 30)),
        (
            "pension",
            "2021",
            "11002",
            "M",
            None,
            "ksz_dwh_long_2023-06-30.csv",
            dt.date(2023, 6, 30),
        ),
        ("ll", "2022-10", "44021", T, 2345, "podmi_monthly_2023-03-31.csv", dt.date(2023, 3, 31)),
        ("ll", "2022-11", "44021", T, 2360, "podmi_monthly_2023-03-31.csv", dt.date(2023, 3, 31)),
    ]


def test_masked_cells_are_never_summed_as_zero() -> None:
    """Cell M/80+ is masked ('x') and F/80+ is 7: their sum is masked, not 7."""
    frame = read_export(LONG).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    old = frame[(frame["age_class"] == "80+") & (frame["indicator"] == "pension")]
    assert old["value"].isna().sum() == 1
    by = ["indicator", "period", "geo", "age_class"]
    plain = old.groupby(by, observed=True)["value"].sum()
    assert plain.iloc[0] == 7  # pandas alone would have read the masked cell as 0
    safe = groupby_masked_sum(old, by)
    assert len(safe) == 1 and safe["value"].isna().all()


def test_iter_export_streams_canonical_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "CHUNK_BYTES", 200)
    batches = list(iter_export(LONG))
    assert len(batches) > 3
    assert all(b.schema.equals(CANONICAL_SCHEMA) for b in batches)
    assert rows(pa.Table.from_batches(batches)) == LONG_ROWS


def _big_long(path: Path, n: int, bad_at: int | None = None, blank_every: int = 0) -> int:
    """A ksz_dwh_long file of n data rows (distinct cells); returns the line of row bad_at."""
    lines = [
        "Indicator;Referentiedatum;NIS-code;Gemeente;Geslacht;Leeftijdsklasse;"
        "Positie in het huishouden;Herkomst;Nationaliteit;Aantal"
    ]
    bad_line = 0
    # municipalities unchanged by the mergers, periods before the vintage (2023-06-30)
    geos = ["11001", "21004", "44021", "62063", "46021", "24062"]
    geos += ["31005", "52011", "57081", "92094", "35013", "25072"]
    sexes = ["Totaal", "Man", "Vrouw"]
    for i in range(n):
        year = 2000 + (i // len(geos)) % 23
        sex = sexes[i // (len(geos) * 23) % len(sexes)]
        value = "abc" if i == bad_at else f"{i % 997}"
        lines.append(
            f"Pensioentrekkenden;31/12/{year};{geos[i % len(geos)]};x;{sex};Totaal;"
            f"Totaal;Totaal;Totaal;{value}"
        )
        if i == bad_at:
            bad_line = len(lines)
        if blank_every and i % blank_every == blank_every - 1:
            lines.append("")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="cp1252")
    return bad_line


def test_chunks_keep_exact_line_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "CHUNK_BYTES", 1000)
    path = tmp_path / "ksz_dwh_long_2023-06-30.csv"
    line = _big_long(path, 600, bad_at=577)
    with pytest.raises(InputError) as info:
        read_export(path)
    assert info.value.row == line == 579


def test_blank_lines_inside_data_keep_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With footnotes: none, empty lines are skipped and rows keep their real line numbers."""
    (tmp_path / "dialects").mkdir()
    (tmp_path / "dialects" / "ksz_dwh_long.yaml").write_text("footnotes: none\n")
    monkeypatch.setenv("KSZ_REPORTS_CONFIG", str(tmp_path))
    monkeypatch.setattr(sources, "CHUNK_BYTES", 1000)
    path = tmp_path / "ksz_dwh_long_2023-06-30.csv"
    line = _big_long(path, 300, bad_at=250, blank_every=7)
    from ksz_reports.core.config import load_config

    with pytest.raises(InputError) as info:
        read_export(path, config=load_config(tmp_path))
    assert info.value.row == line == 2 + 250 + 250 // 7


def test_footnotes_after_an_empty_line_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / LONG.name
    path.write_bytes(LONG.read_bytes() + b"\r\nBron: KSZ DWH AM&SB\r\nx: afgeschermd\r\n")
    assert rows(read_export(path)) == LONG_ROWS


def test_vintage_argument_when_the_file_has_none(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(LONG.read_bytes())
    table = read_export(path, vintage="2023-07-01")
    assert set(table.column("vintage").to_pylist()) == {dt.date(2023, 7, 1)}
    assert rows(read_export(path, vintage=dt.date(2023, 7, 1))) == LONG_ROWS
    with pytest.raises(InputError, match="not a date: '2023-13-01'"):
        read_export(path, vintage="2023-13-01")
    # the file's own vintage wins over the argument
    assert set(read_export(LONG, vintage="2020-01-01").column("vintage").to_pylist()) == {
        dt.date(2023, 6, 30)
    }


def test_explicit_dialect() -> None:
    table = read_export(LONG, dialect="ksz_dwh_long")
    assert rows(table) == LONG_ROWS
    with pytest.raises(InputError, match="missing required column 'Indicator'"):
        read_export(FIXTURES / "podmi_monthly_2023-03-31.csv", dialect="ksz_dwh_long")
    with pytest.raises(InputError, match="dialect podmi_barometer_xlsx reads .xlsx, .xlsm files"):
        read_export(LONG, dialect="podmi_barometer_xlsx")


def test_validate_report() -> None:
    report = validate([LONG, FIXTURES / "ksz_dwh_wide_2023-06-30.csv"])
    assert report.ok
    first = report.files[0]
    assert (first.dialect, first.rows, first.cells, first.masked) == ("ksz_dwh_long", 9, 9, 1)
    assert first.periods == ["2020", "2021"]
    assert first.indicators == ["pension", "work_incapacity_primary", "social_assistance"]
    assert first.vintage == ["2023-06-30"]
    assert report.files[1].cells == 20
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is True and data["files"][1]["dialect"] == "ksz_dwh_wide"
    assert report.lines()[0].startswith(f"OK {LONG}: dialect ksz_dwh_long, 9 rows, 9 cells")


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_export(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-03-15", dt.date(2023, 3, 15)),
        ("20230315", dt.date(2023, 3, 15)),
        ("15/03/2023", dt.date(2023, 3, 15)),
        ("15.03.2023", dt.date(2023, 3, 15)),
        ("2023-02-30", None),
        ("soon", None),
    ],
)
def test_parse_date(text: str, expected: dt.date | None) -> None:
    assert parse_date(text) == expected


def _dots(n: int) -> str:
    return f"{n:,}".replace(",", ".")


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=12_000_000), min_size=1, max_size=40),
    st.sampled_from([" ", "\u00a0", "\u202f"]),
)
def test_number_formats_round_trip(values: list[int], sep: str) -> None:
    """Whatever thousands separator the dialect allows, the count read is the count written.

    (Counts of millions in one municipality are implausible: the population bound is lifted.)
    """
    import tempfile
    from unittest import mock

    from ksz_reports.ingest import checks

    with (
        tempfile.TemporaryDirectory() as tmp,
        mock.patch.object(checks, "POPULATION_MARGIN", 10_000.0),
    ):
        long_path = Path(tmp) / "ksz_dwh_long_2023-06-30.csv"
        lines = [LONG.read_text(encoding="cp1252").splitlines()[0]]
        lines += [
            f"Pensioentrekkenden;31/12/{1983 + i};11001;Aartselaar;Totaal;Totaal;Totaal;"
            f"Totaal;Totaal;{_dots(v)}"
            for i, v in enumerate(values)
        ]
        long_path.write_text("\n".join(lines) + "\n", encoding="cp1252")
        assert read_export(long_path).column("value").to_pylist() == values
        wide_path = Path(tmp) / "ksz_dwh_wide_2023-06-30.csv"
        header = '"Code INS","Commune","Indicateur","Sexe","2021"'
        body = [
            f'"11001","Aartselaar","Bénéficiaires d\'une pension","{s}","'
            f'{format(v, ",").replace(",", sep)}"'
            for s, v in zip(["M", "F", "total"], values, strict=False)
        ]
        wide_path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8-sig")
        got = read_export(wide_path).column("value").to_pylist()
        assert got == values[: len(body)]
