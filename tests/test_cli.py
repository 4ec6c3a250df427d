"""The command line (README "Command line"): outputs, errors and exit codes.

In the style of sqlite-utils' tests: whole outputs are compared where practical, and the JSON a
command prints is the library's result. Three ways in:

- :func:`invoke`: click's ``CliRunner`` on ``ksz_reports.cli.cli`` (fast, in process; a
  ``KszError`` is *not* turned into ``Error: …`` there, ``main()`` does that);
- :func:`run_main`: ``ksz_reports.cli.main(argv)`` in process (the ``Error: …`` line and the exit
  code, as the installed command gives them);
- :func:`run`: a real subprocess of ``.venv/bin/ksz-reports`` or ``python -m ksz_reports.cli``.

Every dataset here is tiny (a few rows written by the test), so ``compare`` takes seconds; the
full sample is only used by ``tests/test_acceptance.py``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from clirun import run_main

from ksz_reports import __version__
from ksz_reports import geo as geodata
from ksz_reports.api import open as open_data
from ksz_reports.cli import cli
from ksz_reports.core.tables import frame_records
from ksz_reports.ingest.dataset import ingest
from ksz_reports.ingest.validate import validate

TESTS = Path(__file__).parent
CORPUS = TESTS / "bad_inputs"
GOOD = TESTS / "data" / "exports" / "ksz_dwh_long_2023-06-30.csv"
BIN = Path(sys.executable).with_name("ksz-reports")

BAD = "unknown_nis_2023-06-30.csv"
BAD_MESSAGE = (
    "unknown_nis_2023-06-30.csv, row 4, column 'NIS-code': unknown NIS code '11999'. Did you "
    "mean: Schilde (11039), Mortsel (11029), Brecht (11009)? Give the 5-digit NIS code of a "
    "municipality."
)
EMPTY_MESSAGE = "empty.csv: empty file (0 bytes). Export the data again."

KSZ_LONG_HEADER = (
    "Indicator;Referentiedatum;NIS-code;Gemeente;Geslacht;Leeftijdsklasse;"
    "Positie in het huishouden;Herkomst;Nationaliteit;Aantal"
)
CELLS_HEADER = (
    "table,indicator,period,geo,sex,age_class,household_type,origin,nationality_group,"
    "ses_position,family_category,kind,value,flag"
)


def invoke(*args: str, **kwargs) -> Result:
    """``ksz-reports ARGS`` through click's test runner (stdout and stderr kept apart)."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, **kwargs)


def run(*args: str, module: bool = False, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """A real process: the installed ``ksz-reports`` script, or ``python -m ksz_reports.cli``."""
    if module:
        command = [sys.executable, "-m", "ksz_reports.cli", *args]
    else:
        if not BIN.exists():
            pytest.skip(f"{BIN} is not installed (pip install -e .)")
        command = [str(BIN), *args]
    env = {k: v for k, v in os.environ.items() if k != "KSZ_REPORTS_CONFIG"}
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def ksz_long(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """A ``ksz_dwh_long`` export of totals: rows of (indicator label, 31/12/YYYY, NIS, count)."""
    lines = [KSZ_LONG_HEADER]
    for indicator, date, nis, count in rows:
        name = geodata.lookup(nis).name_nl
        lines.append(f"{indicator};{date};{nis};{name};" + "Totaal;" * 5 + count)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cells_csv(out: Path, nis: str, rows: list[tuple[str, str, str]]) -> Path:
    """``OUT/NIS/cells.csv`` of pension counts 2021 by sex: rows of (sex, value, flag)."""
    lines = [CELLS_HEADER]
    for sex, value, flag in rows:
        lines.append(f"sex,pension,2021,{nis},{sex}," + "total," * 6 + f"count,{value},{flag}")
    path = out / nis / "cells.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def compare_pension(data: Path, *options: str) -> Result:
    """``ksz-reports compare --data DATA --indicator pension OPTIONS...``."""
    return invoke("compare", "--data", str(data), "--indicator", "pension", *options)


def _without_seconds(text: str) -> str:
    return re.sub(r"\d+\.\d+ s\b|seconds: \d+\.\d+", "<t>", text)


# --------------------------------------------------------------------------------------------
# global options


def test_version() -> None:
    result = invoke("--version")
    assert (result.exit_code, result.output) == (0, f"ksz-reports, version {__version__}\n")


def test_version_and_unknown_command_in_a_real_process() -> None:
    done = run("--version")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        f"ksz-reports, version {__version__}\n",
        "",
    )
    done = run("frobnicate")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "Usage: ksz-reports [OPTIONS] COMMAND [ARGS]...\n"
        "Try 'ksz-reports --help' for help.\n"
        "\n"
        "Error: No such command 'frobnicate'.\n"
    )


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run_main(["frobnicate"], capsys)
    assert (code, out) == (2, "")
    assert err.endswith("Error: No such command 'frobnicate'.\n")
    code, _out, err = run_main(["validate"], capsys)
    assert code == 2
    assert err.endswith("Error: Missing argument 'EXPORTS...'.\n")
    code, _out, err = run_main(["validate", str(tmp_path / "nope.csv")], capsys)
    assert code == 2
    assert "does not exist" in err
    code, _out, err = run_main(["compare", "--data", str(tmp_path), "--indicator"], capsys)
    assert code == 2
    assert err.endswith("Error: Option '--indicator' requires an argument.\n")


