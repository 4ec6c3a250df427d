"""Import of Statbel's TF_SOC_POP_STRUCT_<year> population file (ksz_reports.geo.statbel).

Complete files are generated into tmp_path by :func:`make_statbel` in Statbel's exact layout
(synthetic counts); ``tests/data/statbel/`` holds a small committed sample of the layout.
"""

from __future__ import annotations

import functools
import zipfile
from pathlib import Path

import pytest

from ksz_reports import geo as geodata
from ksz_reports.core.errors import InputError, NotFoundError
from ksz_reports.geo.statbel import ImportResult, import_statbel

SAMPLE = Path(__file__).parent / "data" / "statbel" / "TF_SOC_POP_STRUCT_2023_sample.txt"
#: Statbel's header of TF_SOC_POP_STRUCT_<year>.txt, as published.
HEADER_LINE = (
    "CD_REFNIS|TX_DESCR_NL|TX_DESCR_FR|CD_DSTR_REFNIS|TX_ADM_DSTR_DESCR_NL|TX_ADM_DSTR_DESCR_FR|"
    "CD_PROV_REFNIS|TX_PROV_DESCR_NL|TX_PROV_DESCR_FR|CD_RGN_REFNIS|TX_RGN_DESCR_NL|"
    "TX_RGN_DESCR_FR|CD_SEX|CD_NATLTY|TX_NATLTY_NL|TX_NATLTY_FR|CD_CIV_STS|TX_CIV_STS_NL|"
    "TX_CIV_STS_FR|CD_AGE|MS_POPULATION"
)
HEADER = HEADER_LINE.split("|")
AGES = (5, 17, 18, 40, 64, 65, 80, 101)  # both sides of the 18-64 and 65+ edges
NATIONALITIES = (("BEL", "Belgen", "Belges"), ("ETR", "Vreemdelingen", "Étrangers"))


def count_for(nis: str, sex: str, nat: str, age: int) -> int:
    """A deterministic synthetic count (0 rows are left out, as Statbel does)."""
    return (int(nis) * 7 + age * 3 + (sex == "F") * 5 + (nat == "ETR") * 11) % 41


@functools.cache
def statbel_rows(year: int) -> tuple[dict, ...]:
    """Synthetic rows for every municipality of 1 January ``year`` (cached; do not mutate)."""
    geo = geodata.geography(year)
    rows = []
    for m in geo.municipalities():
        arr, prov, reg = m.arrondissement, m.province or "", m.region
        place = {
            "CD_REFNIS": m.nis,
            "TX_DESCR_NL": m.name_nl,
            "TX_DESCR_FR": m.name_fr,
            "CD_DSTR_REFNIS": arr,
            "TX_ADM_DSTR_DESCR_NL": geo.name(arr, "nl"),
            "TX_ADM_DSTR_DESCR_FR": geo.name(arr, "fr"),
            "CD_PROV_REFNIS": prov,
            "TX_PROV_DESCR_NL": geo.name(prov, "nl") if prov else "",
            "TX_PROV_DESCR_FR": geo.name(prov, "fr") if prov else "",
            "CD_RGN_REFNIS": reg.lstrip("0"),
            "TX_RGN_DESCR_NL": geo.name(reg, "nl"),
            "TX_RGN_DESCR_FR": geo.name(reg, "fr"),
            "CD_CIV_STS": "1",
            "TX_CIV_STS_NL": "Ongehuwd",
            "TX_CIV_STS_FR": "Célibataire",
            "DT_REFDAT": f"01/01/{year}",
        }
        for sex in ("F", "M"):
            for nat, nat_nl, nat_fr in NATIONALITIES:
                for age in AGES:
                    n = count_for(m.nis, sex, nat, age)
                    if n:
                        rows.append(
                            {
                                **place,
                                "CD_SEX": sex,
                                "CD_NATLTY": nat,
                                "TX_NATLTY_NL": nat_nl,
                                "TX_NATLTY_FR": nat_fr,
                                "CD_AGE": str(age),
                                "MS_POPULATION": str(n),
                            }
                        )
    return tuple(rows)


