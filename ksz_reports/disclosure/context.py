"""The context months of a yearly average, summed (docs/domain.md#secondary-suppression).

When the monthly breakdowns of a publication (the latest ``publication.month_breakdowns`` months)
begin inside a year whose breakdowns are published, ``12 × average = Σ months`` of that year holds
between published cells (the average, the window's months) and *context* months a reader never
sees (:func:`ksz_reports.disclosure.build.plan`). Their breakdown cells are withheld: unknown to
every reader, kept in the linked table with their true values so that the relation is complete.

A reader learns about them only through their sums, so the linked table holds **one cell per
year and breakdown cell**, the sum ``W`` of its context months (period ``"2023-context"``), and
``W_total``, the same sum of the month totals, with the relations

* ``W_total = Σ the context months' totals`` (the month totals are cells of the table),
* ``W_total = Σ_c W_c`` per dimension, ``W_region = Σ W_municipality`` (generated as for any
  period),
* ``12 × average = Σ the window's months of the year + W``.

For the LP relaxation every attacker uses, this is exact — the same published cells are
feasible with either table: summing the original relations over the context months gives these,
and conversely, given feasible sums, the months are recovered per municipality and dimension as a
non-negative matrix with row sums ``t_m`` (the month totals) and column sums ``W_c`` (a
transportation problem, feasible because both add up to ``W_total``), each aggregate's months
being the sum of its municipalities'. With ten context months, the withheld cells shrink tenfold
and the neighbourhoods of the protection LPs with them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ksz_reports.core.schema import KEY_COLUMNS, is_total, row_codes
from ksz_reports.disclosure.linked import GroupRelations

__all__ = ["CONTEXT_SUFFIX", "context_label", "sum_context"]

CONTEXT_SUFFIX = "-context"


def context_label(year: str) -> str:
    """The period of the context sums of ``year``."""
    return f"{year}{CONTEXT_SUFFIX}"


def sum_context(
    cells: pd.DataFrame, context: np.ndarray
) -> tuple[pd.DataFrame, tuple[GroupRelations, ...]]:
    """``cells`` (the linked table's input: key columns, ``value``, ``withheld``) with its
    ``context`` rows (the withheld breakdown cells of context months) replaced by their sums per
    year, and the relations that tie the sums to the rest (module doc). A sum is unknown (NA)
    when one of its months is; a cell without all the context months of its year has none (its
    yearly relation was incomplete before: its months constrain no published cell). The
    ``context`` rows are never published copies of a cell (``build_publication`` keeps the
    context months out of the published periods)."""
    if not context.any():
        return cells, ()
    ctx = cells[context]
    rest = cells[~context]
    year = ctx["period"].astype(str).str[:4]
    periods = (  # (indicator, year) → its context months
        pd.DataFrame({"indicator": ctx["indicator"].astype(str), "year": year, "m": ctx["period"]})
        .drop_duplicates()
        .groupby(["indicator", "year"], sort=True)["m"]
        .agg(lambda s: tuple(sorted(s)))
    )
    months = pd.DataFrame(
        [(i, m, context_label(y), len(ms)) for (i, y), ms in periods.items() for m in ms],
        columns=["indicator", "month", "label", "months"],
    )
    sums = _sums(ctx.assign(period=year.map(context_label)), months)
    # the same sum of the month totals, where a breakdown sum is
    totals = rest[is_total(rest)]
    at = (
        totals[["indicator", "period"]]
        .astype(str)
        .merge(months, left_on=["indicator", "period"], right_on=["indicator", "month"], how="left")
    )
    labels = at["label"].to_numpy()
    totals = totals[pd.notna(labels)].assign(period=labels[pd.notna(labels)])
    where = sums[["indicator", "period", "geo"]].drop_duplicates()
    totals = _sums(totals, months).merge(where, on=["indicator", "period", "geo"], how="inner")
    out = pd.concat([rest, sums, totals], ignore_index=True)
    groups = []
    by_months: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for (indicator, y), ctx_months in periods.items():
        by_months.setdefault((y, ctx_months), []).append(indicator)
    for (y, ctx_months), indicators in sorted(by_months.items()):
        label = context_label(y)
        window = [f"{y}-{k:02d}" for k in range(1, 13) if f"{y}-{k:02d}" not in ctx_months]
        inds = frozenset(indicators)
        groups.append(
            GroupRelations("period", {label: list(ctx_months)}, indicators=inds, kind="context_sum")
        )
        # (for a total, 12 × average = Σ window + W_total repeats its 12-month relation)
        groups.append(
            GroupRelations(
                "period",
                {y: [*window, label]},
                total_coef=12.0,
                tol=1e-6,
                indicators=inds,
                kind="year_average",
            )
        )
    return out, tuple(groups)


def _sums(frame: pd.DataFrame, months: pd.DataFrame) -> pd.DataFrame:
    """One withheld cell per key of ``frame`` (period: the label of its sums) that has all its
    context ``months``: the sum of its values, NA when one is NA. The keys in the order they
    first appear; the sums of whole counts, exact."""
    keys = list(KEY_COLUMNS)
    group = row_codes([frame[k] for k in keys])
    n = int(group.max()) + 1 if len(group) else 0
    value = frame["value"].astype("Float64")
    missing = value.isna().to_numpy()
    total = np.bincount(group, weights=value.fillna(0.0).to_numpy(dtype=np.float64), minlength=n)
    size = np.bincount(group, minlength=n)
    unknown = np.bincount(group, weights=missing, minlength=n) > 0
    first = np.unique(group, return_index=True)[1]  # groups are numbered by first appearance
    out = pd.DataFrame({k: frame[k].astype(str).to_numpy()[first] for k in keys})
    out["value"] = pd.array(np.where(unknown, np.nan, total), dtype="Float64")  # NaN: NA
    labels = zip(months["indicator"], months["label"], strict=True)
    need = dict(zip(labels, months["months"], strict=True))
    wanted = np.array(
        [need.get(key, -1) for key in zip(out["indicator"], out["period"], strict=True)]
    )
    out = out[size == wanted].reset_index(drop=True)
    out["withheld"] = True
    return out
