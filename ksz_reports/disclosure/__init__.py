"""Small-cell protection of everything a batch publishes (docs/domain.md#primary-suppression, docs/domain.md#secondary-suppression): primary and secondary suppression.

Methodology
-----------
**Linked table.** Every count a batch publishes is one *cell* — one variable per key: the same
count shown by several tables or reports is one cell — and every way to compute a published count
from others is a linear *relation* ``|Σ coef_i · x_i| ≤ tol``: a breakdown total is the sum of its
categories (for every dimension and every combination of the other dimensions, so crossings such
as sex × age class follow), an aggregate geography is the sum of its parts (municipality →
arrondissement → province → region → Belgium; Brussels has no province), plus what the caller adds
explicitly (a merged municipality = its predecessors; ``12 × yearly average ≈ Σ months`` with
``tol = 6`` for an average rounded to an integer). The relations are a sparse matrix. Suppression is
decided once per publication, on the linked table of each indicator (no relation joins two).

**Primary suppression.** A count with ``0 < n < threshold`` is *suppressed*; zero is published.

**Masked at the source.** A count its supplier hid (``<5``, ``x``, ``c``, ``-99997``, a band such
as ``1-3``) is *not available*: unknown to us as to anybody, never shown, never read as 0, an
unknown term of every relation that uses it — and *sensitive*: the supplier hid it because it is
small, so it is protected exactly like a primary cell (publishing its total and the other
categories would give it back by subtraction). Its a-priori range is the one the source gave
(``[1, 3]`` for the band ``1-3``, ``[0, 4]`` for ``<5``, ``[0, ∞)`` for ``x``), and the attacker
knows it; the requirement is ``hi − lo ≥ threshold``, or the whole range when that is narrower.
A sum with a masked term is masked, its range the sum of the ranges. A count *unknown* for another
reason (``-99999``: not covered by the source; a sum with such a term) is not sensitive: it is an
unknown term, never a target.

**Attacker and requirement.** The attacker knows every published cell, every relation and that
every cell is ≥ 0, and solves linear programs: for each suppressed cell the least and greatest
value compatible with all of that, ``[lo, hi]``. A sensitive cell is protected when
``hi − lo ≥ threshold`` (width in the units of the count): it can be neither recomputed
(``hi = lo``) nor narrowed to an interval shorter than the threshold. The a-priori bounds are
``[0, ∞)`` for every cell but those masked at the source (above). An attacker who knows the rule also knows that a cell flagged
*suppressed* lies in ``[1, threshold − 1]``; that range is what the publication "fewer than
`threshold`" says by itself, so it is not put into the attacker's model — with it no primary cell
could ever be ``threshold`` wide and the criterion would be void. The criterion guarantees that the
published table leaves at least ``threshold + 1`` integer candidates, whatever the rule says.
(τ-ARGUS states requirements as protection levels around the true value; ``min_width`` lowers the
required width, e.g. to 1 = "not exactly recoverable", for comparisons.)

**Audit (the attacker's intervals).** Only relations with an unknown term matter; published terms
move to the bounds. A relation with one unknown gives it exactly (substituted repeatedly, no LP).
The rest splits into connected components (``scipy.sparse.csgraph``); a one-cell component is
solved in closed form; each larger one gets one HiGHS model, re-solved with one objective after the
other and warm-started by the primal simplex. Small components share one model, side by side
(up to ``attacker.PACK_CELLS`` unknowns; a protection in parts packs only components of one
connected component of the table, so a part decides as the whole): no relation joins them, so
every objective is a sum of one per component and each LP settles a bound in each of them at
once (where an unbounded cell would spoil the others, the LPs cap the unbounded columns, and a
bound counts only where no cap of its component is reached; the others get an LP of their
own). A direct sum that the hierarchy's relations imply (a region = Σ its municipalities at a
total, where the arrondissements and provinces are cells too) is not in the table
(``GroupRelations.implied_by``): the attacker's feasible tables are the same, and one year of a
rare measure's months falls apart into one component per arrondissement instead of one across
Belgium — on the default sample with months, the first audit of the protection takes 1.95 s
instead of 3.24 s. Every LP solution is a feasible table, so it proves
``lo ≤ x_j ≤ hi`` for all cells at once: a few LPs pushing the open cells in random directions
(fixed seed) settle most bounds (``0``, or an upper bound implied by a single relation, attained),
and only the remaining ones get an LP of their own. Inside ``protect`` only the verdict counts
(wide enough or not): a cell whose outer bounds from bound propagation (each relation bounds
each of its terms by what the others can reach, repeated; ``propagated_bounds``) are already
narrower than the threshold is proven narrow without an LP.

**Secondary suppression.** Published totals are the true totals, so protection comes only from
suppressing more cells. ``protect`` loops: (1) the audit finds the primary cells that are too
narrow; (2) for each of them, in a fixed order (largest deficit first), one LP looks for attacker
tables ``x⁺`` (and ``x⁻``) that satisfy every relation, agree with the published values except on
cells it may move, and differ by at least ``threshold`` in that cell; moving a published cell costs
its weight per unit, already suppressed cells move for free — the LP relaxation of Fischetti &
Salazar's model for one sensitive cell. Every published cell the optimum moves is suppressed: the
tables then *prove* the cell protected, and since suppressing more only widens intervals, it stays
protected. The LP lives on a neighbourhood of the cell (cells up to ``d`` relations away, ``d`` =
the number of relations of the cell: the corners of a ``d``-dimensional cube), the rest held at
its true values — a restriction, so its solutions remain proofs — and is widened only when
infeasible (the nearest neighbourhood with a solution gives the complements). Given a ``locality`` per cell (the product
passes a municipality's arrondissement, then its province), the first neighbourhoods are *local*:
through a relation of more than ``LOCAL_RELATION_SIZE`` terms (a region or Belgium as the direct
sum of its municipalities) they reach only the cells of the localities already reached, so that
a municipality-month's neighbourhood is its arrondissement's months, not every municipality of
Belgium in every month of the year (the LPs of the full sample with months were 24 ms each,
most of the publication's time); when no arrondissement neighbourhood will do (small
municipalities whose whole arrondissement is suppressed), the province's are tried before the
full rings — but not in the first round: there a cell without a local complement is left to the
next audit, which often finds it protected by the complements chosen for its neighbours (the
full rings are the costly LPs; the months of a rare measure took half their LP time there).
Before its LPs, a failing cell is tried at the corner of a *rectangle*
(:mod:`~ksz_reports.disclosure.rectangles`): cells ``i, j`` parts of one relation, ``i, k`` of
another, ``o`` at the crossing of the other relations of ``j`` and ``k`` (a municipality and a
neighbour of its arrondissement, in two months of one year or in two categories of a breakdown;
in a one-way table, a move of two parts). When ``e_i − e_j − e_k + e_o`` keeps every relation
(checked term by term) and all corners but at most one are already hidden, suppressing that one
proves ``x_i`` spread by the move's range — exact arithmetic on the true table, no LP. The
cheapest such move wins; in the first round one that needs a new suppression is left to the next
audit, like a cell without a local complement (the neighbours' complements often protect it for
free). On the default sample this halves the complement LPs (4,760 instead of 9,630 with the
months; 2,676 instead of 5,075 without) and suppresses slightly fewer cells than the LPs alone
(10,559 secondary cells instead of 10,786; 5,005 instead of 5,105).
(3) The audit is run again — on the cells that failed only: more suppression only
widens intervals, so a cell proven wide stays wide — and must be clean,
otherwise the loop continues (``DisclosureError`` after ``max_rounds``). A failing cell that the
round's own tables already spread over its width (the optimum of its LP or of a neighbour's, a
rectangle's move, the audit's certificates: each a table of the publication after the round,
holding every relation, moving only hidden cells) is proven the way the audit proves a cell wide
and is not audited again; on the default sample with the months this leaves 1,653 of the 10,457
cells for the second audit and none for a third (the audit's time 3.6 → 2.5 s). Like τ-ARGUS's
Modular and Optimal methods this uses an exact solver (HiGHS) for both the choice and the
proof; nothing is published that an LP has not verified.

**Costs.** A cell's weight is by default ``1 + value`` (small cells first, zeros not free), times
``1 + k`` for a cell that is the total of ``k`` relations, so a total is chosen only when no
combination of cells is cheaper; ``cost="log"`` uses ``1 + ln(1 + value)``, ``cost="unity"``
counts cells, a ``weight`` column overrides. Zeros are complements only when nothing else works
(a suppressed zero hides only upwards). Whether anything else can work is first asked of bound
propagation over the cell's component before a large LP is solved (a total whose one masked
category has a narrow source range and whose other categories are 0 can only be widened through
a zero): when nothing can, the neighbourhoods start again from the nearest, zeros included. Information loss is reported as the number and the sum of
values of the secondary cells.

**Determinism.** Cells are sorted by key; components and cells are processed in a fixed order;
HiGHS is deterministic and the only random directions come from a fixed seed: the same input
gives the same suppression pattern.

The LPs use scipy's bundled HiGHS bindings (``scipy.optimize._highspy``, scipy ≥ 1.15) to keep a
model between solves; without them every LP is a ``scipy.optimize.linprog(method="highs")``.
Everything is vectorised over cells; Python loops run over relation kinds, components and the
cells that need an LP of their own.

Modules
-------
* :mod:`~ksz_reports.disclosure.status` — the cell statuses (``published``, ``suppressed``,
  ``secondary``, ``not_available``);
* :mod:`~ksz_reports.disclosure.lp` — the persistent HiGHS model and its ``linprog`` fallback;
* :mod:`~ksz_reports.disclosure.linked` — the linked table, its builders and the default weights;
* :mod:`~ksz_reports.disclosure.attacker` — the attacker's intervals (the audit's LP work);
* :mod:`~ksz_reports.disclosure.rectangles` — moves of two or four cells that keep every
  relation: complements without an LP;
* :mod:`~ksz_reports.disclosure.protection` — primary and secondary suppression (:func:`protect`);
* :mod:`~ksz_reports.disclosure.helpers` — a queue of calls (``Jobs``) taken by whichever of
  this process and its helper processes (``Helpers``, started ahead) is free: the publication's
  indicators, disclosed while the next ones are computed, and the chunks of ``parts``;
* :mod:`~ksz_reports.disclosure.parts` — a large table protected in chunks of whole connected
  components (``protect(..., processes=2)``), with the same decision;
* :mod:`~ksz_reports.disclosure.derived` — blanking of derived values;
* :mod:`~ksz_reports.disclosure.publication` — the whole publication, protected once;
* :mod:`~ksz_reports.disclosure.audit` — the audit of the ``cells.csv`` of a publication.

The names below are the package's API (``from ksz_reports.disclosure import protect``);
``publication`` and ``audit`` build on it and are imported from their modules.
"""

