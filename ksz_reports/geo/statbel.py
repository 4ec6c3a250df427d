"""Import Statbel's open-data population file ``TF_SOC_POP_STRUCT_<year>`` into the user data
folder, so that :mod:`ksz_reports.geo.denominators` has population for years after the shipped ones.

Statbel publishes *Bevolking naar woonplaats, nationaliteit, burgerlijke staat, leeftijd en
geslacht* as a ``.zip`` holding ``TF_SOC_POP_STRUCT_<year>.txt``: ``|``-separated, a header row,
one row per municipality × sex × nationality × civil status × single year of age (rows with 0
persons are left out). Columns used (header case and column order do not matter; other columns
are ignored): ``CD_REFNIS`` (``CD_MUNTY_REFNIS`` in some vintages), ``CD_SEX`` (M/F), ``CD_AGE``
(completed years), ``MS_POPULATION``; optional ``DT_REFDAT`` (checked against the year) and
``CD_NATLTY``/``CD_CIV_STS`` (with them, duplicate rows are detected). Encoding UTF-8 (with or
without BOM), else Windows-1252, else Latin-1 — the first that decodes the columns read. The
text is streamed through pyarrow's CSV reader (a zip member is never extracted to disk).

The file is validated completely before anything is written: every municipality code must be a
municipality of the geography of 1 January of that year (589 before 2019, 581 for 2019–2024, 565
from 2025), all of them present, counts non-negative whole numbers. It is then aggregated to the
shape of the shipped ``population.csv`` (``year, nis, sex, age_group, population``; sex ``total``,
``M``, ``F``; age group ``total`` and the bands ``0-17 … 80+``), put on the storage geography
(years before 2019 are summed onto the 2019 municipalities, like the shipped years) and written
atomically to ``<user data>/population/population_<year>.parquet``, replacing an earlier import of
that year. Attribution for reports: *Bron: Statbel (Algemene Directie Statistiek)*.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from ksz_reports.core.atomic import atomic_path
from ksz_reports.core.errors import InputError, UsageError
from ksz_reports.geo import denominators as population_store
from ksz_reports.geo.codes import normalise_code
from ksz_reports.geo.geography import Geography, successor_map
from ksz_reports.geo.registry import geographies, geography

#: Lower bounds of the shipped age bands, and their labels.
BAND_LOWER = (0, 18, 25, 35, 45, 55, 60, 65, 80)
BANDS = ("0-17", "18-24", "25-34", "35-44", "45-54", "55-59", "60-64", "65-79", "80+")
REQUIRED_COLUMNS = ("CD_REFNIS", "CD_SEX", "CD_AGE", "MS_POPULATION")
#: Other names of a required column in some vintages.
ALIASES = {"CD_MUNTY_REFNIS": "CD_REFNIS"}
OPTIONAL_COLUMNS = ("DT_REFDAT", "CD_NATLTY", "CD_CIV_STS")
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")

_YEAR_IN_NAME = re.compile(r"TF_SOC_POP_STRUCT_(\d{4})", re.IGNORECASE)
_HINT_REIMPORT = "Download the file again from Statbel (statbel.fgov.be, open data)"


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_statbel` did."""

    year: int
    municipalities: int  # municipality codes in the file
    total: int  # population of Belgium on 1 January ``year``
    path: Path  # the Parquet file written
    source: str  # the file read (``archive.zip/member.txt`` for a zip)
    encoding: str
    rows: int  # data rows read
    geography: str  # geography the codes were checked against
    stored_on: str  # geography the population is stored on
    replaced: bool  # an earlier import of that year was replaced

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        """One line for the CLI / log."""
        total = f"{self.total:,}".replace(",", " ")
        action = "replaced" if self.replaced else "written"
        return (
            f"Population on 1 January {self.year}: {self.municipalities} municipalities, "
            f"Belgium {total} — {action} {self.path}"
        )


def population_dir() -> Path:
    """The folder imported years go to by default (``<user data>/population``)."""
    return population_store.imported_population_dir()


# --------------------------------------------------------------------------------------------
# reading


