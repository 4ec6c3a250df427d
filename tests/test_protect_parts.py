"""A large publication protected in several processes (``disclosure.processes``): its linked table
cut into whole connected components (:meth:`LinkedTable.select`), each part protected on its own,
and the same decision — status, intervals, LP solves — as in one process."""

from __future__ import annotations

import signal
import sys

import numpy as np
import pandas as pd
import pytest
from test_disclosure import HIER, grid

from ksz_reports.disclosure import build_linked_table, protect
from ksz_reports.disclosure import helpers as H
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


HIER_LEAVES = ["m1", "m2", "m3", "m4", "m5"]


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
    chunks = P.split(table, 2, sensitive(table))
    assert [len(c) for c in chunks] == [table.n_cells // 6] * 6  # one year each
    done_here, outcome = [], H._outcome

    def spy(path, run, call):  # a chunk this process did not protect while it went along
        done_here.append(not path.is_file())
        return outcome(path, run, call)

    monkeypatch.setattr(H, "_outcome", spy)
    parts = protect(table, 5, processes=2)
    assert len(done_here) <= 5  # the first chunk is this process's own
    assert one.n_secondary > 0 and parts.ok
    pd.testing.assert_series_equal(one.status, parts.status)
    for name in ("lo", "hi", "lo_seen", "hi_seen", "exact", "peeled", "inconsistent"):
        assert np.array_equal(
            getattr(one.intervals, name), getattr(parts.intervals, name), equal_nan=True
        ), name
    assert (parts.lp_solves, parts.rounds) == (one.lp_solves, one.rounds)


def test_chunks_go_heaviest_first(monkeypatch):
    monkeypatch.setattr(P, "PARALLEL_MIN_CELLS", 0)
    monkeypatch.setattr(P.os, "cpu_count", lambda: 2)
    rng = np.random.default_rng(3)
    frames = [  # years of more and fewer small counts: more and less work
        grid({g: list(rng.integers(0, k, size=3)) for g in HIER_LEAVES}, HIER).assign(
            period=str(2015 + k)
        )
        for k in (40, 6, 20, 9)
    ]
    table = build_linked_table(pd.concat(frames, ignore_index=True), HIER)
    sens = sensitive(table)
    chunks = P.split(table, 2, sens)
    work = [sens[c].sum() + table.matrix.tocsc()[:, c].nnz / 10 for c in chunks]
    assert len(chunks) == 4 and work == sorted(work, reverse=True)


def test_a_chunk_without_a_big_relation_is_protected_as_in_the_whole_table(monkeypatch):
    """Whether the complements' first neighbourhoods are local is decided on the whole table:
    a chunk of an indicator without a relation of more than LOCAL_RELATION_SIZE terms, next to
    one with, is protected as in one table (it used to drop its localities on its own: other
    LPs, other statuses)."""
    import ksz_reports.disclosure.complements as C

    rng = np.random.default_rng(2)
    two = grid({g: list(rng.integers(0, 9, size=2)) for g in HIER_LEAVES}, HIER)
    four = grid({g: list(rng.integers(0, 9, size=4)) for g in HIER_LEAVES}, HIER)
    cells = pd.concat([two.assign(indicator="a"), four.assign(indicator="b")], ignore_index=True)
    table = build_linked_table(cells, HIER)
    geo = table.cells["geo"].astype(str).to_numpy()
    near = {"m1": 0, "m2": 0, "m3": 1, "m4": 1, "m5": 1}  # the regions
    locality = np.array([[near.get(g, -1)] for g in geo])
    mine = np.flatnonzero(table.cells["indicator"].astype(str).to_numpy() == "a")
    monkeypatch.setattr(C, "LOCAL_RELATION_SIZE", 4)  # "b"'s five-term sums are big
    assert C.has_big_relations(table) and not C.has_big_relations(table.select(mine))
    whole = protect(table, 5, locality=locality)
    monkeypatch.setattr(P, "PARALLEL_MIN_CELLS", 0)
    monkeypatch.setattr(P.os, "cpu_count", lambda: 2)
    assert len(P.split(table, 2, sensitive(table))) == 2  # "a" and "b"
    chunked = protect(table, 5, locality=locality, processes=2)
    assert whole.ok and whole.n_secondary > 0
    pd.testing.assert_series_equal(whole.status, chunked.status)
    assert (chunked.lp_solves, chunked.rounds) == (whole.lp_solves, whole.rounds)


def test_a_small_table_or_one_cpu_stays_in_one_process(monkeypatch):
    table = periods_table(4)
    assert P.split(table, 2, sensitive(table)) == []  # below PARALLEL_MIN_CELLS
    monkeypatch.setattr(P, "PARALLEL_MIN_CELLS", 0)
    monkeypatch.setattr(P.os, "cpu_count", lambda: 1)
    assert P.split(table, 4, sensitive(table)) == []
    monkeypatch.setattr(P.os, "cpu_count", lambda: 8)
    assert len(P.split(table, 8, sensitive(table))) == 4  # never more parts than components


def test_a_failing_part_stops_the_helpers(monkeypatch):
    """An error in this process's own chunk: the helpers are killed, none outlives the call."""
    monkeypatch.setattr(P, "PARALLEL_MIN_CELLS", 0)
    monkeypatch.setattr(P.os, "cpu_count", lambda: 2)
    table = periods_table(4)
    parts = P.split(table, 2, sensitive(table))
    helpers = H.Helpers(1)
    (started,) = helpers.processes
    with pytest.raises(ZeroDivisionError):
        P.protect_in_parts(_fails_here_sleeps_there, table, parts, (), None, helpers)
    assert started.poll() == -signal.SIGKILL  # asleep (or still starting), then killed


def _fails_here_sleeps_there(table, locality):
    if not sys.argv[0].endswith("helpers.py"):  # not the helper process
        raise ZeroDivisionError("this process's part")
    import time

    time.sleep(60)


def test_a_helper_that_cannot_start_leaves_its_chunks_to_this_process(monkeypatch):
    monkeypatch.setattr(H.sys, "executable", "/nonexistent/python")
    monkeypatch.setattr(P, "PARALLEL_MIN_CELLS", 0)
    monkeypatch.setattr(P.os, "cpu_count", lambda: 2)
    table = periods_table(3)
    one = protect(table, 5)
    alone = protect(table, 5, processes=2)  # every chunk in this process
    pd.testing.assert_series_equal(one.status, alone.status)
