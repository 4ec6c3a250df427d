"""Command line: a thin layer over the library.

Each command parses its options, calls one public function and prints its result. A
:class:`~ksz_reports.core.errors.KszError` becomes one ``Error: …`` line on stderr and the error's exit
code (2 bad input or usage, 1 failures, 3 locked); the traceback only with ``--debug``.
"""

from __future__ import annotations

import gc
import json
import sys
import traceback
from pathlib import Path

import click

from ksz_reports import __version__
from ksz_reports.core.errors import EXIT_BAD_INPUT, EXIT_FAILURES, KszError
from ksz_reports.core.vocabulary import LANGUAGES, LEVELS, TABLE_FORMATS


class _PathType(click.ParamType):
    """A path checked by :mod:`ksz_reports.core.paths`: one ``Error:`` line when it is missing,
    a folder, a loop, a FIFO or unreadable (not click's three-line usage error)."""

    def __init__(self, check: str):
        self.check = check
        self.name = "folder" if "folder" in check else "file"

    def convert(self, value, param, ctx):  # noqa: ANN001, ANN201 - click's signature
        from ksz_reports.core import paths

        path = value if isinstance(value, Path) else Path(value)
        return getattr(paths, self.check)(path)


IN_FILE = _PathType("check_input_file")
IN_FOLDER = _PathType("check_input_folder")
OUT_FOLDER = _PathType("check_output_folder")
OUT_FILE = _PathType("check_output_file")

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="ksz-reports")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.option(
    "--config",
    "config_dir",
    type=OUT_FOLDER,
    envvar="KSZ_REPORTS_CONFIG",
    help="Folder whose YAML files override the shipped configuration.",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, config_dir: Path | None) -> None:
    """Per-municipality social-policy reports from KSZ DWH AM&SB and POD MI exports.

    \b
    Typical run:
      ksz-reports sample --out exports
      ksz-reports ingest exports/* --out data
      ksz-reports compare --data data --indicator ll --period 2020 --level region
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["config"] = config_dir


def _config(ctx: click.Context):
    from ksz_reports.core.config import load_config

    return load_config(ctx.obj.get("config"))


@cli.command(context_settings=CONTEXT)
@click.option(
    "--out",
    required=True,
    type=OUT_FOLDER,
    help="Folder to write the sample exports to (created if needed).",
)
@click.option("--seed", default=1, show_default=True, help="Random seed; same seed, same files.")
@click.option(
    "--rows",
    type=click.IntRange(min=1),
    default=None,
    help="Scale the KSZ long export to about this many rows (benchmarks).",
)
@click.pass_context
def sample(ctx: click.Context, out: Path, seed: int, rows: int | None) -> None:
    """Write realistic sample exports for all municipalities, in every shipped dialect.

    \b
    Example:
      ksz-reports sample --out exports --seed 7
    """
    from ksz_reports.sample import generate_sample

    summary = generate_sample(out, seed=seed, rows=rows, config=_config(ctx))
    click.echo(str(summary))


@cli.command(context_settings=CONTEXT)
@click.argument("exports", nargs=-1, required=True, type=IN_FILE)
@click.option(
    "--vintage", default=None, help="Extraction date (YYYY-MM-DD) when the file lacks it."
)
@click.option("--json", "as_json", is_flag=True, help="Print the validation report as JSON.")
@click.pass_context
def validate(
    ctx: click.Context, exports: tuple[Path, ...], vintage: str | None, as_json: bool
) -> None:
    """Read and check raw exports; report problems; write nothing.

    Exit code 0 when every file is valid, 2 when any problem was found.

    \b
    Example:
      ksz-reports validate exports/ksz_dwh_long_2023-06-30.csv exports/podmi_*.csv
    """
    from ksz_reports.ingest.validate import validate as validate_exports

    report = validate_exports(list(exports), vintage=vintage, config=_config(ctx))
    if as_json:
        _echo_json(report.to_dict())
    else:
        for line in report.lines():
            click.echo(line)
    if not report.ok:
        ctx.exit(EXIT_BAD_INPUT)


@cli.command(context_settings=CONTEXT)
@click.argument("exports", nargs=-1, required=True, type=IN_FILE)
@click.option(
    "--out",
    required=True,
    type=OUT_FOLDER,
    help="Dataset folder to write (replaced atomically; kept as it was on error).",
)
@click.option("--vintage", default=None, help="Extraction date (YYYY-MM-DD) when a file lacks it.")
@click.pass_context
def ingest(ctx: click.Context, exports: tuple[Path, ...], out: Path, vintage: str | None) -> None:
    """Read raw exports into the canonical dataset (Parquet).

    \b
    Example:
      ksz-reports ingest exports/*.csv exports/*.xlsx --out data
    """
    from ksz_reports.ingest.dataset import ingest as ingest_exports

    summary = ingest_exports(list(exports), out, vintage=vintage, config=_config(ctx))
    click.echo(str(summary))


#: ``--geography``: one name for the same option everywhere.
geography_option = click.option(
    "--geography",
    default=None,
    metavar="YEAR",
    help="Geography to work on: current (today's 565 municipalities, the default unless "
    "configured) or the year it starts, e.g. 2019 (the 581 of 2019-2024).",
)


@cli.command(context_settings=CONTEXT)
@click.option("--search", "text", default=None, help="Name or code to look for (typos allowed).")
@geography_option
@click.option("--at", "at", default=None, hidden=True, help="Old name of --geography.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def municipalities(
    ctx: click.Context, text: str | None, geography: str | None, at: str | None, as_json: bool
) -> None:
    """List municipalities, or search them by name or NIS code (former municipalities too,
    with what became of them).

    \b
    Examples:
      ksz-reports municipalities --search "sint niklaas"
      ksz-reports municipalities --search melle
      ksz-reports municipalities --geography 2019
    """
    from ksz_reports.disclosure.publication import publication_geography
    from ksz_reports.geo import find

    records = find(text, publication_geography(_config(ctx), geography or at))
    if as_json:
        _echo_json(records)
        return
    for r in records:
        click.echo(
            f"{r['nis']}  {r['name_nl']}"
            + (f" / {r['name_fr']}" if r["name_fr"] != r["name_nl"] else "")
            + f"  ({r['province_nl'] or r['region_nl']})"
            + (f"  — {r['note']}" if r["note"] else "")
        )


@cli.group(context_settings=CONTEXT)
def population() -> None:
    """Population denominators (shipped up to 1/1/2022; import newer Statbel files)."""


@population.command("import", context_settings=CONTEXT)
@click.argument("file", type=IN_FILE)
@click.option(
    "--year", type=int, default=None, help="Reference year (1 January); default from the file name."
)
def population_import(file: Path, year: int | None) -> None:
    """Import Statbel's TF_SOC_POP_STRUCT_<year> file (.txt or .zip) into the user data folder.

    \b
    Example:
      ksz-reports population import TF_SOC_POP_STRUCT_2023.zip
    """
    from ksz_reports.geo.statbel import import_statbel

    result = import_statbel(file, year=year)
    click.echo(str(result))


@cli.group(context_settings=CONTEXT)
def income() -> None:
    """Median income per municipality (Statbel TF_SOC_ADI_MUNTY; shipped 2015–2022)."""


@income.command("import", context_settings=CONTEXT)
@click.argument("file", type=IN_FILE)
def income_import(file: Path) -> None:
    """Import Statbel's TF_SOC_ADI_MUNTY (.xlsx or comma-separated .csv) into the user data
    folder; its years replace the shipped ones.

    \b
    Example:
      ksz-reports income import TF_SOC_ADI_MUNTY.xlsx
    """
    from ksz_reports.geo.income import import_income

    click.echo(str(import_income(file)))


#: Options shared by several commands.
data_option = click.option(
    "--data",
    required=True,
    type=IN_FOLDER,
    help="Dataset folder written by `ingest`.",
)
formats_option = click.option(
    "--format",
    "fmt",
    default="html,pdf",
    show_default=True,
    help="Comma-separated: html, pdf, xlsx (cells.csv is always written).",
)
lang_option = click.option("--lang", default="nl", show_default=True, type=click.Choice(LANGUAGES))


@cli.command(context_settings=CONTEXT)
@data_option
@click.option("--indicator", required=True, help="Indicator id (see config/indicators.yaml).")
@geography_option
@click.option(
    "--level",
    default="municipality",
    show_default=True,
    type=click.Choice(LEVELS),
)
@click.option(
    "--period",
    default=None,
    help="2021, 2021Q4, 2020-10, or a range 2020-01:2020-12 (a series); default the latest "
    "kept period.",
)
@click.option("--format", "fmt", default="csv", show_default=True, type=click.Choice(TABLE_FORMATS))
@click.option(
    "--out",
    type=OUT_FILE,
    default=None,
    help="File to write; default standard output (csv, json).",
)
@click.pass_context
def compare(
    ctx: click.Context,
    data: Path,
    indicator: str,
    level: str,
    geography: str | None,
    period: str | None,
    fmt: str,
    out: Path | None,
) -> None:
    """Rates of one indicator for every area of a level, after disclosure control.

    \b
    Examples:
      ksz-reports compare --data data --indicator ll --period 2020 --level region
      ksz-reports compare --data data --indicator ll --period 2017-10 --level country
      ksz-reports compare --data data --indicator ll --period 2017-01:2017-12 --level region
      ksz-reports compare --data data --indicator pension --format xlsx --out pension.xlsx
    """
    from ksz_reports.api import open as open_data
    from ksz_reports.core.tables import write_table

    ks = open_data(data, config=_config(ctx))
    frame = ks.indicator(indicator, period=period, level=level, geography=geography)
    if period is not None:
        left_out = ks.unpublished_in(indicator, period)
        if left_out:
            listed = ", ".join(f"{p} ({why})" for p, why in left_out.items())
            click.echo(f"Note: not published, left out of the range: {listed}", err=True)
    text = write_table(frame, fmt, out)
    if text is not None:
        click.echo(text, nl=False)


@cli.command(context_settings=CONTEXT)
@click.argument("municipality")
@data_option
@click.option(
    "--out",
    required=True,
    type=OUT_FOLDER,
    help="Output folder; the report goes to OUT/NNNNN/.",
)
@formats_option
@lang_option
@geography_option
@click.option(
    "--timings",
    is_flag=True,
    help="Print the seconds of each stage (data, charts, html, pdf) to stderr.",
)
@click.pass_context
def report(
    ctx: click.Context,
    municipality: str,
    data: Path,
    out: Path,
    fmt: str,
    lang: str,
    geography: str | None,
    timings: bool,
) -> None:
    """Render the report of one municipality (a NIS code or a name) as HTML and PDF.

    Small-cell suppression is decided for all municipalities together (stored in
    OUT/.publication/ and reused), so the report agrees with every other report of OUT.

    \b
    Examples:
      ksz-reports report Gent --data data --out reports
      ksz-reports report 46021 --data data --out reports --format html,pdf,xlsx --lang fr
    """
    from ksz_reports.report.builder import render_report

    stages: dict[str, float] = {}
    for path in render_report(
        data,
        municipality,
        out,
        formats=fmt,
        lang=lang,
        config=_config(ctx),
        geography=geography,
        on_note=lambda note: click.echo(f"Note: {note}.", err=True),
        timings=stages,
    ):
        click.echo(str(path))
    if timings:
        click.echo("Timings: " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()), err=True)


@cli.command(context_settings=CONTEXT)
@data_option
@click.option(
    "--out",
    required=True,
    type=OUT_FOLDER,
    help="Output folder (reports, manifest.json, index.html).",
)
@click.option("--all", "all_", is_flag=True, help="Every municipality (the default).")
@click.option("--region", default=None, help="Only the municipalities of this region (NIS code).")
@click.option("--province", default=None, help="Only this province (NIS code).")
@click.option(
    "--municipalities",
    "listfile",
    default=None,
    type=IN_FILE,
    help="A file with one NIS code or name per line.",
)
@formats_option
@lang_option
@geography_option
@click.option(
    "--jobs",
    default=2,
    show_default=True,
    type=click.IntRange(min=0),
    help="Worker processes (0: one per CPU, 1: in this process).",
)
@click.option("--shard", default=None, help="K/N: render the K-th of N deterministic parts.")
@click.option("--force", is_flag=True, help="Render every report again, changed or not.")
@click.option("--quiet", is_flag=True, help="Print only errors.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary at the end.")
@click.pass_context
def batch(
    ctx: click.Context,
    data: Path,
    out: Path,
    all_: bool,
    region: str | None,
    province: str | None,
    listfile: Path | None,
    fmt: str,
    lang: str,
    geography: str | None,
    jobs: int,
    shard: str | None,
    force: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Render the reports of many municipalities: parallel, incremental, safe to kill.

    Exit code 0 when every report is done, 1 when some failed (the others are rendered),
    3 when another batch holds OUT's lock.

    \b
    Examples:
      ksz-reports batch --data data --out reports --all --jobs 2
      ksz-reports batch --data data --out reports --province 40000 --format html,pdf,xlsx
      ksz-reports batch --data data --out /shared/reports --all --shard 1/2
    """
    from ksz_reports.batch.run import run_batch
    from ksz_reports.core.errors import UsageError

    chosen = [x for x in (all_ or None, region, province, listfile) if x]
    if len(chosen) > 1:
        raise UsageError("choose one of --all, --region, --province, --municipalities")
    scope = region or province
    if listfile is not None:
        scope = [
            line.strip()
            for line in listfile.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")
        ]
    result = run_batch(
        data,
        out,
        scope=scope,
        formats=fmt,
        lang=lang,
        geography=geography,
        jobs=jobs,
        shard=shard,
        force=force,
        quiet=quiet,
        json_summary=as_json,
        config=_config(ctx),
        command=" ".join(sys.argv),
    )
    if result.exit_code:
        ctx.exit(result.exit_code)


@cli.command(context_settings=CONTEXT)
@click.argument("out", type=IN_FOLDER)
@click.option("--json", "as_json", is_flag=True, help="Print the audit report as JSON.")
@click.pass_context
def audit(ctx: click.Context, out: Path, as_json: bool) -> None:
    """Try to recover every suppressed cell of OUT's cells.csv files by linear programming.

    Exit code 1 when a suppressed count can be recovered or narrowed below the threshold, or a
    derived value of a suppressed count was published.

    \b
    Example:
      ksz-reports audit reports/
    """
    from ksz_reports.disclosure.audit import audit_output

    report = audit_output(out, _config(ctx))
    if as_json:
        _echo_json(report.to_dict())
    else:
        for line in report.summary_lines():
            click.echo(line)
    if not report.ok:
        ctx.exit(EXIT_FAILURES)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``ksz-reports``: one ``Error: …`` line and an exit code, not a traceback."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        rc = cli.main(args=args, prog_name="ksz-reports", standalone_mode=False)
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_BAD_INPUT)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except KszError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:  # an output that cannot be written, where no command named it
        from ksz_reports.core.atomic import output_errors

        try:
            with output_errors(exc.filename or "output"):
                raise exc
        except KszError as typed:
            if debug:
                traceback.print_exc()
            click.echo(f"Error: {typed}", err=True)
            sys.exit(typed.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)


def run() -> None:
    """The ``ksz-reports`` process: :func:`main`, then an exit that does not collect what the
    command left behind. Once a command is done its garbage — a report's PDF layout alone is
    about 170,000 objects in cycles — is freed by the operating system with the process; letting
    the interpreter collect it first cost about 0.4 s of every report (``gc.freeze`` keeps the
    final collection away from it). Every output is closed and in place by then, and the exit
    handlers (temporary folders, logging) still run."""
    try:
        main()
    finally:
        gc.freeze()


if __name__ == "__main__":
    run()
