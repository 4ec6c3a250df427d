"""A large linked table protected in chunks, by several processes at once
(``disclosure.processes``).

No relation of the product joins two indicators, so a publication's linked table falls apart into
connected components (:func:`connected_components`); nothing one component decides reaches
another. :func:`split` cuts a large table into chunks of whole components, the heaviest first;
:func:`protect_in_parts` has this process and its helper processes (:class:`Helpers`, started
ahead of the table by :func:`ksz_reports.disclosure.build.disclose`) take them one after the
other, each the next one nobody has taken, then puts the chunks back together: the status of
every cell, the attacker's intervals and the LP solves are the ones a single process finds
(``tests/test_protect_parts.py``) — with one numerical exception: a round that suppresses
nothing asks its next LPs for a wider margin, and a chunk counts its own rounds (in one
process, a round counts as suppressing when any component does). Used by
:func:`ksz_reports.disclosure.protection.protect`.

On the default sample with the months (450,209 cells, 138 components, about 11 s of work in
one process) a split into two halves left one process idle for a second or more at the end
(the estimate of the work is rough: the breakdowns of a year of the leefloon take 1.8 s with
fewer sensitive cells than a rare measure's months that take 0.3 s), and the helper, started
only then, began a second late. With 32 chunks taken in turn and the helper started before
the linked table, the protection takes about 6.3 s instead of 7.1 (2.7 s instead of 3.0
without the months).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from ksz_reports.disclosure.attacker import Intervals
from ksz_reports.disclosure.linked import LinkedTable

__all__ = [
    "CHUNKS_PER_PROCESS",
    "PARALLEL_MIN_CELLS",
    "Helpers",
    "connected_components",
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


class Helpers:
    """Helper processes (``python -m ksz_reports.disclosure.parts``) started ahead of their
    work: each imports the protection's modules at once — about a second — and then waits for
    the folder of a :func:`protect_in_parts` call on its standard input, so that a caller who
    knows a large table is coming (:func:`ksz_reports.disclosure.build.disclose`, before it
    builds the linked table) has them ready when the table is. Each helper serves one call;
    used as a context manager, none outlives the block (and one whose caller died takes no
    further chunk). A helper that cannot start is left out: only time is lost."""

    def __init__(self, count: int):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self.processes: list[subprocess.Popen] = []
        for _ in range(max(count, 0)):
            try:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", __name__],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.DEVNULL,
                        env=env,
                        # a session of its own: Ctrl-C interrupts the caller, which ends it
                        start_new_session=True,
                    )
                )
            except OSError:
                break

    @classmethod
    def for_table(cls, n_cells: int, processes: int) -> Helpers:
        """The helpers a table of about ``n_cells`` cells will use with ``processes`` (none when
        it is protected in one process: :func:`split`)."""
        return cls(_processes(n_cells, processes) - 1)

    def serve(self, folder: Path, count: int) -> list[subprocess.Popen]:
        """Send each waiting helper to the ``count`` chunks in ``folder``; the helpers that
        took it."""
        serving, self.processes = self.processes, []
        sent = []
        for process in serving:
            try:
                assert process.stdin is not None
                process.stdin.write(f"{count} {folder}\n".encode())
                process.stdin.close()
                sent.append(process)
            except (OSError, ValueError):  # it died while waiting
                process.wait()
        return sent

    def close(self) -> None:
        """End every helper still waiting (end of input: it leaves without work)."""
        for process in self.processes:
            with contextlib.suppress(OSError, ValueError):
                assert process.stdin is not None
                process.stdin.close()
            process.wait()
        self.processes = []

    def __enter__(self) -> Helpers:
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            if exc[0] is not None and process.poll() is None:
                process.kill()
        self.close()


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

    The chunks wait in a folder, in their order (the heaviest first); a process takes the next
    one nobody has taken (a claim file, created exclusively: :func:`_claim`), protects it and
    takes the next, so a helper that started late or met a slow chunk simply takes fewer.
    This process works on its own chunks in memory; a helper writes its outcomes to the
    folder. A helper that cannot start or dies leaves its chunks to this process: only time is
    lost. An error of a chunk (:class:`~ksz_reports.core.errors.DisclosureError`) is raised as
    in one process, and no helper outlives the call. ``run`` must be a module-level
    function."""
    tables = [table.select(p) for p in parts]
    calls = [
        (t, *args, None if locality is None else locality[p])
        for t, p in zip(tables, parts, strict=True)
    ]
    outcomes: list[Outcome | None] = [None] * len(calls)
    with tempfile.TemporaryDirectory(prefix="ksz-parts-") as tmp, helpers:
        folder = Path(tmp)
        for k, call in enumerate(calls[1:], start=1):  # this process starts on the heaviest
            _write(folder / f"{k}.in", (run, call))
        serving = helpers.serve(folder, len(calls))
        try:
            outcomes[0] = run(*calls[0])
            for k in range(1, len(calls)):
                if _claim(folder, k):
                    outcomes[k] = run(*calls[k])
            for process in serving:
                process.wait()
        finally:  # this process failed or was interrupted: no helper outlives it
            for process in serving:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        for k, call in enumerate(calls):
            if outcomes[k] is None:
                outcomes[k] = _outcome(folder / f"{k}.out", run, call)
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


def _claim(folder: Path, k: int) -> bool:
    """Take chunk ``k`` of ``folder`` unless another process has: its claim file is created
    exclusively, so exactly one process gets each chunk."""
    try:
        os.close(os.open(folder / f"{k}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _write(path: Path, value: Any) -> None:
    """``value`` pickled to ``path``, whole or not at all."""
    partial = path.with_name(path.name + ".part")
    with open(partial, "wb") as fh:
        pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, path)


def _outcome(path: Path, run: Callable[..., Outcome], call: tuple) -> Outcome:
    """The outcome a helper wrote to ``path`` (its error raised here), or ``run(*call)`` in this
    process when the helper ended without one."""
    try:
        with open(path, "rb") as fh:
            status, value = pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError):
        return run(*call)
    if status == "error":
        raise value
    return value


def _helper() -> None:
    """A helper process: the protection's modules imported, then the folder of a
    :func:`protect_in_parts` call read from standard input (none: leave), and every chunk it
    can claim there protected, its outcome (or its error) written beside it."""
    # what the protection runs on, imported while the caller builds its table
    import ksz_reports.disclosure.complements  # noqa: F401

    parent = os.getppid()
    line = sys.stdin.readline().strip()
    if not line:
        return
    count, folder = line.split(" ", 1)
    for k in range(1, int(count)):  # chunk 0 is the caller's
        if os.getppid() != parent:  # the caller died: nobody waits for its chunks
            return
        try:
            if not _claim(Path(folder), k):
                continue
            with open(Path(folder) / f"{k}.in", "rb") as fh:
                run, call = pickle.load(fh)
        except OSError:  # the folder has gone: the caller ended
            return
        try:
            result: tuple = ("ok", run(*call))
        except Exception as exc:  # noqa: BLE001 - raised again by the parent, as in one process
            result = ("error", exc)
        try:
            _write(Path(folder) / f"{k}.out", result)
        except OSError:
            return


if __name__ == "__main__":
    _helper()