@dataclass
class _Text:
    """The columns read from the file: text arrays under canonical names, with line numbers."""

    label: str  # file name for messages (``archive.zip/member.txt`` for a zip)
    columns: dict[str, pa.ChunkedArray]
    header: dict[str, str]  # canonical name → name as written in the header
    lines: np.ndarray  # line number in the file of every row (header = line 1)
    encoding: str

    def __len__(self) -> int:
        return len(self.lines)

    def value(self, column: str, row: int) -> str:
        return self.columns[column][row].as_py()

    def error(
        self,
        message: str,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> InputError:
        """An InputError at data row ``row`` (0-based) of ``column``."""
        return InputError(
            message,
            file=self.label,
            row=None if row is None else int(self.lines[row]),
            column=None if column is None else self.header[column],
            hint=hint,
        )

    def keep(self, mask: pa.ChunkedArray | pa.Array) -> _Text:
        """Only the rows where ``mask`` is true."""
        flags = np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)
        cols = {name: col.filter(mask) for name, col in self.columns.items()}
        return _Text(self.label, cols, self.header, self.lines[flags], self.encoding)


def _open_source(path: Path, stack: contextlib.ExitStack) -> tuple[str, Callable[[], IO[bytes]]]:
    """``(label for messages, opener of the text as bytes)`` for a .zip or a .txt file."""
    if not path.is_file():
        raise InputError("file not found", file=path)
    with open(path, "rb") as fh:
        magic = fh.read(4)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        if not zipfile.is_zipfile(path):
            raise InputError(
                "not a zip archive although its name ends in .zip", file=path, hint=_HINT_REIMPORT
            )
        archive = stack.enter_context(zipfile.ZipFile(path))
        texts = [i.filename for i in archive.infolist() if i.filename.lower().endswith(".txt")]
        named = [n for n in texts if _YEAR_IN_NAME.search(Path(n).name)]
        choice = named if len(named) == 1 else texts
        if len(choice) != 1:
            found = ", ".join(i.filename for i in archive.infolist()) or "nothing"
            raise InputError(
                f"expected one TF_SOC_POP_STRUCT_<year>.txt in the archive, found: {found}",
                file=path,
            )
        member = choice[0]
        return f"{path}/{member}", lambda: archive.open(member)
    if suffix in (".txt", ".csv"):
        if magic.startswith(b"PK\x03\x04"):
            raise InputError(
                f"a zip archive although its name ends in {path.suffix}",
                file=path,
                hint="Rename it to .zip",
            )
        return str(path), lambda: open(path, "rb")  # noqa: SIM115 - closed by the caller
    raise InputError(
        f"unexpected file type {path.suffix or '(none)'!r}",
        file=path,
        hint="Give Statbel's TF_SOC_POP_STRUCT_<year>.zip or the .txt inside it",
    )


def _read(label: str, opener: Callable[[], IO[bytes]]) -> _Text:
    """Stream the text through pyarrow's CSV reader, keeping only the columns used.

    Tries :data:`ENCODINGS` in turn. A line with another number of fields than the header is an
    error; lines that are empty or only spaces are skipped (line numbers stay exact).
    """
    last_error: Exception | None = None
    for encoding in ENCODINGS:
        try:
            with opener() as raw:
                first = raw.readline().decode(encoding).rstrip("\r\n")
                header = [h.strip().strip('"') for h in first.split("|")]
                wanted = _columns(label, header)
                # the names in the header may repeat in another case: read by position
                names = [f"c{i}" for i in range(len(header))]
                used = {c: names[i] for c, i in wanted.items()}
                upper = [h.upper() for h in header]
                for text in ("TX_DESCR_NL", "TX_DESCR_FR"):  # so that a wrong encoding shows
                    if text in upper:
                        used.setdefault(text, names[upper.index(text)])
                invalid: list[tuple[int | None, int, int, str]] = []

                def skip(row: pcsv.InvalidRow, found: list = invalid) -> str:
                    found.append((row.number, row.expected_columns, row.actual_columns, row.text))
                    return "skip" if not row.text.strip() else "error"  # stop at a bad line

                table = pcsv.read_csv(
                    raw,
                    read_options=pcsv.ReadOptions(
                        column_names=names,
                        encoding="utf8" if encoding == "utf-8-sig" else encoding,
                        use_threads=False,  # gives the line number of a bad line
                    ),
                    parse_options=pcsv.ParseOptions(
                        delimiter="|", ignore_empty_lines=False, invalid_row_handler=skip
                    ),
                    convert_options=pcsv.ConvertOptions(
                        include_columns=list(used.values()),
                        column_types=dict.fromkeys(used.values(), pa.string()),
                        strings_can_be_null=False,
                        quoted_strings_can_be_null=False,
                    ),
                )
        except UnicodeDecodeError as exc:
            last_error = exc
            continue
        except pa.ArrowInvalid as exc:
            if any(text.strip() for *_n, text in invalid):
                pass  # a line with a wrong number of fields: reported below
            elif "UTF8" in str(exc) or "decode" in str(exc).lower():
                last_error = exc
                continue
            else:
                raise InputError(f"cannot parse the file ({exc})", file=label) from exc
        except (zipfile.BadZipFile, EOFError) as exc:
            raise InputError(
                f"damaged zip archive ({exc})", file=label, hint=_HINT_REIMPORT
            ) from exc
        # a line with a wrong number of fields is an error; whitespace-only lines are skipped
        wrong = [item for item in invalid if item[3].strip()]  # at most one: reading stopped
        if wrong:
            number, expected, actual, _text = min(wrong, key=lambda item: item[0] or 0)
            line = None if number is None else number + 1
            raise InputError(
                f"{actual} fields where the header has {expected}", file=label, row=line
            )
        skipped = np.asarray([item[0] for item in invalid if item[0] is not None], dtype=np.int64)
        # line of each row: the physical rows after the header (numbered from 1) minus the skipped
        physical = np.arange(1, table.num_rows + len(skipped) + 1, dtype=np.int64)
        return _Text(
            label=label,
            columns={c: table.column(name) for c, name in used.items()},
            header={c: header[int(name[1:])] for c, name in used.items()},
            lines=np.setdiff1d(physical, skipped) + 1,
            encoding=encoding.replace("utf-8-sig", "utf-8"),
        )
    raise InputError(f"cannot decode the text ({last_error})", file=label)