@functools.cache
def statbel_lines(year: int, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The text lines (header first) of :func:`statbel_rows` with these columns (cached)."""
    rows = statbel_rows(year)
    return ("|".join(columns), *("|".join(row[c.upper()] for c in columns) for row in rows))


def make_statbel(
    folder: Path,
    year: int = 2023,
    *,
    kind: str = "zip",
    encoding: str = "utf-8",
    columns: list[str] | None = None,
    edit=None,
    name: str | None = None,
) -> tuple[Path, tuple[dict, ...]]:
    """Write a complete TF_SOC_POP_STRUCT_<year> (.zip or .txt) for the municipalities of
    1 January ``year``, in Statbel's layout.

    ``columns``: the header to write (names and order); ``edit(lines)`` may change the text lines
    (``lines[0]`` is the header = file row 1) before writing. Returns the path and the data rows.
    """
    rows = statbel_rows(year)
    lines = list(statbel_lines(year, tuple(columns or HEADER)))
    if edit is not None:
        edit(lines)
    text = ("\n".join(lines) + "\n").encode(encoding)
    member = f"TF_SOC_POP_STRUCT_{year}.txt"
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "zip":
        path = folder / (name or f"TF_SOC_POP_STRUCT_{year}.zip")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(member, text)
    else:
        path = folder / (name or member)
        path.write_bytes(text)
    return path, rows


def expected(rows: tuple[dict, ...], nis=None, sex=None, lo=0, hi=999) -> int:
    """The sum of the generated counts for municipalities ``nis``, ``sex`` and ages lo..hi."""
    return sum(
        int(r["MS_POPULATION"])
        for r in rows
        if (nis is None or r["CD_REFNIS"] in nis)
        and (sex is None or r["CD_SEX"] == sex)
        and lo <= int(r["CD_AGE"]) <= hi
    )


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """Every test gets its own empty user data folder (the population cache is per folder)."""
    folder = tmp_path / "home"
    monkeypatch.setenv("KSZ_REPORTS_HOME", str(folder))
    yield folder
    geodata.reload_population()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One good 2023 zip, shared (read-only) by several tests."""
    return make_statbel(tmp_path_factory.mktemp("statbel"), 2023)


# --------------------------------------------------------------------------------------------
# good files


def test_import_zip_then_population(files, home):
    path, rows = files
    assert 2023 not in geodata.population_years()  # cache filled before the import
    result = import_statbel(path)
    assert isinstance(result, ImportResult)
    assert result.year == 2023
    assert result.municipalities == 581
    assert result.total == expected(rows)
    assert result.path == home / "population" / "population_2023.parquet"
    assert result.path.is_file()
    assert result.source == f"{path}/TF_SOC_POP_STRUCT_2023.txt"
    assert result.encoding == "utf-8"
    assert result.rows == len(rows)
    assert (result.geography, result.stored_on, result.replaced) == (
        "2019–2024",
        "2019–2024",
        False,
    )
    assert result.summary().startswith("Population on 1 January 2023: 581 municipalities, Belgium ")
    # the importer reloaded the reference: 2023 is there, aggregates are sums of the file
    assert 2023 in geodata.population_years()
    assert geodata.population_sources()[2023] == str(result.path)
    assert geodata.population(2023, "44021") == expected(rows, {"44021"})
    assert geodata.population(2023, "01000") == expected(rows) == result.total
    flemish = set(geodata.members("02000", at=2019))
    assert geodata.population(2023, "02000") == expected(rows, flemish)
    assert geodata.population(2023, "40000", "M") == expected(
        rows, set(geodata.members("40000", at=2019)), "M"
    )
    # a later import of the same year replaces it
    assert import_statbel(path).replaced is True


def test_age_classes_are_sums_of_the_file(files):
    path, rows = files
    import_statbel(path)
    gent = {"44021"}
    assert geodata.population(2023, "44021", "F", "18-64") == expected(rows, gent, "F", 18, 64)
    assert geodata.population(2023, "44021", "total", "65+") == expected(rows, gent, None, 65)
    assert geodata.population(2023, "44021", "M", "0-17") == expected(rows, gent, "M", 0, 17)
    assert geodata.population(2023, "44021", "M", "80+") == expected(rows, gent, "M", 80)
    assert geodata.population_bands(2023) == (
        "0-17", "18-24", "25-34", "35-44", "45-54", "55-59", "60-64", "65-79", "80+",
    )  # fmt: skip
    table = geodata.population_table(
        years=[2023], sexes=("M",), age_classes=geodata.population_bands(2023)
    )
    assert table["population"].sum() == expected(rows, None, "M")
    with pytest.raises(geodata.AgeClassError, match="'18-60' cannot be built exactly"):
        geodata.population(2023, "44021", age_class="18-60")


def test_txt_cp1252_with_columns_shuffled_lowercase_and_refdat(tmp_path):
    columns = [c.lower() for c in reversed(HEADER)] + ["dt_refdat"]
    path, rows = make_statbel(tmp_path, 2023, kind="txt", encoding="cp1252", columns=columns)
    result = import_statbel(path)
    assert result.encoding == "cp1252"
    assert result.total == expected(rows)
    assert geodata.population(2023, "62063") == expected(rows, {"62063"})  # Liège


def test_utf8_bom_and_munty_column_name(tmp_path):
    def rename(lines):  # some vintages call the municipality code CD_MUNTY_REFNIS
        lines[0] = lines[0].replace("CD_REFNIS|", "CD_MUNTY_REFNIS|", 1)

    path, rows = make_statbel(tmp_path, 2023, kind="txt", encoding="utf-8-sig", edit=rename)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfCD_MUNTY_REFNIS|")
    result = import_statbel(path)
    assert (result.encoding, result.total) == ("utf-8", expected(rows))


def test_year_from_refdat_when_the_name_has_none(tmp_path):
    path, rows = make_statbel(
        tmp_path, 2023, kind="txt", columns=[*HEADER, "DT_REFDAT"], name="population.txt"
    )
    assert import_statbel(path).year == 2023
    with pytest.raises(InputError) as err:
        import_statbel(path, year=2024)
    assert (
        str(err.value)
        == f"{path}, row 2, column 'DT_REFDAT': reference date '01/01/2023' is not 1 January 2024."
    )
    no_year = tmp_path / "pop.txt"
    no_year.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InputError) as err:
        import_statbel(no_year)
    assert str(err.value) == (
        f"{no_year}: cannot tell the year: the name has no TF_SOC_POP_STRUCT_<year> and there is "
        "no DT_REFDAT column. Pass the year explicitly."
    )


