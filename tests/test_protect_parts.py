"""A large publication protected in several processes (``disclosure.processes``): its linked table
cut into whole connected components (:meth:`LinkedTable.select`), each part protected on its own,
and the same decision — status, intervals, LP solves — as in one process."""

from __future__ import annotations

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
    assert [len(p) for p in P.split(table, 2, sensitive(table))] == [
        table.n_cells // 2
    ] * 2  # 3 years each
    parts = protect(table, 5, processes=2)
    assert one.n_secondary > 0 and parts.ok
    pd.testing.assert_series_equal(one.status, parts.status)
    for name in ("lo", "hi", "lo_seen", "hi_seen", "exact", "peeled", "inconsistent"):
        assert np.array_equal(
            getattr(one.intervals, name), getattr(parts.intervals, name), equal_nan=True
        ), name
    assert (parts.lp_solves, parts.rounds) == (one.lp_solves, one.rounds)


def test_a_small_table_one_cpu_or_a_daemon_worker_stays_in_one_process(monkeypatch):
    table = periods_table(4)
    assert P.split(table, 2, sensitive(table)) == []  # below PARALLEL_MIN_CELLS
    monkeypatch.setattr(P, "PARALLEL_MIN_CELLS", 0)
    monkeypatch.setattr(P.os, "cpu_count", lambda: 1)
    assert P.split(table, 4, sensitive(table)) == []
    monkeypatch.setattr(P.os, "cpu_count", lambda: 8)
    assert len(P.split(table, 8, sensitive(table))) == 4  # never more parts than components
    import multiprocessing

    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True, raising=False)
    assert P.split(table, 2, sensitive(table)) == []
