"""Stability and completeness cutoffs (docs/domain.md#periods-and-cutoffs).

- **Stability**: a period is published only when it is old enough to be final — period end +
  ``lag_months`` ≤ extraction date (vintage) — and, where the period is in two vintages, when its
  total moved by at most ``max_revision`` (relative) between the last two.
- **Completeness**: a period is published only when the share of the municipalities in scope that
  have data for it is at least ``min_coverage``; a yearly average only when all 12 months are kept.

:func:`apply_cutoffs` returns the table reduced to one value per cell (the latest vintage that has
it) for the kept periods, and a :class:`CutoffReport` that says, per indicator and period, kept or
cut and why. Reports print it in their methodology note; the CLI logs it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from ksz_reports.core.config import Config, load_config
from ksz_reports.core.schema import KEY_COLUMNS, as_str, is_total, months_of, period_end
from ksz_reports.geo.codes import UNKNOWN_LOCATIONS

KEPT = "kept"
UNSTABLE_LAG = "unstable_lag"
UNSTABLE_REVISION = "unstable_revision"
INCOMPLETE = "incomplete"
INCOMPLETE_MONTHS = "incomplete_months"


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months (clipped to the month's last day)."""
    return (pd.Timestamp(day) + pd.DateOffset(months=months)).date()


@dataclass
class CutoffReport:
    """Per indicator and period: status (``kept`` or why it was cut) and the figures behind it."""

    rows: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def cut(self) -> pd.DataFrame:
        return self.rows[self.rows["status"] != KEPT]

    @property
    def kept(self) -> pd.DataFrame:
        return self.rows[self.rows["status"] == KEPT]

    def status(self, indicator: str, period: str) -> str | None:
        hit = self.rows[(self.rows["indicator"] == indicator) & (self.rows["period"] == period)]
        return None if hit.empty else str(hit["status"].iloc[0])

    def lines(self) -> list[str]:
        """One human line per cut period (for logs and the methodology note)."""
        return [f"{r.indicator} {r.period}: {r.status} ({r.detail})" for r in self.cut.itertuples()]

    def to_records(self) -> list[dict]:
        return self.rows.astype(object).where(self.rows.notna(), None).to_dict("records")


