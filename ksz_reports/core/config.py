"""Configuration: the declarative parts of the product, validated on load.

The shipped defaults live in ``config/`` (package data ``ksz_reports.configdata``):

- ``codes.yaml``: canonical code lists with labels in nl, fr and en (docs/domain.md#the-canonical-table);
- ``indicators.yaml``: indicators, denominators, lags and revision limits (docs/domain.md#sources-and-measures, docs/domain.md#periods-and-cutoffs, docs/domain.md#denominators-and-rates-per-1000);
- ``settings.yaml``: thresholds, cutoffs, rounding, benchmark, year label convention;
- ``dialects/*.yaml``: column mappings of each export dialect (see :mod:`ksz_reports.ingest.dialects`).

A user folder (``load_config(path)`` or ``$KSZ_REPORTS_CONFIG``) overrides the defaults key by key:
a file of the same name there is merged over the shipped one. An invalid file raises
:class:`~ksz_reports.core.errors.ConfigError` naming the file and the key.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ksz_reports.core.errors import ConfigError
from ksz_reports.core.resources import config_dir
from ksz_reports.core.schema import DIMENSIONS, TOTAL
from ksz_reports.core.text import normalize
from ksz_reports.core.vocabulary import LEVELS

LANGUAGES = ("nl", "fr", "en")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Labels(_Strict):
    nl: str
    fr: str
    en: str

    def get(self, lang: str) -> str:
        return getattr(self, lang)


class PeriodLabel(_Strict):
    since: int | None = Field(default=None, alias="from")
    until: int | None = None
    labels: Labels


class Code(_Strict):
    code: str
    labels: Labels
    aliases: list[str] = []
    group: str | None = None
    valid_from: int | None = None
    valid_until: int | None = None
    period_labels: list[PeriodLabel] = []

    def label(self, lang: str = "nl", year: int | None = None) -> str:
        """The label in ``lang``; period-dependent where the DWH renamed a status."""
        if year is not None:
            for pl in self.period_labels:
                if (pl.since is None or year >= pl.since) and (
                    pl.until is None or year <= pl.until
                ):
                    return pl.labels.get(lang)
        return self.labels.get(lang)


class Dimension(_Strict):
    labels: Labels
    codes: list[Code]

    @field_validator("codes")
    @classmethod
    def _unique(cls, codes: list[Code]) -> list[Code]:
        seen: set[str] = set()
        for c in codes:
            if c.code in seen or c.code == TOTAL:
                raise ValueError(f"duplicate or reserved code {c.code!r}")
            seen.add(c.code)
        return codes

    @cached_property
    def code_ids(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.codes)

    def get(self, code: str) -> Code:
        for c in self.codes:
            if c.code == code:
                return c
        raise KeyError(code)


class Codes(_Strict):
    total: Code | dict[str, Any]
    dimensions: dict[str, Dimension]

    @model_validator(mode="before")
    @classmethod
    def _total(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("total"), dict):
            data = dict(data)
            data["total"] = {"code": TOTAL, **data["total"]}
        return data

    @field_validator("dimensions")
    @classmethod
    def _all_dimensions(cls, dims: dict[str, Dimension]) -> dict[str, Dimension]:
        missing = [d for d in DIMENSIONS if d not in dims]
        unknown = [d for d in dims if d not in DIMENSIONS]
        if missing or unknown:
            raise ValueError(
                f"dimensions must be exactly {list(DIMENSIONS)}; missing {missing}, unknown {unknown}"
            )
        return dims

    @cached_property
    def _lookup(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        total = self.total if isinstance(self.total, Code) else Code(**self.total)
        for name, dim in self.dimensions.items():
            table: dict[str, str] = {}
            for c in [*dim.codes, total]:
                keys = [c.code, *c.aliases, *(c.labels.get(lang) for lang in LANGUAGES)]
                keys += [pl.labels.get(lang) for pl in c.period_labels for lang in LANGUAGES]
                for k in keys:
                    table.setdefault(normalize(k), c.code)
            out[name] = table
        return out

    def lookup(self, dimension: str, token: object) -> str | None:
        """Canonical code of ``token`` (a code, a label in any language, an alias), or None."""
        return self._lookup[dimension].get(normalize(token))

    def codes_of(self, dimension: str) -> tuple[str, ...]:
        return self.dimensions[dimension].code_ids

    def label(self, dimension: str, code: str, lang: str = "nl", year: int | None = None) -> str:
        if code == TOTAL:
            total = self.total if isinstance(self.total, Code) else Code(**self.total)
            return total.labels.get(lang)
        return self.dimensions[dimension].get(code).label(lang, year)


class Denominator(_Strict):
    id: str
    age_class: str = TOTAL
    per: Literal[100, 1000] = 1000


class Indicator(_Strict):
    id: str
    source: Literal["ksz", "podmi", "user"]
    frequency: Literal["year", "quarter", "month"]
    stat: Literal["stock", "monthly", "distinct_year"]
    labels: Labels
    aliases: list[str] = []
    dimensions: list[str]
    #: the headline first; none for an indicator of your own that has counts only
    denominators: list[Denominator] = []
    lag_months: int = Field(ge=0)
    max_revision: float | None = Field(default=None, ge=0)
    yearly: Literal["monthly_average"] | None = None
    parameters: dict[str, float] = {}

    @field_validator("dimensions")
    @classmethod
    def _known_dimensions(cls, dims: list[str]) -> list[str]:
        for d in dims:
            if d not in DIMENSIONS:
                raise ValueError(f"unknown dimension {d!r}; known: {', '.join(DIMENSIONS)}")
        return dims

    @model_validator(mode="after")
    def _yearly_only_for_months(self) -> Indicator:
        if self.yearly and self.frequency != "month":
            raise ValueError("`yearly` is only for monthly measures")
        return self

    @model_validator(mode="after")
    def _denominator(self) -> Indicator:
        if not self.denominators and self.source != "user":
            raise ValueError(
                "give at least one denominator (only an indicator of your own, source: user, "
                "may have none: counts only)"
            )
        return self

    @property
    def headline(self) -> Denominator | None:
        """The headline denominator (None: counts only)."""
        return self.denominators[0] if self.denominators else None

    def label(self, lang: str = "nl") -> str:
        return self.labels.get(lang)


class CutoffSettings(_Strict):
    min_coverage: float = Field(default=1.0, gt=0, le=1)
    require_all_months: bool = True


class DisclosureSettings(_Strict):
    threshold: int = Field(default=5, ge=1)
    secondary: bool = True
    processes: int = Field(default=2, ge=1)


class ReliabilitySettings(_Strict):
    min_denominator: int = Field(default=500, ge=0)
    min_count: int = Field(default=20, ge=0)


class StatisticsSettings(_Strict):
    decimals: int = Field(default=1, ge=0, le=6)
    rounding: Literal["ROUND_HALF_UP", "ROUND_HALF_EVEN"] = "ROUND_HALF_UP"
    ci_method: Literal["exact", "byar"] = "exact"
    ci_level: float = Field(default=0.95, gt=0, lt=1)
    benchmark: Literal["region", "country"] = "region"
    growth_window_months: int = Field(default=12, ge=1)
    index_base: str | None = None


#: a geographic level of the settings (the vocabulary's LEVELS)
Level = Literal[LEVELS]  # type: ignore[valid-type]


class PublicationSettings(_Strict):
    breakdown_periods: int = Field(default=1, ge=1)
    breakdown_levels: list[Level] = ["municipality", "region"]
    months: bool = True
    month_breakdowns: int = Field(default=12, ge=0)
    month_breakdown_levels: list[Level] = ["region", "country"]
    geography: str = Field(default="current", pattern=r"^(current|\d{4})$")


class ReportSettings(_Strict):
    year_label: Literal["reference_year", "following_january"] = "reference_year"
    month_chart_months: int = Field(default=36, ge=2)
    language: Literal["nl", "fr", "en"] = "nl"
    languages: list[Literal["nl", "fr", "en"]] = ["nl", "fr", "en"]


class IngestSettings(_Strict):
    # bounds on an .xlsx export, checked before a member is read (core/archive.py)
    xlsx_max_bytes: int = Field(default=256 << 20, ge=1)
    xlsx_max_ratio: float = Field(default=100.0, ge=2)


class Settings(_Strict):
    ingest: IngestSettings = IngestSettings()
    cutoffs: CutoffSettings = CutoffSettings()
    disclosure: DisclosureSettings = DisclosureSettings()
    reliability: ReliabilitySettings = ReliabilitySettings()
    statistics: StatisticsSettings = StatisticsSettings()
    publication: PublicationSettings = PublicationSettings()
    report: ReportSettings = ReportSettings()


class Config:
    """The validated configuration. ``folders`` are the folders it was read from, shipped first."""

    def __init__(
        self,
        codes: Codes,
        indicators: dict[str, Indicator],
        settings: Settings,
        folders: list[Path],
        raw: dict[str, Any],
    ):
        self.codes = codes
        self.indicators = indicators
        self.settings = settings
        self.folders = folders
        self._raw = raw

    def indicator(self, indicator_id: str) -> Indicator:
        """The indicator ``indicator_id``; :class:`~ksz_reports.core.errors.NotFoundError` with suggestions."""
        from ksz_reports.core.errors import NotFoundError

        try:
            return self.indicators[indicator_id]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(indicator_id, list(self.indicators), n=3, cutoff=0.5)
            raise NotFoundError(f"unknown indicator {indicator_id!r}", close) from None

    def indicator_lookup(self, token: object) -> str | None:
        """Indicator id of ``token``: an id, a label in nl/fr/en or an alias; None if unknown."""
        key = normalize(token)
        for ind in self.indicators.values():
            names = [ind.id, *ind.aliases, *(ind.labels.get(lang) for lang in LANGUAGES)]
            if key in {normalize(n) for n in names}:
                return ind.id
        return None

    @property
    def hash(self) -> str:
        """Content hash of the effective configuration (for manifests and incremental batches)."""
        blob = json.dumps(self._raw, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()


def _read_yaml(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError(
            f"not valid YAML{where}: {getattr(exc, 'problem', exc)}", file=path
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=path) from None


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            out[k] = _merge(base.get(k), v) if k in base else v
        return out
    return override


def _key(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def _validate(model: type[BaseModel], data: Any, file: Path, prefix: str = "") -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(p for p in (prefix, _key(err["loc"])) if p)
        raise ConfigError(err["msg"], file=file, key=key or None) from None


def config_folders(path: str | Path | None = None) -> list[Path]:
    """The shipped config folder, then the override folder (argument or ``$KSZ_REPORTS_CONFIG``)."""
    folders = [config_dir()]
    override = path if path is not None else os.environ.get("KSZ_REPORTS_CONFIG")
    if override:
        folder = Path(override)
        if not folder.is_dir():
            raise ConfigError("configuration folder does not exist", file=folder)
        folders.append(folder)
    return folders


def load_config(path: str | Path | None = None) -> Config:
    """Load and validate the configuration (shipped defaults, merged with ``path`` if given)."""
    folders = config_folders(path)
    raw: dict[str, Any] = {}
    source: dict[str, Path] = {}
    for name in ("codes", "indicators", "settings"):
        merged: Any = {}
        for folder in folders:
            f = folder / f"{name}.yaml"
            if f.exists():
                merged = _merge(merged, _read_yaml(f))
                source[name] = f
        raw[name] = merged
    codes = _validate(Codes, raw["codes"], source["codes"])
    if not isinstance(raw["indicators"], dict) or not raw["indicators"]:
        raise ConfigError("must map indicator ids to their definitions", file=source["indicators"])
    indicators = {}
    for ind_id, body in raw["indicators"].items():
        if not isinstance(body, dict):
            raise ConfigError("must be a mapping", file=source["indicators"], key=str(ind_id))
        indicators[ind_id] = _validate(
            Indicator, {"id": ind_id, **body}, source["indicators"], str(ind_id)
        )
        for den in indicators[ind_id].denominators:
            _check_age_class(den.age_class, source["indicators"], f"{ind_id}.denominators")
    settings = _validate(
        Settings, raw["settings"], source.get("settings", folders[0] / "settings.yaml")
    )
    return Config(codes, indicators, settings, folders, raw)


def _check_age_class(text: str, file: Path, key: str) -> None:
    from ksz_reports.core.ages import parse_age_class

    try:
        parse_age_class(text)
    except ValueError as exc:
        raise ConfigError(str(exc), file=file, key=key) from None
