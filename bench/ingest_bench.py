"""Ingest benchmark: our ``ingest`` of a 10-million-row ``ksz_dwh_long`` CSV against DuckDB.

``run(rows=10_000_000, workdir=...)`` generates the export (or reuses it), then in the same run
times

- ours: ``ksz_reports.ingest.dataset.ingest`` in a subprocess (its peak RSS read from
  ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``), and
- DuckDB: ``COPY (SELECT * FROM read_csv(...)) TO 'x.parquet'`` on the same file,

and returns the figures (``ratio`` = ours / duckdb, wall clock). Goals: ratio ≤ 1.5, peak RSS
≤ 1.5 GB. CPU seconds (user + system) of both are reported too: on a shared machine the wall
clock depends on the other processes, the CPU time much less (``cpu_ratio``).

    python -m bench.ingest_bench [--rows N] [--workdir DIR]

The export comes from :func:`ksz_reports.sample.generate.generate_sample` when that module is there;
otherwise it is generated here in the same format (docs/dialects.md §1: ``;``, Windows-1252,
CRLF, Dutch labels, ``.`` thousands separator, ``x`` masked).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parent.parent
VINTAGE = "2023-06-30"
HEADER = (
    "Indicator;Referentiedatum;NIS-code;Gemeente;Geslacht;Leeftijdsklasse;"
    "Positie in het huishouden;Herkomst;Nationaliteit;Aantal"
)
_DIMS = ("sex", "age_class", "household_type", "origin", "nationality_group")


def _labels() -> tuple[list[str], list[str], list[list[str]]]:
    from ksz_reports import geo
    from ksz_reports.core.config import load_config

    cfg = load_config()
    indicators = [
        i.labels.nl for i in cfg.indicators.values() if i.source == "ksz" and i.id != "ses_position"
    ]
    munis = geo.municipalities(at=2019)  # the codes of the exports (2019–2024)
    dims = []
    for d in _DIMS:
        dim = cfg.codes.dimensions[d]
        dims.append([cfg.codes.label(d, "total", "nl")] + [c.labels.nl for c in dim.codes])
    return indicators, [(m.nis, m.name_nl) for m in munis], dims


def generate_long_csv(path: Path, rows: int, seed: int = 1) -> Path:
    """Write a ``ksz_dwh_long`` export of ``rows`` data rows (vectorised, ~1 GB per 10M rows).

    Rows enumerate (indicator, year, municipality, breakdown) in that order, taking every 13th
    breakdown combination so that all indicators, years and municipalities occur.
    """
    indicators, geos, dims = _labels()
    years = [f"31/12/{y}" for y in range(2017, 2022)]
    sizes = [len(indicators), len(years), len(geos), *[len(d) for d in dims]]
    combos = int(np.prod(sizes, dtype=np.int64))
    stride = 13 if rows * 13 <= combos else 1
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".utf8.tmp")
    chunk = 1_000_000
    with open(tmp, "wb") as out:
        out.write((HEADER + "\r\n").encode())
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            idx = (np.arange(start, start + n, dtype=np.int64) * stride) % combos
            digits = []
            for size in reversed(sizes):
                digits.append(idx % size)
                idx //= size
            digits.reverse()
            cols = []
            codes, names = [g[0] for g in geos], [g[1] for g in geos]
            lists = [indicators, years, codes, names, *dims]
            for values, d in zip(lists, [*digits[:3], digits[2], *digits[3:]], strict=True):
                cols.append(pa.DictionaryArray.from_arrays(pa.array(d.astype(np.int32)), values))
            value = np.minimum(rng.lognormal(2.0, 1.8, n).astype(np.int64), 250_000)
            text = pc.cast(pa.array(value), pa.string())
            big = value >= 1000
            grouped = pc.binary_join_element_wise(
                pc.cast(pa.array(value // 1000), pa.string()),
                pc.utf8_lpad(pc.cast(pa.array(value % 1000), pa.string()), 3, "0"),
                ".",
            )
            text = pc.if_else(pa.array(big), grouped, text)
            masked = (value >= 1) & (value < 5) & (rng.random(n) < 0.5)
            text = pc.if_else(pa.array(masked), pa.scalar("x"), text)
            names = ["i", "p", "g", "n", *_DIMS, "v"]
            table = pa.table([c.cast(pa.string()) for c in cols] + [text], names=names)
            pacsv.write_csv(
                table,
                out,
                write_options=pacsv.WriteOptions(
                    include_header=False, delimiter=";", quoting_style="none", eol="\r\n"
                ),
            )
    # Windows-1252, as the DWH writes it
    with (
        open(tmp, encoding="utf-8", newline="") as src,
        open(path, "w", encoding="cp1252", newline="") as dst,
    ):
        while block := src.read(1 << 24):
            dst.write(block)
    tmp.unlink()
    return path


def _export(workdir: Path, rows: int) -> tuple[Path, str]:
    """The benchmark export (reused when present) and who generated it."""
    try:
        from ksz_reports.sample import generate_sample
    except ImportError:
        generate_sample = None
    if generate_sample is not None:
        folder = workdir / f"sample_rows_{rows}"
        found = sorted(folder.glob("ksz_dwh_long_*.csv"))
        if not found:
            generate_sample(folder, seed=1, rows=rows, only=["ksz_dwh_long"])
            found = sorted(folder.glob("ksz_dwh_long_*.csv"))
        if found:
            return found[0], "ksz_reports.sample.generate.generate_sample"
    target = workdir / f"own_rows_{rows}" / f"ksz_dwh_long_{VINTAGE}.csv"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        generate_long_csv(target, rows)
    return target, "bench.ingest_bench.generate_long_csv"


_CHILD = """
import json, resource, sys, time
from ksz_reports.ingest.dataset import ingest
t = time.perf_counter()
s = ingest([sys.argv[1]], sys.argv[2])
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "rows": s.rows, "peak_kb": peak}))
"""


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _ours(csv: Path, out: Path) -> dict:
    """Our ingest in a fresh interpreter: wall and CPU seconds (imports included), peak RSS."""
    cpu = _cpu(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(csv), str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"ingest failed:\n{proc.stderr}")
    inner = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "seconds": wall,
        "cpu_seconds": _cpu(resource.RUSAGE_CHILDREN) - cpu,
        "ingest_seconds": inner["seconds"],
        "rows": inner["rows"],
        "peak_rss_mb": inner["peak_kb"] / 1024,
    }


def _duckdb(csv: Path, out: Path) -> tuple[float, float]:
    """DuckDB's wall and CPU seconds. The export is Windows-1252 (docs/dialects.md): DuckDB
    needs ``encoding='latin-1'`` to read it at all."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    cpu = _cpu(resource.RUSAGE_SELF)
    start = time.perf_counter()
    con.execute(
        f"COPY (SELECT * FROM read_csv('{csv}', delim=';', header=true, encoding='latin-1')) "
        f"TO '{out}' (FORMAT parquet)"
    )
    seconds = time.perf_counter() - start
    cpu = _cpu(resource.RUSAGE_SELF) - cpu
    con.close()
    return seconds, cpu


