"""Income per municipality: Statbel's open data ``TF_SOC_ADI_MUNTY`` ("armoede-indicatoren op basis
van administratieve gegevens"), a **context** variable of the reports (docs/domain.md#income).

Kept per municipality and year: the median net taxable income per consumption unit
(``MS_MEDIAN``, euro), its quartiles (``MS_Q1``, ``MS_Q3``) and the administrative
at-risk-of-poverty rate (``MS_ADMIN_AROP``, %). Statbel publishes it as .xlsx and as
comma-separated Windows-1252 .csv; both are read here (:func:`read_income`). Real quirks: year and
NIS code are text, the xlsx declares a full-height sheet (read row by row, stopping at the first
empty row), Herstappe (73028) is absent and some Brussels values are empty (not published: kept
as missing, never 0).

The shipped table ``ksz_reports/data/income.csv`` holds 2015–2022 on the 2019–2024 geography.
``ksz-reports income import FILE`` (:func:`import_income`) stores a newer file in
``<user data>/income/income.parquet``; its years replace the shipped years of the same number.

Income is never summed, averaged or suppressed: aggregates (arrondissement, province, region,
Belgium) have no income, and a municipality of a later geography that was formed by merging
several municipalities has none either (a median of a merged area is not a combination of medians);
one with a single predecessor takes its value. Attribution: *Bron: Statbel (Algemene Directie
Statistiek)*.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ksz_reports.core.archive import check_members
from ksz_reports.core.atomic import atomic_path
from ksz_reports.core.errors import InputError, NotFoundError
from ksz_reports.core.resources import data_path, user_data_dir
from ksz_reports.geo.geography import Geography
from ksz_reports.geo.registry import At, geography, shipped_geography

ATTRIBUTION = "Bron: Statbel (Algemene Directie Statistiek)"
SOURCE = "TF_SOC_ADI_MUNTY"
#: Columns of the income table, in order.
COLUMNS = ("year", "nis", "median", "q1", "q3", "arop")
#: Statbel column → income table column; the first two are the key.
REQUIRED = {"CD_YEAR": "year", "CD_MUNTY_REFNIS": "nis", "MS_MEDIAN": "median"}
OPTIONAL = {"MS_Q1": "q1", "MS_Q3": "q3", "MS_ADMIN_AROP": "arop"}
ALIASES = {"CD_REFNIS": "CD_MUNTY_REFNIS", "CD_REF_YEAR": "CD_YEAR"}
ENCODINGS = ("utf-8-sig", "cp1252")
_HINT = "Download TF_SOC_ADI_MUNTY again from Statbel (statbel.fgov.be, open data)"
_LOCK = threading.RLock()
#: Why a municipality has no income (the ``note`` of :func:`income_on`).
ABSENT, MERGED, NOT_PUBLISHED = "absent", "merged", "not_published"


def income_dir() -> Path:
    """Where an imported income table lives: ``<user data>/income``."""
    return user_data_dir() / "income"


# --------------------------------------------------------------------------------------------
# reading


def _xlsx_rows(path: Path) -> list[list[object]]:
    """The rows of the first sheet up to the first empty one (the declared size is bogus)."""
    import zipfile

    import openpyxl

    try:
        with zipfile.ZipFile(path) as zf:
            check_members(zf, path)  # a decompression bomb: refused before a member is read
    except (zipfile.BadZipFile, OSError, EOFError):
        pass  # openpyxl names the problem below
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the same problem
        raise InputError(
            f"not a readable xlsx workbook ({exc.__class__.__name__})", file=path, hint=_HINT
        ) from exc
    try:
        rows = []
        if not book.worksheets:
            raise InputError("a workbook without a sheet", file=path, hint=_HINT)
        for row in book.worksheets[0].iter_rows(values_only=True):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                break
            rows.append(list(row))
        return rows
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - malformed sheet XML: the same problem
        raise InputError(
            f"not a readable xlsx workbook ({exc.__class__.__name__})", file=path, hint=_HINT
        ) from None
    finally:
        book.close()


def _csv_rows(path: Path) -> tuple[list[list[object]], str]:
    raw = path.read_bytes()
    if raw.startswith(b"PK\x03\x04"):
        raise InputError("a zip or xlsx file although its name ends in .csv", file=path)
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        rows = []
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=","):
            if not any(v.strip() for v in row):
                break
            rows.append(list(row))
        return rows, encoding.replace("utf-8-sig", "utf-8")
    raise InputError("cannot decode the text (neither UTF-8 nor Windows-1252)", file=path)


def _number(value: object, path: Path, row: int, column: str) -> float:
    """A published value: a number, or NaN when empty (not published)."""
    if value is None:
        return math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{value!r} is not a number", file=path, row=row, column=column) from None


def read_income(path: str | Path) -> pd.DataFrame:
    """Statbel's ``TF_SOC_ADI_MUNTY`` (.xlsx or comma-separated .csv) as the income table
    (:data:`COLUMNS`; ``nis`` 5-digit text, values float, NaN where not published), sorted by year
    and code. Every code must be a municipality of the 2019–2024 geography, each (year, code)
    once. Raises :class:`InputError` naming file, row and column."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    elif suffix in (".csv", ".txt"):
        rows, _encoding = _csv_rows(path)
    else:
        raise InputError(
            f"unexpected file type {path.suffix or '(none)'!r}",
            file=path,
            hint="Give Statbel's TF_SOC_ADI_MUNTY as .xlsx or .csv",
        )
    if not rows:
        raise InputError("the file is empty", file=path, hint=_HINT)
    header = [str(h or "").strip().strip('"').upper() for h in rows[0]]
    header = [ALIASES.get(h, h) for h in header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(
            f"required column{'s' if len(missing) > 1 else ''} missing: {', '.join(missing)}",
            file=path,
            row=1,
            column=missing[0],
            hint=f"The header has: {', '.join(h for h in header if h) or 'nothing'}",
        )
    wanted = {c: header.index(c) for c in (*REQUIRED, *OPTIONAL) if c in header}
    if len(rows) < 2:
        raise InputError("no data rows under the header", file=path)
    geo = shipped_geography()
    out: dict[str, list] = {c: [] for c in COLUMNS}
    seen: dict[tuple[int, str], int] = {}
    for line, row in enumerate(rows[1:], start=2):
        cell = {c: (row[i] if i < len(row) else None) for c, i in wanted.items()}
        year_text = str(cell["CD_YEAR"] or "").strip()
        if year_text.endswith(".0"):
            year_text = year_text[:-2]
        if not (year_text.isdigit() and len(year_text) == 4):
            raise InputError(
                f"year {cell['CD_YEAR']!r} is not a year", file=path, row=line, column="CD_YEAR"
            )
        nis = str(cell["CD_MUNTY_REFNIS"] or "").strip()
        if nis.endswith(".0"):
            nis = nis[:-2]
        nis = nis.zfill(5) if nis.isdigit() else nis
        if not geo.is_municipality(nis):
            raise InputError(
                f"unknown municipality code {cell['CD_MUNTY_REFNIS']!r}: not one of the "
                f"{len(geo)} municipalities of {geo.label}",
                file=path,
                row=line,
                column="CD_MUNTY_REFNIS",
            )
        key = (int(year_text), nis)
        if key in seen:
            raise InputError(
                f"duplicate row: year {key[0]} and municipality {nis} as row {seen[key]}",
                file=path,
                row=line,
                column="CD_MUNTY_REFNIS",
            )
        seen[key] = line
        out["year"].append(key[0])
        out["nis"].append(nis)
        for statbel, name in {**REQUIRED, **OPTIONAL}.items():
            if name in ("year", "nis"):
                continue
            value = _number(cell.get(statbel), path, line, statbel)
            if value < 0:
                raise InputError(f"negative value {value!r}", file=path, row=line, column=statbel)
            out[name].append(value)
    frame = pd.DataFrame(out)
    frame["year"] = frame["year"].astype("int64")
    for c in ("median", "q1", "q3", "arop"):
        frame[c] = frame[c].astype("float64")
    return frame.sort_values(["year", "nis"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# import and the stored table


@dataclass(frozen=True)
class IncomeImportResult:
    """What :func:`import_income` did."""

    years: tuple[int, ...]
    municipalities: int  # distinct codes in the file
    rows: int
    path: Path
    source: str
    replaced: bool

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        span = f"{self.years[0]}–{self.years[-1]}" if len(self.years) > 1 else str(self.years[0])
        action = "replaced" if self.replaced else "written"
        return (
            f"Income {span}: {self.municipalities} municipalities, {self.rows} rows — "
            f"{action} {self.path}"
        )


def import_income(path: str | Path, dest: str | Path | None = None) -> IncomeImportResult:
    """Validate Statbel's ``TF_SOC_ADI_MUNTY`` (.xlsx or .csv) and store it as
    ``<dest or user data/income>/income.parquet`` (atomically; nothing is written on an error).
    Its years replace the shipped ones of the same number."""
    path = Path(path)
    frame = read_income(path)
    metadata = {
        "source": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "imported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "attribution": f"{ATTRIBUTION}, {SOURCE}",
        "geography": shipped_geography().label,
    }
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(
        {"ksz_reports": json.dumps(metadata)}
    )
    target = (Path(dest) if dest is not None else income_dir()) / "income.parquet"
    replaced = target.exists()
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)
    reload_income()
    return IncomeImportResult(
        years=tuple(sorted(frame["year"].unique().tolist())),
        municipalities=int(frame["nis"].nunique()),
        rows=len(frame),
        path=target,
        source=str(path),
        replaced=replaced,
    )


_TABLES: dict[Path, pd.DataFrame] = {}


def reload_income() -> None:
    """Forget the cached tables (after an import)."""
    with _LOCK:
        _TABLES.clear()


def _shipped() -> pd.DataFrame:
    frame = pd.read_csv(data_path("income.csv"), dtype={"nis": str})
    return frame[list(COLUMNS)].astype({"year": "int64"})


def income_table() -> pd.DataFrame:
    """The whole income table (:data:`COLUMNS`, the 2019–2024 codes): the shipped years, with those
    of an imported ``income.parquet`` in their place."""
    folder = income_dir()
    with _LOCK:
        cached = _TABLES.get(folder)
        if cached is None:
            frame = _shipped()
            imported = folder / "income.parquet"
            if imported.is_file():
                try:
                    extra = pd.read_parquet(imported)[list(COLUMNS)]
                except Exception as exc:  # noqa: BLE001
                    raise InputError(
                        f"cannot read the imported income file ({exc.__class__.__name__})",
                        file=imported,
                        hint="Import the Statbel file again (ksz-reports income import FILE)",
                    ) from exc
                extra = extra.astype({"year": "int64", "nis": str})
                frame = pd.concat(
                    [frame[~frame["year"].isin(extra["year"].unique())], extra], ignore_index=True
                ).sort_values(["year", "nis"], kind="stable")
            cached = _TABLES[folder] = frame.reset_index(drop=True)
    return cached.copy()


def income_years() -> list[int]:
    """The years with income (shipped or imported)."""
    return sorted(int(y) for y in income_table()["year"].unique())


def income_year_for(year: int) -> int | None:
    """The latest income year ≤ ``year``, or None."""
    years = [y for y in income_years() if y <= int(year)]
    return years[-1] if years else None


def income_on(target: Geography, year: int) -> pd.DataFrame:
    """The income of ``year`` for every municipality of ``target``: ``nis, median, q1, q3, arop,
    year, note``. A municipality with one predecessor on the 2019–2024 geography takes its values;
    one formed by a merger has none (``note`` ``merged``), one Statbel does not list neither
    (``absent``, e.g. Herstappe), nor one whose value is empty (``not_published``). Never summed or averaged."""
    table = income_table()
    mine = table[table["year"] == int(year)].set_index("nis")
    if mine.empty:
        raise NotFoundError(f"no income for {year} (available: {income_years()})")
    source = shipped_geography()
    preds: dict[str, list[str]] = {c: [] for c in target.codes}
    if target is source:
        preds = {c: [c] for c in target.codes}
    else:
        from ksz_reports.geo.geography import successor_map

        for old, new in successor_map(source, target).items():
            if new in preds:
                preds[new].append(old)
    rows = []
    for code in target.codes:
        before = preds[code]
        values = {c: math.nan for c in ("median", "q1", "q3", "arop")}
        if len(before) > 1:
            note = MERGED
        elif len(before) == 1 and before[0] in mine.index:
            values = {c: float(mine.at[before[0], c]) for c in values}
            note = NOT_PUBLISHED if math.isnan(values["median"]) else ""
        else:
            note = ABSENT
        rows.append({"nis": code, **values, "year": int(year), "note": note})
    return pd.DataFrame(rows)


def income(year: int | None = None, at: At = None) -> pd.DataFrame:
    """Median net taxable income per consumption unit (euro), its quartiles and the administrative
    at-risk-of-poverty rate (%) per municipality (Statbel ``TF_SOC_ADI_MUNTY``).

    Without arguments: every year on the geography of the data (2019–2024). With ``at`` (a date,
    a year or a :class:`Geography`): the municipalities of that geography, merged ones without income
    (``note`` says why). ``year``: that year only (the latest income year ≤ ``year``).
    Columns ``year, nis, name, median, q1, q3, arop, note``; aggregates have no income.
    """
    if at is None and year is None:
        frame = income_table()
        geo = shipped_geography()
        frame.insert(2, "name", [geo.name(c) for c in frame["nis"]])
        frame["note"] = ""
        return frame
    target = geography(at) if at is not None else shipped_geography()
    years = income_years() if year is None else [income_year_for(year)]
    if years == [None]:
        raise NotFoundError(f"no income for {year} or earlier (available: {income_years()})")
    parts = [income_on(target, y) for y in years]
    frame = pd.concat(parts, ignore_index=True)[["year", "nis", *COLUMNS[2:], "note"]]
    frame.insert(2, "name", [target.name(c) for c in frame["nis"]])
    return frame


def pearson_r(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's r of the pairs where both are known (NaN with fewer than 3 such pairs)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = ~(np.isnan(x) | np.isnan(y))
    if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
        return math.nan
    return float(np.corrcoef(x[ok], y[ok])[0, 1])
