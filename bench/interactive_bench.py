"""Interactive benchmark (issue 15): what an analyst and a statistician wait for, with the
dataset's publication already cached — wall seconds and peak RSS of each command, in its own
process (started by a small launcher that reports its peak RSS), medians of three runs.

The goals are ratios or bounds beside each figure: ``report`` into a new OUT at most 1.3× its own
render stage (charts + HTML + PDF, as ``report --timings`` prints them for that very command) and
600 MB; beside it the ratio to the render stage of a warm in-process builder (a batch worker's
steady state: nothing left to import or initialise), for information; ``compare``
and the API at most 1.5 s and 400 MB. The dataset is the full default sample (seed 1).

    python -m bench.interactive_bench
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ksz_reports.core.cache import ENV

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = ROOT / "bench" / "work" / "interactive"
CLI = [sys.executable, "-m", "ksz_reports"]


def _dataset(workdir: Path) -> Path:
    from ksz_reports.ingest.dataset import ingest
    from ksz_reports.sample import generate_sample

    data = workdir / "data"
    if not (data / "canonical.parquet").exists():
        exports = workdir / "exports"
        generate_sample(exports, seed=1)
        ingest(sorted(p for p in exports.iterdir() if p.is_file()), data)
    return data


#: Runs one command and prints its wall seconds and peak RSS. A process keeps the peak RSS of the
#: process it was forked from across exec (Linux), so the command is started by this small
#: launcher, not by the benchmark, which holds a whole publication by then.
LAUNCHER = """
import resource, subprocess, sys, time
t0 = time.perf_counter()
rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)
"""


def _child(argv: list[str]) -> tuple[float, float, float | None]:
    """Wall seconds, peak RSS (MB) and — for ``report --timings`` — the seconds of its own render
    stage (charts + html + pdf) of one command in its own process; fails on an error."""
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *argv], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr[-500:]}")
    wall, rss_kb = done.stdout.split()
    stage = None
    for line in done.stderr.splitlines():
        if line.startswith("Timings: "):
            seconds = dict(part.rsplit(" ", 2)[:2] for part in line[9:].split(", "))
            stage = sum(float(seconds.get(k, 0)) for k in ("charts", "html", "pdf"))
    return float(wall), float(rss_kb) / 1024, stage


def _median(argv: list[str], before=None, repeat: int = 3) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        if before is not None:
            before()
        runs.append(_child(argv))
    out = {
        "wall_s": round(statistics.median(w for w, _, _ in runs), 2),
        "peak_rss_mb": round(statistics.median(r for _, r, _ in runs)),
    }
    if all(s is not None for _, _, s in runs):
        out["own_render_stage_s"] = round(statistics.median(s for _, _, s in runs), 2)
        out["wall_to_own_render_stage"] = round(statistics.median(w / s for w, _, s in runs), 2)
    return out


def run(workdir: Path = WORKDIR) -> dict[str, Any]:
    from ksz_reports.api import open as open_data
    from ksz_reports.core.config import load_config
    from ksz_reports.report.builder import ReportBuilder

    workdir.mkdir(parents=True, exist_ok=True)
    # the asset cache (font subsets, map outlines) of this benchmark, filled by the warm-up below
    # as by any first report on a machine; inherited by the commands measured
    os.environ[ENV] = str(workdir / "asset-cache")
    data = _dataset(workdir)
    t0 = time.perf_counter()
    config = load_config()
    publication = open_data(data, config).published()  # cached in the dataset from here on
    publication_s = time.perf_counter() - t0
    out = workdir / "out"

    def new_out() -> None:
        shutil.rmtree(out, ignore_errors=True)

    builder = ReportBuilder(publication, config)
    builder.warm_up()
    stages = []
    for _ in range(3):
        timings: dict[str, float] = {}
        builder.render("44021", workdir / "render", formats=("html", "pdf"), timings=timings)
        stages.append(timings["charts"] + timings["html"] + timings["pdf"])
    render_s = statistics.median(stages)
    report = ["report", "--data", str(data), "--out", str(out)]
    gent = _median([*CLI, *report, "Gent", "--format", "html,pdf", "--timings"], before=new_out)
    herstappe = _median([*CLI, *report, "Herstappe", "--format", "html"], before=new_out)
    compare = _median(
        [*CLI, "compare", "--data", str(data), "--indicator", "pension", "--level", "region"]
    )
    api = _median(
        [
            sys.executable,
            "-c",
            f"import ksz_reports; ksz_reports.open({str(data)!r}).indicator('ll', level='province')",
        ]
    )
    return {
        "publication_first_s": round(publication_s, 2),
        "report_gent_html_pdf_new_out": gent,
        "gent_render_stage_s": round(render_s, 2),
        "report_to_warm_render_ratio": round(gent["wall_s"] / render_s, 2),
        "goal_report_to_render_ratio": 1.3,
        "goal_report_peak_rss_mb": 600,
        "report_herstappe_html_new_out": herstappe,
        "compare_pension_region": compare,
        "api_indicator_ll_province": api,
        "goal_compare_api_wall_s": 1.5,
        "goal_compare_api_peak_rss_mb": 400,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
