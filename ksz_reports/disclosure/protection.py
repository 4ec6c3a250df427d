"""Primary and secondary suppression (docs/domain.md#primary-suppression, docs/domain.md#secondary-suppression): :func:`protect` decides the status of every cell of a
linked table and verifies the result with the attacker's LP audit.

The primary rule (:func:`primary_mask`) suppresses ``0 < n < threshold``. The *sensitive* cells are
the primary ones and those masked at the source (:attr:`LinkedTable.masked`): a source masks a
cell because it is small, so publishing its total and the other categories must not give it back.
A sensitive cell needs an attacker interval at least ``threshold`` wide — a masked cell whose
source gave a narrower range ``[lower, upper]`` needs that whole range. :func:`protect` loops: the
audit (:func:`ksz_reports.disclosure.attacker.attacker_intervals`) finds the sensitive
cells whose interval is too narrow, and for each of them one complement LP on a neighbourhood of
the cell (the LP relaxation of Fischetti & Salazar's model for one sensitive cell,
:mod:`ksz_reports.disclosure.complements`) chooses the published cells to suppress as well, until
the audit is clean. The outcome is a :class:`Protection`. The method is described in
:mod:`ksz_reports.disclosure`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ksz_reports.core.errors import DisclosureError
from ksz_reports.disclosure.attacker import EPS, Intervals, _clean, attacker_intervals
from ksz_reports.disclosure.complements import (
    Complements,
    Workspace,
    add_complements,
    has_big_relations,
    source_ranges,
)
from ksz_reports.disclosure.helpers import Helpers
from ksz_reports.disclosure.linked import LinkedTable
from ksz_reports.disclosure.parts import (
    Outcome,
    connected_components,
    helpers_for,
    protect_in_parts,
    split,
)
from ksz_reports.disclosure.status import (
    CODES,
    NOT_AVAILABLE,
    PUBLISHED,
    SECONDARY,
    STATUS_DTYPE,
    SUPPRESSED,
    UNKNOWN,
)

__all__ = ["Protection", "primary_mask", "protect"]

#: Status codes of :data:`~ksz_reports.disclosure.status.STATUS_DTYPE` (positions in ``STATUSES``).
_PUB, _SUP, _SEC, _NA, _UNK = (
    CODES[s] for s in (PUBLISHED, SUPPRESSED, SECONDARY, NOT_AVAILABLE, UNKNOWN)
)

#: Extra width the protection LP asks for, so that rounding never fails the audit.
_MARGIN = 1e-4


def required_width(table: LinkedTable, min_width: float) -> np.ndarray:
    """The interval width each cell must keep: ``min_width``, or for a cell whose range the
    source's own ranges already make narrower (a band; a total of banded parts), that range: the
    source gave it away, the publication must not narrow it further (:func:`source_ranges`)."""
    lower, upper = source_ranges(table)
    return np.minimum(min_width, upper - lower)


def primary_mask(values: np.ndarray, threshold: float) -> np.ndarray:
    """Primary rule: ``0 < value < threshold`` (masked cells, NaN, are not primary)."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return ~np.isnan(v) & (v > 0) & (v < threshold)


