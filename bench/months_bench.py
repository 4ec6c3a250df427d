"""Monthly barometer benchmark (issue 13): the publication of all municipalities of the default
sample with the POD MI months (the shipped configuration: every kept month's totals at every
level; monthly breakdowns as ``publication.month_breakdowns`` says) against the same publication without
months (``publication.months: false``), side by side in one run. Goal: at most 1.5×.

Each figure is the wall time of :func:`ksz_reports.disclosure.publication.compute_publication`
(cutoffs, measures, secondary suppression and its audit), with the disclosure run's own figures
(cells, primary and secondary cells, LP solves, seconds) beside it. A third run protects the
months' publication in one process (``disclosure.processes: 1``): the ratio of its disclosure
seconds to the shipped configuration's (2 processes) shows what the parts bring
(:mod:`ksz_reports.disclosure.parts`), and ``one_process_same_decision`` that its figures
(cells, primary, secondary, LP solves) equal the shipped run's. A fourth run publishes the
monthly breakdowns of the latest 12 kept months too (``publication.month_breakdowns: 12``, off
by default): what turning them on costs, as a ratio to the publication without months.

    python -m bench.months_bench
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from bench.interactive_bench import WORKDIR, _dataset

GOAL_RATIO = 1.5
FIGURES = ("cells", "relations", "primary", "secondary", "lp_solves", "seconds", "ok")


def _publication(data: Path, config) -> dict[str, Any]:
    from ksz_reports.disclosure.publication import compute_publication, publication_geography

    geo = publication_geography(config, None)
    t0 = time.perf_counter()
    frame, meta = compute_publication(data, config, geo)
    seconds = time.perf_counter() - t0
    disclosure = meta.get("disclosure") or {}
    months = frame["period"].astype(str).str.len().eq(7)
    return {
        "seconds": round(seconds, 2),
        "rows": len(frame),
        "month_rows": int(months.sum()),
        "disclosure": {k: disclosure.get(k) for k in FIGURES},
    }


def _config(folder: Path, settings: str):
    """The shipped configuration with ``settings`` over it (a user folder ``folder``)."""
    from ksz_reports.core.config import load_config

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.yaml").write_text(settings, encoding="utf-8")
    return load_config(folder)


def run(workdir: Path = WORKDIR) -> dict[str, Any]:
    from ksz_reports.core.config import load_config

    data = _dataset(workdir)
    without = _publication(data, _config(workdir / "no-months", "publication:\n  months: false\n"))
    with_months = _publication(data, load_config())
    one_process = _publication(
        data, _config(workdir / "one-process", "disclosure:\n  processes: 1\n")
    )
    breakdowns = _publication(
        data, _config(workdir / "month-breakdowns", "publication:\n  month_breakdowns: 12\n")
    )
    return {
        "publication_without_months": without,
        "publication_with_months": with_months,
        "months_to_no_months_ratio": round(with_months["seconds"] / without["seconds"], 2),
        "goal_months_ratio": GOAL_RATIO,
        "publication_with_months_one_process": one_process,
        "disclosure_one_to_shipped_processes_ratio": round(
            one_process["disclosure"]["seconds"] / with_months["disclosure"]["seconds"], 2
        ),
        "one_process_same_decision": all(
            one_process["disclosure"][k] == with_months["disclosure"][k]
            for k in FIGURES
            if k != "seconds"
        ),
        "publication_with_month_breakdowns_12": breakdowns,
        "month_breakdowns_to_no_months_ratio": round(breakdowns["seconds"] / without["seconds"], 2),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