def test_2025_file_is_stored_on_the_565(tmp_path):
    path, rows = make_statbel(tmp_path, 2025)
    result = import_statbel(path)
    assert result.municipalities == 565
    assert (result.geography, result.stored_on) == ("2025–", "2025–")
    assert geodata.population(2025, "46030") == expected(rows, {"46030"})
    assert geodata.population(2025, "11002") == expected(rows, {"11002"})  # incl. Borsbeek
    assert geodata.population(2025, "40000") == expected(
        rows, set(geodata.members("40000", at=2025))
    )
    assert geodata.population(2025, "01000") == expected(rows)
    with pytest.raises(NotFoundError, match="11056 is not a code of the geography"):
        geodata.population(2025, "11056")
    figure = geodata.population_with_fallback(2026, "46030")
    assert (figure.year, figure.population, figure.is_fallback) == (
        2025,
        expected(rows, {"46030"}),
        True,
    )


def test_file_before_2019_is_summed_onto_the_581(tmp_path):
    path, rows = make_statbel(tmp_path, 2015)
    result = import_statbel(path)
    assert (result.municipalities, result.geography, result.stored_on) == (
        589,
        "1983–2018",
        "2019–2024",
    )
    assert geodata.population(2015, "12041") == expected(rows, {"12030", "12034"})
    assert geodata.population(2015, "01000") == expected(rows)  # replaces the shipped 2015
    assert geodata.population_sources()[2015] == str(result.path)
    assert geodata.population(2014, "01000") == 11150516  # other years stay shipped


def test_imported_year_overrides_the_shipped_one(tmp_path):
    assert geodata.population(2022, "01000") == 11584008
    path, rows = make_statbel(tmp_path, 2022)
    import_statbel(path)
    assert geodata.population(2022, "01000") == expected(rows)


