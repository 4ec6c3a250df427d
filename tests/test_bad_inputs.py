"""The bad-input corpus (tests/bad_inputs/): every file → the exact one-line message.

For each file: ``validate`` reports exactly that problem, ``read_export`` raises
:class:`InputError` with it, and ``ingest`` into a folder that holds a previous good dataset
raises it too, leaving that dataset byte-identical and writing nothing else.
The corpus is written by tests/bad_inputs/make_corpus.py (outputs committed).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ksz_reports.core.errors import InputError
from ksz_reports.ingest.dataset import ingest
from ksz_reports.ingest.reader import read_export
from ksz_reports.ingest.validate import validate

CORPUS = Path(__file__).parent / "bad_inputs"
GOOD = Path(__file__).parent / "data" / "exports" / "ksz_dwh_long_2023-06-30.csv"

SEPARATORS = "thousands separator: '.', space, no-break space, narrow no-break space"

#: file → the exact message (file names are relative: the tests run inside the corpus folder).
CASES: dict[str, str] = {
    # columns and dialects
    "unknown_column_2023-06-30.csv": "unknown_column_2023-06-30.csv, row 1, column 'Opmerking': unknown column for dialect "
    "ksz_dwh_long. Remove the column, or add its name to columns or ignore_columns in "
    "config/dialects/ksz_dwh_long.yaml.",
    "missing_column_2023-06-30.csv": "missing_column_2023-06-30.csv, row 1: missing required column 'Aantal' (value) for "
    "dialect ksz_dwh_long. Add the column (also accepted: 'Nombre'); header seen: "
    "'Indicator', 'Referentiedatum', 'NIS-code', 'Gemeente', 'Geslacht', 'Leeftijdsklasse', "
    "'Positie in het huishouden', 'Herkomst', 'Nationaliteit'.",
    "no_dialect.csv": "no_dialect.csv, row 1: no dialect fits the header (tried ksz_dwh_long, ksz_dwh_wide, "
    "podmi_monthly, swing). Header seen: 'a', 'b', 'c'. Check the column names (docs/dialects.md) "
    "or add a dialect in config/dialects/.",
    "ambiguous_2023-06-30.csv": "ambiguous_2023-06-30.csv, row 1: ambiguous export: the header fits dialects "
    "ksz_dwh_long, podmi_monthly equally. Header seen: 'Indicator', 'Referentiedatum', "
    "'NIS-code', 'Maand', 'Maatregel', 'Aantal'. Pass the dialect explicitly, or rename the "
    "file after its dialect.",
    "ragged_row_2023-06-30.csv": "ragged_row_2023-06-30.csv, row 4: 9 fields where the header has 10. Check the separator "
    "(';') and the quotes of this line.",
    "duplicate_column_2023-06-30.csv": "duplicate_column_2023-06-30.csv, row 1, column 'Aantal': two "
    "columns for value of dialect ksz_dwh_long: 'Aantal' (column 10) and 'Aantal' (column 11). "
    "Remove one of them (every cell once).",
    "wide_duplicate_period_2023-06-30.csv": "wide_duplicate_period_2023-06-30.csv, row 1, column "
    "'2018': two columns for period 2018 of dialect ksz_dwh_wide: '2018' (column 8) and '2018' "
    "(column 9). Remove one of them (every cell once).",
    "parquet_missing_column.parquet": "parquet_missing_column.parquet: missing required column 'value' (value) for dialect "
    "canonical_parquet. Add the column; header seen: 'indicator', 'period', 'geo', 'sex', "
    "'age_class', 'household_type', 'origin', 'nationality_group', 'ses_position', "
    "'family_category', 'source', 'vintage'.",
    "xlsx_no_header.xlsx": "xlsx_no_header.xlsx: no header row with the columns of dialect podmi_barometer_xlsx in "
    "the first 30 rows of sheet 'Barometer'. Check the column names (see docs/dialects.md).",
    "xlsx_data_after_table.xlsx": "xlsx_data_after_table.xlsx, row 8: a data row after the empty row that ends the table. "
    "Remove the empty row 7 (only footnotes may follow the table).",
    # codes
    "unknown_code_2023-06-30.csv": "unknown_code_2023-06-30.csv, row 4, column 'Geslacht': unknown sex code 'Mann'. Closest "
    "known codes: M (Man), F (Vrouw). Use a code or label of config/codes.yaml, or map it in "
    "value_maps.sex of config/dialects/ksz_dwh_long.yaml.",
    "xlsx_unknown_category.xlsx": "xlsx_unknown_category.xlsx, row 7, column 'Categorie': unknown family_category code "
    "'Gezinnen'. Closest known codes: COH (Samenwonende), FAM (Met gezin ten laste). Use a "
    "code or label of config/codes.yaml, or map it in value_maps.family_category of "
    "config/dialects/podmi_barometer_xlsx.yaml.",
    "unknown_indicator_2023-06-30.csv": "unknown_indicator_2023-06-30.csv, row 4, column 'Indicator': unknown indicator "
    "'Pensioentrekkers'. Did you mean: pension (Pensioentrekkenden)? Use an indicator id or "
    "label of config/indicators.yaml, or map it in indicator.values of "
    "config/dialects/ksz_dwh_long.yaml.",
    "unknown_nis_2023-06-30.csv": "unknown_nis_2023-06-30.csv, row 4, column 'NIS-code': unknown NIS code '11999'. Did you "
    "mean: Schilde (11039), Mortsel (11029), Brecht (11009)? Give the 5-digit NIS code of a "
    "municipality.",
    "unknown_municipality_2023-03-31.csv": "unknown_municipality_2023-03-31.csv, row 3, column 'OCMW': unknown municipality "
    "'Gentt'. Did you mean: Gent (44021), Genk (71016), Geetbets (24028), Jette (21010)? "
    "Give the NIS code, or the Dutch or French name.",
    "no_breakdown_2023-03-31.csv": "no_breakdown_2023-03-31.csv, row 3, column 'Categorie': indicator 'rmi' has no "
    "breakdown by family_category (value 'SGL'). Write 'Totaal' (total) for "
    "family_category, or add family_category to the indicator's dimensions in "
    "config/indicators.yaml.",
    # counts
    "negative_count_2023-06-30.csv": "negative_count_2023-06-30.csv, row 4, column 'Aantal': negative count '-3'. A number of "
    "persons is never negative; a masked cell is written as one of the dialect's masked "
    "tokens ('x').",
    "non_numeric_2023-06-30.csv": "non_numeric_2023-06-30.csv, row 4, column 'Aantal': not a count: '12,5'. Write a whole "
    f"number of persons ({SEPARATORS}), or a masked token ('x').",
    "xlsx_bad_count.xlsx": "xlsx_bad_count.xlsx, row 7, column '2018': not a count: 'abc'. Write a whole number of "
    f"persons ({SEPARATORS}), or a masked token ('<5', '-99997', '-99999', '-99998', "
    "'-99996').",
    "empty_count_2023-06-30.csv": "empty_count_2023-06-30.csv, row 4, column 'Aantal': empty count. Write 0, or a masked "
    "token ('x').",
    "masked_not_allowed_2023-06-30.csv": "masked_not_allowed_2023-06-30.csv, row 4, column 'Aantal': masked token '<5' is not "
    "allowed by dialect ksz_dwh_long. This dialect masks with: 'x'. Fix the file, or add the "
    "token to numbers.masked in config/dialects/ksz_dwh_long.yaml.",
    "swing_not_allowed_2023-03-31.csv": "swing_not_allowed_2023-03-31.csv, row 3, column 'Aantal': masked token '-99997' is not "
    "allowed by dialect podmi_monthly. This dialect masks with: '<5'. Fix the file, or add "
    "the token to numbers.masked in config/dialects/podmi_monthly.yaml.",
    "duplicate_cell_2023-06-30.csv": "duplicate_cell_2023-06-30.csv, row 5: duplicate cell with two different values: 1601 "
    "here and 1600 in row 3 (indicator pension, period 2021, geo 11001, sex M; vintage "
    "2023-06-30). Keep one of the two rows.",
    # periods
    "bad_period_2023-06-30.csv": "bad_period_2023-06-30.csv, row 4, column 'Referentiedatum': unparseable period "
    "'31/13/2021'. Write it as the dialect expects, e.g. 31/12/2021 or 2021-12-31.",
    "period_not_stock_date_2023-06-30.csv": "period_not_stock_date_2023-06-30.csv, row 4, column 'Referentiedatum': period "
    "'15/06/2021' does not fit indicator 'pension', which is yearly. A yearly stock is dated "
    "31/12 (or a quarter end), a monthly measure is a month.",
    "wide_bad_period_2023-06-30.csv": "wide_bad_period_2023-06-30.csv, row 1, column '20191': a period column whose header is "
    "not a period. Write the period as the dialect expects, e.g. 2021 or 31/12/2021.",
    # dates (issue 16)
    "future_period_2023-06-30.csv": "future_period_2023-06-30.csv, row 4, column 'Referentiedatum': period 2030 is after "
    "the extraction date 2023-06-30 of the file (the reference date 31 December 2030 is "
    "later). Correct the period or the extraction date (file name, title or --vintage).",
    "future_month_2023-03-31.csv": "future_month_2023-03-31.csv, row 3, column 'Maand': period 2023-05 is after the "
    "extraction date 2023-03-31 of the file (its start (1 May 2023) is later). Correct the "
    "period or the extraction date (file name, title or --vintage).",
    "wide_future_period_2023-06-30.csv": "wide_future_period_2023-06-30.csv, row 2, column '2030': period 2030 is after the "
    "extraction date 2023-06-30 of the file (the reference date 31 December 2030 is later). "
    "Correct the period or the extraction date (file name, title or --vintage).",
    "vintage_before_data_2019-06-30.csv": "vintage_before_data_2019-06-30.csv, row 2, column 'Referentiedatum': period 2021 "
    "is after the extraction date 2019-06-30 of the file (the reference date 31 December 2021 "
    "is later). Correct the period or the extraction date (file name, title or --vintage).",
    "future_vintage_2099-06-30.csv": "future_vintage_2099-06-30.csv: the extraction date 2099-06-30 is in the future. "
    "Correct the extraction date (a typo in the file name?), or pass --vintage YYYY-MM-DD.",
    "year_9999_2023-06-30.csv": "year_9999_2023-06-30.csv, row 4, column 'Referentiedatum': unparseable period "
    "'31/12/9999'. Write it as the dialect expects, e.g. 31/12/2021 or 2021-12-31.",
    "year_0001_2023-06-30.csv": "year_0001_2023-06-30.csv, row 4, column 'Referentiedatum': unparseable period "
    "'31/12/0001'. Write it as the dialect expects, e.g. 31/12/2021 or 2021-12-31.",
    # plausibility (issue 16): a count above the population of its own group
    "implausible_count_2023-06-30.csv": "implausible_count_2023-06-30.csv, row 4, column 'Aantal': count 1000000000 is more "
    "than the population of its group (Aartselaar (11001): about 14455 inhabitants around "
    "2020). Check the number (a unit or scaling error?) and the municipality code.",
    "implausible_group_2023-06-30.csv": "implausible_group_2023-06-30.csv, row 4, column 'Aantal': count 9000 is more than "
    "the population of its group (Aartselaar (11001), sex F, age class 65-79: about 1385 "
    "inhabitants around 2021). Check the number (a unit or scaling error?) and the "
    "municipality code.",
    "implausible_month_2023-03-31.csv": "implausible_month_2023-03-31.csv, row 3, column 'Aantal': count 23450 is more than "
    "the population of its group (Melle (44040), sex M: about 5754 inhabitants around 2022). "
    "Check the number (a unit or scaling error?) and the municipality code.",
    # old codes (issue 16): a code is valid only for periods when its municipality existed
    "old_code_2023-06-30.csv": "old_code_2023-06-30.csv, row 3, column 'NIS-code': NIS code 44011 is not valid in "
    "period 2021: Deinze (44011) is part of Deinze (44083) since 1 January 2019. Give the code "
    "of the municipality of that period (44083); a row under an old code beside one under its "
    "successor counts the same persons twice.",
    "old_name_2023-03-31.csv": "old_name_2023-03-31.csv, row 3, column 'OCMW': municipality 'Nevele' is not valid in "
    "period 2022-10: Nevele (44049) is part of Deinze (44083) since 1 January 2019. Give the "
    "code of the municipality of that period (44083); a row under an old code beside one under "
    "its successor counts the same persons twice.",
    "predecessor_duplicate_2023-06-30.csv": "predecessor_duplicate_2023-06-30.csv, row 3: duplicate cell under two codes of one "
    "municipality: 44083 here and 44011 in row 2 (indicator pension, period 2017): Deinze "
    "(44011) is part of Deinze (44083) since 1 January 2019, so its persons would be counted "
    "twice. Keep the rows of one of the two codes.",
    "successor_duplicate_2023-06-30.csv": "successor_duplicate_2023-06-30.csv, row 3: duplicate cell under two codes of one "
    "municipality: 44043 here and 44088 in row 2 (indicator pension, period 2021): Merelbeke "
    "(44043) is part of Merelbeke-Melle (44088) since 1 January 2025, so its persons would be "
    "counted twice. Keep the rows of one of the two codes.",
    # a file cut inside its last number (issue 16)
    "cut_number_2023-06-30.csv": "cut_number_2023-06-30.csv, row 4: the file ends inside this row, without the line end "
    "that ends every line of dialect ksz_dwh_long: it was cut, and its last value may be "
    "incomplete. Copy or export the file again.",
    "cut_month_2023-03-31.csv": "cut_month_2023-03-31.csv, row 3: the file ends inside this row, without the line end "
    "that ends every line of dialect podmi_monthly: it was cut, and its last value may be "
    "incomplete. Copy or export the file again.",
    # line ends, types (issue 16)
    "cr_only_2023-06-30.csv": "cr_only_2023-06-30.csv, row 1: the lines end with a carriage return only (CR, old "
    "Mac style), not LF or CR LF. Save the file with LF or CR LF line ends.",
    "stray_quote_2023-06-30.csv": 'stray_quote_2023-06-30.csv, row 2: a quote character (") inside '
    "a field that is not quoted, or a quoted field that is not closed. Quote the whole field "
    'and double a quote inside it ("").',
    "parquet_int_geo.parquet": "parquet_int_geo.parquet, column 'geo': column geo is stored as int64, not as text. "
    "Store it as text (string or dictionary of strings, a NIS code as '11001'), as "
    "ksz-reports ingest writes it.",
    # vintage
    "missing_vintage.csv": "missing_vintage.csv: missing vintage (extraction date): no date in the file name. Pass "
    "--vintage YYYY-MM-DD, or name the file ksz_dwh_long_<YYYY-MM-DD>.csv.",
    "bad_vintage_2023-02-30.csv": "bad_vintage_2023-02-30.csv: the date '2023-02-30' in the file name is not a date. Name "
    "the file <dialect>_<YYYY-MM-DD>.<ext>.",
    # encodings
    "wrong_encoding_2023-03-31.csv": "wrong_encoding_2023-03-31.csv, row 3, column 'OCMW': cannot decode 'Liège' as utf-8 "
    "(the encodings of dialect podmi_monthly). Save the file as UTF-8, or add its encoding "
    "to csv.encodings in config/dialects/podmi_monthly.yaml.",
    "mixed_encoding_2023-06-30.csv": "mixed_encoding_2023-06-30.csv, row 5, column 'Indicator': mixed text encodings: "
    "'Personen met leefloon of financiële hulp' is not utf-8 like other text of the file. "
    "Save the whole file in one encoding (UTF-8).",
    # what the file is
    "empty.csv": "empty.csv: empty file (0 bytes). Export the data again.",
    "blank_lines.csv": "blank_lines.csv: empty file (only blank lines). Export the data again.",
    "header_only_2023-06-30.csv": "header_only_2023-06-30.csv, row 1: no data rows below the header. Export the data "
    "again (the file holds only the header).",
    "not_really.xlsx": "not_really.xlsx: the extension says .xlsx but the content is text (a CSV file?). Give "
    "it the .csv extension.",
    "workbook.csv": "workbook.csv: the extension says .csv but the content is a ZIP archive (an Excel .xlsx "
    "workbook?). Give it the .xlsx extension.",
    "text.parquet": "text.parquet: the extension says .parquet but the content is text (a CSV file?). Give "
    "it the .csv extension.",
    "garbage.xlsx": "garbage.xlsx: damaged ZIP archive: not a readable .xlsx workbook. Export or download "
    "the workbook again.",
    "zip_without_workbook.xlsx": "zip_without_workbook.xlsx: a ZIP archive without an Excel workbook inside (no "
    "xl/workbook.xml). Give an .xlsx workbook saved by Excel or LibreOffice.",
    "not_a_zip.xlsx": "not_a_zip.xlsx: the extension says .xlsx but the content is binary data. "
    "Export the data again.",
    # damaged workbooks and a decompression bomb (issue 16)
    "xlsx_bad_sheet_xml.xlsx": "xlsx_bad_sheet_xml.xlsx: damaged workbook: sheet 'Barometer' cannot be "
    "read (ParseError: no element found: line 1, column 679). Export or download the workbook "
    "again.",
    "xlsx_missing_sheet.xlsx": "xlsx_missing_sheet.xlsx: damaged workbook: the part "
    "'xl/worksheets/sheet1.xml' of sheet 'Barometer' is missing. Export or download the "
    "workbook again.",
    "xlsx_bomb.xlsx": "xlsx_bomb.xlsx: member 'xl/worksheets/sheet1.xml' of the workbook unpacks to "
    "20,972,878 bytes, 997 times its packed size (at most 100 times: a decompression bomb?). "
    "Not read: a workbook's sheets compress about 5 to 20 times. Export the workbook again, or "
    "raise ingest.xlsx_max_ratio in config/settings.yaml.",
    "truncated.parquet": "truncated.parquet: truncated Parquet file (no PAR1 footer). Copy or export the file "
    "again.",
    "unsupported.json": "unsupported.json: unsupported file type '.json'. Exports are read from .csv, .parquet, "
    ".pq, .tsv, .txt, .xlsm, .xlsx.",
}

#: Problems that need several files: (files, message).
MULTI: dict[str, tuple[list[str], str]] = {
    "cross_file_duplicate": (
        ["cross_duplicate_a_2023-06-30.csv", "cross_duplicate_b_2023-06-30.csv"],
        "cross_duplicate_b_2023-06-30.csv, row 2: duplicate cell with two different values: "
        "1599 here and 1600 in cross_duplicate_a_2023-06-30.csv row 3 (indicator pension, period "
        "2021, geo 11001, sex M; vintage 2023-06-30). Keep one of the two files, or give them "
        "their own vintages.",
    ),
}


@pytest.fixture(scope="module")
def good_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A previous good dataset, ingested once; each test works on a copy."""
    out = tmp_path_factory.mktemp("good") / "data"
    ingest([GOOD], out)
    return out


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _check_ingest(files: list[str], message: str, good_dataset: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    out = work / "data"
    shutil.copytree(good_dataset, out)
    before = _snapshot(work)
    with pytest.raises(InputError) as info:
        ingest(files, out)
    assert str(info.value) == message
    assert _snapshot(work) == before  # the previous dataset byte-identical, nothing else written


def test_corpus_size_and_coverage() -> None:
    """≥ 25 bad files, each one in the table (no untested file, no missing file)."""
    files = {p.name for p in CORPUS.iterdir() if p.is_file() and p.suffix != ".py"}
    covered = set(CASES) | {f for fs, _msg in MULTI.values() for f in fs}
    assert len(files) >= 25
    assert files == covered


def test_text_corpus_matches_generator() -> None:
    """The committed text files are what make_corpus.py writes (no silent drift)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, data in module.TEXT.items():
        assert (CORPUS / name).read_bytes() == data, name


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(
    name: str, good_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = CASES[name]
    monkeypatch.chdir(CORPUS)
    # validate reports it (and only it), without raising
    report = validate([name])
    assert not report.ok
    assert [p["text"] for p in report.problems] == [message]
    assert report.files[0].problems[0]["text"] == message
    # read_export raises it
    with pytest.raises(InputError) as info:
        read_export(name)
    assert str(info.value) == message
    assert info.value.file == name
    # ingest raises it and leaves the previous dataset as it was
    _check_ingest([name], message, good_dataset, tmp_path)


@pytest.mark.parametrize("case", sorted(MULTI))
def test_bad_input_across_files(
    case: str, good_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, message = MULTI[case]
    monkeypatch.chdir(CORPUS)
    for f in files:  # each file alone is fine
        assert validate([f]).ok
    report = validate(files)
    assert [p["text"] for p in report.problems] == [message]
    _check_ingest(files, message, good_dataset, tmp_path)


#: Hostile files made by the test (too big, or names git should not hold): name → (bytes, message).
LONG_FIELD = GOOD.read_bytes().replace(b"Aartselaar", b"A" * (200 << 10), 1)
GENERATED: dict[str, tuple[bytes, str]] = {
    "long_field_2023-06-30.csv": (
        LONG_FIELD,
        "long_field_2023-06-30.csv, row 2, column 'Gemeente': a field of 204,800 bytes, more than "
        "the 128 KiB a field of an export may hold. Check the quotes of this line (an unclosed "
        "quote swallows the lines after it), or export the file again.",
    ),
    "new\nline\x1b[31m_2023-06-30.csv": (
        b"a;b\n1;2\n",
        "new\\nline\\x1b[31m_2023-06-30.csv, row 1: no dialect fits the header (tried "
        "ksz_dwh_long, ksz_dwh_wide, podmi_monthly, swing). Header seen: 'a', 'b'. Check the column "
        "names (docs/dialects.md) or add a dialect in config/dialects/.",
    ),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_bad_input(
    name: str, good_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Like the corpus, for files written here; a file name is printed escaped (one line)."""
    data, message = GENERATED[name]
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / name).write_bytes(data)
    monkeypatch.chdir(folder)
    report = validate([name])
    assert [p["text"] for p in report.problems] == [message]
    assert "\n" not in message and "\x1b" not in message
    with pytest.raises(InputError) as info:
        read_export(name)
    assert str(info.value) == message
    _check_ingest([name], message, good_dataset, tmp_path)


