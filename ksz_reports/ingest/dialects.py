"""Export dialects: declarative mappings from a raw export to the canonical long table (docs/domain.md#raw-exports).

A dialect is one YAML file ``config/dialects/<name>.yaml`` (see ``docs/dialects.md`` for the
shipped ones). It says how to read the file (format, encodings, separator, where the header is,
where the table ends), which header names mean which canonical column (nl and fr aliases, matched
with :func:`ksz_reports.core.text.normalize`), the layout (long, or wide with one column per period or
per category), how periods, numbers and masked cells are written, and where the vintage
(extraction date) comes from. Adding a dialect needs no code.

Keys of a dialect file (all optional except ``format`` and ``columns``)::

    description: free text
    format: csv | xlsx | parquet     # or a list: [csv, xlsx] (the swing dialect)
    extensions: [csv]                # file extensions it reads (default: by format)
    filename: '^ksz_dwh_long'        # a file name matching this prefers the dialect on detection
    csv: {encodings: [utf-8-sig, cp1252], separator: auto | ";" | "," | "\\t", quote: '"'}
    xlsx: {sheet: Barometer}         # default: the first sheet
    header: {row: 1}                 # 1-based line/row of the header; null = the first row (within
                                     # search_rows) that holds every required column
    footnotes: stop_at_empty_row     # the table ends at the first empty row after the data | none
    layout: long | wide | swing
    wide: {columns: period, patterns: [{pattern: '^(?P<year>\\d{4})$'}], looks_like: '^\\s*\\d'}
    swing: {codes: {v5101_x_m: {indicator: id, sex: M}}, geolevels: {gemeente2024:
            {level: municipality, geography: '2019'}}, unknown_locations: {'99991': '02000'}}
    absent_rows: zero | not_reported # a municipality without a row (zero: layout swing only)
    columns: {geo: [NIS-code, Code INS], value: [Aantal, Nombre], ...}
    ignore_columns: [Opmerking]      # read and dropped
    unknown_columns: error | ignore
    dimensions: {sex: labels}        # codes | labels | any (documentation; all resolve the same)
    value_maps: {sex: {H: M}}        # extra tokens → canonical code, per dimension
    indicator: {fixed: ll_distinct}  # or {values: {LL: ll}} with an `indicator` column
    period: {formats: [{pattern: '^(?P<day>\\d{1,2})/(?P<month>\\d{1,2})/(?P<year>\\d{4})$'}]}
    year_label: reference_year | following_january
    numbers: {thousands: ['.'], zero_tokens: ['-'], empty: error, masked: [x]}
    vintage: {filename: '_(?P<date>\\d{4}-\\d{2}-\\d{2})\\.csv$', title: 'Extractiedatum:\\s*(?P<date>\\S+)'}
    geo: {aggregates: drop}          # rows of arrondissements/provinces/regions/Belgium: drop | error

Canonical columns a header can map to (``columns``): ``indicator``, ``period``, ``geo`` (NIS code),
``geo_name`` (municipality name; used when the code is empty, or as the only geography column),
the dimensions of :data:`ksz_reports.core.schema.DIMENSIONS`, ``value``, and optionally ``vintage`` and
``source``. A dimension without a column is ``total``. ``layout: swing`` (docs/dialects.md §6) maps ``period``, ``geolevel`` and ``geo`` only: the other
columns are indicator codes, read by :mod:`ksz_reports.ingest.swing`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ksz_reports.core.config import _merge, _read_yaml, config_folders, load_config
from ksz_reports.core.errors import ConfigError, InputError
from ksz_reports.core.resources import dialects_dir
from ksz_reports.core.schema import DIMENSIONS
from ksz_reports.core.text import normalize

#: Canonical roles a header column can take.
ROLES: tuple[str, ...] = (
    "indicator",
    "period",
    "geo",
    "geo_name",
    "geolevel",
    *DIMENSIONS,
    "value",
    "lower",
    "upper",
    "vintage",
    "source",
)

#: Tokens of a cell without a number that producers use (masked, unknown or absent,
#: docs/domain.md#raw-exports). A token of this list that a dialect does not declare is reported
#: as "not allowed by the dialect" rather than as a bad number.
KNOWN_MASKED_TOKENS: tuple[str, ...] = ("<5", "x", "c", "-99997", "-99999", "-99998", "-99996")

_DEFAULT_EXTENSIONS = {
    "csv": ["csv", "txt", "tsv"],
    "xlsx": ["xlsx", "xlsm"],
    "parquet": ["parquet", "pq"],
}

_NAMED = {"year", "month", "quarter", "day"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_regex(text: str) -> str:
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression {text!r}: {exc}") from None
    return text


class PeriodPattern(_Strict):
    """A regular expression for a period as written, and what it denotes.

    Named groups ``year``, ``month``, ``quarter``, ``day`` say what each part is; without named
    groups the groups are read in the order of ``kind``: year; year, month; year, quarter; or
    day, month, year (``date``). A date is the exact reference date of a stock.
    """

    pattern: str
    kind: Literal["year", "quarter", "month", "date"] | None = None
    example: str | None = None  # shown in messages, e.g. 31/12/2021

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        return _check_regex(value)

    @model_validator(mode="after")
    def _kind(self) -> PeriodPattern:
        groups = set(re.compile(self.pattern).groupindex)
        if groups - _NAMED:
            raise ValueError(
                f"unknown named groups {sorted(groups - _NAMED)}; use {sorted(_NAMED)}"
            )
        if not groups and self.kind is None:
            raise ValueError("give named groups (year, month, quarter, day) or a `kind`")
        if groups and "year" not in groups:
            raise ValueError("a period pattern needs a `year` group")
        return self

    def match(self, text: str) -> tuple[str, int, int, int] | None:
        """``(kind, year, month_or_quarter, day)`` of ``text``, or None when it does not match."""
        m = re.fullmatch(self.pattern, text.strip())
        if m is None:
            return None
        named = m.groupdict()
        if named:
            year = int(named["year"])
            day = int(named["day"]) if named.get("day") else 0
            if named.get("quarter"):
                return ("quarter", year, int(named["quarter"]), 0)
            if named.get("month"):
                return ("date" if day else "month", year, int(named["month"]), day)
            return ("year", year, 0, 0)
        g = [int(x) for x in m.groups()]
        if self.kind == "year":
            return ("year", g[0], 0, 0)
        if self.kind == "date":
            return ("date", g[2], g[1], g[0])
        return (self.kind or "year", g[0], g[1], 0)


DEFAULT_PERIOD_FORMATS: tuple[PeriodPattern, ...] = (
    PeriodPattern(
        pattern=r"(?P<day>\d{1,2})[/.-](?P<month>\d{1,2})[/.-](?P<year>\d{4})", example="31/12/2021"
    ),
    PeriodPattern(pattern=r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?:[T ]00:00(?::00)?)?"),
    PeriodPattern(
        pattern=r"(?P<year>\d{4})\s*[-/]?\s*[QqKkTt](?P<quarter>[1-4])", example="2021Q4"
    ),
    PeriodPattern(pattern=r"(?P<year>\d{4})[-/](?P<month>\d{1,2})", example="2021-10"),
    PeriodPattern(pattern=r"(?P<year>\d{4})", example="2021"),
)


class CsvOptions(_Strict):
    """How a CSV file is written."""

    encodings: list[str] = Field(default=["utf-8-sig", "cp1252"], min_length=1)
    separator: str = "auto"
    quote: str = '"'
    #: every line of the dialect's files ends with a line end, the last one too: a file without
    #: one was cut (inside its last number, maybe) and is refused
    final_newline: bool = False

    @field_validator("encodings")
    @classmethod
    def _codecs(cls, values: list[str]) -> list[str]:
        import codecs

        for v in values:
            try:
                codecs.lookup(v)
            except LookupError:
                raise ValueError(f"unknown encoding {v!r}") from None
        return values

    @field_validator("separator")
    @classmethod
    def _sep(cls, value: str) -> str:
        if value != "auto" and len(value) != 1:
            raise ValueError("the separator is one character (`;`, `,`, a tab) or `auto`")
        return value


class XlsxOptions(_Strict):
    """Which sheet of a workbook holds the table (default: the first)."""

    sheet: str | None = None


class HeaderOptions(_Strict):
    """Where the header is: a fixed 1-based row, or found (``row: null``)."""

    row: int | None = Field(default=1, ge=1)
    search_rows: int = Field(default=30, ge=1)


class WideOptions(_Strict):
    """Wide layout: every column that is not an identifying column holds values.

    ``columns: period``: the header of a value column is a period (``patterns``); a header that
    ``looks_like`` a period but matches no pattern is reported. ``columns: <dimension>``: the
    header is a code or label of that dimension.
    """

    columns: str = "period"
    patterns: list[PeriodPattern] = []
    looks_like: str = r"^\s*\d"

    @field_validator("columns")
    @classmethod
    def _what(cls, value: str) -> str:
        if value != "period" and value not in DIMENSIONS:
            raise ValueError(f"`columns` is `period` or a dimension ({', '.join(DIMENSIONS)})")
        return value

    @field_validator("looks_like")
    @classmethod
    def _regex(cls, value: str) -> str:
        return _check_regex(value)


class IndicatorOptions(_Strict):
    """The indicator: ``fixed`` for the whole file, or read from the ``indicator`` column."""

    fixed: str | None = None
    values: dict[str, str] = {}


class PeriodOptions(_Strict):
    """How periods (and reference dates) are written; tried in order."""

    formats: list[PeriodPattern] = list(DEFAULT_PERIOD_FORMATS)


class NumberOptions(_Strict):
    """How counts are written, and what a cell without a number means (``docs/domain.md``).

    ``masked``: tokens of a cell its supplier hid because it is small (``x``, ``<5``, ``-99997``):
    sensitive, protected like a primary cell; a token ``<n`` gives the range ``[0, n−1]``.
    ``bands``: a range ``a-b`` (``1-3``) is a masked cell within it. ``unknown``: no value for
    another reason (``-99999``: not covered by the source): breaks every sum, not sensitive.
    ``absent``: nothing can be there (``-99998`` not applicable, ``-99996`` empty): the row is
    left out, as if it were not in the file, and breaks no sum.
    """

    thousands: list[str] = []
    zero_tokens: list[str] = []
    empty: Literal["missing", "zero", "masked", "unknown", "error"] = "error"
    masked: list[str] = []
    bands: bool = False
    unknown: list[str] = []
    absent: list[str] = []

    @model_validator(mode="after")
    def _disjoint(self) -> NumberOptions:
        seen: dict[str, str] = {}
        for role in ("zero_tokens", "masked", "unknown", "absent"):
            for token in getattr(self, role):
                key = token.strip().lower()
                if key in seen:
                    raise ValueError(f"token {token!r} is both in {seen[key]} and in {role}")
                seen[key] = role
        return self

    @field_validator("thousands")
    @classmethod
    def _single(cls, values: list[str]) -> list[str]:
        for v in values:
            if len(v) != 1 or v.isdigit() or v == "-":
                raise ValueError(f"a thousands separator is one non-digit character, not {v!r}")
        return values


class VintageOptions(_Strict):
    """Where the extraction date comes from; none of them → the ``vintage`` argument is needed.

    ``filename`` and ``title`` are regular expressions with a group ``date`` (or one group).
    ``column: true`` reads it from the ``vintage`` column.
    """

    filename: str | None = None
    title: str | None = None
    column: bool = False

    @field_validator("filename", "title")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return None if value is None else _check_regex(value)


_SWING_LEVELS = ("municipality", "arrondissement", "province", "region", "country")


class SwingGeolevel(_Strict):
    """One value of a Swing ``geolevel`` column: the level of its rows and, for municipalities,
    the geography (``1983``, ``2019``, ``2025`` or ``current``) their codes belong to."""

    level: Literal["municipality", "arrondissement", "province", "region", "country"]
    geography: str | None = Field(default=None, pattern=r"^(current|\d{4})$")

    @model_validator(mode="after")
    def _geo(self) -> SwingGeolevel:
        if (self.level == "municipality") != (self.geography is not None):
            raise ValueError("a municipality geolevel (and only one) names its `geography`")
        return self


class SwingOptions(_Strict):
    """The Swing layout (``layout: swing``, docs/dialects.md §6): rows ``period, geolevel,
    geoitem, <one column per indicator code>``.

    ``codes``: indicator code (a header) → ``{indicator: id, <dimension>: code, …}``; a header
    that is not listed but is an indicator id, alias or label is that indicator's total.
    ``geolevels``: the values of the ``geolevel`` column. ``unknown_locations``: codes of a
    location known only up to its region (``99991``) → that region (or Belgium, ``01000``)."""

    codes: dict[str, dict[str, str]] = {}
    geolevels: dict[str, SwingGeolevel] = {}
    unknown_locations: dict[str, str] = {}

    @field_validator("codes")
    @classmethod
    def _codes(cls, codes: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for code, body in codes.items():
            if "indicator" not in body:
                raise ValueError(f"code {code!r} needs an `indicator`")
            unknown = [k for k in body if k != "indicator" and k not in DIMENSIONS]
            if unknown:
                raise ValueError(
                    f"code {code!r}: unknown key {unknown[0]!r}; give `indicator` and "
                    f"dimensions ({', '.join(DIMENSIONS)})"
                )
        return codes

    @field_validator("unknown_locations")
    @classmethod
    def _regions(cls, value: dict[str, str]) -> dict[str, str]:
        for code, region in value.items():
            if region not in ("01000", "02000", "04000"):
                raise ValueError(
                    f"unknown location {code!r}: {region!r} is not Flanders (02000), Brussels "
                    "(04000) or Belgium (01000), the areas with an unknown-location pseudo-unit"
                )
        return value

    def code_map(self) -> dict[str, dict[str, str]]:
        """Normalised header → its mapping."""
        return {normalize(k): v for k, v in self.codes.items()}


class GeoOptions(_Strict):
    """Geography column: what to do with rows of aggregates (arrondissement … Belgium)."""

    aggregates: Literal["drop", "error"] = "drop"


class Dialect(_Strict):
    """One export dialect (see the module docstring for the keys)."""

    name: str
    path: Path | None = None
    description: str = ""
    format: Any  # csv | xlsx | parquet, or a list (a swing dialect reads [csv, xlsx])
    extensions: list[str] = []
    filename: str | None = None
    csv: CsvOptions = CsvOptions()
    xlsx: XlsxOptions = XlsxOptions()
    header: HeaderOptions = HeaderOptions()
    footnotes: Literal["stop_at_empty_row", "none"] = "stop_at_empty_row"
    layout: Literal["long", "wide", "swing"] = "long"
    wide: WideOptions | None = None
    swing: SwingOptions | None = None
    #: an area (municipality) without a row: a zero (a file completed with zeros for every area,
    #: as Provincies in Cijfers uploads are) or not reported (the sums that need it are not
    #: available); ``zero`` needs ``layout: swing``
    absent_rows: Literal["zero", "not_reported"] = "not_reported"
    columns: dict[str, list[str]]
    ignore_columns: list[str] = []
    unknown_columns: Literal["error", "ignore"] = "error"
    dimensions: dict[str, Literal["codes", "labels", "any"]] = {}
    value_maps: dict[str, dict[str, str]] = {}
    indicator: IndicatorOptions = IndicatorOptions()
    period: PeriodOptions = PeriodOptions()
    year_label: Literal["reference_year", "following_january"] = "reference_year"
    numbers: NumberOptions = NumberOptions()
    vintage: VintageOptions = VintageOptions()
    geo: GeoOptions = GeoOptions()

    @field_validator("columns")
    @classmethod
    def _roles(cls, columns: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = [r for r in columns if r not in ROLES]
        if unknown:
            raise ValueError(f"unknown canonical column {unknown[0]!r}; known: {', '.join(ROLES)}")
        seen: dict[str, str] = {}
        for role, aliases in columns.items():
            if not aliases:
                raise ValueError(f"`{role}` needs at least one header name")
            for alias in aliases:
                key = normalize(alias)
                if key in seen and seen[key] != role:
                    raise ValueError(f"header {alias!r} is an alias of both {seen[key]} and {role}")
                seen[key] = role
        return columns

    @field_validator("dimensions", "value_maps")
    @classmethod
    def _dims(cls, value: dict) -> dict:
        unknown = [d for d in value if d not in DIMENSIONS]
        if unknown:
            raise ValueError(f"unknown dimension {unknown[0]!r}; known: {', '.join(DIMENSIONS)}")
        return value

    @field_validator("filename")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return None if value is None else _check_regex(value)

    @field_validator("format")
    @classmethod
    def _format(cls, value: Any) -> Any:
        items = value if isinstance(value, list) and value else [value]
        for item in items:
            if item not in _DEFAULT_EXTENSIONS:
                raise ValueError("Input should be 'csv', 'xlsx' or 'parquet'")
        return value if isinstance(value, str) else list(dict.fromkeys(items))

    @model_validator(mode="after")
    def _consistent(self) -> Dialect:
        cols = self.columns
        if self.layout == "swing":
            return self._swing_consistent()
        if self.swing is not None:
            raise ValueError("`swing` is only for `layout: swing`")
        if self.absent_rows == "zero":
            raise ValueError("`absent_rows: zero` is read for `layout: swing` only")
        if "geolevel" in cols:
            raise ValueError("a `geolevel` column is only for `layout: swing`")
        if self.indicator.fixed is None and "indicator" not in cols:
            raise ValueError("give an `indicator` column or `indicator.fixed`")
        if self.indicator.fixed is not None and "indicator" in cols:
            raise ValueError("`indicator.fixed` and an `indicator` column exclude each other")
        if "geo" not in cols and "geo_name" not in cols:
            raise ValueError("give a `geo` (NIS code) or `geo_name` column")
        if self.layout == "long":
            for role in ("period", "value"):
                if role not in cols:
                    raise ValueError(f"a long dialect needs a `{role}` column")
            if self.wide is not None:
                raise ValueError("`wide` is only for `layout: wide`")
        else:
            if self.wide is None:
                raise ValueError("`layout: wide` needs a `wide` section")
            if "value" in cols:
                raise ValueError(
                    "a wide dialect has no `value` column (the values are in the wide columns)"
                )
            if self.wide.columns == "period":
                if "period" in cols:
                    raise ValueError("a wide-by-period dialect has no `period` column")
                if not self.wide.patterns:
                    raise ValueError("`wide.patterns` must say how a header becomes a period")
            else:
                if "period" not in cols:
                    raise ValueError("a wide-by-category dialect needs a `period` column")
                if self.wide.columns in cols:
                    raise ValueError(
                        f"`{self.wide.columns}` is the wide dimension and cannot be a column"
                    )
        if self.vintage.column and "vintage" not in cols:
            raise ValueError("`vintage.column: true` needs a `vintage` column")
        if self.vintage.title and "parquet" in self.formats:
            raise ValueError("a Parquet file has no title rows for `vintage.title`")
        return self

    def _swing_consistent(self) -> Dialect:
        cols = self.columns
        if self.swing is None:
            raise ValueError("`layout: swing` needs a `swing` section")
        for role in ("period", "geolevel", "geo"):
            if role not in cols:
                raise ValueError(f"a swing dialect needs a `{role}` column")
        extra = [r for r in cols if r not in ("period", "geolevel", "geo")]
        if extra:
            raise ValueError(
                f"a swing dialect has no `{extra[0]}` column (indicator and breakdown come "
                "from the indicator code of each value column, `swing.codes`)"
            )
        if self.wide is not None or self.indicator.fixed or self.indicator.values:
            raise ValueError("a swing dialect has no `wide` or `indicator` section")
        if not any(g.level == "municipality" for g in self.swing.geolevels.values()):
            raise ValueError("`swing.geolevels` needs at least one municipality geolevel")
        if "parquet" in self.formats:
            raise ValueError("a swing dialect reads csv and xlsx files")
        return self

    # -- derived ---------------------------------------------------------------------------

    @property
    def formats(self) -> list[str]:
        """The file formats this dialect reads (one, or csv and xlsx)."""
        return [self.format] if isinstance(self.format, str) else list(self.format)

    def format_of(self, ext: str) -> str | None:
        """The format of a file with extension ``ext`` (lower case, no dot), or None."""
        if ext not in self.file_extensions:
            return None
        if len(self.formats) == 1:
            return self.formats[0]
        return next((f for f in self.formats if ext in _DEFAULT_EXTENSIONS[f]), None)

    @property
    def file_extensions(self) -> list[str]:
        """The extensions (lower case, no dot) this dialect reads."""
        if self.extensions:
            return [e.lower().lstrip(".") for e in self.extensions]
        return [e for fmt in self.formats for e in _DEFAULT_EXTENSIONS[fmt]]

    @property
    def required_roles(self) -> list[str]:
        """Canonical columns the header must have."""
        req = []
        if self.indicator.fixed is None:
            req.append("indicator")
        if "period" in self.columns:
            req.append("period")
        req.append("geo" if "geo" in self.columns else "geo_name")
        if self.layout == "swing":
            req = ["period", "geolevel", "geo"]
        if self.layout == "long":
            req.append("value")
        if self.vintage.column:
            req.append("vintage")
        return req

    def alias_index(self) -> dict[str, str]:
        """Normalised header text → canonical role."""
        return {normalize(a): role for role, aliases in self.columns.items() for a in aliases}

    def ignored(self) -> set[str]:
        """Normalised header texts that are read and dropped."""
        return {normalize(a) for a in self.ignore_columns}

    def value_map(self, dimension: str) -> dict[str, str]:
        """Normalised token → canonical code of the dialect's own value map of ``dimension``."""
        return {normalize(k): str(v) for k, v in self.value_maps.get(dimension, {}).items()}

    def indicator_map(self) -> dict[str, str]:
        """Normalised token → indicator id (the dialect's own indicator values)."""
        return {normalize(k): str(v) for k, v in self.indicator.values.items()}

    @property
    def where(self) -> str:
        """The YAML file, for messages: ``config/dialects/<name>.yaml`` for a shipped dialect."""
        if self.path is None or self.path.parent == dialects_dir():
            return f"config/dialects/{self.name}.yaml"
        return str(self.path)


