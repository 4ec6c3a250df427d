"""Report benchmark: the real report, time per stage (data, charts, HTML, PDF).

Issue 5's goal: the PDF stage dominates; everything else together ≤ 30 % of it. The dataset is
the sample (seed 1) cut to province Limburg (42 municipalities), so the publication is prepared
in seconds; the reports are those of a large, a small and a merged municipality, rendered twice
each in one warm process (what a batch worker pays once — imports, fonts, templates, the map of
Belgium — is reported apart as ``first_report_overhead_s``). The medians are over the 6 renders:
the machine is shared and noisy, so only the ratio of stages measured in one run is compared.

    python -m bench.report_bench
"""

from __future__ import annotations

import json
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = ROOT / "bench" / "work" / "report"
SCOPE = ("71072", "73028", "72043")  # Hasselt (merged with Kortessem in 2025), Herstappe, Pelt
PROVINCE = "70000"


def _dataset(workdir: Path) -> Path:
    import pandas as pd
    import pyarrow.parquet as pq

    from ksz_reports.geo import geography
    from ksz_reports.ingest.dataset import ingest
    from ksz_reports.sample import generate_sample

    data = workdir / "limburg"
    if (data / "canonical.parquet").exists():
        return data
    exports, full = workdir / "exports", workdir / "data"
    generate_sample(exports, seed=1)
    ingest(sorted(p for p in exports.iterdir() if p.is_file()), full)
    members = set(geography(2019).members(PROVINCE))
    data.mkdir(parents=True)
    table = pq.read_table(full / "canonical.parquet")
    keep = pd.Series(table.column("geo").to_pylist()).isin(members).to_numpy()
    pq.write_table(table.filter(keep), data / "canonical.parquet")
    shutil.copy(full / "ingest.json", data / "ingest.json")
    return data


def run(workdir: Path = WORKDIR) -> dict[str, Any]:
    """Per-stage seconds of each report and the ratio of the non-PDF stages to the PDF stage."""
    from ksz_reports.core.config import load_config
    from ksz_reports.disclosure.publication import prepare_publication
    from ksz_reports.report.builder import ReportBuilder

    workdir.mkdir(parents=True, exist_ok=True)
    data = _dataset(workdir)
    out = workdir / "out"
    t0 = time.perf_counter()
    config = load_config()
    info = prepare_publication(data, out, config, force=True)
    publication_s = time.perf_counter() - t0
    builder = ReportBuilder(info, config)
    t0 = time.perf_counter()
    builder.warm_up()
    warm_up_s = time.perf_counter() - t0
    reports: dict[str, list[dict[str, float]]] = {nis: [] for nis in SCOPE}
    for _round in range(2):
        for nis in SCOPE:
            timings: dict[str, float] = {}
            builder.render(nis, out, formats=("html", "pdf"), timings=timings)
            reports[nis].append({k: round(v, 3) for k, v in timings.items()})
    renders = [r for rounds in reports.values() for r in rounds]
    stages = ("data", "charts", "html", "pdf")
    median = {s: round(statistics.median(r[s] for r in renders), 3) for s in stages}
    other = median["data"] + median["charts"] + median["html"]
    return {
        "publication_s": round(publication_s, 2),
        "first_report_overhead_s": round(warm_up_s, 2),
        "reports": reports,
        "median_s": median,
        "non_pdf_to_pdf_ratio": round(other / median["pdf"], 3) if median["pdf"] else None,
        "goal_non_pdf_to_pdf_ratio": 0.30,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
