"""A large linked table protected in parts, at once (``disclosure.processes``).

No relation of the product joins two indicators, so a publication's linked table falls apart into
connected components (:func:`connected_components`); nothing one component decides reaches
another. :func:`split` cuts a large table into balanced parts of whole components and
:func:`protect_in_parts` protects each part in a process of its own, then puts the parts back
together: the status of every cell, the attacker's intervals and the LP solves are the ones a
single process finds (``tests/test_protect_parts.py``) — with one numerical exception: a round
that suppresses nothing asks its next LPs for a wider margin, and a part counts its own rounds
(in one process, a round counts as suppressing when any component does). Used by
:func:`ksz_reports.disclosure.protection.protect`.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from ksz_reports.disclosure.attacker import Intervals
from ksz_reports.disclosure.linked import LinkedTable

__all__ = ["PARALLEL_MIN_CELLS", "connected_components", "protect_in_parts", "split"]

#: A table with fewer cells than this is protected in one process: starting another one (about a
#: second: the interpreter, numpy, scipy, pandas) costs more than it saves.
PARALLEL_MIN_CELLS = 100_000

#: What the protection of one table decides: the status codes, the attacker's intervals, the
#: rounds, the LP solves and the seconds per phase.
Outcome = tuple[np.ndarray, Intervals, int, int, dict[str, float]]

#: The per-cell arrays of :class:`Intervals`, and what a cell outside every part would hold.
_CELL_ARRAYS = {
    "lo": np.nan,
    "hi": np.nan,
    "lo_seen": np.nan,
    "hi_seen": np.nan,
    "exact": False,
    "peeled": False,
    "inconsistent": False,
}


def connected_components(matrix: sp.csr_matrix) -> tuple[int, np.ndarray]:
    """Connected components of relations and cells (two cells are linked when they share a
    relation): the number, and a label per relation then per cell."""
    pat = matrix.copy()
    pat.data = np.ones_like(pat.data)
    graph = sp.bmat([[None, pat], [pat.T, None]], format="csr")
    return csgraph.connected_components(graph, directed=False)


def split(table: LinkedTable, processes: int, sensitive: np.ndarray) -> list[np.ndarray]:
    """The cells of a large table in at most ``processes`` parts of whole connected components,
    balanced by their ``sensitive`` cells (the work: each may need LPs) — largest component
    first, into the lightest part. ``[]`` when the table is small (:data:`PARALLEL_MIN_CELLS`),
    or there are fewer than two CPUs."""
    processes = min(processes, os.cpu_count() or 1)
    if processes < 2 or table.n_cells < PARALLEL_MIN_CELLS:
        return []
    k, labels = connected_components(table.matrix)
    cell_label = labels[table.n_relations :]
    size = np.bincount(cell_label, minlength=k)
    work = np.bincount(cell_label, weights=sensitive, minlength=k) + 1e-3 * size
    load = np.zeros(processes)
    part_of = np.empty(k, dtype=np.int64)
    for c in np.argsort(-work, kind="stable"):
        part = int(np.argmin(load))
        part_of[c] = part
        load[part] += work[c]
    parts = [np.flatnonzero(part_of[cell_label] == p) for p in range(processes)]
    return [p for p in parts if p.size]


def protect_in_parts(
    run: Callable[..., Outcome],
    table: LinkedTable,
    parts: list[np.ndarray],
    args: tuple,
    locality: np.ndarray | None,
) -> Outcome:
    """``run(part, *args, locality)`` for each part of ``table`` (:func:`split`) at once — the
    first in this process, each other one in a helper process (:func:`_helper`; ``run`` must be
    a module-level function) — and the parts' outcomes put back together as the outcome of the
    whole table. A helper that cannot start or dies leaves its part to this process: only time
    is lost. An error of a part (:class:`~ksz_reports.core.errors.DisclosureError`) is raised
    as in one process."""
    tables = [table.select(p) for p in parts]
    calls = [
        (t, *args, None if locality is None else locality[p])
        for t, p in zip(tables, parts, strict=True)
    ]
    with tempfile.TemporaryDirectory(prefix="ksz-parts-") as tmp:
        helpers = [_start(run, call, Path(tmp) / f"part-{k}") for k, call in enumerate(calls) if k]
        try:
            outcomes = [run(*calls[0])]
            outcomes += [
                _finish(helper, run, call) for helper, call in zip(helpers, calls[1:], strict=True)
            ]
        finally:  # this process failed or was interrupted: no helper outlives it
            for helper in helpers:
                if helper is not None and helper[0].poll() is None:
                    helper[0].kill()
                    helper[0].wait()
    n = table.n_cells
    code = np.full(n, -1, dtype=np.int8)
    arrays = {name: np.full(n, empty) for name, empty in _CELL_ARRAYS.items()}
    bad_rows = [np.zeros(0, dtype=np.int64)]
    timings: dict[str, float] = {}
    rounds = solves = components = 0
    for cells, part, (part_code, iv, part_rounds, part_solves, part_timings) in zip(
        parts, tables, outcomes, strict=True
    ):
        code[cells] = part_code
        for name, arr in arrays.items():
            arr[cells] = getattr(iv, name)
        bad_rows.append(part.relations["row"].to_numpy()[iv.inconsistent_relations])
        rounds = max(rounds, part_rounds)
        solves += part_solves
        components += iv.components
        for phase, seconds in part_timings.items():
            timings[phase] = timings.get(phase, 0.0) + seconds
    if (code < 0).any():
        raise ValueError("the parts do not cover every cell of the table")
    intervals = Intervals(
        **arrays,
        inconsistent_relations=np.unique(np.concatenate(bad_rows)).astype(np.int64),
        lp_solves=sum(o[1].lp_solves for o in outcomes),
        components=components,
        seconds=max(o[1].seconds for o in outcomes),
    )
    return code, intervals, rounds, solves, timings


def _start(run: Callable[..., Outcome], call: tuple, stem: Path) -> tuple | None:
    """A helper process for ``run(*call)``: the call pickled to ``stem.in``, its outcome to be
    read from ``stem.out``; None when none can be started."""
    source, target = stem.with_suffix(".in"), stem.with_suffix(".out")
    with open(source, "wb") as fh:
        pickle.dump((run, call), fh, protocol=pickle.HIGHEST_PROTOCOL)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(source), str(target)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=env,
        )
    except OSError:
        return None
    return process, target


def _finish(helper: tuple | None, run: Callable[..., Outcome], call: tuple) -> Outcome:
    """The outcome of a helper (its error raised here), or ``run(*call)`` in this process when
    the helper did not start or ended without one."""
    if helper is not None:
        process, target = helper
        process.wait()
        try:
            with open(target, "rb") as fh:
                status, value = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError):
            status, value = "lost", None
        if status == "ok":
            return value
        if status == "error":
            raise value
    return run(*call)


def _helper(source: str, target: str) -> None:
    """A helper process: the pickled call in ``source``, its outcome (or its error) pickled to
    ``target`` — written whole or not at all."""
    with open(source, "rb") as fh:
        run, call = pickle.load(fh)
    try:
        result = ("ok", run(*call))
    except Exception as exc:  # noqa: BLE001 - raised again by the parent, as in one process
        result = ("error", exc)
    partial = target + ".part"
    with open(partial, "wb") as fh:
        pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, target)


if __name__ == "__main__":
    _helper(*sys.argv[1:3])
