"""``make bench``: run every benchmark in one process tree and write bench/results/.

Each benchmark module has ``run() -> dict``; this writes ``bench/results/<name>.json`` and a short
``bench/results/REPORT.md``. Speed targets are ratios measured in the same run (shared, noisy
machines), never absolute timings in unit tests.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
BENCHES = [
    "ingest_bench",
    "disclosure_bench",
    "months_bench",
    "render_bench",
    "report_bench",
    "interactive_bench",
    "batch_bench",
]


def main(names: list[str]) -> int:
    """Run the named benchmarks (default: all); REPORT.md shows every result in results/, the
    ones of this run and those of earlier runs (with their dates), so a partial run keeps the
    others."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name in names or BENCHES:
        print(f"== {name}", flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            print(f"   skipped: {exc}")
            continue
        t0 = time.perf_counter()
        try:
            result = module.run()
        except Exception:  # noqa: BLE001 - a broken bench must not hide the others
            traceback.print_exc()
            failed += 1
            continue
        result["wall_seconds"] = round(time.perf_counter() - t0, 2)
        result["measured"] = time.strftime("%Y-%m-%d %H:%M")
        result["machine"] = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpu"
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
        print(json.dumps(result, indent=2, default=str))
    lines = ["# Benchmarks", ""]
    for name in BENCHES:
        path = RESULTS / f"{name}.json"
        if path.exists():
            result = json.loads(path.read_text())
            lines += [f"## {name} ({result.get('measured', 'date unknown')})", ""]
            lines += ["```json", json.dumps(result, indent=2), "```", ""]
    (RESULTS / "REPORT.md").write_text("\n".join(lines))
    print(f"written: {RESULTS}/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
