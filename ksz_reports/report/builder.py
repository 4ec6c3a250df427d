"""The report builder: cuts a municipality's report from the publication
(:class:`~ksz_reports.report.model.ModelBuilder`) and writes it
(:class:`~ksz_reports.report.write.ReportRenderer`); :func:`render_report` does both ad hoc."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ksz_reports.core.atomic import output_errors
from ksz_reports.core.config import Config, load_config
from ksz_reports.core.lock import BatchLock
from ksz_reports.core.vocabulary import check_formats, check_lang
from ksz_reports.disclosure.publication import prepare_publication, publication_geography
from ksz_reports.report.model import ModelBuilder
from ksz_reports.report.write import ReportRenderer


class ReportBuilder(ModelBuilder):
    """Cuts reports from a prepared publication and writes them; loads the publication once and
    keeps one renderer per language (one builder per batch worker)."""

    _renderers: dict[str, ReportRenderer]

    def warm_up(self, lang: str = "nl") -> None:
        """Initialise once (per worker) what every report needs: the renderer (WeasyPrint,
        templates, matplotlib; :meth:`ReportRenderer.warm_up`) and the publication cut per
        indicator."""
        _ = self._indicator_rows, self._scatter
        self._renderer(lang).warm_up(self.geography)

    def _renderer(self, lang: str) -> ReportRenderer:
        cache = self.__dict__.setdefault("_renderers", {})
        if lang not in cache:
            cache[lang] = ReportRenderer(lang, self.config)
        return cache[lang]

    def render(
        self,
        nis: str,
        out_dir: str | Path,
        formats=("html", "pdf"),
        lang: str = "nl",
        timings: dict | None = None,
    ) -> list[Path]:
        """Write ``out_dir/NNNNN/`` (report.html, report.pdf, cells.csv[, tables.xlsx]).

        ``timings`` (a dict) receives the seconds of each stage: ``data`` (the municipality's
        rows and cells), ``charts`` (charts, maps and the formatted tables of the template),
        ``html`` and ``pdf``."""
        timings = {} if timings is None else timings
        t = time.perf_counter()
        model = self.model(nis)
        model_s = time.perf_counter() - t
        written = self._renderer(lang).render(model, Path(out_dir), formats, timings)
        timings["data"] = timings.get("data", 0.0) + model_s
        return written


def render_report(
    data: str | Path,
    municipality: str,
    out: str | Path,
    *,
    formats: str | Iterable[str] = ("html", "pdf"),
    lang: str = "nl",
    config: Config | None = None,
    geography: Any = None,
    on_note: Callable[[str], None] | None = None,
    timings: dict | None = None,
) -> list[Path]:
    """One report, ad hoc: ``municipality`` (a NIS code or a name, also of a former
    municipality) from dataset ``data`` into ``out/NNNNN/``. The publication of ``out`` is
    prepared (or reused) first, so an ad-hoc report shows the same numbers as a batch into the
    same folder; the folder's lock is held meanwhile. ``geography``: today's unless configured
    or given (``"2019"``). ``on_note`` receives a one-line note when ``municipality`` named a
    former municipality ("Melle (44040) is part of Merelbeke-Melle (44088) since 1 January
    2025"). ``timings`` (a dict) receives the seconds of each stage (:meth:`ReportBuilder.render`)."""
    formats = check_formats(formats)
    check_lang(lang)
    config = config if config is not None else load_config()
    geo = publication_geography(config, geography)
    resolved = geo.resolve(municipality)
    if resolved.note and on_note is not None:
        on_note(resolved.note)
    out = Path(out)
    with output_errors(out):  # read-only, full disk: one line, the previous report kept
        out.mkdir(parents=True, exist_ok=True)
        with BatchLock(out / ".lock", command=f"report {municipality}"):
            info = prepare_publication(data, out, config, geo)
            nis = resolved.municipality.nis
            builder = ReportBuilder(info, config, municipalities=[nis])
            return builder.render(nis, out, formats=formats, lang=lang, timings=timings)