def test_invalid_configuration_is_one_error_line(tmp_path: Path, capsys, monkeypatch) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.yaml").write_text("cutoffs: {min_coverage: 2}\n", encoding="utf-8")
    expected = (
        f"Error: {config / 'settings.yaml'}, key 'cutoffs.min_coverage': Input should be less "
        "than or equal to 1.\n"
    )
    code, out, err = run_main(["--config", str(config), "validate", str(GOOD)], capsys)
    assert (code, out, err) == (2, "", expected)
    monkeypatch.setenv("KSZ_REPORTS_CONFIG", str(config))  # the same through the environment
    assert run_main(["validate", str(GOOD)], capsys) == (2, "", expected)
    missing = tmp_path / "nope"
    code, out, err = run_main(["--config", str(missing), "validate", str(GOOD)], capsys)
    assert (code, err) == (2, f"Error: {missing}: configuration folder does not exist.\n")


# --------------------------------------------------------------------------------------------
# validate


def test_validate_bad_export_prints_the_problem_and_exits_2(monkeypatch) -> None:
    monkeypatch.chdir(CORPUS)
    result = invoke("validate", BAD)
    assert result.exit_code == 2
    assert result.stdout == f"FAILED {BAD} (dialect ksz_dwh_long)\n{BAD_MESSAGE}\n"
    assert result.stderr == ""


def test_validate_reports_every_file(monkeypatch) -> None:
    monkeypatch.chdir(CORPUS)
    good = os.path.relpath(GOOD, CORPUS)
    result = invoke("validate", good, "empty.csv", BAD)
    assert result.exit_code == 2
    assert result.stdout == (
        f"OK {good}: dialect ksz_dwh_long, 9 rows, 9 cells (1 masked), indicators pension, "
        "work_incapacity_primary, social_assistance, periods 2020…2021, vintage 2023-06-30\n"
        "FAILED empty.csv\n"
        f"FAILED {BAD} (dialect ksz_dwh_long)\n"
        f"{EMPTY_MESSAGE}\n"
        f"{BAD_MESSAGE}\n"
    )


def test_validate_good_export_exits_0() -> None:
    result = invoke("validate", str(GOOD))
    assert result.exit_code == 0
    assert result.stdout.startswith(f"OK {GOOD}: dialect ksz_dwh_long, 9 rows, 9 cells")
    assert len(result.stdout.splitlines()) == 1


@pytest.mark.parametrize(
    "files",
    [[BAD], ["empty.csv"], [str(GOOD)], [str(GOOD), "empty.csv", BAD]],
    ids=["unknown-nis", "empty", "good", "mixed"],
)
def test_validate_json_is_the_library_report(files: list[str], monkeypatch) -> None:
    monkeypatch.chdir(CORPUS)
    result = invoke("validate", "--json", *files)
    library = validate(files)
    assert result.exit_code == (0 if library.ok else 2)
    assert json.loads(result.stdout) == library.to_dict()