def _columns(label: str, header: list[str]) -> dict[str, int]:
    """Canonical column → position; InputError for a missing or doubled required column."""
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(header):
        positions.setdefault(name.upper(), []).append(i)
    for alias, canon in ALIASES.items():
        if not positions.get(canon) and positions.get(alias):
            positions[canon] = positions[alias]
    wanted: dict[str, int] = {}
    for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS):
        found = positions.get(name, [])
        if len(found) > 1:
            raise InputError(
                f"column {name} appears {len(found)} times",
                file=label,
                row=1,
                column=header[found[1]],
            )
        if found:
            wanted[name] = found[0]
    missing = [c for c in REQUIRED_COLUMNS if c not in wanted]
    if missing:
        listed = ", ".join(missing)
        noun = "column is" if len(missing) == 1 else "columns are"
        raise InputError(
            f"required {noun} missing: {listed}",
            file=label,
            row=1,
            column=missing[0],
            hint=f"The header has: {', '.join(h for h in header if h) or 'nothing'}",
        )
    return wanted


# --------------------------------------------------------------------------------------------
# year


def _refdate_year(text: str) -> int | None:
    """Year of the population for a DT_REFDAT value (1 January Y → Y; 31 December Y → Y + 1)."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d", "%d-%m-%Y", "%Y-%m-%dT%H:%M:%S"):
        try:
            day = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if (day.month, day.day) == (1, 1):
            return day.year
        if (day.month, day.day) == (12, 31):
            return day.year + 1
        return None
    return None


def _year(text: _Text, path: Path, year: int | None) -> int:
    """The explicit year, else the one in the file name, else DT_REFDAT's; DT_REFDAT must agree."""
    named = _YEAR_IN_NAME.search(Path(text.label).name) or _YEAR_IN_NAME.search(path.name)
    if year is None and named:
        year = int(named.group(1))
    if "DT_REFDAT" in text.columns:
        values = pc.utf8_trim_whitespace(text.columns["DT_REFDAT"])
        distinct = values.unique().to_pylist()
        expected = year if year is not None else _refdate_year(values[0].as_py())
        good = [v for v in distinct if expected is not None and _refdate_year(v) == expected]
        wrong = pc.invert(pc.is_in(values, value_set=pa.array(good, pa.string())))
        if pc.any(wrong).as_py():
            row = pc.index(wrong, True).as_py()
            what = f"1 January {year}" if year is not None else "1 January of a year"
            raise text.error(
                f"reference date {values[row].as_py()!r} is not {what}", row, "DT_REFDAT"
            )
        return int(expected)  # type: ignore[arg-type]
    if year is None:
        raise InputError(
            "cannot tell the year: the name has no TF_SOC_POP_STRUCT_<year> and there is no "
            "DT_REFDAT column",
            file=text.label,
            hint="Pass the year explicitly",
        )
    return int(year)


# --------------------------------------------------------------------------------------------
# validation and aggregation


@dataclass
class _Parsed:
    """The validated rows: positions of municipality, sex and band, and the counts."""

    nis: np.ndarray  # position in the geography's codes
    sex: np.ndarray  # 0 = M, 1 = F
    band: np.ndarray  # position in BANDS
    count: np.ndarray  # int64