@dataclass(frozen=True, eq=False)
class Protection:
    """The outcome of :func:`protect`: a status per cell, the verification and the costs."""

    table: LinkedTable
    threshold: int
    min_width: float
    status: pd.Series
    intervals: Intervals
    rounds: int
    lp_solves: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def n_primary(self) -> int:
        """Cells suppressed by the primary rule."""
        return int((self.status == SUPPRESSED).sum())

    @property
    def n_secondary(self) -> int:
        """Cells suppressed to protect primary ones."""
        return int((self.status == SECONDARY).sum())

    @property
    def n_not_available(self) -> int:
        """Cells masked at the source (sensitive)."""
        return int((self.status == NOT_AVAILABLE).sum())

    @property
    def n_unknown(self) -> int:
        """Cells without a value that are not sensitive (e.g. not covered by the source)."""
        return int((self.status == UNKNOWN).sum())

    @property
    def sensitive(self) -> np.ndarray:
        """Primary cells and cells masked at the source."""
        return ((self.status == SUPPRESSED) | (self.status == NOT_AVAILABLE)).to_numpy()

    @property
    def loss_cells(self) -> int:
        """Information loss: number of secondary cells."""
        return self.n_secondary

    @property
    def loss_value(self) -> float:
        """Information loss: sum of the values of the secondary cells."""
        sec = (self.status == SECONDARY).to_numpy()
        return float(np.nansum(self.table.values[sec]))

    @property
    def ok(self) -> bool:
        """Every sensitive cell keeps its required attacker interval (:func:`required_width`)."""
        narrow = self.intervals.narrow(required_width(self.table, self.min_width))
        return not bool((narrow & self.sensitive).any())

    def published_values(self) -> pd.Series:
        """The value to show per cell: the true value if published, else NA (never 0)."""
        v = self.table.cells["value"].astype("Float64").copy()
        v[(self.status != PUBLISHED).to_numpy()] = pd.NA
        return v

    def flags(self) -> pd.Series:
        """The ``flag`` of ``cells.csv`` per cell: ``""`` when published, else the status."""
        flag = self.status.astype(str)
        return flag.where(flag != PUBLISHED, "").rename("flag")

    def frame(self) -> pd.DataFrame:
        """The cells with ``status``, ``published`` (value or NA), ``lo``, ``hi`` (attacker)."""
        out = self.table.cells.copy()
        out["status"] = self.status
        out["published"] = self.published_values()
        out["lo"] = self.intervals.lo
        out["hi"] = self.intervals.hi
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able figures."""
        return {
            "threshold": self.threshold,
            "min_width": self.min_width,
            "cells": int(self.table.n_cells),
            "relations": int(self.table.n_relations),
            "primary": self.n_primary,
            "secondary": self.n_secondary,
            "not_available": self.n_not_available,
            "unknown": self.n_unknown,
            "loss_cells": self.loss_cells,
            "loss_value": self.loss_value,
            "rounds": self.rounds,
            "lp_solves": self.lp_solves,
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
        }


def protect(
    table: LinkedTable,
    threshold: int = 5,
    secondary: bool = True,
    *,
    min_width: float | None = None,
    max_rounds: int = 10,
    locality: np.ndarray | None = None,
    processes: int = 1,
    helpers: Helpers | None = None,
) -> Protection:
    """Primary and secondary suppression of a linked table, verified by the LP audit.

    Returns a :class:`Protection` with per cell ``published``, ``suppressed`` (primary),
    ``secondary``, ``not_available`` (masked at source) or ``unknown``. Every sensitive cell
    (primary or masked at the source) ends with an attacker interval ``hi − lo ≥ min_width``, or
    its whole source range when that is narrower (default: ``threshold``, the product's rule; a
    smaller value, e.g. 1 = "not exactly recoverable", exists for comparisons with other tools).
    With ``secondary=False`` only the primary rule is applied (the result's intervals then show
    what leaks). Raises :class:`DisclosureError` when the audit is not clean after
    ``max_rounds`` rounds, or the values contradict the relations.

    ``locality`` (one integer per cell, ``-1``: none; or one row per cell of nested localities,
    finest first) says which cells are near one another — in the product, a municipality's
    arrondissement and its province: the protection LPs first look for complements among the
    cells of the failing cell's locality (each level in turn), where a relation with more than
    :data:`~ksz_reports.disclosure.complements.LOCAL_RELATION_SIZE` terms (Belgium = Σ its 565
    municipalities) would otherwise bring the whole table into every neighbourhood
    (:func:`~ksz_reports.disclosure.complements.add_complements`). A restriction only: the result
    is verified by the same audit.

    ``processes`` > 1 protects the connected components of a large table (at least
    :data:`~ksz_reports.disclosure.parts.PARALLEL_MIN_CELLS` cells) in that many processes at
    once: no relation joins two components, so each part is protected and audited exactly as in
    one process (:mod:`ksz_reports.disclosure.parts`), in chunks taken by whichever process is
    free; ``helpers``: the helper processes, started ahead (:class:`~ksz_reports.disclosure.
    helpers.Helpers`; default: started here, at most ``processes − 1`` and one per CPU beyond the
    first).
    """
    if threshold < 1:
        raise DisclosureError("the threshold must be at least 1")
    required = float(threshold if min_width is None else min_width)
    if required <= 0:
        raise DisclosureError("the required interval width must be positive")
    t0 = time.perf_counter()
    if locality is not None and not has_big_relations(table):
        locality = None  # every neighbourhood is local already
    parts = []
    if processes > 1:
        parts = split(table, processes, _primary(table, threshold) | table.masked)
    if len(parts) > 1:
        args = (threshold, secondary, required, max_rounds)
        if helpers is None:
            helpers = helpers_for(table.n_cells, processes)
        outcome = protect_in_parts(_protect_table, table, parts, args, locality, helpers)
    else:
        outcome = _protect_table(table, threshold, secondary, required, max_rounds, locality)
    code, iv, rounds, solves, timings = outcome
    status = pd.Series(
        pd.Categorical.from_codes(code, dtype=STATUS_DTYPE), index=table.cells.index, name="status"
    )
    return Protection(
        table=table,
        threshold=threshold,
        min_width=required,
        status=status,
        intervals=iv,
        rounds=rounds,
        lp_solves=solves,
        seconds=time.perf_counter() - t0,
        timings=timings,
    )


def _protect_table(
    table: LinkedTable,
    threshold: int,
    secondary: bool,
    required: float,
    max_rounds: int,
    locality: np.ndarray | None,
) -> Outcome:
    """The rounds of :func:`protect` on one table, in this process."""
    values = table.values
    masked = table.masked
    lower, upper = table.bounds
    primary = _primary(table, threshold)
    sensitive = primary | masked
    need = required_width(table, required)
    code = np.full(table.n_cells, _PUB, dtype=np.int8)
    code[table.unknown] = _UNK
    code[masked] = _NA
    code[primary] = _SUP
    solves = 0
    timings = {"audit": 0.0, "complements": 0.0}
    rounds = 0
    margin = _MARGIN
    space: Workspace | None = None
    # More suppression only widens an attacker's intervals (every table feasible before stays
    # feasible), so a cell proven wide stays wide: after the first round only the cells that
    # failed are audited again.
    targets = sensitive
    iv: Intervals | None = None
    components = connected_components(table.matrix)
    groups = components[1][table.n_relations :]  # the same in a part as in the whole table
    while True:
        rounds += 1
        ta = time.perf_counter()
        if iv is None or targets.any():
            fresh = attacker_intervals(
                table.matrix,
                table.tol,
                values,
                code != _PUB,
                targets,
                threshold=need,
                exact=False,
                lower=lower,
                upper=upper,
                groups=groups,
            )
            iv = fresh if iv is None else _update(iv, fresh, targets)
            solves += fresh.lp_solves
        timings["audit"] += time.perf_counter() - ta
        if iv.inconsistent.any() or iv.inconsistent_relations.size:
            raise DisclosureError(
                "the cell values contradict the relations of the linked table; "
                "cannot protect an inconsistent publication"
            )
        failing = sensitive & iv.narrow(need)
        if not secondary or not failing.any():
            break
        if rounds > max_rounds:
            raise DisclosureError(
                f"secondary suppression did not converge in {max_rounds} rounds: "
                f"{int(failing.sum())} cell(s) still narrower than {required:g}"
            )
        tc = time.perf_counter()
        if space is None:
            space = Workspace(table, locality)
        # the first round leaves the cells without a local complement to the next audit
        defer = rounds == 1 and max_rounds > 1
        done = add_complements(space, code, failing, iv, need, margin, components, defer=defer)
        solves += done.solves
        timings["complements"] += time.perf_counter() - tc
        # a failing cell the round's feasible tables spread wide enough is proven: only the
        # others (left for this audit, or whose proof held only within tolerances) are audited
        iv, proven = _proven(iv, done, failing, need, (lower, upper))
        targets = failing & ~proven
        if not done.added and not done.deferred:
            margin *= 10.0  # numerical: the LP proof held only within tolerances; ask for more
    return code, iv, rounds, solves, timings


def _primary(table: LinkedTable, threshold: int) -> np.ndarray:
    """The primary cells of ``table``: never a withheld one (nobody sees it)."""
    return primary_mask(table.values, threshold) & ~table.withheld


def _proven(
    iv: Intervals,
    done: Complements,
    failing: np.ndarray,
    need: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
) -> tuple[Intervals, np.ndarray]:
    """The failing cells that the feasible tables of a round of complements spread over their
    required width ``need`` (:class:`~ksz_reports.disclosure.complements.Complements`), and
    ``iv`` with their inner bounds: the values those tables attain, judged like the audit's
    (rounded, :meth:`Intervals.narrow`). A value within ``EPS`` of the range a cell is known in
    (``bounds``: a band's end; the complements ask a band for its range less 1e-7) is that end:
    the attacker's bound lies between them."""
    lower, upper = bounds
    with np.errstate(invalid="ignore"):
        lo, hi = _clean(done.seen_lo), _clean(done.seen_hi)
        lo = np.where(lo <= lower + EPS, lower, lo)
        hi = np.where(hi >= upper - EPS, upper, hi)
        proven = failing & np.isfinite(lo) & np.isfinite(hi) & (hi - lo >= need - EPS)
    arrays = {
        "lo": np.where(proven, lo, iv.lo),
        "hi": np.where(proven, hi, iv.hi),
        "lo_seen": np.where(proven, lo, iv.lo_seen),
        "hi_seen": np.where(proven, hi, iv.hi_seen),
        "exact": iv.exact & ~proven,
        "peeled": iv.peeled & ~proven,
    }
    return replace(iv, **arrays), proven


def _update(old: Intervals, new: Intervals, where: np.ndarray) -> Intervals:
    """``old`` with the cells ``where`` taken from ``new`` (a later audit of those cells)."""
    arrays = {
        name: np.where(where, getattr(new, name), getattr(old, name))
        for name in ("lo", "hi", "exact", "lo_seen", "hi_seen", "peeled", "inconsistent")
    }
    return replace(
        old,
        **arrays,
        inconsistent_relations=new.inconsistent_relations,
        lp_solves=old.lp_solves + new.lp_solves,
        components=new.components,
        seconds=old.seconds + new.seconds,
    )