def test_validate_json_of_a_bad_file_names_the_problem(monkeypatch) -> None:
    monkeypatch.chdir(CORPUS)
    report = json.loads(invoke("validate", "--json", "empty.csv").stdout)
    problem = {
        "code": "empty-file",
        "message": "empty file (0 bytes)",
        "file": "empty.csv",
        "row": None,
        "column": None,
        "hint": "Export the data again",
        "text": EMPTY_MESSAGE,
    }
    assert report["ok"] is False
    assert report["problems"] == [problem]
    assert report["files"][0]["problems"] == [problem]


def test_validate_in_real_processes() -> None:
    done = run("validate", BAD, cwd=CORPUS)
    assert (done.returncode, done.stderr) == (2, "")
    assert done.stdout == f"FAILED {BAD} (dialect ksz_dwh_long)\n{BAD_MESSAGE}\n"
    done = run("validate", "empty.csv", module=True, cwd=CORPUS)
    assert (done.returncode, done.stdout, done.stderr) == (
        2,
        f"FAILED empty.csv\n{EMPTY_MESSAGE}\n",
        "",
    )


# --------------------------------------------------------------------------------------------
# ingest


def test_ingest_bad_export_is_one_error_line_and_writes_nothing(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    bad = work / BAD
    bad.write_bytes((CORPUS / BAD).read_bytes())
    done = run("ingest", BAD, "--out", "D", cwd=work)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"Error: {BAD_MESSAGE}\n"  # one line, no traceback
    assert sorted(p.name for p in work.iterdir()) == [BAD]  # no D, no temporary folder


def test_ingest_bad_export_in_process(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(CORPUS)
    out = tmp_path / "D"
    code, stdout, stderr = run_main(["ingest", BAD, "--out", str(out)], capsys)
    assert (code, stdout, stderr) == (2, "", f"Error: {BAD_MESSAGE}\n")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_ingest_with_debug_shows_the_traceback(tmp_path: Path) -> None:
    out = tmp_path / "D"
    done = run("--debug", "ingest", BAD, "--out", str(out), cwd=CORPUS)
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.startswith("Traceback (most recent call last):\n")
    lines = done.stderr.splitlines()
    assert lines[-2] == f"ksz_reports.core.errors.InputError: {BAD_MESSAGE}"
    assert lines[-1] == f"Error: {BAD_MESSAGE}"
    assert not out.exists()


def test_debug_keeps_the_exit_code(tmp_path: Path) -> None:
    done = run("--debug", "ingest", BAD, "--out", str(tmp_path / "D"), cwd=CORPUS)
    assert done.returncode == 2


def test_ingest_prints_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "data"
    result = invoke("ingest", str(GOOD), "--out", str(out))
    assert result.exit_code == 0
    assert _without_seconds(result.stdout) == (
        f"Wrote {out}: 9 cells (1 masked) from 1 file(s) in <t>; vintages 2023-06-30\n"
        "  pension: 6 cells, periods 2020…2021\n"
        "  work_incapacity_primary: 1 cells, periods 2021…2021\n"
        "  social_assistance: 2 cells, periods 2021…2021\n"
    )
    assert sorted(p.name for p in out.iterdir()) == ["canonical.parquet", "ingest.json"]


def test_ingest_refuses_a_folder_that_is_not_a_dataset(tmp_path: Path, capsys) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "keep.txt").write_text("mine\n", encoding="utf-8")
    code, stdout, stderr = run_main(["ingest", str(GOOD), "--out", str(out)], capsys)
    assert (code, stdout) == (2, "")
    assert stderr == (
        f"Error: {out}: the folder is not empty and is not a dataset (no canonical.parquet and "
        "ingest.json); ingest replaces the whole folder, so give a new or empty folder.\n"
    )
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


# --------------------------------------------------------------------------------------------
# municipalities


def test_municipalities_search_sint_niklaas() -> None:
    result = invoke("municipalities", "--search", "sint niklaas")
    assert result.exit_code == 0
    assert result.stdout == (
        "46021  Sint-Niklaas / Saint-Nicolas  (Provincie Oost-Vlaanderen)\n"
        "62093  Saint-Nicolas  (Provincie Luik)\n"
        "46020  Sint-Gillis-Waas  (Provincie Oost-Vlaanderen)\n"
        "21013  Sint-Gillis / Saint-Gilles  (Brussels Hoofdstedelijk Gewest)\n"
        "43014  Sint-Laureins  (Provincie Oost-Vlaanderen)\n"
    )


def test_municipalities_search_shows_former_municipalities_with_what_became_of_them() -> None:
    result = invoke("municipalities", "--search", "melle")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "44088  Merelbeke-Melle  (Provincie Oost-Vlaanderen)",
        "44040  Melle  (Provincie Oost-Vlaanderen)  — Melle (44040) is part of Merelbeke-Melle "
        "(44088) since 1 January 2025",
    ]