def _first(mask: pa.ChunkedArray | pa.Array) -> int | None:
    """Position of the first true value, or None."""
    return pc.index(mask, True).as_py() if pc.any(mask).as_py() else None


def _parse(text: _Text, year: int, geo: Geography) -> _Parsed:
    """Check every row (the first problem in file order wins; ties in column order) and turn the
    text into numbers."""
    strip = pc.utf8_trim_whitespace
    raw_nis = strip(text.columns["CD_REFNIS"])
    nis = pc.if_else(
        pc.equal(pc.utf8_length(raw_nis), 4),
        pc.binary_join_element_wise("0", raw_nis, ""),
        raw_nis,
    )
    codes = pa.array(geo.codes, pa.string())
    sex = pc.utf8_upper(strip(text.columns["CD_SEX"]))
    age = strip(text.columns["CD_AGE"])
    count = strip(text.columns["MS_POPULATION"])
    negative = pc.match_substring_regex(count, r"^-\s*\d+(\.\d*)?$")
    checks: list[tuple[str, pa.ChunkedArray, Callable[[str], tuple[str, str | None]]]] = [
        (
            "CD_REFNIS",
            pc.invert(pc.is_in(nis, value_set=codes)),
            lambda v: (
                f"unknown municipality code {v!r}: not one of the {len(geo)} municipalities "
                f"on 1 January {year}",
                _code_hint(v, geo),
            ),
        ),
        (
            "CD_SEX",
            pc.invert(pc.is_in(sex, value_set=pa.array(["M", "F"]))),
            lambda v: (f"unknown sex {v!r} (expected M or F)", None),
        ),
        (
            "CD_AGE",
            pc.invert(pc.match_substring_regex(age, r"^\d{1,3}\+?$")),
            lambda v: (f"age {v!r} is not a whole number of years", None),
        ),
        ("MS_POPULATION", negative, lambda v: (f"negative population count {v.strip()!r}", None)),
        (
            "MS_POPULATION",
            pc.and_(
                pc.invert(pc.match_substring_regex(count, r"^\d+(\.0*)?$")), pc.invert(negative)
            ),
            lambda v: (f"population count {v!r} is not a whole number", None),
        ),
    ]
    problems = []
    for rank, (column, bad, describe) in enumerate(checks):
        row = _first(bad)
        if row is not None:
            problems.append((row, rank, column, describe))
    if "CD_NATLTY" in text.columns and "CD_CIV_STS" in text.columns:
        key = pc.binary_join_element_wise(
            nis, sex, strip(text.columns["CD_NATLTY"]), strip(text.columns["CD_CIV_STS"]), age, "|"
        )
        doubled = pd.Series(key.to_numpy(zero_copy_only=False)).duplicated().to_numpy()
        if doubled.any():
            row = int(np.flatnonzero(doubled)[0])
            first = _first(pc.equal(key, key[row]))
            line = int(text.lines[first])  # type: ignore[index]
            problems.append(
                (
                    row,
                    len(checks),
                    "CD_REFNIS",
                    lambda _v, line=line: (
                        "duplicate row: same municipality, sex, nationality, civil status and "
                        f"age as row {line}",
                        None,
                    ),
                )
            )
    if problems:
        row, _rank, column, describe = min(problems, key=lambda p: (p[0], p[1]))
        message, hint = describe(text.value(column, row))
        raise text.error(message, row, column, hint)
    missing = pc.invert(pc.is_in(codes, value_set=nis))
    if pc.any(missing).as_py():
        absent = codes.filter(missing).to_pylist()
        shown = ", ".join(geo.municipality(c).label for c in absent[:5])
        more = ", …" if len(absent) > 5 else ""
        raise text.error(
            f"{len(absent)} of the {len(geo)} municipalities on 1 January {year} are missing: "
            f"{shown}{more}",
            column="CD_REFNIS",
            hint="Import the complete Statbel file",
        )
    ages = pc.cast(pc.replace_substring(age, "+", ""), pa.int64()).to_numpy()
    whole = pc.replace_substring_regex(count, r"\.0*$", "")
    return _Parsed(
        nis=pc.index_in(nis, value_set=codes).to_numpy(),
        sex=pc.index_in(sex, value_set=pa.array(["M", "F"])).to_numpy(),
        band=np.searchsorted(BAND_LOWER, ages, side="right") - 1,
        count=pc.cast(whole, pa.int64()).to_numpy(),
    )