# ------------------------------------------------------------------------------------------
# loading


def _dialect_folders(folders: list[str | Path] | None) -> list[Path]:
    if folders is not None:
        return [dialects_dir(), *[Path(f) for f in folders]]
    out = [dialects_dir()]
    for folder in config_folders()[1:]:
        out.append(folder / "dialects")
    return out


def _validate(name: str, data: Any, file: Path) -> Dialect:
    if not isinstance(data, dict):
        raise ConfigError("a dialect file must be a mapping of keys", file=file)
    data = {k: v for k, v in data.items()}
    given = data.pop("name", name)
    if given != name:
        raise ConfigError(f"`name` must be the file name {name!r}", file=file, key="name")
    try:
        return Dialect.model_validate({**data, "name": name, "path": file})
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or None
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        raise ConfigError(msg, file=file, key=key) from None


def load_dialects(folders: list[str | Path] | None = None) -> dict[str, Dialect]:
    """All dialects: the shipped ``config/dialects/*.yaml`` merged with the override folders.

    ``folders``: extra dialect folders (default: ``<config override>/dialects`` of
    :func:`ksz_reports.core.config.config_folders`). A file of the same name in a later folder is merged
    key by key over the earlier one; a new name adds a dialect. An invalid file raises
    :class:`~ksz_reports.core.errors.ConfigError` naming the file and the key.
    """
    paths = []
    for folder in _dialect_folders(folders):
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                stat = path.stat()
                paths.append((path, stat.st_mtime_ns, stat.st_size))
    return dict(_load(tuple(paths)))