def test_municipalities_search_with_a_typo_suggests_gent() -> None:
    result = invoke("municipalities", "--search", "gnet")
    assert result.exit_code == 0
    assert result.stdout == (
        "44021  Gent / Gand  (Provincie Oost-Vlaanderen)\n"
        "23101  Sint-Genesius-Rode / Rhode-Saint-Genèse  (Provincie Vlaams-Brabant)\n"
    )


def test_municipalities_search_json_is_the_reference_record() -> None:
    result = invoke("municipalities", "--search", "gnet", "--json")
    assert result.exit_code == 0
    records = json.loads(result.stdout)
    assert records[0] == {**geodata.as_record(geodata.lookup("44021")), "note": None}
    assert records[0]["name_fr"] == "Gand"
    assert records[0]["province"] == "40000"


def test_municipalities_lists_todays_565_or_the_581_of_2019() -> None:
    lines = invoke("municipalities").stdout.splitlines()
    assert len(lines) == 565
    assert "44088  Merelbeke-Melle  (Provincie Oost-Vlaanderen)" in lines
    lines = invoke("municipalities", "--geography", "2019").stdout.splitlines()
    assert len(lines) == 581
    assert lines[0] == "11001  Aartselaar  (Provincie Antwerpen)"
    assert "21004  Brussel / Bruxelles  (Brussels Hoofdstedelijk Gewest)" in lines


def test_municipalities_unknown_name_exits_2(capsys) -> None:
    code, out, err = run_main(["municipalities", "--search", "xyzzyq"], capsys)
    assert (code, out) == (2, "")
    assert err == "Error: No municipality matches 'xyzzyq' among the 565 of 2025–.\n"