def _code_hint(value: str, geo: Geography) -> str:
    code = normalise_code(value)
    for other in reversed(geographies()):  # the most recent first
        if other is not geo and code in other.codes:
            m = other.municipality(code)  # type: ignore[arg-type]
            return (
                f"{code} is {m.name_nl}, a municipality of {other.label}: check the year "
                f"(this file is read on the geography of {geo.label})"
            )
    return "CD_REFNIS must be the 5-digit NIS code of a municipality"


def _cube(parsed: _Parsed, position: np.ndarray, n: int) -> np.ndarray:
    """Counts as an array municipality × sex (M, F) × band; ``position`` maps the parsed
    municipality positions onto the ``n`` municipalities stored."""
    cell = (position[parsed.nis] * 2 + parsed.sex) * len(BANDS) + parsed.band
    sums = np.bincount(cell, weights=parsed.count, minlength=n * 2 * len(BANDS))
    return np.rint(sums).astype("int64").reshape(n, 2, len(BANDS))


def _shipped_shape(cube: np.ndarray, codes: tuple[str, ...], year: int) -> pd.DataFrame:
    """``year, nis, sex, age_group, population`` with total sex and total age added."""
    cube = np.concatenate([cube.sum(axis=2, keepdims=True), cube], axis=2)  # total age first
    cube = np.concatenate([cube.sum(axis=1, keepdims=True), cube], axis=1)  # total sex first
    sexes, groups = ["total", "M", "F"], ["total", *BANDS]
    return pd.DataFrame(
        {
            "year": np.full(cube.size, year, dtype="int64"),
            "nis": np.repeat(np.asarray(codes, dtype=object), 3 * len(groups)),
            "sex": np.tile(np.repeat(sexes, len(groups)), len(codes)),
            "age_group": np.tile(groups, 3 * len(codes)),
            "population": cube.reshape(-1),
        }
    )


# --------------------------------------------------------------------------------------------
# import


def import_statbel(
    path: str | Path, year: int | None = None, dest: str | Path | None = None
) -> ImportResult:
    """Validate Statbel's ``TF_SOC_POP_STRUCT_<year>`` (.zip or .txt) and store it as the
    population of 1 January ``year`` (default: from the file name, else ``DT_REFDAT``).

    ``dest``: the folder to write ``population_<year>.parquet`` to (default
    :func:`population_dir`, the one the module :mod:`ksz_reports.geo.denominators` reads). Any problem raises
    :class:`InputError` naming file, row (line of the text file, header = 1) and column, and
    nothing is written. The reference's population cache is cleared afterwards.
    """
    path = Path(path)
    with contextlib.ExitStack() as stack:
        label, opener = _open_source(path, stack)
        text = _read(label, opener)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    blank = pc.and_(  # lines with only empty fields (e.g. an empty last line)
        pc.equal(pc.utf8_trim_whitespace(text.columns["CD_REFNIS"]), ""),
        pc.equal(pc.utf8_trim_whitespace(text.columns["MS_POPULATION"]), ""),
    )
    text = text.keep(pc.invert(blank))
    if not len(text):
        raise InputError("no data rows under the header", file=label)
    year = _year(text, path, year)
    try:
        geo = geography(dt.date(year, 1, 1))
    except UsageError as exc:
        raise InputError(f"no geography is modelled for 1 January {year}", file=label) from exc
    parsed = _parse(text, year, geo)
    stored_on = population_store.storage_geography(year)  # before 2019: summed onto the 581
    mapping = successor_map(geo, stored_on)
    position = {code: i for i, code in enumerate(stored_on.codes)}
    cube = _cube(parsed, np.array([position[mapping[c]] for c in geo.codes]), len(stored_on))
    out = _shipped_shape(cube, stored_on.codes, year)
    metadata = {
        "source": label,
        "sha256": digest,
        "encoding": text.encoding,
        "year": year,
        "geography": stored_on.label,
        "imported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "attribution": "Statbel (Algemene Directie Statistiek), TF_SOC_POP_STRUCT",
    }
    table = pa.Table.from_pandas(out, preserve_index=False).replace_schema_metadata(
        {"ksz_reports": json.dumps(metadata)}
    )
    folder = Path(dest) if dest is not None else population_dir()
    target = folder / f"population_{year}.parquet"
    replaced = target.exists()
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)
    population_store.reload_population()
    return ImportResult(
        year=year,
        municipalities=len(geo),
        total=int(cube.sum()),
        path=target,
        source=label,
        encoding=text.encoding,
        rows=len(text),
        geography=geo.label,
        stored_on=stored_on.label,
        replaced=replaced,
    )
