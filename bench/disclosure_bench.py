"""Disclosure benchmark on the reference table ``bench/data/sdc_581x20.csv`` (shared/bench).

581 municipalities × 20 categories, published with row totals, column totals and the grand total,
threshold 5 (2,370 primary cells). Reference (τ-ARGUS 0.6.0 + HiGHS, Modular / Optimal): 46
secondary cells in about 2 s; with primary suppression only, 36 cells are exactly recoverable.

Measured here:

* ``protect`` with the product's requirement (every primary cell's attacker interval at least
  ``threshold`` wide) — secondary cells, information loss, seconds — and the lower bound on the
  number of secondary cells that requirement implies (a row whose suppressed cells sum to less
  than the threshold needs at least one more suppressed cell: each of its cells lies in
  ``[0, that sum]``);
* ``protect`` with ``min_width=1`` (no exact recovery), the requirement comparable with the
  τ-ARGUS figure;
* the exact audit of every suppressed cell (primary and secondary) of the protected table;
* the audit of the primary-only table, which must find the 36 exactly recoverable cells.

``python -m bench.disclosure_bench`` prints the figures as JSON.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ksz_reports.core.schema import KEY_COLUMNS, TOTAL
from ksz_reports.disclosure import (
    PUBLISHED,
    SUPPRESSED,
    attacker_intervals,
    build_linked_table,
    protect,
)

DATA = Path(__file__).resolve().parent / "data" / "sdc_581x20.csv"
THRESHOLD = 5
REFERENCE = {"tau_argus_secondary": 46, "tau_argus_seconds": 2.1, "recoverable_primary_only": 36}
GOALS = {"secondary_max": 55, "protect_seconds_max": 5.0, "audit_seconds_max": 20.0}


def load(path: Path = DATA) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The table as canonical cells (municipality = geo, category = age class) + hierarchy."""
    df = pd.read_csv(path)
    inner = pd.DataFrame({"geo": df["muni"], "age_class": df["cat"], "value": df["n"]})
    rows = inner.groupby("geo", as_index=False)["value"].sum().assign(age_class=TOTAL)
    cols = inner.groupby("age_class", as_index=False)["value"].sum().assign(geo="01000")
    grand = pd.DataFrame({"geo": ["01000"], "age_class": [TOTAL], "value": [int(df["n"].sum())]})
    cells = pd.concat([inner, rows, cols, grand], ignore_index=True)
    for c in KEY_COLUMNS:
        if c not in cells.columns:
            cells[c] = {"indicator": "bench", "period": "2021"}.get(c, TOTAL)
    return cells, {"01000": sorted(df["muni"].unique())}


def lower_bound(path: Path = DATA, threshold: int = THRESHOLD) -> int:
    """Rows whose primary cells sum to ``1 … threshold − 1``: each needs a secondary cell."""
    df = pd.read_csv(path)
    small = df[(df["n"] > 0) & (df["n"] < threshold)]
    sums = small.groupby("muni")["n"].sum()
    return int((sums < threshold).sum())


def _audit_all(table: Any, status: np.ndarray) -> tuple[float, Any]:
    """Exact intervals of every suppressed cell (primary and secondary)."""
    unknown = status != PUBLISHED
    t0 = time.perf_counter()
    iv = attacker_intervals(table.matrix, table.tol, table.values, unknown, unknown, exact=True)
    return time.perf_counter() - t0, iv


def run(path: Path = DATA) -> dict[str, Any]:
    """Run the benchmark; returns the figures (JSON-able)."""
    t0 = time.perf_counter()
    cells, hierarchy = load(path)
    table = build_linked_table(cells, hierarchy)
    build_seconds = time.perf_counter() - t0

    primary_only = protect(table, THRESHOLD, secondary=False)
    p_status = primary_only.status.astype(str).to_numpy()
    audit_p_seconds, iv0 = _audit_all(table, p_status)
    prim = p_status == SUPPRESSED

    t1, c1 = time.perf_counter(), time.process_time()
    protected = protect(table, THRESHOLD)
    protect_seconds = time.perf_counter() - t1
    protect_cpu = time.process_time() - c1
    status = protected.status.astype(str).to_numpy()
    audit_seconds, iv = _audit_all(table, status)
    primary = status == SUPPRESSED

    t2 = time.perf_counter()
    comparable = protect(table, THRESHOLD, min_width=1)
    comparable_seconds = time.perf_counter() - t2
    c_status = comparable.status.astype(str).to_numpy()
    _, iv1 = _audit_all(table, c_status)

    figures = {
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "cells": int(table.n_cells),
        "relations": int(table.n_relations),
        "primary": int(prim.sum()),
        "build_seconds": round(build_seconds, 3),
        "primary_only": {
            "recoverable": int((iv0.recovered() & prim).sum()),
            "narrow_below_threshold": int((iv0.narrow(THRESHOLD) & prim).sum()),
            "audit_seconds": round(audit_p_seconds, 3),
            "lp_solves": int(iv0.lp_solves),
        },
        "protect": {
            "requirement": f"attacker interval of every primary cell >= {THRESHOLD} wide",
            "secondary": protected.n_secondary,
            "lower_bound_secondary": lower_bound(path),
            "loss_value": protected.loss_value,
            "seconds": round(protect_seconds, 3),
            "cpu_seconds": round(protect_cpu, 3),
            "rounds": protected.rounds,
            "lp_solves": protected.lp_solves,
            "audit_all_suppressed_seconds": round(audit_seconds, 3),
            "audit_checked": int((status != PUBLISHED).sum()),
            "audit_lp_solves": int(iv.lp_solves),
            "audit_narrow_primary": int((iv.narrow(THRESHOLD) & primary).sum()),
            "min_width_primary": float(np.min(iv.width()[primary])),
        },
        "protect_min_width_1": {
            "requirement": "no primary cell exactly recoverable (interval >= 1 wide)",
            "secondary": comparable.n_secondary,
            "loss_value": comparable.loss_value,
            "seconds": round(comparable_seconds, 3),
            "audit_recoverable_primary": int((iv1.recovered() & (c_status == SUPPRESSED)).sum()),
        },
        "reference": REFERENCE,
        "goals": GOALS,
    }
    figures["goals_met"] = {
        "secondary": figures["protect"]["secondary"] <= GOALS["secondary_max"],
        "secondary_min_width_1": comparable.n_secondary <= GOALS["secondary_max"],
        "protect_seconds": protect_seconds <= GOALS["protect_seconds_max"],
        "audit_seconds": audit_seconds <= GOALS["audit_seconds_max"],
        "recoverable_36": figures["primary_only"]["recoverable"]
        == REFERENCE["recoverable_primary_only"],
    }
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