def apply_cutoffs(
    frame: pd.DataFrame, config: Config | None = None
) -> tuple[pd.DataFrame, CutoffReport]:
    """Apply the cutoffs to a canonical table (one or more vintages).

    Returns the kept cells, one row per cell key (value of the latest vintage that has the cell),
    and the report of every (indicator, period) seen.
    """
    config = config if config is not None else load_config()
    if frame.empty:
        return frame.copy(), CutoffReport(pd.DataFrame(columns=["indicator", "period", "status"]))
    df = frame.assign(
        indicator=as_str(frame["indicator"]),
        period=as_str(frame["period"]),
        vintage=pd.to_datetime(frame["vintage"]).dt.date,
    )

    # One value per cell: the latest vintage that has it. Only (indicator, period) groups that
    # occur in several vintages need the (costly) deduplication.
    n_vintages = df.groupby(["indicator", "period"])["vintage"].nunique()
    multi = [f"{i}|{p}" for i, p in n_vintages[n_vintages > 1].index]
    in_multi = (df["indicator"] + "|" + df["period"]).isin(multi).to_numpy(dtype=bool)
    if in_multi.any():
        several = df[in_multi].sort_values([*KEY_COLUMNS, "vintage"], kind="stable")
        several = several.drop_duplicates(list(KEY_COLUMNS), keep="last")
        latest = pd.concat([df[~in_multi], several], ignore_index=True)
    else:
        latest = df

    totals = df.loc[is_total(df), ["indicator", "period", "geo", "vintage", "value"]]
    # municipalities only: an unknown location (a region's pseudo-unit) is not one to cover
    located = latest["geo"].astype(str).isin(list(UNKNOWN_LOCATIONS)).to_numpy()
    places = latest[~located] if located.any() else latest
    scope = places.groupby("indicator")["geo"].nunique()
    latest_totals = places[is_total(places)]
    covered = latest_totals.groupby(["indicator", "period"])["geo"].nunique()
    vintage_of = latest.groupby(["indicator", "period"])["vintage"].max()
    # Revision: the total over the municipalities present (unmasked) in both of the last two vintages.
    revisions: dict[tuple[str, str], tuple[float, dt.date, dt.date]] = {}
    for (indicator, period), t in totals.groupby(["indicator", "period"], sort=False):
        vintages = sorted(t["vintage"].unique())
        if len(vintages) < 2:
            continue
        old_v, new_v = vintages[-2], vintages[-1]
        wide = (
            t[t["vintage"].isin([old_v, new_v])]
            .pivot_table(index="geo", columns="vintage", values="value", aggfunc="first")
            .dropna()
        )
        old_total = float(wide[old_v].sum()) if old_v in wide else 0.0
        if old_total > 0:
            revisions[(indicator, period)] = (
                abs(float(wide[new_v].sum()) - old_total) / old_total,
                old_v,
                new_v,
            )

    records = []
    settings = config.settings.cutoffs
    for (indicator, period), vintage in vintage_of.items():
        ind = config.indicators.get(indicator)
        lag = ind.lag_months if ind else 0
        stable_from = add_months(period_end(period), lag)
        n_scope = int(scope.get(indicator, 0))
        n_covered = int(covered.get((indicator, period), 0))
        coverage = n_covered / n_scope if n_scope else 0.0
        revision = revisions.get((indicator, period))
        status, detail = KEPT, f"vintage {vintage}, coverage {n_covered}/{n_scope}"
        if stable_from > vintage:
            status = UNSTABLE_LAG
            detail = (
                f"final from {stable_from} ({lag} months after the period), extracted {vintage}"
            )
        elif (
            revision
            and ind is not None
            and ind.max_revision is not None
            and revision[0] > ind.max_revision
        ):
            status = UNSTABLE_REVISION
            detail = (
                f"revised by {revision[0]:.1%} between {revision[1]} and {revision[2]} "
                f"(limit {ind.max_revision:.1%})"
            )
        if status == KEPT and coverage < settings.min_coverage:
            status = INCOMPLETE
            detail = (
                f"{n_covered} of {n_scope} municipalities have data "
                f"(minimum {settings.min_coverage:.0%})"
            )
        records.append(
            dict(
                indicator=indicator,
                period=period,
                status=status,
                detail=detail,
                vintage=vintage,
                coverage=coverage,
                revision=revision[0] if revision else None,
            )
        )
    rows = pd.DataFrame.from_records(records)

    # Yearly averages of monthly measures need all their months kept.
    yearly = []
    if settings.require_all_months:
        for indicator, ind in config.indicators.items():
            if ind.yearly is None:
                continue
            mine = rows[rows["indicator"] == indicator]
            kept = set(mine.loc[mine["status"] == KEPT, "period"])
            for year in sorted({p[:4] for p in mine["period"]}):
                missing = [m for m in months_of(int(year)) if m not in kept]
                yearly.append(
                    dict(
                        indicator=indicator,
                        period=year,
                        status=KEPT if not missing else INCOMPLETE_MONTHS,
                        detail="all 12 months kept"
                        if not missing
                        else f"months not kept: {', '.join(missing)}",
                        vintage=None,
                        coverage=None,
                        revision=None,
                    )
                )
    if yearly:
        rows = pd.concat([rows, pd.DataFrame.from_records(yearly)], ignore_index=True)
    rows = rows.sort_values(["indicator", "period"], kind="stable").reset_index(drop=True)

    kept_keys = rows.loc[rows["status"] == KEPT, ["indicator", "period"]]
    out = latest.merge(kept_keys, on=["indicator", "period"], how="inner")
    for col in ("indicator", "geo"):
        out[col] = out[col].astype("category")
    return out.reset_index(drop=True), CutoffReport(rows)