@lru_cache(maxsize=16)
def _load(paths: tuple[tuple[Path, int, int], ...]) -> tuple[tuple[str, Dialect], ...]:
    """Dialects of these files (cached on their path, modification time and size)."""
    raw: dict[str, Any] = {}
    files: dict[str, Path] = {}
    for path, _mtime, _size in paths:
        name = path.stem
        data = _read_yaml(path)
        if not isinstance(data, dict):
            raise ConfigError("a dialect file must be a mapping of keys", file=path)
        raw[name] = _merge(raw.get(name, {}), data) if name in raw else data
        files[name] = path
    return tuple((name, _validate(name, raw[name], files[name])) for name in sorted(raw))


def _config(config: Any) -> Any:
    """``config``, or the environment's configuration (shipped + ``$KSZ_REPORTS_CONFIG``), loaded
    at the door of a public function when none is passed."""
    return config if config is not None else load_config()


def dialects_for(config: Any = None) -> dict[str, Dialect]:
    """The dialects of a :class:`~ksz_reports.core.config.Config` (its override folder included)."""
    if config is None:
        return load_dialects()
    folders = list(getattr(config, "folders", []))[1:]
    return load_dialects([Path(f) / "dialects" for f in folders])


def get_dialect(name: str | Dialect, config: Any = None) -> Dialect:
    """A dialect by name; :class:`~ksz_reports.core.errors.InputError` listing the known ones."""
    if isinstance(name, Dialect):
        return name
    known = dialects_for(config)
    if name not in known:
        raise InputError(
            f"unknown dialect {name!r}",
            hint=f"Use one of {', '.join(known)}, or add config/dialects/{name}.yaml",
            code="unknown-dialect",
        )
    return known[name]
