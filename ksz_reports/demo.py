"""``make demo``: sample exports → validate → ingest → a few published figures.

Run as ``python -m ksz_reports.demo --out demo-out``. Every step goes through the public API, the
same functions the CLI calls.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

import ksz_reports
from ksz_reports.core.config import load_config
from ksz_reports.disclosure.publication import prepare_publication, publication_geography
from ksz_reports.ingest.dataset import ingest
from ksz_reports.ingest.validate import validate
from ksz_reports.report.builder import render_report
from ksz_reports.sample import generate_sample


@click.command()
@click.option("--out", default="demo-out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=1, show_default=True)
@click.option("--municipality", default="Gent", show_default=True)
def main(out: Path, seed: int, municipality: str) -> None:
    """Run the whole pipeline on the sample data and print a summary."""
    t0 = time.perf_counter()
    exports = out / "exports"
    data = out / "data"
    click.echo(f"1. sample exports -> {exports}")
    summary = generate_sample(exports, seed=seed)
    click.echo(_indent(str(summary)))
    files = sorted(p for p in exports.iterdir() if p.is_file() and not p.name.startswith("."))
    click.echo(f"2. validate {len(files)} files")
    report = validate(files)
    click.echo(_indent("\n".join(report.lines())))
    if not report.ok:
        raise SystemExit(2)
    click.echo(f"3. ingest -> {data}")
    click.echo(_indent(str(ingest(files, data))))

    click.echo("4. published figures (after cutoffs and disclosure control, all municipalities)")
    ks = ksz_reports.open(data)
    for line in ks.cutoffs.lines()[:6]:
        click.echo(f"   cut: {line}")
    if len(ks.cutoffs.lines()) > 6:
        click.echo(f"   ... {len(ks.cutoffs.lines()) - 6} more cut periods")
    reports = out / "reports"
    config = load_config()
    info = prepare_publication(data, reports, config, publication_geography(config, None))
    d = info.disclosure
    click.echo(
        f"   disclosure: {d.get('cells', 0):,} cells, {d.get('primary', 0):,} suppressed, "
        f"{d.get('secondary', 0):,} secondary, verified in {d.get('seconds', 0):.0f} s"
    )
    regions = ks.indicator("ll", level="region")
    for r in regions.itertuples():
        click.echo(
            f"   leefloon {r.period}, monthly average, {r.name}: {r.count:,.0f} "
            f"= {r.rate:.1f} per 1000"
        )
    click.echo(f"5. report of {municipality} -> {reports}")
    paths = render_report(
        data, municipality, reports, formats=("html", "pdf"), config=config, on_note=click.echo
    )
    for path in paths:
        click.echo(f"   {path}")
    click.echo(f"done in {time.perf_counter() - t0:.1f} s; outputs under {out}")


def _indent(text: str) -> str:
    return "\n".join("   " + line for line in text.splitlines())


if __name__ == "__main__":
    main()