# --------------------------------------------------------------------------------------------
# compare (on a tiny dataset: three municipalities of arrondissement Antwerpen)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Pension 2020–2021 of Aartselaar, Boechout and Boom (3 in 2021, masked at source in 2020),
    three municipalities that did not change in 2025."""
    folder = tmp_path_factory.mktemp("tiny")
    export = ksz_long(
        folder / "ksz_dwh_long_2023-06-30.csv",
        [
            ("Pensioentrekkenden", "31/12/2021", "11001", "3.456"),
            ("Pensioentrekkenden", "31/12/2021", "11005", "3"),
            ("Pensioentrekkenden", "31/12/2021", "11004", "2.100"),
            ("Pensioentrekkenden", "31/12/2020", "11001", "3.401"),
            ("Pensioentrekkenden", "31/12/2020", "11005", "x"),
            ("Pensioentrekkenden", "31/12/2020", "11004", "2.000"),
        ],
    )
    out = folder / "data"
    ingest([export], out)
    return out


def test_compare_json_is_the_library_indicator(tiny_data: Path) -> None:
    result = compare_pension(tiny_data, "--period", "2021", "--format", "json")
    assert result.exit_code == 0
    records = json.loads(result.stdout)
    library = open_data(tiny_data).indicator("pension", period="2021")
    assert records == frame_records(library)
    # and the numbers are the right ones (not only the same as the library's)
    by_geo = {r["geo"]: r for r in records}
    assert list(by_geo) == ["11001", "11004", "11005"]
    aartselaar = by_geo["11001"]
    assert (aartselaar["count"], aartselaar["flag"], aartselaar["per"]) == (3456, "", 1000)
    assert aartselaar["population"] == geodata.population(2022, "11001")  # 1/1 after 31/12
    assert aartselaar["rate"] == pytest.approx(1000 * 3456 / aartselaar["population"])
    assert aartselaar["growth_pct"] == pytest.approx((3456 / 3401 - 1) * 100)
    boom = by_geo["11005"]  # 3 persons: suppressed, and so is everything derived from it
    assert boom["flag"] == "suppressed"
    for key in ("count", "rate", "ci_low", "ci_high", "growth_pct"):
        assert boom[key] is None, key


def test_compare_csv_is_the_library_table(tiny_data: Path) -> None:
    result = compare_pension(tiny_data, "--period", "2020")
    assert result.exit_code == 0
    library = open_data(tiny_data).indicator("pension", period="2020")
    assert result.stdout == library.to_csv(index=False, lineterminator="\n")
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "indicator,period,geo,name,level,count,population,rate,per,ci_low,ci_high,"
        "significance,growth_pct,unreliable,flag"
    )
    assert lines[3].startswith("pension,2020,11005,Boom,municipality,,")
    assert lines[3].endswith(",not_available")  # masked at source


def test_compare_an_aggregate_with_missing_municipalities_is_not_published(
    tiny_data: Path,
) -> None:
    result = compare_pension(
        tiny_data, "--period", "2021", "--level", "arrondissement", "--format", "json"
    )
    assert result.exit_code == 0
    [row] = json.loads(result.stdout)
    assert (row["geo"], row["name"], row["count"], row["flag"]) == (
        "11000",
        "Arrondissement Antwerpen",
        None,
        "incomplete",
    )


def test_compare_writes_a_file(tiny_data: Path, tmp_path: Path) -> None:
    target = tmp_path / "pension.json"
    result = compare_pension(
        tiny_data, "--period", "2021", "--format", "json", "--out", str(target)
    )
    assert (result.exit_code, result.stdout) == (0, "")
    library = open_data(tiny_data).indicator("pension", period="2021")
    assert json.loads(target.read_text(encoding="utf-8")) == frame_records(library)


def test_compare_out_file_is_readable_like_any_file(tiny_data: Path, tmp_path: Path) -> None:
    target = tmp_path / "pension.csv"
    assert compare_pension(tiny_data, "--period", "2021", "--out", str(target)).exit_code == 0
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_compare_errors_exit_2(tiny_data: Path, capsys) -> None:
    data = str(tiny_data)
    code, out, err = run_main(
        ["compare", "--data", data, "--indicator", "pension", "--period", "2019"], capsys
    )
    assert (code, out) == (2, "")
    assert err == (
        "Error: period not published for 'pension': 2019 (no data). Did you mean: 2020, 2021?\n"
    )
    code, out, err = run_main(["compare", "--data", data, "--indicator", "nope"], capsys)
    assert (code, out) == (2, "")
    assert err == "Error: no kept period for indicator 'nope' (see the cutoff report).\n"
    code, out, err = run_main(
        ["compare", "--data", data, "--indicator", "pension", "--format", "xlsx"], capsys
    )
    assert (code, out, err) == (2, "", "Error: --format xlsx needs --out FILE\n")


def test_compare_on_a_folder_that_is_not_a_dataset(tmp_path: Path, capsys) -> None:
    code, out, err = run_main(
        ["compare", "--data", str(tmp_path), "--indicator", "pension"], capsys
    )
    assert (code, out) == (2, "")
    assert err == (
        f"Error: {tmp_path}: not a ksz_reports dataset: no canonical.parquet and no ingest.json "
        "in the folder. Run `ksz-reports ingest EXPORT... --out FOLDER` and open that folder.\n"
    )


def test_nothing_derived_from_a_secondary_suppressed_count_is_published(tmp_path: Path) -> None:
    codes = [m.nis for m in geodata.geography(2019).municipalities()]  # the codes of 2021
    small = {"11001": "3", "11005": "21"}  # 11001 primary; 11005 the complement in 11000
    export = ksz_long(
        tmp_path / "ksz_dwh_long_2023-06-30.csv",
        [
            (  # at most half the population (a count above it is refused)
                "Pensioentrekkenden",
                "31/12/2021",
                c,
                small.get(c, str(min(100 + int(c) % 900, geodata.population(2021, c) // 2))),
            )
            for c in codes
        ],
    )
    ingest([export], tmp_path / "data")
    result = compare_pension(tmp_path / "data", "--format", "json")
    rows = {r["geo"]: r for r in json.loads(result.stdout)}
    assert rows["11001"]["flag"] == "suppressed"
    assert rows["11005"]["flag"] == "secondary"
    # the complement's unreliable flag would say count >= 20, so 11001 <= 4: it is blanked too
    assert rows["11005"]["unreliable"] is None


# --------------------------------------------------------------------------------------------
# population import

STATBEL_HEADER = (
    "CD_REFNIS|TX_DESCR_NL|TX_DESCR_FR|CD_DSTR_REFNIS|TX_ADM_DSTR_DESCR_NL|TX_ADM_DSTR_DESCR_FR|"
    "CD_PROV_REFNIS|TX_PROV_DESCR_NL|TX_PROV_DESCR_FR|CD_RGN_REFNIS|TX_RGN_DESCR_NL|"
    "TX_RGN_DESCR_FR|CD_SEX|CD_NATLTY|TX_NATLTY_NL|TX_NATLTY_FR|CD_CIV_STS|TX_CIV_STS_NL|"
    "TX_CIV_STS_FR|CD_AGE|MS_POPULATION"
)


def statbel_zip(folder: Path, year: int = 2023) -> tuple[Path, int]:
    """A small but complete ``TF_SOC_POP_STRUCT_<year>.zip`` in Statbel's layout (every
    municipality of 1 January ``year``, 2 sexes × 3 ages, synthetic counts); and its total."""
    geo = geodata.geography(year)
    lines, total = [STATBEL_HEADER], 0
    for m in geo.municipalities():
        prov = m.province or ""
        place = [m.nis, m.name_nl, m.name_fr]
        for code in (m.arrondissement, prov, m.region):  # Statbel writes region 2000, not 02000
            names = [geo.name(code, "nl"), geo.name(code, "fr")] if code else ["", ""]
            place += [code.lstrip("0") if code == m.region else code, *names]
        for sex in ("F", "M"):
            for age in (10, 40, 70):
                n = int(m.nis) % 97 + age + (sex == "F") + 1
                total += n
                person = [sex, "BEL", "Belgen", "Belges", "1", "Ongehuwd", "Célibataire"]
                lines.append("|".join([*place, *person, str(age), str(n)]))
    path = folder / f"TF_SOC_POP_STRUCT_{year}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"TF_SOC_POP_STRUCT_{year}.txt", "\n".join(lines) + "\n")
    return path, total


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An empty user data folder (``$KSZ_REPORTS_HOME``); the population cache is reset after."""
    folder = tmp_path / "home"
    monkeypatch.setenv("KSZ_REPORTS_HOME", str(folder))
    yield folder
    geodata.reload_population()