def test_validate_goes_on_after_a_bad_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """validate never raises for data: one problem per bad file, good files still counted."""
    monkeypatch.chdir(CORPUS)
    report = validate(["empty.csv", str(GOOD), "unknown_nis_2023-06-30.csv"])
    assert [p["text"] for p in report.problems] == [
        CASES["empty.csv"],
        CASES["unknown_nis_2023-06-30.csv"],
    ]
    assert [f.ok for f in report.files] == [False, True, False]
    assert report.files[1].cells == 9
    codes = [p["code"] for p in report.problems]
    assert codes == ["empty-file", "unknown-nis"]


def test_xlsx_limits_are_settings(tmp_path: Path) -> None:
    """ingest.xlsx_max_bytes / xlsx_max_ratio of config/settings.yaml bound a workbook before a
    member is read (a good workbook over a small size bound is refused in one line); they are
    validated like the other settings."""
    from ksz_reports.core.config import load_config
    from ksz_reports.core.errors import ConfigError

    workbook = Path(__file__).parent / "data" / "exports" / "podmi_barometer.xlsx"
    (tmp_path / "settings.yaml").write_text("ingest:\n  xlsx_max_bytes: 10000\n", "utf-8")
    small = load_config(tmp_path)
    with pytest.raises(InputError) as info:
        read_export(workbook, config=small)
    assert str(info.value).startswith(f"{workbook}: the workbook unpacks to 18,703 bytes")
    assert "more than the 10,000 allowed" in str(info.value)
    assert "\n" not in str(info.value)
    (tmp_path / "settings.yaml").write_text("ingest:\n  xlsx_max_ratio: 1\n", "utf-8")
    with pytest.raises(ConfigError, match="ingest.xlsx_max_ratio"):
        load_config(tmp_path)