from __future__ import annotations

from ksz_reports.core.lazy import lazy_attributes

#: where each name of the API lives; imported on first use, so reading a stored publication
#: (a report, ``compare``) does not load scipy and HiGHS
_HOME = {
    "Intervals": "attacker",
    "attacker_intervals": "attacker",
    "blank_derived": "derived",
    "Helpers": "helpers",
    "Jobs": "helpers",
    "GroupRelations": "linked",
    "LinkedTable": "linked",
    "Relation": "linked",
    "build_linked_table": "linked",
    "default_geo_hierarchy": "linked",
    "make_linked_table": "linked",
    "Protection": "protection",
    "primary_mask": "protection",
    "protect": "protection",
    "required_width": "protection",
    "NOT_AVAILABLE": "status",
    "PUBLISHED": "status",
    "SECONDARY": "status",
    "STATUSES": "status",
    "SUPPRESSED": "status",
    "UNKNOWN": "status",
}


__getattr__, __dir__ = lazy_attributes(__name__, globals(), _HOME)


__all__ = [
    "PUBLISHED",
    "SUPPRESSED",
    "SECONDARY",
    "NOT_AVAILABLE",
    "UNKNOWN",
    "STATUSES",
    "Relation",
    "GroupRelations",
    "LinkedTable",
    "Intervals",
    "Protection",
    "Helpers",
    "Jobs",
    "make_linked_table",
    "build_linked_table",
    "default_geo_hierarchy",
    "attacker_intervals",
    "primary_mask",
    "protect",
    "required_width",
    "blank_derived",
]
