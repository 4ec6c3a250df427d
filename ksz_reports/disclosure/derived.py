"""Derived values (docs/domain.md#derived-values): a rate, share, growth, index or interval is blanked, with the flag of
its count, when a count it depends on is not published (:func:`blank_derived`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ksz_reports.core.errors import DisclosureError
from ksz_reports.core.schema import KEY_COLUMNS, ByPeriod
from ksz_reports.disclosure.protection import Protection
from ksz_reports.disclosure.status import NOT_AVAILABLE, PUBLISHED, SECONDARY, SUPPRESSED

__all__ = ["CountStatus", "blank_derived"]

#: Which status of a count wins when a derived value depends on several (0: published).
_RANK = {PUBLISHED: 0, SECONDARY: 1, SUPPRESSED: 2, NOT_AVAILABLE: 3}
#: The flag of a derived value per rank.
_FLAGS = np.array([None, SECONDARY, SUPPRESSED, NOT_AVAILABLE], dtype=object)


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
    index = CountStatus(frame, frame["status"].to_numpy(), derived)
    worst = index.worst(period_columns)
    if links is not None:
        link = links[[*KEY_COLUMNS, "derived"]].astype({c: str for c in KEY_COLUMNS})
        merged = link.merge(frame, on=list(KEY_COLUMNS), how="left")
        if merged["status"].isna().any():
            _not_disclosed(merged[merged["status"].isna()].iloc[0], None)
        ranks = merged["status"].map(_RANK).fillna(0).astype(np.int8)
        per_row = ranks.groupby(merged["derived"].to_numpy(), sort=False).max()
        linked = per_row.reindex(derived.index).fillna(0).to_numpy(dtype=np.int8)
        worst = np.maximum(worst, linked)
    return pd.Series(_FLAGS[worst], index=derived.index, name="flag", dtype=object)


def _not_disclosed(row: pd.Series, period: str | None) -> None:
    """The error of a derived value whose count did not pass through disclosure."""
    key = ", ".join(
        f"{c}={period if c == 'period' and period is not None else row[c]}" for c in KEY_COLUMNS
    )
    raise DisclosureError(f"a derived value depends on a count that was not disclosed: {key}")


class CountStatus:
    """The status of the disclosed count with each row's key — or with its key at another
    period (the previous one of a growth, the base of an index, the first month of an average
    monthly growth's window) — for every row of ``rows`` at once. ``cells`` holds the key
    columns of the counts (one row per key) and ``status`` their statuses (text, or a
    categorical, whose codes are used as they are). The key columns and the statuses are coded
    once, each lookup is a binary search (the merges on the ten key columns it replaces were
    about a second of a months publication)."""

    def __init__(self, cells: pd.DataFrame, status: np.ndarray, rows: pd.DataFrame):
        self._by = ByPeriod(cells, [c for c in KEY_COLUMNS if c != "period"], rows)
        if isinstance(getattr(status, "dtype", None), pd.CategoricalDtype):  # coded already
            codes, labels = status.codes, status.categories
        else:
            codes, labels = pd.factorize(np.asarray(status, dtype=object))
        self._code = codes  # per cell, its status as a code of:
        self._labels = np.append(np.asarray(labels, dtype=object), np.nan)  # -1: no count
        self._rank = np.array([_RANK.get(x, 0) for x in labels] + [0], dtype=np.int8)
        self._rows = rows
        self._own: np.ndarray | None = None

    def __call__(self, shift: Callable[[str], str] | None = None) -> np.ndarray:
        """Per row: the status at ``shift(period)`` (the row's own period when None, looked up
        once), NaN where there is no such count."""
        return self._labels[self._codes(shift)]

    def _codes(self, shift: Callable[[str], str] | None = None) -> np.ndarray:
        """Per row: the status code (:attr:`_labels`; -1: no count) at ``shift(period)``."""
        if shift is None:
            if self._own is None:
                self._own = self._status_of(self._by.positions())
            return self._own
        return self._status_of(self._by.positions(shift))

    def at(self, periods: pd.Series) -> np.ndarray:
        """Per row: the status at the period ``periods`` gives for it (NaN where none)."""
        return self._labels[self._codes_at(periods)]

    def _codes_at(self, periods: pd.Series) -> np.ndarray:
        return self._status_of(self._by.positions_at(periods))

    def worst(self, period_columns: Sequence[str] = ()) -> np.ndarray:
        """Per row: the rank (:data:`_RANK`) of the worst status among its own count and the
        counts at the periods its ``period_columns`` give (where not NA);
        :class:`DisclosureError` when one of them was not disclosed."""
        rows = self._rows
        deps = [(self._codes(), np.ones(len(rows), dtype=bool), None)]
        for col in period_columns:
            deps.append((self._codes_at(rows[col]), rows[col].notna().to_numpy(), col))
        worst = np.zeros(len(rows), dtype=np.int8)
        for codes, needed, col in deps:
            missing = needed & (codes < 0)
            if missing.any():
                row = rows[missing].iloc[0]
                _not_disclosed(row, None if col is None else str(row[col]))
            worst = np.where(needed, np.maximum(worst, self._rank[codes]), worst)
        return worst

    def blank(self) -> pd.Series:
        """:func:`blank_derived` of the rows on their own counts: the flag to show instead of a
        value derived from each row's count (None: it may be published)."""
        return pd.Series(_FLAGS[self.worst()], index=self._rows.index, name="flag", dtype=object)

    def _status_of(self, positions: np.ndarray) -> np.ndarray:
        """The status code of the cells at ``positions`` (-1: none, and no count)."""
        return np.where(positions >= 0, self._code[positions], -1)
