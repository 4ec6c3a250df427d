"""A large linked table protected in chunks, by several processes at once
(``protect(..., processes=2)``).

A linked table whose relations never join two indicators falls apart into connected
components (:func:`connected_components`); nothing one component decides reaches another.
:func:`split` cuts a large table into chunks of whole components, the heaviest first;
:func:`protect_in_parts` shares them out on a :class:`~ksz_reports.disclosure.helpers.Jobs`
queue — this process and its helper processes (:func:`helpers_for`) each take the next chunk
nobody has taken — then puts the chunks back together: the status of every cell, the attacker's
intervals and the LP solves are the ones a single process finds (``tests/test_protect_parts.py``)
— with one numerical exception: a round that suppresses nothing asks its next LPs for a wider
margin, and a chunk counts its own rounds (in one process, a round counts as suppressing when
any component does). Used by :func:`ksz_reports.disclosure.protection.protect`.

A publication does not need it: it discloses each indicator's table on its own, the indicators
shared out among the processes while the next ones are computed
(:func:`ksz_reports.disclosure.build.build_publication`). On the default sample with the months
(one table of 450,209 cells, 138 components, about 11 s of work in one process) 32 chunks taken
in turn protected it in about 6.3 s instead of 7.1 for two halves (one process was idle for a
second or more at the end: the estimate of the work is rough — the breakdowns of a year of the
leefloon take 1.8 s with fewer sensitive cells than a rare measure's months that take 0.3 s).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from ksz_reports.disclosure.attacker import Intervals
from ksz_reports.disclosure.helpers import WARM_MODULES, Helpers, Jobs
from ksz_reports.disclosure.linked import LinkedTable

__all__ = [
    "CHUNKS_PER_PROCESS",
    "PARALLEL_MIN_CELLS",
    "connected_components",
    "helpers_for",
    "protect_in_parts",
    "split",
]

#: A table with fewer cells than this is protected in one process: starting another one (about a
#: second: the interpreter, numpy, scipy, pandas) costs more than it saves.
PARALLEL_MIN_CELLS = 100_000

#: A large table is cut into at most this many chunks per process, taken one after the other by
#: whichever process is free (:func:`protect_in_parts`): the processes end about together,
#: whatever the sensitive cells, the estimate of the work, misjudged.
CHUNKS_PER_PROCESS = 16

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
    """The cells of a large table in chunks of whole connected components for ``processes``
    processes: at most :data:`CHUNKS_PER_PROCESS` per process, balanced by an estimate of their
    work — their ``sensitive`` cells (each may need LPs) and a tenth of their relations' terms
    (every LP grows with them) —, largest component first into the lightest chunk, and the
    heaviest chunk first: the order the processes take them in (:func:`protect_in_parts`).
    ``[]`` when the table is small (:data:`PARALLEL_MIN_CELLS`), or there are fewer than two
    CPUs."""
    processes = _processes(table.n_cells, processes)
    if processes < 2:
        return []
    k, labels = connected_components(table.matrix)
    cell_label = labels[table.n_relations :]
    per_cell = np.bincount(table.matrix.indices, minlength=table.n_cells)  # its terms
    terms = np.bincount(cell_label, weights=per_cell, minlength=k)
    work = np.bincount(cell_label, weights=sensitive, minlength=k) + terms / 10
    n_chunks = processes * CHUNKS_PER_PROCESS
    load = np.zeros(n_chunks)
    chunk_of = np.empty(k, dtype=np.int64)
    for c in np.argsort(-work, kind="stable"):
        chunk = int(np.argmin(load))
        chunk_of[c] = chunk
        load[chunk] += work[c]
    chunks = [np.flatnonzero(chunk_of[cell_label] == j) for j in np.argsort(-load, kind="stable")]
    return [c for c in chunks if c.size]


def _processes(n_cells: int, processes: int) -> int:
    """How many processes protect a table of ``n_cells`` cells with ``processes`` asked: at most
    one per CPU, and one for a table below :data:`PARALLEL_MIN_CELLS`."""
    if n_cells < PARALLEL_MIN_CELLS:
        return 1
    return max(min(processes, os.cpu_count() or 1), 1)


def helpers_for(n_cells: int, processes: int, warm: tuple[str, ...] = WARM_MODULES) -> Helpers:
    """The helper processes (importing ``warm``) a table of about ``n_cells`` cells will use with
    ``processes``: one fewer than :func:`_processes` (none when it is protected in one process:
    :func:`split`)."""
    return Helpers(_processes(n_cells, processes) - 1, warm)


def protect_in_parts(
    run: Callable[..., Outcome],
    table: LinkedTable,
    parts: list[np.ndarray],
    args: tuple,
    locality: np.ndarray | None,
    helpers: Helpers,
) -> Outcome:
    """``run(chunk, *args, locality)`` for each chunk of ``table`` (:func:`split`), shared out
    among this process and the waiting ``helpers`` — and the chunks' outcomes put back together
    as the outcome of the whole table.

    The chunks are the calls of a :class:`~ksz_reports.disclosure.helpers.Jobs` queue, in their
    order (the heaviest first): each process takes the next one nobody has taken, so a helper
    that started late or met a slow chunk simply takes fewer. A helper that cannot start or dies
    leaves its chunks to this process: only time is lost. An error of a chunk
    (:class:`~ksz_reports.core.errors.DisclosureError`) is raised as in one process, and no
    helper outlives the call. ``run`` must be a module-level function."""
    tables = [table.select(p) for p in parts]
    with Jobs(helpers) as jobs:
        for t, p in zip(tables, parts, strict=True):
            jobs.submit(run, t, *args, None if locality is None else locality[p])
        outcomes = jobs.results()
    return _merged(table, parts, tables, outcomes)


def _merged(
    table: LinkedTable, parts: list[np.ndarray], tables: list[LinkedTable], outcomes: list
) -> Outcome:
    """The outcomes of the chunks ``parts`` (cells of ``table``) as the outcome of the table."""
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