def test_fallback_to_the_nearest_earlier_year(files):
    with pytest.raises(
        geodata.PopulationNotAvailableError, match="No population for 1 January 2024"
    ):
        geodata.population(2024, "44021")
    import_statbel(files[0])
    figure = geodata.population_with_fallback(2024, "44021", "F", "18-64")
    assert (figure.year, figure.requested_year, figure.is_fallback) == (2023, 2024, True)
    assert figure.population == geodata.population(2023, "44021", "F", "18-64")
    exact = geodata.population_with_fallback(2023, "44021")
    assert (exact.year, exact.is_fallback) == (2023, False)
    # never a later year
    with pytest.raises(geodata.PopulationNotAvailableError, match="available: 2009–2023"):
        geodata.population_with_fallback(2008, "44021")


# --------------------------------------------------------------------------------------------
# bad files: one exact message, nothing written


def _replace_field(lines: list[str], row: int, column: str, value: str) -> None:
    """Set ``column`` of file row ``row`` (header = row 1)."""
    fields = lines[row - 1].split("|")
    fields[HEADER.index(column)] = value
    lines[row - 1] = "|".join(fields)


def _fails(path: Path, home: Path, **kwargs) -> str:
    with pytest.raises(InputError) as err:
        import_statbel(path, **kwargs)
    assert not (home / "population").exists()  # nothing written, not even the folder
    return str(err.value)


def test_unknown_nis_names_file_row_and_column(tmp_path, home):
    path, _ = make_statbel(
        tmp_path, 2023, edit=lambda ls: _replace_field(ls, 5, "CD_REFNIS", "99999")
    )
    assert _fails(path, home) == (
        f"{path}/TF_SOC_POP_STRUCT_2023.txt, row 5, column 'CD_REFNIS': unknown municipality "
        "code '99999': not one of the 581 municipalities on 1 January 2023. CD_REFNIS must be "
        "the 5-digit NIS code of a municipality."
    )


def test_code_of_another_geography_says_which(tmp_path, home):
    path, _ = make_statbel(
        tmp_path, 2025, kind="txt", edit=lambda ls: _replace_field(ls, 3, "CD_REFNIS", "11007")
    )
    assert _fails(path, home) == (
        f"{path}, row 3, column 'CD_REFNIS': unknown municipality code '11007': not one of the "
        "565 municipalities on 1 January 2025. 11007 is Borsbeek, a municipality of 2019–2024: "
        "check the year (this file is read on the geography of 2025–)."
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-3", "negative population count '-3'"),
        ("abc", "population count 'abc' is not a whole number"),
        ("", "population count '' is not a whole number"),
        ("2.5", "population count '2.5' is not a whole number"),
    ],
)
def test_bad_count(tmp_path, home, value, message):
    path, _ = make_statbel(
        tmp_path, 2023, kind="txt", edit=lambda ls: _replace_field(ls, 7, "MS_POPULATION", value)
    )
    assert _fails(path, home) == f"{path}, row 7, column 'MS_POPULATION': {message}."


def test_bad_sex_and_age(tmp_path, home):
    path, _ = make_statbel(
        tmp_path, 2023, kind="txt", edit=lambda ls: _replace_field(ls, 4, "CD_SEX", "X")
    )
    assert (
        _fails(path, home) == f"{path}, row 4, column 'CD_SEX': unknown sex 'X' (expected M or F)."
    )
    path, _ = make_statbel(
        tmp_path, 2023, kind="txt", edit=lambda ls: _replace_field(ls, 9, "CD_AGE", "jong")
    )
    assert (
        _fails(path, home)
        == f"{path}, row 9, column 'CD_AGE': age 'jong' is not a whole number of years."
    )


def test_first_problem_in_file_order_and_blank_lines_counted(tmp_path, home):
    def edit(lines):
        _replace_field(lines, 8, "MS_POPULATION", "-1")
        _replace_field(lines, 20, "CD_REFNIS", "99999")
        lines.insert(3, "")  # an empty line 4 and a line 6 of spaces: the bad count moves to 10
        lines.insert(5, "   ")

    path, _ = make_statbel(tmp_path, 2023, kind="txt", edit=edit)
    assert (
        _fails(path, home)
        == f"{path}, row 10, column 'MS_POPULATION': negative population count '-1'."
    )