def test_a_long_bad_value_is_never_echoed_whole(tmp_path: Path) -> None:
    """An 8 MiB code in a Parquet file (no field limit there) and a 100 KiB one in a CSV file
    (under the 128 KiB field limit): the message echoes 80 characters and an ellipsis."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ksz_reports.core.errors import MAX_ECHO

    table = pq.read_table(CORPUS.parent / "data" / "exports" / "canonical_2023-06-30.parquet")
    geo = table.schema.get_field_index("geo")
    big = "1" + "9" * (8 << 20)
    codes = pa.array([big] * table.num_rows, pa.string()).dictionary_encode()
    pq.write_table(table.set_column(geo, table.schema.field(geo), codes), tmp_path / "big.parquet")
    long_csv = tmp_path / "long_code_2023-06-30.csv"
    long_csv.write_bytes(GOOD.read_bytes().replace(b";Man;", b";" + b"M" * (100 << 10) + b";", 1))
    for path in (tmp_path / "big.parquet", long_csv):
        with pytest.raises(InputError) as info:
            read_export(path)
        text = str(info.value)
        assert len(text) < 600, text[:300]
        assert "…'" in text and "\n" not in text
        echoed = text.split("'")[3] if path.suffix == ".csv" else text.split("code '")[1]
        assert len(echoed.split("'")[0]) == MAX_ECHO
