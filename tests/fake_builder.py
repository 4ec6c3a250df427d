"""A stand-in for ``ksz_reports.report.model`` in the batch tests: ``prepare_publication`` and a
``ReportBuilder`` that write small, recognisable files.

Importable by name (spawned workers import it), and configured by environment variables so
that every process of a batch (the batch itself and its spawned workers) behaves the same:

``KSZ_FAKE_SLEEP``          seconds each render takes (split around the file writes)
``KSZ_FAKE_FAIL``           comma-separated NIS codes whose render raises ValueError
``KSZ_FAKE_CRASH``          NIS codes whose render kills its process (``os._exit``)
``KSZ_FAKE_HANG``           NIS codes whose render sleeps for an hour
``KSZ_FAKE_HASH_SLEEP``     seconds each ``report_hash`` takes
``KSZ_FAKE_HASH_FAIL``      NIS codes whose ``report_hash`` raises
``KSZ_FAKE_SALT``           mixed into every report's hash and content ("a new dataset")
``KSZ_FAKE_SALT_NIS``       ``44021=x,11001=y``: per-report salts ("one changed input")
``KSZ_FAKE_PREPARE_SLEEP``  seconds ``prepare_publication`` takes
``KSZ_FAKE_WARM_SLEEP``     seconds a worker's ``warm_up`` takes (a slow worker start)
``KSZ_FAKE_CALLS``          a file to which ``prepare_publication`` appends one line per call

Every file ends with :data:`FOOTER` so a test can tell a complete file from a truncated one.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ksz_reports.core import atomic

FOOTER = "-- ksz-fake-end --"
FILES = {"html": "report.html", "pdf": "report.pdf", "xlsx": "tables.xlsx"}


def _codes(var: str) -> set[str]:
    return {c.strip() for c in os.environ.get(var, "").split(",") if c.strip()}


def _salt(nis: str) -> str:
    per = dict(
        item.split("=", 1)
        for item in os.environ.get("KSZ_FAKE_SALT_NIS", "").split(",")
        if "=" in item
    )
    return os.environ.get("KSZ_FAKE_SALT", "") + "|" + per.get(nis, "")


@dataclass
class FakePublicationInfo:
    """The fields of ``ksz_reports.report.model.PublicationInfo`` the batch uses."""

    path: Path
    hash: str
    municipalities: list[str]
    disclosure: dict = field(default_factory=dict)
    cutoffs: list[str] = field(default_factory=list)


def prepare_publication(data_dir, out_dir, config=None, geography=None) -> FakePublicationInfo:
    """Write ``out/.publication/`` atomically (deterministic content) and describe it."""
    from ksz_reports.geo import geography as geo_of

    calls = os.environ.get("KSZ_FAKE_CALLS")
    if calls:
        with open(calls, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()}\n")
    time.sleep(float(os.environ.get("KSZ_FAKE_PREPARE_SLEEP", "0") or 0))
    codes = list(geo_of(geography).codes)
    digest = hashlib.sha256()
    for p in sorted(Path(data_dir).rglob("*")):
        if p.is_file():
            digest.update(p.name.encode() + p.read_bytes())
    pub_hash = digest.hexdigest()
    dest = Path(out_dir) / ".publication"
    with atomic.atomic_dir(dest) as tmp:
        (tmp / "publication.parquet").write_text(f"fake publication {pub_hash}\n")
        (tmp / "meta.json").write_text(json.dumps({"hash": pub_hash, "municipalities": codes}))
    return FakePublicationInfo(
        path=dest,
        hash=pub_hash,
        municipalities=codes,
        disclosure={"primary": 123, "secondary": 45, "cells": 10000},
        cutoffs=["ll 2023-01..2023-06: not stable yet (lag 6 months)"],
    )


class FakeBuilder:
    """Writes ``NNNNN/{report.html, report.pdf, cells.csv[, tables.xlsx]}`` atomically."""

    def __init__(self, publication_path, config=None):
        self.path = Path(publication_path)
        meta = json.loads((self.path / "meta.json").read_text())
        self.publication_hash = meta["hash"]
        self.warmed = False

    def warm_up(self) -> None:
        time.sleep(float(os.environ.get("KSZ_FAKE_WARM_SLEEP", "0") or 0))
        self.warmed = True

    def report_hash(self, nis: str, formats=("html", "pdf"), lang: str = "nl") -> str:
        time.sleep(float(os.environ.get("KSZ_FAKE_HASH_SLEEP", "0") or 0))
        if nis in _codes("KSZ_FAKE_HASH_FAIL"):
            raise KeyError(nis)
        return self._hash(nis, formats, lang)

    def _hash(self, nis: str, formats=("html", "pdf"), lang: str = "nl") -> str:
        text = f"{self.publication_hash}|{nis}|{','.join(formats)}|{lang}|{_salt(nis)}"
        return hashlib.sha256(text.encode()).hexdigest()

    def content(self, nis: str, kind: str, formats=("html", "pdf"), lang: str = "nl") -> bytes:
        """The deterministic content of one file (tests compare against it)."""
        head = f"{kind} {nis} {lang} {self._hash(nis, formats, lang)}\n"
        body = (f"{nis} " * 2000 + "\n").encode()  # ~12 KB, so a kill can land mid-write
        return head.encode() + body + f"{FOOTER}\n".encode()

    def render(self, nis: str, out_dir, formats=("html", "pdf"), lang: str = "nl", timings=None):
        if nis in _codes("KSZ_FAKE_FAIL"):
            raise ValueError(f"broken data for {nis}\nsecond line that must not show")
        if nis in _codes("KSZ_FAKE_CRASH"):
            os._exit(70)
        if nis in _codes("KSZ_FAKE_HANG"):
            time.sleep(3600)
        pause = float(os.environ.get("KSZ_FAKE_SLEEP", "0") or 0)
        folder = Path(out_dir) / nis
        names = [FILES[f] for f in formats if f in FILES] + ["cells.csv"]
        written = []
        t0 = time.perf_counter()
        for name in names:
            data = self.content(nis, name, formats, lang)
            with atomic.atomic_path(folder / name) as tmp, open(tmp, "wb") as fh:
                fh.write(data[: len(data) // 2])
                fh.flush()
                time.sleep(pause / len(names))  # a kill here leaves only the temp file
                fh.write(data[len(data) // 2 :])
            written.append(folder / name)
        if timings is not None:
            timings["pdf"] = (time.perf_counter() - t0) / 2
        return written


def make_builder(publication_path, config=None) -> FakeBuilder:
    """The ``builder_factory`` the tests pass to ``run_batch``."""
    return FakeBuilder(publication_path, config)