def run(rows: int = 10_000_000, workdir: str | Path = ROOT / "bench" / "work") -> dict:
    """Generate (or reuse) the export, time our ingest and DuckDB on it; return the figures."""
    workdir = Path(workdir)
    csv, generator = _export(workdir, rows)
    load = os.getloadavg()[0]
    ours = _ours(csv, workdir / "out_ours")
    duck, duck_cpu = _duckdb(csv, workdir / "duckdb.parquet")
    return {
        "rows": rows,
        "file": str(csv),
        "generator": generator,
        "file_mb": round(csv.stat().st_size / 1e6, 1),
        "cpus": os.cpu_count(),
        "load_average_before": round(load, 2),
        "ours_seconds": round(ours["seconds"], 2),
        "ours_ingest_seconds": round(ours["ingest_seconds"], 2),
        "duckdb_seconds": round(duck, 2),
        "ratio": round(ours["seconds"] / duck, 2),
        "ours_cpu_seconds": round(ours["cpu_seconds"], 2),
        "duckdb_cpu_seconds": round(duck_cpu, 2),
        "cpu_ratio": round(ours["cpu_seconds"] / duck_cpu, 2),
        "peak_rss_mb": round(ours["peak_rss_mb"], 1),
        "canonical_rows": ours["rows"],
        "goals": {"ratio_max": 1.5, "peak_rss_mb_max": 1536},
    }


def main() -> None:
    """Command line: print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "work")
    args = parser.parse_args()
    print(json.dumps(run(args.rows, args.workdir), indent=2))


if __name__ == "__main__":
    main()
