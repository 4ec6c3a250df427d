"""A large publication protected in several processes (``disclosure.processes``): its linked table
cut into whole connected components (:meth:`LinkedTable.select`), each part protected on its own,
and the same decision — status, intervals, LP solves — as in one process."""

from __future__ import annotations

import os
import signal
import sys

import numpy as np
import pandas as pd
import pytest
from test_disclosure import HIER, grid

from ksz_reports.disclosure import build_linked_table, protect
from ksz_reports.disclosure import parts as P
from ksz_reports.disclosure.protection import primary_mask


def periods_table(years: int, seed: int = 11):
    """Municipalities × age classes × ``years`` yearly periods: one component per year."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(years):
        values = {g: list(rng.integers(0, 9, size=3)) for g in ["m1", "m2", "m3", "m4", "m5"]}
        frames.append(grid(values, HIER).assign(period=str(2015 + k)))
    return build_linked_table(pd.concat(frames, ignore_index=True), HIER)


def sensitive(table):
    return primary_mask(table.values, 5) | table.masked


def test_a_selection_of_whole_components_is_a_table_of_its_own():
    table = periods_table(3)
    k, labels = P.connected_components(table.matrix)
    cells = np.flatnonzero(labels[table.n_relations :] == labels[table.n_relations])
    part = table.select(cells)
    assert part.n_cells == len(cells) and part.n_relations * 3 == table.n_relations
    assert (part.cells.index == table.cells.index[cells]).all()
    rows = part.relations["row"].to_numpy()
    dense = table.matrix[rows][:, cells].toarray()
    assert np.array_equal(part.matrix.toarray(), dense)
    total = part.relations["total"].to_numpy()
    assert np.array_equal(
        cells[total[total >= 0]], table.relations["total"].to_numpy()[rows][total >= 0]
    )
    with pytest.raises(ValueError, match="outside the selection"):
        table.select(cells[:-1])  # a relation of this component loses a term


def test_protected_in_parts_is_protected_as_in_one_process(monkeypatch):
    table = periods_table(6)
    one = protect(table, 5)
    monkeypatch.setattr(P, "PARALLEL_MIN_CELLS", 0)
    monkeypatch.setattr(P.os, "cpu_count", lambda: 2)
    halves = [len(p) for p in P.split(table, 2, sensitive(table))]
    assert halves == [table.n_cells // 2, table.n_cells // 2]  # 3 of the 6 years each
    finished, original = [], P._finish

    def spy(helper, run, call):
        outcome = original(helper, run, call)
        finished.append(helper is not None and helper[1].is_file())  # the helper's own outcome
        return outcome

    started, start = [], P._start
    monkeypatch.setattr(P, "_start", lambda *a: started.append(1) or start(*a))
    monkeypatch.setattr(P, "_finish", spy)
    parts = protect(table, 5, processes=2)
    assert finished == [True] and started == [1]  # one helper, for the second part only
    assert one.n_secondary > 0 and parts.ok
    pd.testing.assert_series_equal(one.status, parts.status)
    for name in ("lo", "hi", "lo_seen", "hi_seen", "exact", "peeled", "inconsistent"):
        assert np.array_equal(
            getattr(one.intervals, name), getattr(parts.intervals, name), equal_nan=True
        ), name
    assert (parts.lp_solves, parts.rounds) == (one.lp_solves, one.rounds)


def test_a_small_table_or_one_cpu_stays_in_one_process(monkeypatch):
    table = periods_table(4)
    assert P.split(table, 2, sensitive(table)) == []  # below PARALLEL_MIN_CELLS
    monkeypatch.setattr(P, "PARALLEL_MIN_CELLS", 0)
    monkeypatch.setattr(P.os, "cpu_count", lambda: 1)
    assert P.split(table, 4, sensitive(table)) == []
    monkeypatch.setattr(P.os, "cpu_count", lambda: 8)
    assert len(P.split(table, 8, sensitive(table))) == 4  # never more parts than components


def test_a_helper_runs_in_a_process_of_its_own_and_its_error_is_raised_here(tmp_path):
    helper = P._start(os.getpid, (), tmp_path / "pid")
    assert helper is not None
    assert P._finish(helper, os.getpid, ()) != os.getpid()
    with pytest.raises(ValueError, match="invalid literal"):
        P._finish(P._start(int, ("x",), tmp_path / "error"), int, ("x",))


def test_a_helper_that_dies_or_cannot_start_leaves_its_part_to_this_process(tmp_path, monkeypatch):
    dead = P._start(sys.exit, (3,), tmp_path / "dies")  # ends without an outcome
    assert P._finish(dead, os.getpid, ()) == os.getpid()
    assert not (tmp_path / "dies.out").exists()
    monkeypatch.setattr(P.sys, "executable", str(tmp_path / "no-python"))
    assert P._start(os.getpid, (), tmp_path / "none") is None
    assert P._finish(None, os.getpid, ()) == os.getpid()


def test_a_failing_part_stops_the_helpers(tmp_path, monkeypatch):
    """An error in this process's own part: the helpers are killed, none outlives the call."""
    started = []
    start = P._start

    def recording(*args):
        helper = start(*args)
        started.append(helper[0])
        return helper

    monkeypatch.setattr(P, "_start", recording)
    monkeypatch.setattr(P, "PARALLEL_MIN_CELLS", 0)
    monkeypatch.setattr(P.os, "cpu_count", lambda: 2)
    table = periods_table(4)
    parts = P.split(table, 2, sensitive(table))
    with pytest.raises(ZeroDivisionError):
        P.protect_in_parts(_fails_here_sleeps_there, table, parts, (), None)
    assert len(started) == 1 and started[0].poll() == -signal.SIGKILL  # asleep, then killed


def _fails_here_sleeps_there(table, locality):
    if not sys.argv[0].endswith("parts.py"):  # not the helper process
        raise ZeroDivisionError("this process's part")
    import time

    time.sleep(60)