def test_missing_column(tmp_path, home):
    columns = [c for c in HEADER if c != "CD_AGE"]
    path, _ = make_statbel(tmp_path, 2023, kind="txt", columns=columns)
    assert _fails(path, home) == (
        f"{path}, row 1, column 'CD_AGE': required column is missing: CD_AGE. The header has: "
        + ", ".join(columns)
        + "."
    )


def test_not_a_zip_although_named_zip(tmp_path, home):
    fake = tmp_path / "TF_SOC_POP_STRUCT_2023.zip"
    fake.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    assert _fails(fake, home) == (
        f"{fake}: not a zip archive although its name ends in .zip. Download the file again "
        "from Statbel (statbel.fgov.be, open data)."
    )


def test_zip_named_txt(files, tmp_path, home):
    disguised = tmp_path / "TF_SOC_POP_STRUCT_2023.txt"
    disguised.write_bytes(files[0].read_bytes())
    assert _fails(disguised, home) == (
        f"{disguised}: a zip archive although its name ends in .txt. Rename it to .zip."
    )


def test_missing_municipalities(tmp_path, home):
    def drop(lines):
        lines[1:] = [ln for ln in lines[1:] if not ln.startswith(("11001|", "11002|", "44021|"))]

    path, _ = make_statbel(tmp_path, 2023, kind="txt", edit=drop)
    assert _fails(path, home) == (
        f"{path}, column 'CD_REFNIS': 3 of the 581 municipalities on 1 January 2023 are "
        "missing: Aartselaar (11001), Antwerpen (11002), Gent (44021). Import the complete "
        "Statbel file."
    )


def test_committed_sample_has_the_layout_but_not_all_municipalities(home):
    assert SAMPLE.read_text(encoding="utf-8").splitlines()[0] == HEADER_LINE
    assert _fails(SAMPLE, home) == (
        f"{SAMPLE}, column 'CD_REFNIS': 576 of the 581 municipalities on 1 January 2023 are "
        "missing: Antwerpen (11002), Boechout (11004), Boom (11005), Borsbeek (11007), "
        "Brasschaat (11008), …. Import the complete Statbel file."
    )


def test_duplicate_row(tmp_path, home):
    path, _ = make_statbel(tmp_path, 2023, kind="txt", edit=lambda ls: ls.insert(6, ls[2]))
    assert _fails(path, home) == (
        f"{path}, row 7, column 'CD_REFNIS': duplicate row: same municipality, sex, "
        "nationality, civil status and age as row 3."
    )


def test_too_many_fields(tmp_path, home):
    path, _ = make_statbel(
        tmp_path, 2023, kind="txt", edit=lambda ls: ls.__setitem__(11, ls[11] + "|x")
    )
    assert _fails(path, home) == f"{path}, row 12: 22 fields where the header has 21."


def test_too_few_fields(tmp_path, home):
    path, _ = make_statbel(
        tmp_path, 2023, kind="txt", edit=lambda ls: ls.__setitem__(30, ls[30].rsplit("|", 2)[0])
    )
    assert _fails(path, home) == f"{path}, row 31: 19 fields where the header has 21."


def test_windows_line_ends(tmp_path):
    path, rows = make_statbel(tmp_path, 2023, kind="txt")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert import_statbel(path).total == expected(rows)


def test_a_failed_import_leaves_the_previous_one_untouched(files, tmp_path, home):
    first = import_statbel(files[0])
    before = first.path.read_bytes()
    path, _ = make_statbel(
        tmp_path, 2023, edit=lambda ls: _replace_field(ls, 2, "MS_POPULATION", "-5")
    )
    with pytest.raises(InputError):
        import_statbel(path)
    assert first.path.read_bytes() == before
    assert sorted(p.name for p in first.path.parent.iterdir()) == ["population_2023.parquet"]


def test_dest_folder(files, tmp_path, home):
    result = import_statbel(files[0], dest=tmp_path / "elsewhere")
    assert result.path == tmp_path / "elsewhere" / "population_2023.parquet"
    assert result.path.is_file()
    assert not (home / "population").exists()
