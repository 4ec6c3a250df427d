"""The context months of a yearly average summed (``ksz_reports.disclosure.context``): for every
attacker, the linked table with one withheld sum per year and cell allows exactly what the table
with every withheld month allows — checked against exact LP intervals of both tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ksz_reports.core.schema import DIMENSIONS, KEY_COLUMNS, TOTAL
from ksz_reports.disclosure import attacker_intervals, build_linked_table
from ksz_reports.disclosure.build import year_average_relations
from ksz_reports.disclosure.context import context_label, sum_context

HIERARCHY = {"R": ["A", "B", "C"]}
CATEGORIES = {"sex": ["f", "m"], "age_class": ["0-17", "18-24", "25+"]}
WINDOW = ("2023-11", "2023-12")


def _cells(seed: int) -> pd.DataFrame:
    """Leefloon of three municipalities and their region: month totals of 2023, one-way
    breakdowns by sex and age of every month and of the average; the months before the window
    withheld (the context months)."""
    rng = np.random.default_rng(seed)
    rows = []
    months = [f"2023-{k:02d}" for k in range(1, 13)]
    for geo in HIERARCHY["R"]:
        # small counts and categories that stay empty, so that x ≥ 0 pins cells down
        sexes = rng.choice([0.0, 0.3, 3.0], size=2)
        ages = rng.choice([0.0, 1.0, 4.0], size=3)
        ages = ages / ages.sum() if ages.sum() else np.full(3, 1 / 3)
        for month in months:
            for d, cats in CATEGORIES.items():
                if d == "sex":
                    parts = rng.poisson(sexes)
                    total = int(parts.sum())
                else:  # the same total for every dimension
                    parts = rng.multinomial(total, ages)
                for c, v in zip(cats, parts, strict=True):
                    rows.append({"geo": geo, "period": month, d: c, "value": float(v)})
            rows.append({"geo": geo, "period": month, "value": float(total)})
    frame = pd.DataFrame(rows)
    for d in DIMENSIONS:
        frame[d] = frame[d].fillna(TOTAL) if d in frame else TOTAL
    frame["indicator"] = "ll"
    keys = [c for c in KEY_COLUMNS if c != "geo"]
    region = frame.groupby(keys, as_index=False)["value"].sum().assign(geo="R")
    frame = pd.concat([frame, region], ignore_index=True)
    keys = [c for c in KEY_COLUMNS if c != "period"]
    average = frame.groupby(keys, as_index=False)["value"].mean().assign(period="2023")
    frame = pd.concat([frame, average], ignore_index=True)
    total = np.ones(len(frame), dtype=bool)
    for d in DIMENSIONS:
        total &= (frame[d] == TOTAL).to_numpy()
    frame["withheld"] = ~total & frame["period"].str.len().eq(7) & ~frame["period"].isin(WINDOW)
    frame["value"] = frame["value"].astype("Float64")
    return frame[[*KEY_COLUMNS, "value", "withheld"]]


def _intervals(cells: pd.DataFrame, groups: tuple, hidden_keys: set) -> dict:
    table = build_linked_table(cells, HIERARCHY, groups=groups)
    keys = list(table.cells[list(KEY_COLUMNS)].itertuples(index=False, name=None))
    hidden = np.array([k in hidden_keys for k in keys])
    unknown = hidden | table.withheld
    iv = attacker_intervals(table.matrix, table.tol, table.values, unknown, hidden)
    return {k: (iv.lo[p], iv.hi[p]) for p, k in enumerate(keys) if hidden[p]}


def _hidden(cells: pd.DataFrame, pattern: int, share: float) -> set:
    """Keys of a random share of the published cells: what the attacker does not see."""
    published = cells[~cells["withheld"]]
    rng = np.random.default_rng(pattern)
    hidden = published[rng.uniform(size=len(published)) < share]
    return set(hidden[list(KEY_COLUMNS)].itertuples(index=False, name=None))


YEAR = (year_average_relations(["ll"], [2023]),)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.floats(0.1, 0.5))
def test_summed_context_months_give_every_attacker_the_same_intervals(seed, pattern, share):
    cells = _cells(seed)
    hidden_keys = _hidden(cells, pattern, share)
    year = YEAR
    full = _intervals(cells, year, hidden_keys)
    summed_cells, groups = sum_context(cells, cells["withheld"].to_numpy())
    summed = _intervals(summed_cells, (*year, *groups), hidden_keys)
    assert full.keys() == summed.keys() and full
    for key, (lo, hi) in full.items():
        s_lo, s_hi = summed[key]
        assert abs(lo - s_lo) < 1e-6 and (hi == s_hi or abs(hi - s_hi) < 1e-6), (key, lo, hi)


def test_the_context_months_matter_to_an_attacker() -> None:
    """The comparison above has teeth: without the withheld months (and so without the
    breakdowns' 12 × average = Σ months) some hidden cell's interval is another."""
    cells = _cells(3)
    hidden_keys = _hidden(cells, 103, 0.3)
    full = _intervals(cells, YEAR, hidden_keys)
    without = _intervals(cells[~cells["withheld"]], YEAR, hidden_keys)
    differ = [k for k in full if not np.allclose(full[k], without[k], atol=1e-6)]
    assert differ


def test_one_withheld_cell_per_year_and_cell_and_its_relations() -> None:
    cells = _cells(1)
    context = cells["withheld"].to_numpy()
    out, groups = sum_context(cells, context)
    sums = out[out["period"] == context_label("2023")]
    # every breakdown cell of every area once, and the sums of the month totals beside them
    assert len(sums) == 4 * (2 + 3 + 1)
    assert sums["withheld"].all()
    assert not out["period"].isin([f"2023-{k:02d}" for k in range(1, 11)])[out["withheld"]].any()
    months = cells[context & (cells["geo"] == "A") & (cells["sex"] == "f")]
    got = sums[(sums["geo"] == "A") & (sums["sex"] == "f")]["value"].iloc[0]
    assert got == months["value"].sum()
    kinds = sorted(g.kind for g in groups)
    assert kinds == ["context_sum", "year_average"]
    average = next(g for g in groups if g.kind == "year_average")
    assert average.groups == {"2023": ["2023-11", "2023-12", "2023-context"]}


def test_a_sum_with_an_unknown_month_is_unknown() -> None:
    cells = _cells(2)
    at = (cells["geo"] == "B") & (cells["period"] == "2023-03") & (cells["sex"] == "m")
    cells.loc[at, "value"] = pd.NA
    out, _ = sum_context(cells, cells["withheld"].to_numpy())
    sums = out[out["period"] == context_label("2023")]
    b = sums[(sums["geo"] == "B") & (sums["sex"] == "m")]
    assert b["value"].isna().all()
    assert sums["value"].notna().sum() == len(sums) - 1


def test_nothing_withheld_changes_nothing() -> None:
    cells = _cells(3)
    out, groups = sum_context(cells, np.zeros(len(cells), dtype=bool))
    assert out is cells and groups == ()


def test_a_cell_without_all_its_context_months_has_no_sum() -> None:
    """A breakdown cell missing one context month (its yearly relation was incomplete) gets no
    sum, and the intervals still agree with the table of every month."""
    cells = _cells(4)
    gone = (cells["geo"] == "A") & (cells["period"] == "2023-03") & (cells["sex"] == "f")
    cells = cells[~gone.to_numpy()].reset_index(drop=True)
    out, groups = sum_context(cells, cells["withheld"].to_numpy())
    sums = out[out["period"] == context_label("2023")]
    assert sums[(sums["geo"] == "A") & (sums["sex"] == "f")].empty
    assert len(sums) == 4 * (2 + 3 + 1) - 1
    hidden_keys = _hidden(cells, 7, 0.3)
    full = _intervals(cells, YEAR, hidden_keys)
    summed = _intervals(out, (*YEAR, *groups), hidden_keys)
    for key, (lo, hi) in full.items():
        assert np.allclose(summed[key], (lo, hi), atol=1e-6), key
