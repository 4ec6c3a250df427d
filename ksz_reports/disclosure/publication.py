"""ONE Publication: what is published from a dataset, decided once, stored, and loaded by the
API, ad-hoc reports and batches alike.

A publication is a folder holding ``publication.parquet`` (every disclosed measure: the
decision of :func:`ksz_reports.disclosure.build.build_publication`) and ``meta.json`` (the inputs
it was made from, the geography, the municipalities, the disclosure figures and the cutoff
report). It is valid for exactly one *inputs* document (:func:`publication_inputs`): the
dataset's content, the configuration, the imported population, the geography, the version and
the code of the stages that make it (:func:`ksz_reports.core.fingerprints.code_hash`).
Every user of a publication compares that same document, so a change of any input (a new
dataset, ``population import``, another ``--config``, ``--geography``) makes a new publication.

Where it is stored:

- ``DATA/.cache/publication-<key>/`` — the dataset's cache, shared by every command on that
  dataset (skipped when the dataset folder is read-only);
- ``OUT/.publication/`` — the copy the reports of an output folder are cut from (hard links to
  the cache where possible), so every report of OUT agrees with every other even when the
  dataset changes later, and ``ksz-reports audit OUT`` knows the geography.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ksz_reports import __version__
from ksz_reports.core.atomic import atomic_dir
from ksz_reports.core.config import Config
from ksz_reports.core.errors import UsageError
from ksz_reports.core.fingerprints import (
    code_hash,
    file_sha256,
    input_key,
    optional_tree_hash,
    tree_hash,
)
from ksz_reports.core.schema import DIMENSIONS
from ksz_reports.geo import Geography, geography, imported_population_dir, shipped_geography
from ksz_reports.ingest.dataset import open_dataset
from ksz_reports.measures.cutoffs import CutoffReport, apply_cutoffs

PUBLICATION_DIR = ".publication"
CACHE_DIR = ".cache"
DATA_FILE = "publication.parquet"
META_FILE = "meta.json"
#: Columns read as plain strings.
STRING_COLUMNS = ("indicator", "period", "geo", "level", *DIMENSIONS, "flag")


def publication_geography(config: Config, which: Any = None) -> Geography:
    """The geography a publication is made on: ``which`` (a :class:`Geography`, a year such as
    ``"2019"`` or ``2025``, a date) or else ``publication.geography`` of the settings
    (``current``: today's)."""
    if which is None:
        which = config.settings.publication.geography
    if isinstance(which, str) and which.strip() == "current":
        which = None
    geo = geography(which)
    oldest = shipped_geography()
    if geo.valid_from < oldest.valid_from:
        raise UsageError(
            f"the geography of before {oldest.valid_from.isoformat()} (since {geo.id}) cannot be "
            f"published: the data are on the municipalities of {oldest.valid_from.year} and "
            "later, and a merger cannot be undone; use "
            f"--geography {oldest.valid_from.year} or today's (the default)"
        )
    return geo


def publication_inputs(data: str | Path, config: Config, geo: Geography) -> dict[str, str]:
    """Everything a publication depends on — the one definition of "still valid"."""
    return {
        "dataset": tree_hash(data),
        "config": config.hash,
        "population": optional_tree_hash(imported_population_dir()),
        "geography": geo.id,
        "version": __version__,
        "code": code_hash(),
    }


@dataclass(frozen=True)
class Publication:
    """A stored publication (see the module docstring)."""

    path: Path
    meta: dict

    @classmethod
    def load(cls, path: str | Path, inputs: dict[str, str] | None = None) -> Publication | None:
        """The publication in folder ``path`` if it is complete (and made from ``inputs``)."""
        path = Path(path)
        try:
            meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or "hash" not in meta:
            return None
        if inputs is not None and meta.get("inputs") != inputs:
            return None
        if not (path / DATA_FILE).is_file():
            return None
        return cls(path, meta)

    @property
    def hash(self) -> str:
        """Content hash of ``publication.parquet``."""
        return str(self.meta["hash"])

    @property
    def inputs(self) -> dict[str, str]:
        return dict(self.meta.get("inputs") or {})

    @property
    def municipalities(self) -> list[str]:
        return [str(m) for m in self.meta.get("municipalities", [])]

    @property
    def disclosure(self) -> dict:
        return dict(self.meta.get("disclosure") or {})

    @property
    def cutoffs(self) -> list[str]:
        """One line per cut period (for logs and the methodology note)."""
        return [str(c) for c in self.meta.get("cutoffs") or []]

    @cached_property
    def geography(self) -> Geography:
        """The geography the publication is on (a folder of an earlier version records the
        reference date instead)."""
        return geography(self.meta.get("geography") or self.meta.get("at"))

    def cutoff_report(self) -> CutoffReport:
        """The cutoff report the publication was made with (computed once, stored)."""
        rows = pd.DataFrame.from_records(self.meta.get("cutoff_table") or [])
        if rows.empty:
            rows = pd.DataFrame(columns=["indicator", "period", "status"])
        return CutoffReport(rows)

    def frame(self, columns: list[str] | None = None, filters: Any = None) -> pd.DataFrame:
        """The disclosed measures (all, or the ``columns`` and row ``filters`` asked), with the
        key columns as plain strings."""
        # a filtered read (a report, compare, the API) is a slice: one thread, no read-ahead,
        # so that its peak memory is about the slice, not every row group at once
        whole = filters is None
        table = pq.read_table(
            self.path / DATA_FILE,
            columns=columns,
            filters=filters,
            use_threads=whole,
            pre_buffer=whole,
        )
        frame = table.to_pandas()
        for c in STRING_COLUMNS:
            if c in frame.columns:
                frame[c] = frame[c].astype(str)
        return frame


def _write(folder: Path, frame: pd.DataFrame, meta: dict) -> Publication:
    """Write a publication folder atomically: complete or not at all."""
    with atomic_dir(folder) as tmp:
        _write_by_indicator(tmp / DATA_FILE, frame)
        meta = {**meta, "hash": file_sha256(tmp / DATA_FILE)}
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    return Publication(folder, meta)


def _write_by_indicator(path: Path, frame: pd.DataFrame) -> None:
    """The frame as Parquet, one row group per run of one indicator (rows keep their order), so
    that ``compare`` and the API read the row groups of one indicator only."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    indicator = frame["indicator"].astype(str).to_numpy()
    starts = [0, *(np.flatnonzero(indicator[1:] != indicator[:-1]) + 1).tolist(), len(frame)]
    with pq.ParquetWriter(path, table.schema) as writer:
        for start, stop in zip(starts[:-1], starts[1:], strict=True):
            writer.write_table(table.slice(start, stop - start))


def _copy(src: Publication, folder: Path) -> Publication:
    """``src`` as the publication folder ``folder`` (hard links where the file system allows)."""
    with atomic_dir(folder) as tmp:
        for name in (DATA_FILE, META_FILE):
            try:
                os.link(src.path / name, tmp / name)
            except OSError:
                shutil.copy2(src.path / name, tmp / name)
    return Publication(folder, src.meta)


def compute_publication(
    data: str | Path, config: Config, geo: Geography
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The disclosed measures of dataset ``data`` on ``geo`` and the metadata to store with them
    (cutoff report, disclosure figures, sources)."""
    t0 = time.perf_counter()
    dataset = open_dataset(data)
    table, cutoffs = apply_cutoffs(dataset.frame(), config)
    kept = cutoffs.kept
    periods = {i: sorted(g["period"].astype(str)) for i, g in kept.groupby("indicator")}
    from ksz_reports.disclosure.build import build_publication  # scipy: only to compute one

    t1 = time.perf_counter()
    frame = build_publication(table, periods, geo, config)
    stages = frame.attrs.get("stage_seconds", {})
    meta = {
        "geography": geo.id,
        "municipalities": list(geo.codes),
        "disclosure": frame.attrs.get("disclosure", {}),
        "cutoffs": cutoffs.lines(),
        "cutoff_table": cutoffs.to_records(),
        "vintages": sorted(str(v) for v in dataset.vintages),
        "sources": dataset.meta.get("inputs", []),
        "seconds": round(time.perf_counter() - t0, 2),
        # where the time went: reading and cutoffs, the measures (the first indicators'
        # disclosure meanwhile), the disclosure of those left when every measure was computed
        "stage_seconds": {"read_and_cutoffs": round(t1 - t0, 2), **stages},
    }
    frame.attrs = {}
    return frame, meta


def cache_folder(data: str | Path, inputs: dict[str, str]) -> Path:
    """Where the dataset caches the publication of ``inputs``."""
    return Path(data) / CACHE_DIR / f"publication-{input_key(inputs)}"


def find_publication(data: str | Path, config: Config, geo: Geography) -> Publication | None:
    """The dataset's cached publication on ``geo`` if it is there and valid, else None."""
    return Publication.load(cache_folder(data, publication_inputs(data, config, geo)))


def prepare_publication(
    data: str | Path,
    out: str | Path | None = None,
    config: Config | None = None,
    geography: Any = None,
    *,
    force: bool = False,
) -> Publication:
    """The publication of dataset ``data`` (on ``geography``, default the configured one), made
    once and reused while its inputs are unchanged: from ``OUT/.publication`` when ``out`` is
    given and it is valid, else from the dataset's cache, else computed (and stored in both).
    ``force`` recomputes it."""
    from ksz_reports.core.config import load_config

    config = config if config is not None else load_config()
    geo = publication_geography(config, geography)
    inputs = publication_inputs(data, config, geo)
    own = Path(out) / PUBLICATION_DIR if out is not None else None
    cache = cache_folder(data, inputs)
    if not force:
        if own is not None and (found := Publication.load(own, inputs)) is not None:
            return found
        if (found := Publication.load(cache, inputs)) is not None:
            return _copy(found, own) if own is not None else found
    frame, meta = compute_publication(data, config, geo)
    meta = {"inputs": inputs, "key": input_key(inputs), **meta}
    stored: Publication | None = None
    with contextlib.suppress(OSError):  # a read-only dataset folder: no cache, same numbers
        stored = _write(cache, frame, meta)
    if own is not None:
        return _copy(stored, own) if stored is not None else _write(own, frame, meta)
    if stored is None:  # neither a dataset cache nor an output folder: a temporary folder
        stored = _write(Path(tempfile.gettempdir()) / "ksz_reports" / cache.name, frame, meta)
    return stored


__all__ = [
    "CACHE_DIR",
    "PUBLICATION_DIR",
    "Publication",
    "compute_publication",
    "find_publication",
    "prepare_publication",
    "publication_geography",
    "publication_inputs",
]
