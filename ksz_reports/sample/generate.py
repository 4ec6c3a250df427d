"""Realistic sample exports for all 581 municipalities, in the shipped dialects (docs/dialects.md).

``generate_sample(out)`` writes, deterministically for a seed:

- ``ksz_dwh_long_2023-03-01.csv``: KSZ DWH stocks on 31/12/2017 … 31/12/2021 of every KSZ indicator
  except ``ses_position``, broken down one dimension at a time plus sex × age class (``rows=N``
  adds crossed tables until about N rows);
- ``ksz_dwh_wide_2023-03-01.csv``: ``ses_position``, 20 statuses × sex × age class (18–64), one
  column per year;
- ``podmi_monthly_2023-01-15.csv`` (all months 2017-01 … 2022-12, the last ones incomplete and
  under-counted) and ``podmi_monthly_2023-04-15.csv`` (2022, complete and revised);
- ``podmi_barometer_2023-03-15.xlsx``: distinct persons with a leefloon per year and category.

The model, in short. Every count is drawn from the real population (``data/population.csv``,
1 January of the year that follows a 31 December stock, or of the year of a month) and age- and
sex-specific rates, calibrated per region and year to published Belgian levels (module
``calibration``), with a lognormal municipal effect (a deprivation factor shared by the indicators,
an urban effect growing with the municipality's size and an idiosyncratic term). Counts per sex ×
age band are binomial draws from the population; finer cells split them with multinomials (household
position | age, origin | municipality, nationality | origin), so every table of an export is a
marginal of one joint table and adds up exactly. POD MI months follow the national seasonal path
through the yearly averages, with a municipal AR(1) deviation; the equivalent measures are built
from leefloon (RMI = LL + employment, GPMI ⊂ RMI, SPI ⊂ LL, RMH = ELL + other financial aid).

Randomness comes from one :class:`numpy.random.SeedSequence` of the seed, spawned into one
``Generator(PCG64)`` stream per component, so that ``only`` and ``rows`` never change the content of
the other files. Files are assembled as bytes with vectorised Arrow kernels (dictionary take +
element-wise join), already in the dialect's encoding, and written atomically.

The package: ``calibration`` (the levels and model parameters), ``world`` (reference data, the
municipal world and effects, random helpers), ``writers`` (CSV assembly), ``ksz`` (the two KSZ DWH
files), ``podmi`` (the POD MI series, the monthly CSV and the barometer workbook) and this module
(the files to write, the random streams, the summary).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ksz_reports.core.config import Config, load_config
from ksz_reports.core.errors import UsageError
from ksz_reports.sample.calibration import MISSING_SHARE
from ksz_reports.sample.ksz import _write_ksz_long, _write_ksz_wide
from ksz_reports.sample.podmi import (
    MONTHS,
    _podmi_final,
    _podmi_first,
    _podmi_headline,
    _write_barometer,
    _write_podmi,
)
from ksz_reports.sample.world import (
    BAROMETER_VINTAGE,
    KSZ_VINTAGE,
    KSZ_YEARS,
    PODMI_VINTAGES,
    PODMI_YEARS,
    _world,
)

#: The dialects ``generate_sample`` writes, in writing order.
DIALECTS: tuple[str, ...] = tuple(
    ["ksz_dwh_long", "ksz_dwh_wide", "podmi_monthly", "podmi_barometer_xlsx"]
)


# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleFile:
    """One written file: ``rows`` data rows (header excluded), ``cells`` canonical rows."""

    name: str
    dialect: str
    rows: int
    cells: int
    bytes: int
    seconds: float


@dataclass
class SampleSummary:
    """What :func:`generate_sample` wrote, with a few headline totals; ``str()`` prints it."""

    out: Path
    seed: int
    files: list[SampleFile] = field(default_factory=list)
    headline: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def total_cells(self) -> int:
        """Canonical rows of all files (a wide row counts once per year column)."""
        return sum(f.cells for f in self.files)

    def file(self, dialect_or_name: str) -> list[SampleFile]:
        """The files of a dialect (or the one file of that name)."""
        return [f for f in self.files if dialect_or_name in (f.dialect, f.name)]

    def __str__(self) -> str:
        width = max([len(f.name) for f in self.files] + [10])
        lines = [f"sample exports (seed {self.seed}) in {self.out}:"]
        for f in self.files:
            lines.append(
                f"  {f.name:<{width}}  {f.rows:>11,} rows  {f.cells:>11,} cells  "
                f"{f.bytes / 1e6:>8.1f} MB  {f.seconds:>5.1f} s"
            )
        lines.append(
            f"  {'total':<{width}}  {self.total_rows:>11,} rows  {self.total_cells:>11,} cells  "
            f"{sum(f.bytes for f in self.files) / 1e6:>8.1f} MB  {self.seconds:>5.1f} s"
        )
        if self.headline:
            lines.append("headline totals:")
            key_width = max(len(k) for k in self.headline)
            for key, value in self.headline.items():
                digits = 3 if abs(value) < 10 else 1 if abs(value) < 100 else 0
                text = f"{value:,.{digits}f}"
                lines.append(f"  {key:<{key_width}}  {text:>12}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def sample_file_names() -> dict[str, list[str]]:
    """The files ``generate_sample`` writes, per dialect."""
    return {
        "ksz_dwh_long": [f"ksz_dwh_long_{KSZ_VINTAGE:%Y-%m-%d}.csv"],
        "ksz_dwh_wide": [f"ksz_dwh_wide_{KSZ_VINTAGE:%Y-%m-%d}.csv"],
        "podmi_monthly": [f"podmi_monthly_{v:%Y-%m-%d}.csv" for v in PODMI_VINTAGES],
        "podmi_barometer_xlsx": [f"podmi_barometer_{BAROMETER_VINTAGE:%Y-%m-%d}.xlsx"],
    }


def _streams(seed: int) -> Iterator[np.random.Generator]:
    for child in np.random.SeedSequence(seed).spawn(8):
        yield np.random.Generator(np.random.PCG64(child))


def generate_sample(
    out: Path,
    *,
    seed: int = 1,
    rows: int | None = None,
    only: list[str] | None = None,
    config: Config | None = None,
) -> SampleSummary:
    """Write realistic sample exports for all 581 municipalities into ``out``.

    ``seed``: same seed, byte-identical files. ``rows``: scale ``ksz_dwh_long`` to about this many
    data rows by adding crossed tables (never fewer than the totals, 23,240 rows). ``only``: the
    dialects to write (:data:`DIALECTS`); the content of a file does not depend on ``only`` or
    (except ``ksz_dwh_long``) on ``rows``. ``config``: whose code labels the files use (default:
    the shipped configuration and ``$KSZ_REPORTS_CONFIG``).
    """
    t_start = time.perf_counter()
    selected = list(DIALECTS) if only is None else list(dict.fromkeys(only))
    unknown = [d for d in selected if d not in DIALECTS]
    if unknown:
        raise UsageError(
            f"unknown sample dialect(s) {', '.join(unknown)}; known: {', '.join(DIALECTS)}"
        )
    if rows is not None and rows < 1:
        raise UsageError("rows must be a positive number")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = config if config is not None else load_config()
    (world_rng, long_rng, long_mask, wide_rng, wide_mask, podmi_rng, podmi_mask, baro_rng) = (
        _streams(seed)
    )
    world = _world(world_rng)
    names = sample_file_names()
    summary = SampleSummary(out=out, seed=seed)

    def record(name: str, dialect: str, n_rows: int, cells: int, t0: float) -> None:
        size = (out / name).stat().st_size
        summary.files.append(
            SampleFile(name, dialect, n_rows, cells, size, time.perf_counter() - t0)
        )

    if "ksz_dwh_long" in selected:
        t0 = time.perf_counter()
        name = names["ksz_dwh_long"][0]
        n, totals = _write_ksz_long(out / name, world, long_rng, long_mask, cfg, rows)
        record(name, "ksz_dwh_long", n, n, t0)
        summary.headline.update(totals)
    if "ksz_dwh_wide" in selected:
        t0 = time.perf_counter()
        name = names["ksz_dwh_wide"][0]
        n, totals = _write_ksz_wide(out / name, world, wide_rng, wide_mask, cfg)
        record(name, "ksz_dwh_wide", n, n * len(KSZ_YEARS), t0)
        summary.headline.update(totals)
    if "podmi_monthly" in selected or "podmi_barometer_xlsx" in selected:
        t0 = time.perf_counter()
        final_parts = _podmi_final(world, podmi_rng)
        final = final_parts.compose()
        first = _podmi_first(final_parts, world, podmi_rng).compose()
        uniform = podmi_mask.random(final.shape)
        summary.headline.update(_podmi_headline(world, final))
        if "podmi_monthly" in selected:
            present = np.ones(final.shape[:2], dtype=bool)
            lag = podmi_rng.random(len(world.nis))  # the same OCMWs lag in both months
            for month, share in MISSING_SHARE.items():
                present[MONTHS.index(month)] = lag >= share
            v1, v2 = names["podmi_monthly"]
            n1 = _write_podmi(
                out / v1, world, first, present, range(len(MONTHS)), podmi_rng, uniform, cfg
            )
            record(v1, "podmi_monthly", n1, n1, t0)
            t0 = time.perf_counter()
            last_year = range(MONTHS.index("2022-01"), len(MONTHS))
            n2 = _write_podmi(
                out / v2, world, final, np.ones_like(present), last_year, podmi_rng, uniform, cfg
            )
            record(v2, "podmi_monthly", n2, n2, t0)
        if "podmi_barometer_xlsx" in selected:
            t0 = time.perf_counter()
            name = names["podmi_barometer_xlsx"][0]
            n = _write_barometer(out / name, world, final, baro_rng)
            record(name, "podmi_barometer_xlsx", n, n * len(PODMI_YEARS), t0)
    summary.seconds = time.perf_counter() - t_start
    return summary
