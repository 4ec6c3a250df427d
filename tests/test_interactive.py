"""Interactive use (issue 15): with the dataset's publication cached, ``report`` and ``compare``
(CLI and API) read what they need from the publication; they never build it again, never run the
cutoffs and never read the canonical table. Counted by making each of those raise."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import ksz_reports
from ksz_reports.cli import cli
from ksz_reports.disclosure import publication
from ksz_reports.ingest.dataset import Dataset


@pytest.fixture()
def cached(limburg_data, monkeypatch):
    """``limburg_data`` with its publication in the dataset's cache, and every expensive step
    replaced by one that fails the test."""
    ks = ksz_reports.open(limburg_data)
    ks.published()  # made once (or found) — the state an analyst's second command starts from

    def forbidden(what):
        def fail(*args, **kwargs):
            raise AssertionError(f"{what} ran although the publication is cached")

        return fail

    monkeypatch.setattr(publication, "compute_publication", forbidden("compute_publication"))
    monkeypatch.setattr(publication, "apply_cutoffs", forbidden("apply_cutoffs"))
    monkeypatch.setattr("ksz_reports.api.apply_cutoffs", forbidden("apply_cutoffs"))
    monkeypatch.setattr(Dataset, "table", property(forbidden("reading canonical.parquet")))
    return limburg_data


def test_compare_and_the_api_on_a_cached_publication_read_only_the_publication(cached):
    ks = ksz_reports.open(cached)
    rates = ks.indicator("pension", level="province")
    assert rates["geo"].tolist() == ["70000"]
    assert ks.periods("pension")
    result = CliRunner().invoke(
        cli, ["compare", "--data", str(cached), "--indicator", "ll", "--level", "arrondissement"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("indicator,period,geo,name,level,count")


def test_a_report_on_a_cached_publication_does_not_build_it_again(cached, tmp_path):
    written = ksz_reports.render_report(cached, "73028", tmp_path / "out", formats="html")
    assert {p.name for p in written} == {"cells.csv", "report.html"}


def test_the_publication_has_one_row_group_per_indicator(cached):
    found = ksz_reports.open(cached).published()
    table = pq.ParquetFile(found.path / "publication.parquet")
    groups = [
        set(table.read_row_group(i, columns=["indicator"]).column(0).to_pylist())
        for i in range(table.num_row_groups)
    ]
    assert all(len(g) == 1 for g in groups)
    assert len(groups) == len(set().union(*groups)) > 1


def test_a_report_reads_only_the_rows_it_can_show_and_cuts_the_same_cells(cached):
    """An ad-hoc report's builder is scoped to its municipality: far fewer rows than the whole
    publication, and the very cells a batch builder (the whole publication) cuts."""
    from ksz_reports.report.model import ModelBuilder

    config = ksz_reports.load_config()
    found = ksz_reports.open(cached, config).published()
    whole = ModelBuilder(found, config)
    members = sorted(found.geography.members("70000"))
    for nis in (members[0], "73028", members[-1]):
        scoped = ModelBuilder(found, config, municipalities=[nis])
        assert len(scoped.pub) < len(whole.pub) / 2
        assert scoped.model(nis).cells().equals(whole.model(nis).cells())
        other = members[1] if nis != members[1] else members[2]
        with pytest.raises(ValueError, match="outside this builder's scope"):
            scoped.model(other)


def test_report_timings_are_printed_on_request(cached, tmp_path):
    result = CliRunner().invoke(
        cli,
        ["report", "73028", "--data", str(cached), "--out", str(tmp_path), "--format", "html"],
        catch_exceptions=False,
    )
    assert "Timings" not in result.output
    result = CliRunner().invoke(
        cli,
        ["report", "73028", "--data", str(cached), "--out", str(tmp_path)]
        + ["--format", "html", "--timings"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0
    line = result.stderr.splitlines()[-1]
    assert line.startswith("Timings: data ") and "charts" in line and "html" in line


def test_reading_a_publication_does_not_load_the_solver():
    """scipy and HiGHS are only for making a publication: a report or a query on a cached one
    does not pay their import."""
    import subprocess
    import sys

    code = (
        "import sys, ksz_reports.report.builder, ksz_reports.api, ksz_reports.cli;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'matplotlib'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"  # matplotlib: when the first chart is drawn


@pytest.mark.parametrize("package", ["ksz_reports.disclosure", "ksz_reports.charts"])
def test_every_name_of_a_lazy_package_resolves(package):
    import importlib

    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018


def test_the_process_entry_runs_main_then_skips_collecting_its_garbage(monkeypatch):
    """``ksz-reports`` and ``python -m ksz_reports`` start :func:`ksz_reports.cli.run`: the
    command's exit code, error or not, and ``gc.freeze`` only once it is done."""
    import configparser
    import gc
    from pathlib import Path

    from ksz_reports import cli as cli_module

    events: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: events.append("freeze"))

    def failing():
        events.append("main")
        raise SystemExit(3)

    monkeypatch.setattr(cli_module, "main", failing)
    with pytest.raises(SystemExit) as exit_:
        cli_module.run()
    assert exit_.value.code == 3 and events == ["main", "freeze"]

    root = Path(__file__).resolve().parent.parent
    setup = configparser.ConfigParser()
    setup.read(root / "setup.cfg")
    scripts = setup["options.entry_points"]["console_scripts"]
    assert "ksz-reports = ksz_reports.cli:run" in scripts
    assert "from ksz_reports.cli import run" in (root / "ksz_reports" / "__main__.py").read_text()