def test_population_import(tmp_path: Path, home: Path) -> None:
    path, total = statbel_zip(tmp_path)
    stored = home / "population" / "population_2023.parquet"
    shown = f"{total:,}".replace(",", " ")
    result = invoke("population", "import", str(path))
    assert result.exit_code == 0
    assert result.stdout == (
        f"Population on 1 January 2023: 581 municipalities, Belgium {shown} — written {stored}\n"
    )
    assert stored.is_file()
    assert geodata.population(2023, "01000") == total
    again = invoke("population", "import", str(path))
    assert again.stdout == (
        f"Population on 1 January 2023: 581 municipalities, Belgium {shown} — replaced {stored}\n"
    )


def test_population_import_of_an_incomplete_file_exits_2(home: Path, capsys) -> None:
    sample = TESTS / "data" / "statbel" / "TF_SOC_POP_STRUCT_2023_sample.txt"
    code, out, err = run_main(["population", "import", str(sample)], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(
        f"Error: {sample}, column 'CD_REFNIS': 576 of the 581 municipalities on 1 January 2023 "
        "are missing: Antwerpen (11002), "
    )
    assert err.endswith(". Import the complete Statbel file.\n")
    assert len(err.splitlines()) == 1
    assert not (home / "population").exists()


# --------------------------------------------------------------------------------------------
# audit (exit 1 on a leak)


def test_audit_finds_a_recoverable_cell_and_exits_1(tmp_path: Path, capsys) -> None:
    """A row total published with exactly one suppressed cell: 10 − 7 = 3."""
    out = tmp_path / "out"
    cells_csv(out, "11001", [("total", "10", ""), ("M", "", "suppressed"), ("F", "7", "")])
    code, stdout, stderr = run_main(["audit", str(out)], capsys)
    assert (code, stderr) == (1, "")
    assert _without_seconds(stdout).splitlines() == [
        "cells read: 3 rows from 1 file(s); 3 distinct counts, 1 relations",
        "hidden: 1 primary + 0 secondary + 0 masked at the source + 0 unknown",
        "checked: 1 hidden counts by linear programming (0 components, 0 LPs)",
        "  primary   attacked       1; recovered exactly     1; narrower than required     0",
        "  secondary attacked       0; recovered exactly     0; narrower than required     0"
        " (not sensitive)",
        "  masked    attacked       0; recovered exactly     0; narrower than required     0",
        "  unknown   attacked       0; recovered exactly     0; narrower than required     0"
        " (not sensitive)",
        "recoverable: 1 exactly; narrower than 5: 0",
        "derived leaks: 0; small counts shown: 0; inconsistent: 0",
        "<t>",
        "audit: FAILED: 1 problem(s)",
    ]
    result = invoke("audit", str(out), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["problem_counts"] == {"recoverable": 1}
    [problem] = report["problems"]
    assert {k: problem[k] for k in ("problem", "geo", "sex", "kind", "lo", "hi")} == {
        "problem": "recoverable",
        "geo": "11001",
        "sex": "M",
        "kind": "count",
        "lo": 3.0,
        "hi": 3.0,
    }


def test_audit_of_a_safe_publication_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "out"
    cells_csv(out, "11001", [("total", "10", ""), ("M", "", "suppressed"), ("F", "", "secondary")])
    result = invoke("audit", str(out))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[1] == "hidden: 1 primary + 1 secondary + 0 masked at the source + 0 unknown"
    assert " ".join(lines[3].split()) == (
        "primary attacked 1; recovered exactly 0; narrower than required 0"
    )
    assert lines[-1] == "audit: OK"


def test_audit_of_a_malformed_cells_csv_exits_2(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    path = cells_csv(out, "11001", [("total", "10", ""), ("M", "", "")])  # empty, no flag
    code, stdout, stderr = run_main(["audit", str(out)], capsys)
    assert (code, stdout) == (2, "")
    assert (
        stderr == f"Error: {path}, row 3, column 'flag': empty value without a flag saying why.\n"
    )


def test_audit_of_an_empty_folder_says_so(tmp_path: Path) -> None:
    done = run("audit", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr == (
        f"Error: {tmp_path}: no cells.csv found; give the output folder of "
        "`ksz-reports report` or `ksz-reports batch`.\n"
    )


def test_audit_of_an_empty_folder_is_bad_input(tmp_path: Path, capsys) -> None:
    code, out, err = run_main(["audit", str(tmp_path)], capsys)
    assert code == 2 and out == "" and err.startswith("Error: ")


# --------------------------------------------------------------------------------------------
# exit codes (README "Command line"): 0 done, 1 failures (an audit leak), 2 bad input or usage, 3 locked


def test_exit_codes(tmp_path: Path, capsys) -> None:
    leak = tmp_path / "leak"
    cells_csv(leak, "11001", [("total", "10", ""), ("M", "", "suppressed"), ("F", "7", "")])
    cases = {
        0: ["validate", str(GOOD)],
        1: ["audit", str(leak)],
        2: ["validate", str(CORPUS / "empty.csv")],
    }
    for expected, args in cases.items():
        code, _out, _err = run_main(args, capsys)
        assert code == expected, args


def test_exit_code_3_when_another_batch_holds_the_lock(tiny_data: Path, tmp_path: Path) -> None:
    from ksz_reports.batch.run import LOCK
    from ksz_reports.core.lock import BatchLock

    out = tmp_path / "reports"
    out.mkdir()
    with BatchLock(out / LOCK, command="test_cli holder"):
        done = run("batch", "--data", str(tiny_data), "--out", str(out), "--format", "html")
    assert done.returncode == 3
    assert done.stdout == ""
    assert done.stderr.startswith(f"Error: the output folder {out} is locked by pid {os.getpid()}")
    assert "(test_cli holder)" in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == []  # nothing rendered, the lock released
