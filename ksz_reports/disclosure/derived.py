"""Derived values (docs/domain.md#derived-values): a rate, share, growth, index or interval is blanked, with the flag of
its count, when a count it depends on is not published (:func:`blank_derived`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ksz_reports.core.errors import DisclosureError
from ksz_reports.core.schema import KEY_COLUMNS
from ksz_reports.disclosure.protection import Protection
from ksz_reports.disclosure.status import NOT_AVAILABLE, PUBLISHED, SECONDARY, SUPPRESSED

__all__ = ["blank_derived"]


def blank_derived(
    derived: pd.DataFrame,
    counts: pd.DataFrame | Protection,
    *,
    period_columns: Sequence[str] = (),
    links: pd.DataFrame | None = None,
) -> pd.Series:
    """Which derived values (rate, share, growth, index, interval) must not be published.

    ``derived`` has the key columns of the count it derives from. ``counts`` is a
    :class:`Protection` or a frame with the key columns and ``status`` (or ``flag``). A derived
    value depends on the count with its own key, and also on the counts whose ``period`` is given
    in each of ``period_columns`` (e.g. ``"base_period"`` of a growth rate or an index); ``links``
    (columns ``derived`` = index label in ``derived``, plus the key columns) adds any other
    dependency, such as a count used as denominator of a share.

    Returns, aligned on ``derived.index``, the flag to show instead of the value: ``None`` when
    it may be published, else ``not_available`` (a count masked at the source), ``suppressed``
    or ``secondary`` (in that order of precedence). A derived value whose count did not pass
    through disclosure raises :class:`DisclosureError`.
    """
    if isinstance(counts, Protection):
        frame = counts.table.cells[list(KEY_COLUMNS)].copy()
        frame["status"] = counts.status.astype(str).to_numpy()
    else:
        frame = counts.copy()
        if "status" not in frame.columns:
            if "flag" not in frame.columns:
                raise DisclosureError("the counts need a 'status' or 'flag' column")
            flag = frame["flag"].astype("string").fillna("")
            frame["status"] = np.where(
                flag.isin([SUPPRESSED, SECONDARY, NOT_AVAILABLE]), flag, PUBLISHED
            )
    frame = frame[[*KEY_COLUMNS, "status"]].astype(str).drop_duplicates(list(KEY_COLUMNS))
    rank = {PUBLISHED: 0, SECONDARY: 1, SUPPRESSED: 2, NOT_AVAILABLE: 3}
    frame["rank"] = frame["status"].map(rank).fillna(0).astype(np.int8)
    deps = [derived[list(KEY_COLUMNS)].astype(str).assign(derived=derived.index)]
    for col in period_columns:
        d = derived[list(KEY_COLUMNS)].astype(str).assign(derived=derived.index)
        d["period"] = derived[col].astype(str).to_numpy()
        deps.append(d[derived[col].notna().to_numpy()])
    if links is not None:
        deps.append(links[[*KEY_COLUMNS, "derived"]].astype({c: str for c in KEY_COLUMNS}))
    dep = pd.concat(deps, ignore_index=True)
    merged = dep.merge(frame[[*KEY_COLUMNS, "rank"]], on=list(KEY_COLUMNS), how="left")
    if merged["rank"].isna().any():
        row = merged[merged["rank"].isna()].iloc[0]
        key = ", ".join(f"{c}={row[c]}" for c in KEY_COLUMNS)
        raise DisclosureError(f"a derived value depends on a count that was not disclosed: {key}")
    worst = merged.groupby("derived", sort=False)["rank"].max()
    worst = worst.reindex(derived.index).fillna(0).astype(int)
    names = np.array([None, SECONDARY, SUPPRESSED, NOT_AVAILABLE], dtype=object)
    return pd.Series(names[worst.to_numpy()], index=derived.index, name="flag", dtype=object)
