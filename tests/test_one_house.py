"""The three bugs of the one-house issue, each reproduced as a user meets it (the CLI on a dataset).

1. ``--config`` reaches the renderer: the threshold in the methodology and the footnotes, the
   decimals of the configuration in tables and chart labels.
2. One definition of "the publication is still valid": importing a population changes the rates of
   the next ``report`` into the same OUT.
3. One Geography: ``--lang en`` names the regions in English in tables and charts, as
   ``municipalities`` does.

Herstappe (73028, the smallest municipality) on the Limburg cut keeps each render at a few
seconds; the publication is what costs, and each case here needs its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from test_population import make_statbel

from ksz_reports import geo as geodata
from ksz_reports.cli import cli
from ksz_reports.core.errors import UsageError

pytestmark = pytest.mark.slow

NIS = "73028"  # Herstappe


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """An empty user data folder: the imported population of one test never reaches another."""
    monkeypatch.setenv("KSZ_REPORTS_HOME", str(tmp_path / "home"))
    geodata.reload_population()
    yield
    geodata.reload_population()


def ksz(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def report(data: Path, out: Path, *extra: str, config: Path | None = None) -> Path:
    pre = ["--config", str(config)] if config else []
    ksz(*pre, "report", NIS, "--data", str(data), "--out", str(out), "--format", "html", *extra)
    return out / NIS


def svg_texts(html: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", html)


def td_texts(html: str) -> list[str]:
    return re.findall(r"<td[^>]*>([^<]*)</td>", html)


def test_the_config_folder_reaches_the_renderer(limburg_data, tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.yaml").write_text(
        "disclosure:\n  threshold: 10\nstatistics:\n  decimals: 2\n", encoding="utf-8"
    )
    folder = report(limburg_data, tmp_path / "out", config=config)
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "Aantallen van 1 tot 9 personen" in html
    assert "minder dan 10 personen" in html
    assert "1 tot 4 personen" not in html and "minder dan 5 personen" not in html

    cells = pd.read_csv(folder / "cells.csv", dtype=str, keep_default_na=False)
    counts = cells[(cells["kind"] == "count") & (cells["flag"] == "")]
    published = counts["value"].astype(float)
    assert not ((published >= 1) & (published < 10)).any(), "a count below the threshold shown"

    two = re.compile(r"^-?[\d.]+,\d\d$")  # nl: 1.234,56
    one = re.compile(r"^-?[\d.]+,\d$")
    assert any(two.match(t.strip()) for t in td_texts(html)), "no rate with two decimals"
    assert not any(one.match(t.strip()) for t in td_texts(html)), "a rate with one decimal"
    # Value labels on the bars carry the configured decimals (axis ticks follow their own step).
    labels = [t.strip() for t in svg_texts(html)]
    assert sum(bool(two.match(t)) for t in labels) >= 10, "no chart label with two decimals"


def test_a_population_import_changes_the_next_report_in_english(limburg_data, tmp_path):
    out = tmp_path / "out"
    before = (report(limburg_data, out, "--lang", "en") / "cells.csv").read_bytes()
    html = (out / NIS / "report.html").read_text(encoding="utf-8")
    # One Geography: the English names of the regions and of Belgium, in tables and charts.
    flanders, belgium = (geodata.geography().name(code, "en") for code in ("02000", "01000"))
    assert flanders == "Flemish Region"
    assert flanders in td_texts(html) or flanders in html
    assert "Vlaams Gewest" not in html and "Brussel<" not in html and "België" not in html
    assert any(flanders in t or belgium in t for t in svg_texts(html))

    path, _ = make_statbel(tmp_path / "statbel", 2022)
    ksz("population", "import", str(path))
    after = (report(limburg_data, out, "--lang", "en") / "cells.csv").read_bytes()
    assert after != before, "the second report kept the old denominators"
    old = pd.read_csv(pd.io.common.BytesIO(before), dtype=str, keep_default_na=False)
    new = pd.read_csv(pd.io.common.BytesIO(after), dtype=str, keep_default_na=False)
    keys = [c for c in old.columns if c not in ("value", "flag")]
    merged = old[old["kind"] == "rate_per_1000"].merge(new[new["kind"] == "rate_per_1000"], on=keys)
    # the rates whose denominator is the population of 1/1/2022 (the imported year) changed
    assert len(merged) > 100 and (merged["value_x"] != merged["value_y"]).sum() >= 20


def test_an_unknown_language_is_refused_before_the_publication(limburg_data, tmp_path, monkeypatch):
    from ksz_reports.report import builder

    def fail(*args, **kwargs):
        raise AssertionError("the publication was prepared for a report that cannot be made")

    monkeypatch.setattr(builder, "prepare_publication", fail)
    with pytest.raises(UsageError, match="Unknown language 'de'"):
        builder.render_report(limburg_data, NIS, tmp_path / "out", lang="de")
    assert not (tmp_path / "out").exists()
