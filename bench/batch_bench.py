"""Batch benchmark: all 581 municipalities, html + pdf, ``jobs=2``, with the real report module.

``run() -> dict`` measures, in one run:

- ``full_s``: the whole batch from an empty output folder (publication, hashing, rendering,
  manifest, index) and its phases (``phases_s``);
- the PDF step: from the builder's per-stage timings when its ``render`` accepts ``timings=``
  (``pdf_source: "builder timings"``, the PDF share of the rendering time), otherwise from a
  PDF-only pass over the same publication (``pdf_source: "pdf-only pass"``);
  ``ratio_html_pdf_to_pdf`` = rendering html + pdf ÷ the PDF step alone — goal ≤ 1.3 (the HTML
  is built once and shared by the PDF, so writing both costs little more than the PDF);
- ``worker_peak_rss_mb_after_50`` / ``_after_500``: peak RSS of the worker that finished the
  50th / 500th report (the largest over the 10 reports up to it) and their ratio — goal ≤ 1.1
  (workers are recycled every 50 reports, so memory cannot creep);
- ``rerun_s``: an unchanged re-run and ``ratio_rerun_to_full`` — goal ≤ 0.02.

Until ``ksz_reports.report.model.ReportBuilder`` can render, returns
``{"skipped": "report module not available"}``.

    python -m bench.batch_bench [--workdir DIR] [--jobs N]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = ROOT / "bench" / "work" / "batch"
GOALS = {"ratio_html_pdf_to_pdf": 1.3, "worker_rss_ratio": 1.1, "ratio_rerun_to_full": 0.02}


def report_module_available() -> bool:
    """Whether ``ksz_reports.report.model`` has a ReportBuilder that renders."""
    try:
        from ksz_reports.report import model as report
    except ImportError:
        return False
    builder = getattr(report, "ReportBuilder", None)
    return (
        builder is not None
        and hasattr(builder, "render")
        and hasattr(report, "prepare_publication")
    )


def _dataset(workdir: Path) -> Path:
    """Sample exports → canonical dataset (both reused when present)."""
    from ksz_reports.ingest.dataset import ingest
    from ksz_reports.sample import generate_sample

    exports, data = workdir / "exports", workdir / "data"
    if not exports.is_dir() or not any(exports.iterdir()):
        generate_sample(exports, seed=1)
    if not (data / "canonical.parquet").exists():
        ingest(sorted(p for p in exports.iterdir() if p.is_file()), data)
    return data


def _window_max(values: list[float | None], end: int, width: int = 10) -> float | None:
    """The largest value among the ``width`` items up to position ``end`` (1-based)."""
    if len(values) < end:
        return None
    window = [v for v in values[max(0, end - width) : end] if v is not None]
    return round(max(window), 1) if window else None


def run(
    jobs: int = 2,
    workdir: Path | None = None,
    *,
    data: Path | None = None,
    scope: Any = "all",
    builder_factory: Any = None,
    prepare: Any = None,
) -> dict[str, Any]:
    """Run the benchmark (see the module docstring). ``data``, ``scope``, ``builder_factory``
    and ``prepare`` exist to smoke-test this script against a fake report module."""
    if builder_factory is None and not report_module_available():
        return {"skipped": "report module not available"}
    from ksz_reports.batch.run import run_batch

    workdir = Path(workdir or WORKDIR)
    workdir.mkdir(parents=True, exist_ok=True)
    data = data or _dataset(workdir)
    out = workdir / "out"
    shutil.rmtree(out, ignore_errors=True)
    common = dict(
        scope=scope, jobs=jobs, progress="log", builder_factory=builder_factory, prepare=prepare
    )

    t0 = time.perf_counter()
    full = run_batch(data, out, formats=("html", "pdf"), force=True, **common)
    full_s = time.perf_counter() - t0
    if full.failures:
        print(
            f"warning: {len(full.failures)} reports failed, e.g. {full.failures[0]}",
            file=sys.stderr,
        )
    render_s = full.timings.get("render", 0.0)
    outcomes = [o for o in full.outcomes if o.status == "ok"]

    t0 = time.perf_counter()
    rerun = run_batch(data, out, formats=("html", "pdf"), **common)
    rerun_s = time.perf_counter() - t0

    with_timings = [o for o in outcomes if "pdf" in o.timings]
    if with_timings and len(with_timings) == len(outcomes):
        busy = sum(o.duration for o in outcomes) or 1.0
        pdf_share = sum(o.timings["pdf"] for o in outcomes) / busy
        pdf_s = render_s * pdf_share
        pdf_source = "builder timings"
        stages: dict[str, float] = {}
        for o in outcomes:
            for k, v in o.timings.items():
                stages[k] = stages.get(k, 0.0) + v
        stage_cpu = {k: round(v, 2) for k, v in stages.items()}
    else:
        pdf_only = run_batch(data, out, formats=("pdf",), force=True, **common)
        pdf_s = pdf_only.timings.get("render", 0.0)
        pdf_source = "pdf-only pass"
        stage_cpu = {}

    rss = [o.worker_peak_rss_mb for o in full.outcomes]
    rss50, rss500 = _window_max(rss, 50), _window_max(rss, 500)
    result: dict[str, Any] = {
        "reports": len(full.scope),
        "rendered": len(full.rendered),
        "failed": len(full.failures),
        "jobs": jobs,
        "full_s": round(full_s, 2),
        "phases_s": {k: round(v, 2) for k, v in full.timings.items()},
        "per_report_s": round(render_s / max(1, len(outcomes)), 3),
        "pdf_source": pdf_source,
        "render_html_pdf_s": round(render_s, 2),
        "pdf_step_s": round(pdf_s, 2),
        "ratio_html_pdf_to_pdf": round(render_s / pdf_s, 3) if pdf_s else None,
        "stage_cpu_s": stage_cpu,
        "worker_peak_rss_mb_after_50": rss50,
        "worker_peak_rss_mb_after_500": rss500,
        "worker_rss_ratio": round(rss500 / rss50, 3) if rss50 and rss500 else None,
        "worker_processes": len({o.worker_pid for o in full.outcomes}),
        "main_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rerun_s": round(rerun_s, 2),
        "rerun_phases_s": {k: round(v, 2) for k, v in rerun.timings.items()},
        "rerun_rendered": len(rerun.rendered),
        "ratio_rerun_to_full": round(rerun_s / full_s, 4) if full_s else None,
        "goals": GOALS,
    }
    result["goals_met"] = {
        k: (result[k] is not None and result[k] <= limit) for k, limit in GOALS.items()
    }
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.batch_bench``: print the result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=WORKDIR)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    print(json.dumps(run(jobs=args.jobs, workdir=args.workdir), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
