"""The quarterly batch: one report per municipality, unattended, incremental, safe to kill.

>>> from ksz_reports.batch.run import run_batch
>>> result = run_batch("data", "reports", scope="all", jobs=2)
>>> result.exit_code            # 0 done, 1 some reports failed, 128+signal when interrupted

What a run does, in order:

1. **Lock** ``OUT/.lock`` (``OUT/.lock.shard-K-of-N`` for a shard; :mod:`ksz_reports.core.lock`): a
   second batch on the same folder gets :class:`~ksz_reports.core.errors.LockedError` (exit code 3)
   naming the first; an unsharded run and shard runs exclude each other too.
2. **Publication, once**: disclosure control is decided for all municipalities of the geography
   (today's unless configured or given) together by
   :func:`ksz_reports.disclosure.publication.prepare_publication` into ``OUT/.publication/``; it is
   reused while its inputs (:func:`~ksz_reports.disclosure.publication.publication_inputs`:
   dataset, configuration, imported population, geography, version) are unchanged and its files
   are intact (``OUT/.publication.json`` records both). Shards prepare it under
   ``OUT/.publication.lock``: the first computes it, the others wait.
3. **Incremental**: a report whose ``report_hash`` (everything it shows, the config, the
   templates, the version) is unchanged and whose files still have the recorded SHA-256 is
   skipped; ``force=True`` renders everything. The hashes are computed in this process, or in
   ``jobs`` processes when they turn out to be slow (:data:`HASH_POOL_AFTER`).
4. **Render** in a pool of ``jobs`` spawned worker processes, each building the report builder
   once and recycled after ``recycle_after`` reports so memory cannot creep; ``jobs=1`` renders in
   this process (debuggable). One failing report does not stop the others; a worker that dies
   (segfault, OOM kill) costs only its own report (retried once); a report that hangs longer than
   ``report_timeout`` is killed and failed.
5. **Manifest** ``OUT/manifest.json`` (a shard: ``OUT/manifest.shard-K-of-N.json``) rewritten
   atomically after every finished report, so ``kill -9`` loses at most the reports in flight;
   at the end every manifest part is merged into ``manifest.json`` and ``OUT/index.html``.

SIGTERM/SIGINT: stop submitting, let the reports in flight finish (at most ``stop_grace``
seconds; a second signal kills them), write the manifest and index, release the lock, and return
with exit code 128 + signal number.

Worker recycling is done here, not with ``ProcessPoolExecutor(max_tasks_per_child=...)``: on
Python 3.11 that option can deadlock once a worker retires (CPython gh-115634, fixed only in
3.13+). Each worker slot is a one-process pool that is replaced after ``recycle_after`` reports,
which is the same behaviour without the bug, and isolates crashes to the report that caused them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import inspect
import json
import multiprocessing
import os
import pickle
import re
import resource
import shutil
import signal
import sys
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    CancelledError,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ksz_reports import __version__
from ksz_reports.core import atomic
from ksz_reports.core.config import Config, load_config
from ksz_reports.core.errors import EXIT_FAILURES, EXIT_OK, KszError, LockedError, UsageError
from ksz_reports.core.fingerprints import file_sha256, tree_digests
from ksz_reports.core.lock import BatchLock, locked_error, probe
from ksz_reports.core.progress import Progress, format_seconds, make_progress
from ksz_reports.core.vocabulary import check_formats, check_lang
from ksz_reports.disclosure.publication import (
    prepare_publication,
    publication_geography,
    publication_inputs,
)
from ksz_reports.geo import Geography, geographies, normalise_code
from ksz_reports.geo import geography as geo_default

MANIFEST = "manifest.json"
INDEX = "index.html"
LOCK = ".lock"
PUBLICATION_DIR = ".publication"
PUBLICATION_RECORD = ".publication.json"
PUBLICATION_LOCK = ".publication.lock"
MERGE_LOCK = ".merge.lock"
ERRORS_DIR = ".errors"
MANIFEST_FORMAT = "ksz_reports.manifest/1"

_NIS = re.compile(r"^\d{5}$")
_PART = re.compile(r"^manifest\.shard-(\d+)-of-(\d+)\.json$")
_SHARD_LOCK = re.compile(r"^\.lock\.shard-(\d+)-of-(\d+)$")

Shard = tuple[int, int]
BuilderFactory = Callable[[Path, Any], Any]


# --------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class Failure:
    """A report that failed: its NIS code, name and a one-line error."""

    nis: str
    name: str
    error: str


@dataclass
class ReportOutcome:
    """What happened to one report in this run (rendered or failed; skipped ones are not listed).

    ``worker_pid``, ``worker_tasks`` (reports that worker had rendered, this one included) and
    ``worker_peak_rss_mb`` describe the process that rendered it; ``timings`` are the builder's
    per-stage seconds when its ``render`` accepts ``timings=``.
    """

    nis: str
    status: str
    duration: float
    error: str | None = None
    files: list[dict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    worker_pid: int | None = None
    worker_tasks: int | None = None
    worker_peak_rss_mb: float | None = None


@dataclass
class BatchResult:
    """The outcome of :func:`run_batch`. ``exit_code`` follows SPEC §9."""

    out: Path
    shard: Shard | None
    scope: list[str]
    rendered: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    interrupted: int | None = None
    duration: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    publication: dict[str, Any] = field(default_factory=dict)
    manifest: Path | None = None
    index: Path | None = None
    outcomes: list[ReportOutcome] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """128 + signal when interrupted, 1 when any report failed, else 0."""
        if self.interrupted:
            return 128 + self.interrupted
        return EXIT_FAILURES if self.failures else EXIT_OK

    @property
    def ok(self) -> bool:
        """No failure and not interrupted."""
        return self.exit_code == EXIT_OK

    def summary(self) -> str:
        """One line for the log."""
        parts = [
            f"{len(self.rendered)} rendered",
            f"{len(self.failures)} failed",
            f"{len(self.skipped)} up to date",
        ]
        if self.pending:
            parts.append(f"{len(self.pending)} not done")
        head = "interrupted" if self.interrupted else "done"
        if self.interrupted:
            head += f" by {signal.Signals(self.interrupted).name}"
        text = f"{head} in {format_seconds(self.duration)}: " + ", ".join(parts)
        if self.index is not None:
            text += f"; index: {self.index}"
        return text + f" (exit {self.exit_code})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the CLI's ``--json``)."""
        return {
            "out": str(self.out),
            "shard": None if self.shard is None else f"{self.shard[0]}/{self.shard[1]}",
            "exit_code": self.exit_code,
            "interrupted": None if not self.interrupted else signal.Signals(self.interrupted).name,
            "in_scope": len(self.scope),
            "rendered": len(self.rendered),
            "skipped": len(self.skipped),
            "failed": len(self.failures),
            "pending": len(self.pending),
            "failures": [{"nis": f.nis, "name": f.name, "error": f.error} for f in self.failures],
            "duration_s": round(self.duration, 3),
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "publication": self.publication,
            "manifest": None if self.manifest is None else str(self.manifest),
            "index": None if self.index is None else str(self.index),
            "version": __version__,
        }


class BatchInterrupted(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error
    """Raised inside :func:`run_batch` by SIGTERM/SIGINT while preparing; never escapes it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


# --------------------------------------------------------------------------------------------
# small helpers


def _utcnow() -> str:
    """A sortable UTC timestamp with microseconds (manifest entries: most recent wins)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def one_line(exc: BaseException, limit: int = 300) -> str:
    """``ValueError: first line of the message`` (a KszError's own text), at most ``limit`` chars."""
    text = str(exc).strip()
    first = text.splitlines()[0].strip() if text else ""
    if isinstance(exc, KszError) and first:
        line = first
    else:
        line = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"


def parse_shard(shard: str | Sequence[int] | None) -> Shard | None:
    """``(k, n)`` from ``"k/n"`` or a pair; None for no shard or ``1/1``; UsageError otherwise."""
    if shard is None:
        return None
    try:
        if isinstance(shard, str):
            k_text, n_text = shard.split("/")
            k, n = int(k_text), int(n_text)
        else:
            k, n = (int(x) for x in shard)
    except (ValueError, TypeError):
        raise UsageError(f"shard must be K/N with 1 <= K <= N, e.g. 1/2; got {shard!r}") from None
    if not 1 <= k <= n:
        raise UsageError(f"shard must be K/N with 1 <= K <= N, e.g. 1/2; got {k}/{n}")
    return None if n == 1 else (k, n)


def shard_of(codes: Sequence[str], shard: Shard | None) -> list[str]:
    """The codes of shard ``(k, n)``: position ``i`` of the sorted list where ``i % n == k - 1``."""
    ordered = sorted(codes)
    if shard is None:
        return ordered
    k, n = shard
    return [c for i, c in enumerate(ordered) if i % n == k - 1]


def _shard_tag(shard: Shard) -> str:
    return f"shard-{shard[0]}-of-{shard[1]}"


# --------------------------------------------------------------------------------------------
# scope


def resolve_scope(scope: Any, municipalities: Sequence[str], geography: Any = None) -> list[str]:
    """The sorted NIS codes a batch covers.

    ``scope``: None or ``"all"`` (every municipality of the publication), a region, province or
    arrondissement NIS code (``"02000"``, ``"40000"``), or a list of municipality NIS codes or
    names (a unit code in the list adds its members). UsageError/NotFoundError (exit 2) for an
    unknown code or name, or a municipality the publication does not hold.
    """
    allowed = sorted(set(municipalities))
    if scope is None:
        return allowed
    if geography is None:
        geography = next(
            (g for g in reversed(geographies()) if set(allowed) <= set(g.codes)), geo_default()
        )
    items = [scope] if isinstance(scope, str | int) else list(scope)
    if not items:
        raise UsageError("the scope is empty: give --all, a region, a province or municipalities")
    chosen: set[str] = set()
    for item in items:
        text = str(item).strip()
        if text.lower() == "all":
            chosen.update(allowed)
            continue
        code = normalise_code(text)
        if code is not None and code in geography:
            chosen.update(geography.members(code))
        else:
            chosen.add(geography.lookup(text).nis)  # NotFoundError with suggestions
    missing = sorted(chosen - set(allowed))
    if missing:
        shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
        raise UsageError(
            f"{len(missing)} municipalities of the scope are not in the publication "
            f"({shown}); the publication covers {len(allowed)} municipalities"
        )
    return sorted(chosen)


# --------------------------------------------------------------------------------------------
# the publication


@dataclass(frozen=True)
class PublicationRecord:
    """The publication a batch renders from (a :class:`PublicationInfo` as recorded on disk)."""

    path: Path
    hash: str
    municipalities: list[str]
    disclosure: dict[str, Any]
    cutoffs: list[str]
    reused: bool = False

    def summary(self) -> dict[str, Any]:
        """The manifest's and the JSON summary's ``publication`` block."""
        return {
            "hash": self.hash,
            "municipalities": len(self.municipalities),
            "disclosure": self.disclosure,
            "cutoffs": self.cutoffs,
            "reused": self.reused,
        }


def _read_json(path: Path, warn: Callable[[str], None] | None = None) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        if warn is not None:
            warn(f"ignoring the unreadable {path.name} ({one_line(exc)})")
        return None


def _read_umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


_FILE_MODE = 0o666 & ~_read_umask()


def _write_text(path: Path, text: str) -> None:
    """Write atomically, readable as the umask allows (``mkstemp`` alone would give 0600, and a
    web server publishing OUT could not read the index)."""
    with atomic.atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
        os.chmod(tmp, _FILE_MODE)


def _write_json(path: Path, doc: Any) -> None:
    _write_text(path, json.dumps(doc, indent=1, ensure_ascii=False, default=str) + "\n")


def _dump_manifest(doc: dict[str, Any]) -> str:
    """The manifest as JSON with one report per line: readable, greppable, and fast to write
    after every report (the C encoder; ``indent`` would fall back to pure Python)."""
    head = {k: v for k, v in doc.items() if k != "reports"}
    lines = [json.dumps(head, ensure_ascii=False, default=str)[:-1] + ', "reports": [']
    reports = [json.dumps(e, ensure_ascii=False, default=str) for e in doc.get("reports", [])]
    lines.append(",\n".join(reports))
    lines.append("]}")
    return "\n".join(lines) + "\n"


def _write_manifest(path: Path, doc: dict[str, Any]) -> None:
    _write_text(path, _dump_manifest(doc))


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def load_publication(
    out: str | Path, inputs: dict[str, str] | None = None, verify: bool = True
) -> PublicationRecord | None:
    """The recorded publication of ``out`` if it is intact (and made from ``inputs``), else None."""
    out = Path(out)
    rec = _read_json(out / PUBLICATION_RECORD)
    if not isinstance(rec, dict):
        return None
    if inputs is not None and rec.get("inputs") != inputs:
        return None
    path = Path(rec.get("path", PUBLICATION_DIR))
    path = path if path.is_absolute() else out / path
    if not path.is_dir():
        return None
    if verify:
        with contextlib.suppress(OSError):
            if tree_digests(path) == rec.get("files"):
                verify = False
        if verify:
            return None
    try:
        return PublicationRecord(
            path,
            str(rec["hash"]),
            [str(m) for m in rec["municipalities"]],
            dict(rec.get("disclosure") or {}),
            [str(c) for c in rec.get("cutoffs") or []],
            reused=True,
        )
    except (KeyError, TypeError):
        return None


def _record_publication(out: Path, info: Any, inputs: dict[str, str]) -> PublicationRecord:
    path = Path(info.path)
    try:
        stored = path.relative_to(out).as_posix()
    except ValueError:
        stored = str(path.resolve())
    rec = {
        "inputs": inputs,
        "path": stored,
        "hash": str(info.hash),
        "municipalities": sorted(str(m) for m in info.municipalities),
        "disclosure": _jsonable(dict(getattr(info, "disclosure", None) or {})),
        "cutoffs": [str(c) for c in getattr(info, "cutoffs", None) or []],
        "files": tree_digests(path),
        "prepared": _utcnow(),
    }
    _write_json(out / PUBLICATION_RECORD, rec)
    return PublicationRecord(
        path, rec["hash"], rec["municipalities"], rec["disclosure"], rec["cutoffs"], reused=False
    )


def ensure_publication(
    data: Path,
    out: Path,
    inputs: dict[str, str],
    *,
    config: Any,
    prepare: Callable[..., Any],
    geography: Geography,
    timeout: float,
    reporter: Progress,
    command: str | None = None,
) -> PublicationRecord:
    """Reuse ``OUT/.publication`` when it is intact and made from ``inputs``; else prepare it
    under ``OUT/.publication.lock`` (shards that find it locked wait up to ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    waiting = False
    while True:
        rec = load_publication(out, inputs)
        if rec is not None:
            if waiting:
                reporter.info("the publication is ready")
            return rec
        try:
            with BatchLock(
                out / PUBLICATION_LOCK,
                command=command,
                warn=reporter.warning,
                what="the publication of",
            ):
                rec = load_publication(out, inputs)
                if rec is not None:
                    return rec
                # A crash between the new folder and its record must not leave an old record
                # vouching for a new folder: drop the record first.
                with contextlib.suppress(FileNotFoundError):
                    (out / PUBLICATION_RECORD).unlink()
                reporter.info(
                    "preparing the publication (disclosure control of all municipalities at once)"
                )
                kwargs: dict[str, Any] = {}
                if _accepts(prepare, "force"):  # our decision stands: no second reuse check
                    kwargs["force"] = True
                info = prepare(data, out, config=config, geography=geography, **kwargs)
                return _record_publication(out, info, inputs)
        except LockedError as exc:
            if time.monotonic() >= deadline:
                raise LockedError(
                    f"gave up after {timeout:.0f} s waiting for the publication: {exc}"
                ) from None
            if not waiting:
                reporter.info(f"waiting for the publication being prepared elsewhere ({exc})")
                waiting = True
            time.sleep(1.0)


# --------------------------------------------------------------------------------------------
# manifest


def _valid_entry(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("nis"), str)
        and bool(_NIS.match(entry["nis"]))
        and isinstance(entry.get("files", []), list)
    )


def manifest_parts(out: str | Path) -> list[Path]:
    """The shard manifest parts present in ``out``."""
    out = Path(out)
    return sorted(p for p in out.glob("manifest.shard-*-of-*.json") if _PART.match(p.name))


def load_entries(out: str | Path, warn: Callable[[str], None] | None = None) -> dict[str, dict]:
    """Every report entry of ``manifest.json`` and the shard parts; per NIS the most recent."""
    out = Path(out)
    entries: dict[str, dict] = {}
    for path in [out / MANIFEST, *manifest_parts(out)]:
        doc = _read_json(path, warn)
        if doc is None:
            continue
        reports = doc.get("reports") if isinstance(doc, dict) else None
        if not isinstance(reports, list):
            if warn is not None:
                warn(f"ignoring {path.name}: it has no list of reports")
            continue
        for e in reports:
            if not _valid_entry(e):
                continue
            old = entries.get(e["nis"])
            if old is None or str(e.get("checked", "")) > str(old.get("checked", "")):
                entries[e["nis"]] = e
    return entries


def _status_counts(entries: Iterable[dict], publication: str | None) -> dict[str, int]:
    c: Counter[str] = Counter()
    for e in entries:
        state = e.get("status", "?")
        if (
            state in ("ok", "skipped")
            and publication
            and (e.get("inputs") or {}).get("publication") != publication
        ):
            state = "outdated"
        c[state] += 1
    return {k: c.get(k, 0) for k in ("ok", "skipped", "failed", "outdated")}


def _manifest_doc(
    entries: dict[str, dict],
    *,
    shard: Shard | None,
    inputs: dict | None,
    publication: PublicationRecord | None,
) -> dict[str, Any]:
    pub_hash = publication.hash if publication is not None else None
    return {
        "format": MANIFEST_FORMAT,
        "version": __version__,
        "updated": _utcnow(),
        "shard": None if shard is None else f"{shard[0]}/{shard[1]}",
        "inputs": {**(inputs or {}), "publication": pub_hash},
        "publication": None
        if publication is None
        else {k: v for k, v in publication.summary().items() if k != "reused"},
        "summary": _status_counts(entries.values(), pub_hash),
        "reports": [entries[k] for k in sorted(entries)],
    }


def _entry_files_ok(entry: dict, report_dir: Path) -> bool:
    files = entry.get("files") or []
    if not files:
        return False
    for f in files:
        try:
            p = report_dir / f["name"]
            if p.stat().st_size != int(f["bytes"]) or file_sha256(p) != f["sha256"]:
                return False
        except (OSError, KeyError, TypeError, ValueError):
            return False
    return True


def _up_to_date(
    entry: dict | None, report_hash: str, formats: tuple[str, ...], lang: str, report_dir: Path
) -> bool:
    if not entry or entry.get("status") not in ("ok", "skipped"):
        return False
    if entry.get("report_hash") != report_hash or entry.get("lang") != lang:
        return False
    if tuple(entry.get("formats") or ()) != formats:
        return False
    return _entry_files_ok(entry, report_dir)


# --------------------------------------------------------------------------------------------
# index.html

_LABELS = {
    "nl": {
        "title": "Rapporten per gemeente",
        "summary": "Overzicht",
        "in_scope": "gemeenten in de publicatie",
        "ok": "gemaakt",
        "skipped": "ongewijzigd (niet opnieuw gemaakt)",
        "failed": "mislukt",
        "outdated": "verouderd (andere publicatie)",
        "missing": "nog niet gemaakt",
        "primary": "onderdrukte cellen (primair)",
        "secondary": "onderdrukte cellen (secundair)",
        "not_available": "bij de bron gemaskeerd",
        "cutoffs": "Weggelaten perioden",
        "no_cutoffs": "geen",
        "generated": "gemaakt op",
        "version": "versie",
        "publication": "publicatie",
        "reports": "Rapporten",
        "name": "gemeente",
        "status": "status",
        "files": "bestanden",
    },
    "fr": {
        "title": "Rapports par commune",
        "summary": "Résumé",
        "in_scope": "communes de la publication",
        "ok": "produits",
        "skipped": "inchangés (non régénérés)",
        "failed": "en échec",
        "outdated": "périmés (autre publication)",
        "missing": "pas encore produits",
        "primary": "cellules supprimées (primaire)",
        "secondary": "cellules supprimées (secondaire)",
        "not_available": "masquées à la source",
        "cutoffs": "Périodes écartées",
        "no_cutoffs": "aucune",
        "generated": "généré le",
        "version": "version",
        "publication": "publication",
        "reports": "Rapports",
        "name": "commune",
        "status": "statut",
        "files": "fichiers",
    },
    "en": {
        "title": "Reports per municipality",
        "summary": "Summary",
        "in_scope": "municipalities in the publication",
        "ok": "rendered",
        "skipped": "unchanged (not re-rendered)",
        "failed": "failed",
        "outdated": "outdated (another publication)",
        "missing": "not rendered yet",
        "primary": "suppressed cells (primary)",
        "secondary": "suppressed cells (secondary)",
        "not_available": "masked at source",
        "cutoffs": "Periods left out",
        "no_cutoffs": "none",
        "generated": "generated",
        "version": "version",
        "publication": "publication",
        "reports": "Reports",
        "name": "municipality",
        "status": "status",
        "files": "files",
    },
}

_FILE_LABELS = {
    "report.html": "HTML",
    "report.pdf": "PDF",
    "cells.csv": "cells.csv",
    "tables.xlsx": "tables.xlsx",
}

_INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ksz_reports {{ version }}">
<title>{{ t.title }}</title>
<style>
body { font-family: system-ui, "Segoe UI", Roboto, Arial, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5rem; }
th, td { padding: .25rem .7rem; border-bottom: 1px solid #ddd; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td { color: #a00; }
tr.outdated td { color: #8a6d00; }
a { color: #0b57a4; }
.small { color: #666; font-size: .9em; }
</style>
</head>
<body>
<h1>{{ t.title }}</h1>
<h2>{{ t.summary }}</h2>
<table class="summary">
<tr><th>{{ t.in_scope }}</th><td class="n">{{ s.in_scope }}</td></tr>
<tr><th>{{ t.ok }}</th><td class="n">{{ s.ok }}</td></tr>
<tr><th>{{ t.skipped }}</th><td class="n">{{ s.skipped }}</td></tr>
<tr><th>{{ t.failed }}</th><td class="n">{{ s.failed }}</td></tr>
{% if s.outdated %}<tr><th>{{ t.outdated }}</th><td class="n">{{ s.outdated }}</td></tr>
{% endif %}{% if s.missing %}<tr><th>{{ t.missing }}</th><td class="n">{{ s.missing }}</td></tr>
{% endif %}{% for key, value in disclosure %}<tr><th>{{ t[key] }}</th><td class="n">{{ value }}</td></tr>
{% endfor %}<tr><th>{{ t.generated }}</th><td>{{ generated }}</td></tr>
<tr><th>{{ t.version }}</th><td>ksz_reports {{ version }}</td></tr>
{% if publication %}<tr><th>{{ t.publication }}</th><td class="small">{{ publication }}</td></tr>
{% endif %}</table>
<h2>{{ t.cutoffs }}</h2>
{% if cutoffs %}<ul>
{% for line in cutoffs %}<li>{{ line }}</li>
{% endfor %}</ul>{% else %}<p>{{ t.no_cutoffs }}</p>{% endif %}
<h2>{{ t.reports }}</h2>
<table class="reports">
<thead><tr><th>NIS</th><th>{{ t.name }}</th><th>{{ t.status }}</th><th>{{ t.files }}</th></tr></thead>
<tbody>
{% for r in rows %}<tr class="{{ r.state }}"><td>{{ r.nis }}</td><td>{% if r.main %}<a href="{{ r.main }}">{{ r.name }}</a>{% else %}{{ r.name }}{% endif %}</td><td>{{ t[r.state] }}{% if r.error %}: {{ r.error }}{% endif %}</td><td>{% for f in r.files %}<a href="{{ f.href }}">{{ f.label }}</a>{% if not loop.last %} · {% endif %}{% endfor %}</td></tr>
{% endfor %}</tbody>
</table>
</body>
</html>
"""


def _safe_name(name: Any) -> str | None:
    """A file name of a manifest entry that may become a relative link, else None."""
    if not isinstance(name, str) or not name or name.startswith(("/", "\\")):
        return None
    parts = name.replace("\\", "/").split("/")
    if any(p in ("", ".", "..") for p in parts) or ":" in parts[0]:
        return None
    return "/".join(parts)


def render_index(
    entries: dict[str, dict],
    *,
    publication: PublicationRecord | None,
    lang: str = "nl",
    names: dict[str, str] | None = None,
) -> str:
    """The text of ``index.html``: a summary and a relative link to every report (offline)."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(_INDEX_TEMPLATE)
    pub_hash = publication.hash if publication is not None else None
    counts = _status_counts(entries.values(), pub_hash)
    in_scope = publication.municipalities if publication is not None else sorted(entries)
    rows = []
    for nis in sorted(entries):
        e = entries[nis]
        state = e.get("status", "failed")
        state = state if state in ("ok", "skipped", "failed") else "failed"
        if (
            state != "failed"
            and pub_hash
            and (e.get("inputs") or {}).get("publication") != pub_hash
        ):
            state = "outdated"
        files = []
        for f in e.get("files") or []:
            name = _safe_name(f.get("name") if isinstance(f, dict) else None)
            if name is not None:
                files.append(
                    {"href": quote(f"{nis}/{name}"), "label": _FILE_LABELS.get(name, name)}
                )
        main = next((f["href"] for f in files if f["label"] == "HTML"), None) or (
            files[0]["href"] if files else None
        )
        if state == "failed":
            main = None
        rows.append(
            {
                "nis": nis,
                "name": (names or {}).get(nis) or e.get("name") or nis,
                "state": state,
                "error": e.get("error") if state == "failed" else None,
                "files": [] if state == "failed" else files,
                "main": main,
            }
        )
    disclosure = []
    if publication is not None:
        for key in ("primary", "secondary", "not_available"):
            if key in publication.disclosure:
                disclosure.append((key, publication.disclosure[key]))
    return template.render(
        lang=lang if lang in _LABELS else "nl",
        t=_LABELS.get(lang, _LABELS["nl"]),
        s={**counts, "in_scope": len(in_scope), "missing": len(set(in_scope) - set(entries))},
        disclosure=disclosure,
        cutoffs=publication.cutoffs if publication is not None else [],
        generated=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        version=__version__,
        publication=pub_hash,
        rows=rows,
    )


def merge_outputs(
    out: str | Path,
    *,
    lang: str | None = None,
    publication: PublicationRecord | None = None,
    inputs: dict | None = None,
    remove_parts: bool = False,
    warn: Callable[[str], None] | None = None,
    wait: float = 120.0,
) -> tuple[Path, Path]:
    """Merge ``manifest.json`` and every shard part into ``manifest.json`` and write
    ``index.html`` (both atomically, under ``OUT/.merge.lock``). Returns their paths.

    Entries of municipalities the publication does not hold (an older geography) are dropped.
    ``remove_parts`` deletes the shard parts once merged (an unsharded run does that).
    """
    out = Path(out)
    with BatchLock(
        out / MERGE_LOCK, wait=wait, warn=warn, what="the manifest of", stale_after=600.0
    ):
        for tmp in [*out.glob(f".{MANIFEST}.*.tmp"), *out.glob(f".{INDEX}.*.tmp")]:
            with contextlib.suppress(OSError):
                tmp.unlink()
        if publication is None:
            publication = load_publication(out, verify=False)
        parts = manifest_parts(out)
        entries = load_entries(out, warn)
        if publication is not None:
            keep = set(publication.municipalities)
            dropped = sorted(set(entries) - keep)
            if dropped and warn is not None:
                warn(
                    f"{len(dropped)} reports in {out} are not part of this publication "
                    f"(an older geography?) and are left out of the index: "
                    f"{', '.join(dropped[:10])}{' …' if len(dropped) > 10 else ''}"
                )
            entries = {k: v for k, v in entries.items() if k in keep}
        if inputs is None:
            old = _read_json(out / MANIFEST)
            inputs = (old or {}).get("inputs") if isinstance(old, dict) else None
            inputs = {k: v for k, v in (inputs or {}).items() if k != "publication"}
        if lang is None:
            langs = Counter(e.get("lang") for e in entries.values() if e.get("lang"))
            lang = langs.most_common(1)[0][0] if langs else "nl"
        manifest = out / MANIFEST
        _write_manifest(
            manifest, _manifest_doc(entries, shard=None, inputs=inputs, publication=publication)
        )
        index = out / INDEX
        _write_text(index, render_index(entries, publication=publication, lang=lang))
        if remove_parts:
            for p in parts:
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
    return manifest, index


# --------------------------------------------------------------------------------------------
# rendering (in this process or in a worker)


#: The report builder a batch uses unless told otherwise, named (not imported) so that a batch
#: with another builder never loads the renderer (WeasyPrint, matplotlib).
DEFAULT_BUILDER = "ksz_reports.report.builder:ReportBuilder"


def default_builder_factory(publication_path: Path, config: Config) -> Any:
    """``ksz_reports.report.builder.ReportBuilder(publication_path, config)``."""
    return _resolve_callable(DEFAULT_BUILDER, default_builder_factory)(publication_path, config)


def _resolve_callable(ref: Any, default: Callable[..., Any]) -> Callable[..., Any]:
    if ref is None:
        return default
    if isinstance(ref, str):
        module, _, attr = ref.partition(":")
        if not attr:
            module, _, attr = ref.rpartition(".")
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj
    if not callable(ref):
        raise UsageError(f"not callable: {ref!r}")
    return ref


def _accepts(fn: Any, name: str) -> bool:
    """Whether callable ``fn`` has a parameter called ``name``."""
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _accepts_timings(builder: Any) -> bool:
    return _accepts(getattr(builder, "render", None), "timings")


def _peak_rss_mb() -> float:
    """Peak resident memory of this process (MB) since it started its program.

    On Linux, ``ru_maxrss`` of a spawned worker starts at its parent's peak (the kernel carries
    the high-water mark of the forked copy across ``exec``), so every worker would report the
    main process's peak; ``VmHWM`` is that of the worker's own memory."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _file_record(path: Path, report_dir: Path, out: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_absolute():
        path = out / path
    try:
        name = path.relative_to(report_dir).as_posix()
    except ValueError:
        name = os.path.relpath(path, report_dir)
    return {"name": name, "sha256": file_sha256(path), "bytes": path.stat().st_size}


def _clean_temp(report_dir: Path) -> None:
    """Remove temp files and folders a killed writer left in a report folder (``.x.*.tmp``)."""
    if not report_dir.is_dir():
        return
    for p in report_dir.iterdir():
        if p.name.startswith(".") and (p.name.endswith(".tmp") or ".old-" in p.name):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    p.unlink()


def render_one(
    builder: Any,
    nis: str,
    out: Path,
    formats: tuple[str, ...],
    lang: str,
    timings: bool = False,
    worker_tasks: int | None = None,
) -> dict[str, Any]:
    """Render one report with ``builder``; never raises an Exception (returns ``failed``)."""
    t0 = time.perf_counter()
    stages: dict[str, float] = {}
    report_dir = out / nis
    result: dict[str, Any] = {"nis": nis, "pid": os.getpid(), "tasks": worker_tasks}
    try:
        kwargs: dict[str, Any] = {"formats": formats, "lang": lang}
        if timings:
            kwargs["timings"] = stages
        paths = builder.render(nis, out, **kwargs)
        if paths is None:
            paths = [
                p
                for p in sorted(report_dir.iterdir())
                if p.is_file() and not p.name.startswith(".")
            ]
        files = [_file_record(Path(p), report_dir, out) for p in paths]
        result.update(status="ok", files=files, error=None, traceback=None)
    except Exception as exc:  # noqa: BLE001 - one report must not stop the batch
        result.update(
            status="failed", files=[], error=one_line(exc), traceback=traceback.format_exc()
        )
    result["duration"] = time.perf_counter() - t0
    result["timings"] = {k: float(v) for k, v in stages.items() if isinstance(v, int | float)}
    result["peak_rss_mb"] = _peak_rss_mb()
    return result


_WORKER: dict[str, Any] = {}


def _watch_parent(parent: int) -> None:
    """Exit a worker whose batch process died (kill -9): orphans must not keep rendering."""
    while True:
        time.sleep(0.25)
        if os.getppid() != parent:
            os._exit(75)


def _worker_init(factory: Any, publication_path: str, config: Any, parent: int) -> None:
    """Per worker: ignore the batch's signals (the batch decides), build the builder, warm up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(
        target=_watch_parent, args=(parent,), daemon=True, name="ksz-parent-watch"
    ).start()
    _WORKER.clear()
    _WORKER["tasks"] = 0
    try:
        make = _resolve_callable(factory, default_builder_factory)
        builder = make(Path(publication_path), config)
        warm = getattr(builder, "warm_up", None)
        if callable(warm):
            warm()
        _WORKER["builder"] = builder
        _WORKER["timings"] = _accepts_timings(builder)
    except Exception as exc:  # noqa: BLE001 - reported with every task of this worker
        _WORKER["init_error"] = one_line(exc)
        _WORKER["init_traceback"] = traceback.format_exc()


def _worker_render(nis: str, out: str, formats: tuple[str, ...], lang: str) -> dict[str, Any]:
    _WORKER["tasks"] = _WORKER.get("tasks", 0) + 1
    if "init_error" in _WORKER:
        return {
            "nis": nis,
            "status": "failed",
            "files": [],
            "duration": 0.0,
            "error": f"worker start failed: {_WORKER['init_error']}",
            "traceback": _WORKER.get("init_traceback"),
            "timings": {},
            "pid": os.getpid(),
            "tasks": _WORKER["tasks"],
            "peak_rss_mb": _peak_rss_mb(),
        }
    return render_one(
        _WORKER["builder"],
        nis,
        Path(out),
        formats,
        lang,
        _WORKER.get("timings", False),
        _WORKER["tasks"],
    )


#: Compute report hashes in ``jobs`` processes when doing it here would take longer than this.
HASH_POOL_AFTER = 10.0
_HASH_SAMPLE = 5


def _hash_many(
    builder: Any, codes: Sequence[str], formats: tuple[str, ...], lang: str
) -> tuple[dict[str, str | None], dict[str, str]]:
    hashes: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    for nis in codes:
        try:
            hashes[nis] = str(builder.report_hash(nis, formats, lang))
        except Exception as exc:  # noqa: BLE001 - fails this report only
            hashes[nis] = None
            errors[nis] = f"report_hash: {one_line(exc)}"
    return hashes, errors


def _hash_init(factory: Any, publication_path: str, config: Any, parent: int) -> None:
    """Per hashing process: like :func:`_worker_init`, without the renderer's warm-up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    make = _resolve_callable(factory, default_builder_factory)
    _WORKER["hash_builder"] = make(Path(publication_path), config)


def _hash_chunk(
    codes: list[str], formats: tuple[str, ...], lang: str
) -> tuple[dict[str, str | None], dict[str, str]]:
    return _hash_many(_WORKER["hash_builder"], codes, formats, lang)


def _report_hashes(
    builder: Any, codes: list[str], o: _Options, publication_path: Path, reporter: Progress
) -> tuple[dict[str, str | None], dict[str, str]]:
    """``report_hash`` of every report (None and an error line where it fails).

    Computed here; but when a sample shows that would take longer than
    :data:`HASH_POOL_AFTER` seconds and ``jobs > 1``, the rest is spread over ``jobs`` spawned
    processes (an unchanged re-run must cost a small fraction of a full one).
    """
    t0 = time.perf_counter()
    hashes, errors = _hash_many(builder, codes[:_HASH_SAMPLE], o.formats, o.lang)
    rest = codes[_HASH_SAMPLE:]
    projected = (time.perf_counter() - t0) / max(1, min(len(codes), _HASH_SAMPLE)) * len(rest)
    if not rest or o.jobs < 2 or projected <= HASH_POOL_AFTER:
        more, more_errors = _hash_many(builder, rest, o.formats, o.lang)
        return {**hashes, **more}, {**errors, **more_errors}
    reporter.info(
        f"computing {len(rest)} report hashes in {o.jobs} processes "
        f"(about {projected:.0f} s in one)"
    )
    n = min(len(rest), o.jobs * 8)
    chunks = [rest[i * len(rest) // n : (i + 1) * len(rest) // n] for i in range(n)]
    pool = ProcessPoolExecutor(
        o.jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_hash_init,
        initargs=(o.factory_ref, str(publication_path), o.config, os.getpid()),
    )
    done: set[str] = set()
    try:
        futures = [pool.submit(_hash_chunk, c, o.formats, o.lang) for c in chunks]
        for fut in futures:
            part, part_errors = fut.result()
            hashes.update(part)
            errors.update(part_errors)
            done.update(part)
    except BrokenProcessPool:
        reporter.warning("a hashing process died; computing the remaining hashes here")
        left = [c for c in rest if c not in done]
        more, more_errors = _hash_many(builder, left, o.formats, o.lang)
        hashes.update(more)
        errors.update(more_errors)
    except BaseException:
        for proc in list(getattr(pool, "_processes", {}).values()):
            with contextlib.suppress(Exception):
                proc.kill()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return hashes, errors


class _Slot:
    """One worker process (a one-process pool), replaced after ``recycle_after`` reports."""

    def __init__(self, ctx: Any, initargs: tuple, recycle_after: int | None):
        self.ctx = ctx
        self.initargs = initargs
        self.recycle_after = recycle_after
        self.executor: ProcessPoolExecutor | None = None
        self.tasks = 0
        self.future: Any = None
        self.nis: str | None = None
        self.submitted = 0.0
        self.retired: list[ProcessPoolExecutor] = []

    def submit(self, nis: str, out: Path, formats: tuple[str, ...], lang: str) -> None:
        if self.executor is not None and self.recycle_after and self.tasks >= self.recycle_after:
            self.retire()
        if self.executor is None:
            self.executor = ProcessPoolExecutor(
                1, mp_context=self.ctx, initializer=_worker_init, initargs=self.initargs
            )
            self.tasks = 0
        self.future = self.executor.submit(_worker_render, nis, str(out), formats, lang)
        self.nis = nis
        self.submitted = time.monotonic()
        self.tasks += 1

    def retire(self, kill: bool = False) -> None:
        ex, self.executor = self.executor, None
        self.tasks = 0
        if ex is None:
            return
        if kill:
            for proc in list(getattr(ex, "_processes", {}).values()):
                with contextlib.suppress(Exception):
                    proc.kill()
        ex.shutdown(wait=False, cancel_futures=True)
        self.retired.append(ex)

    def close(self, kill: bool = False) -> None:
        self.retire(kill=kill)
        for ex in self.retired:
            with contextlib.suppress(Exception):
                ex.shutdown(wait=True, cancel_futures=True)
        self.retired.clear()


class _SignalGuard:
    """SIGTERM/SIGINT → a stop request. ``raise_at``: the signal count that raises
    :class:`BatchInterrupted` instead (1 while preparing, 2 rendering in-process, None in pool
    mode and while finishing)."""

    def __init__(self) -> None:
        self.count = 0
        self.signum: int | None = None
        self.first = 0.0
        self.raise_at: int | None = 1
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()

    def _handle(self, signum: int, frame: Any) -> None:
        self.count += 1
        if self.signum is None:
            self.signum = signum
            self.first = time.monotonic()
        if self.raise_at is not None and self.count >= self.raise_at:
            raise BatchInterrupted(signum)

    @property
    def stop(self) -> bool:
        return self.count > 0


# --------------------------------------------------------------------------------------------
# the batch


@dataclass(frozen=True)
class _Options:
    """The validated arguments of :func:`run_batch`."""

    data: Path
    out: Path
    scope: Any
    formats: tuple[str, ...]
    lang: str
    jobs: int
    shard: Shard | None
    force: bool
    config: Config
    geography: Geography
    factory: BuilderFactory
    factory_ref: Any
    prepare: Callable[..., Any]
    recycle_after: int | None
    report_timeout: float | None
    publication_timeout: float
    stop_grace: float
    command: str


class _Run:
    """State of one :func:`run_batch` call (kept out of the function to keep it readable)."""

    def __init__(
        self,
        out: Path,
        shard: Shard | None,
        formats: tuple[str, ...],
        lang: str,
        reporter: Progress,
        inputs: dict[str, str],
        publication: PublicationRecord,
        names: dict[str, str],
        entries: dict[str, dict],
        own: list[str],
        result: BatchResult,
        cfg_hash: str,
    ):
        self.out = out
        self.shard = shard
        self.formats = formats
        self.lang = lang
        self.reporter = reporter
        self.inputs = inputs
        self.publication = publication
        self.names = names
        self.entries = entries
        self.own = set(own)
        self.result = result
        self.cfg_hash = cfg_hash
        self.done = 0
        self.todo = 0
        self.manifest = out / (MANIFEST if shard is None else f"manifest.{_shard_tag(shard)}.json")

    def entry_base(self, nis: str, report_hash: str | None) -> dict[str, Any]:
        return {
            "nis": nis,
            "name": self.names.get(nis, nis),
            "formats": list(self.formats),
            "lang": self.lang,
            "report_hash": report_hash,
            "inputs": {"dataset": self.inputs["dataset"], "publication": self.publication.hash},
            "config": self.cfg_hash,
            "version": __version__,
        }

    def write_manifest(self) -> None:
        entries = (
            self.entries
            if self.shard is None
            else {k: v for k, v in self.entries.items() if k in self.own}
        )
        _write_manifest(
            self.manifest,
            _manifest_doc(
                entries, shard=self.shard, inputs=self.inputs, publication=self.publication
            ),
        )

    def record(self, res: dict[str, Any], report_hash: str | None) -> None:
        nis = res["nis"]
        now = _utcnow()
        entry = self.entry_base(nis, report_hash)
        entry.update(
            status=res["status"],
            files=res.get("files") or [],
            duration=round(float(res.get("duration") or 0.0), 3),
            rendered=now if res["status"] == "ok" else None,
            checked=now,
            error=res.get("error"),
        )
        self.entries[nis] = entry
        self.done += 1
        outcome = ReportOutcome(
            nis=nis,
            status=res["status"],
            duration=float(res.get("duration") or 0.0),
            error=res.get("error"),
            files=entry["files"],
            timings=res.get("timings") or {},
            worker_pid=res.get("pid"),
            worker_tasks=res.get("tasks"),
            worker_peak_rss_mb=res.get("peak_rss_mb"),
        )
        self.result.outcomes.append(outcome)
        name = self.names.get(nis, nis)
        err_file = self.out / ERRORS_DIR / f"{nis}.txt"
        if res["status"] == "ok":
            self.result.rendered.append(nis)
            self.reporter.rendered(nis, name, outcome.duration, self.done, self.todo)
            if err_file.exists():
                with contextlib.suppress(OSError):
                    err_file.unlink()
        else:
            self.result.failures.append(Failure(nis, name, res.get("error") or "failed"))
            self.reporter.failed(nis, name, res.get("error") or "failed", self.done, self.todo)
            with contextlib.suppress(OSError):
                _write_text(
                    err_file, f"{nis} {name}\n{res.get('error')}\n\n{res.get('traceback') or ''}"
                )
        try:
            self.write_manifest()
        except OSError as exc:  # a full disk must not lose the other reports' results
            self.reporter.error(f"cannot write {self.manifest}: {one_line(exc)}")


def _failed(nis: str, error: str) -> dict[str, Any]:
    return {
        "nis": nis,
        "status": "failed",
        "files": [],
        "duration": 0.0,
        "error": error,
        "traceback": None,
        "timings": {},
    }


def run_batch(
    data: str | Path,
    out: str | Path,
    *,
    scope: Any = None,
    formats: str | Sequence[str] = ("html", "pdf"),
    lang: str = "nl",
    jobs: int = 2,
    shard: str | Sequence[int] | None = None,
    force: bool = False,
    progress: str | Progress | None = "auto",
    quiet: bool = False,
    json_summary: bool = False,
    config: Config | None = None,
    geography: Any = None,
    builder_factory: str | BuilderFactory | None = None,
    prepare: str | Callable[..., Any] | None = None,
    recycle_after: int | None = 50,
    report_timeout: float | None = 600.0,
    publication_timeout: float = 3600.0,
    stop_grace: float = 30.0,
    command: str | None = None,
) -> BatchResult:
    """Render the reports of ``scope`` from dataset ``data`` into ``out`` (see the module doc).

    ``scope``: None/``"all"``, a region/province/arrondissement NIS code, or a list of
    municipality codes or names. ``formats``: any of html, pdf, xlsx (``cells.csv`` is always
    written). ``jobs``: worker processes (1: render in this process; 0: one per CPU). ``shard``:
    ``(k, n)`` or ``"k/n"``. ``progress``: ``auto``/``bar``/``log``/``quiet`` or a
    :class:`~ksz_reports.core.progress.Progress`; ``quiet=True`` prints only errors;
    ``json_summary=True`` also prints :meth:`BatchResult.to_dict` as JSON on stdout.
    ``builder_factory(publication_path, config) -> builder`` and ``prepare`` (same signature as
    ``prepare_publication``) replace the report module, e.g. in tests; with ``jobs > 1`` the
    factory must be importable by name (a module-level function or ``"module:function"``).
    ``recycle_after``: reports per worker process before it is replaced (None: never).
    ``report_timeout``: seconds before a report in a worker is killed and failed (None: never).

    Raises LockedError (exit 3) when another batch holds ``out``, UsageError/NotFoundError
    (exit 2) for a bad scope or option, and whatever the publication step raises for bad data.
    """
    t_start = time.monotonic()
    data, out = Path(data).absolute(), Path(out).absolute()
    formats = check_formats(formats)
    check_lang(lang)
    config = config if config is not None else load_config()
    geo = publication_geography(config, geography)
    try:
        jobs = int(jobs)
    except (TypeError, ValueError):
        raise UsageError(f"jobs must be a whole number; got {jobs!r}") from None
    if jobs < 0:
        raise UsageError(f"jobs must be 0 (one per CPU) or more; got {jobs}")
    jobs = jobs or (os.cpu_count() or 1)
    if recycle_after is not None and recycle_after < 1:
        raise UsageError(f"recycle_after must be 1 or more (or None); got {recycle_after}")
    shard_ = parse_shard(shard)
    if not data.exists():
        raise UsageError(f"{data}: the dataset does not exist; write it with `ksz-reports ingest`")
    factory = _resolve_callable(builder_factory, default_builder_factory)
    if jobs > 1 and builder_factory is not None:
        try:
            pickle.dumps(builder_factory)
        except Exception:  # noqa: BLE001
            raise UsageError(
                "builder_factory must be importable by name (a module-level "
                "function or 'module:function') when jobs > 1"
            ) from None
    prepare_fn = _resolve_callable(prepare, prepare_publication)
    reporter = make_progress(progress, quiet=quiet)
    resolve_scope(scope, geo.codes, geo)  # fail fast, before the publication is prepared

    opts = _Options(
        data=data,
        out=out,
        scope=scope,
        formats=formats,
        lang=lang,
        jobs=jobs,
        shard=shard_,
        force=force,
        config=config,
        geography=geo,
        factory=factory,
        factory_ref=builder_factory,
        prepare=prepare_fn,
        recycle_after=recycle_after,
        report_timeout=report_timeout,
        publication_timeout=publication_timeout,
        stop_grace=stop_grace,
        command=command if command is not None else " ".join(sys.argv),
    )
    out.mkdir(parents=True, exist_ok=True)
    lock_path = out / (LOCK if shard_ is None else f"{LOCK}.{_shard_tag(shard_)}")
    result = BatchResult(out=out, shard=shard_, scope=[])
    try:
        _run_guarded(result, opts, lock_path, reporter)
    finally:
        reporter.close()  # a progress bar must not stay on after an exception
    result.duration = time.monotonic() - t_start
    reporter.finish(result.summary())
    if json_summary:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str), flush=True)
    return result


def _run_guarded(result: BatchResult, opts: _Options, lock_path: Path, reporter: Progress) -> None:
    """Signals → a stop request; the lock; the work."""
    with _SignalGuard() as guard:
        try:
            with BatchLock(lock_path, command=opts.command, warn=reporter.warning):
                try:
                    _check_other_locks(opts.out, opts.shard)
                    _run_locked(result, guard, opts, reporter)
                finally:
                    guard.raise_at = None  # never interrupt the lock's release
        except BatchInterrupted as exc:
            result.interrupted = exc.signum
        if guard.signum is not None and result.interrupted is None:
            result.interrupted = guard.signum


def _check_other_locks(out: Path, shard: Shard | None) -> None:
    """An unsharded run and shard runs (or shards of another split) exclude each other."""
    others: list[Path] = []
    if shard is not None:
        others.append(out / LOCK)
    for p in out.glob(f"{LOCK}.shard-*-of-*"):
        m = _SHARD_LOCK.match(p.name)
        if m and (shard is None or int(m.group(2)) != shard[1]):
            others.append(p)
    for p in others:
        holder = probe(p)
        if holder is not None:
            raise locked_error(p, holder)


def _run_locked(result: BatchResult, guard: _SignalGuard, o: _Options, reporter: Progress) -> None:
    """Everything :func:`run_batch` does while it holds the lock."""
    data, out, formats, lang, shard = o.data, o.out, o.formats, o.lang, o.shard
    timings = result.timings
    t = time.monotonic()
    inputs = publication_inputs(data, o.config, o.geography)
    publication = ensure_publication(
        data,
        out,
        inputs,
        config=o.config,
        prepare=o.prepare,
        geography=o.geography,
        timeout=o.publication_timeout,
        reporter=reporter,
        command=o.command,
    )
    timings["publication"] = time.monotonic() - t
    result.publication = publication.summary()
    if publication.reused:
        reporter.info(f"publication {publication.hash[:12]} reused (inputs unchanged)")

    geography = o.geography
    in_scope = resolve_scope(o.scope, publication.municipalities, geography)
    own = shard_of(in_scope, shard)
    result.scope = own
    names = {}
    for nis in own:
        try:
            names[nis] = geography.name(nis, lang)
        except Exception:  # noqa: BLE001 - a name is decoration
            names[nis] = nis

    # What is up to date?
    t = time.monotonic()
    entries = load_entries(out, reporter.warning)
    builder = o.factory(publication.path, o.config)
    hashes, hash_errors = _report_hashes(builder, own, o, publication.path, reporter)
    timings["hash"] = time.monotonic() - t
    candidates = [n for n in own if not o.force and hashes[n] is not None and n in entries]
    fresh: set[str] = set()
    if candidates:
        with ThreadPoolExecutor(max_workers=max(2, min(8, o.jobs * 2))) as pool:
            checks = pool.map(
                lambda n: _up_to_date(entries.get(n), hashes[n] or "", formats, lang, out / n),
                candidates,
            )
            fresh = {n for n, ok in zip(candidates, checks, strict=True) if ok}
    timings["check"] = time.monotonic() - t

    run = _Run(
        out,
        shard,
        formats,
        lang,
        reporter,
        inputs,
        publication,
        names,
        entries,
        own,
        result,
        str(inputs["config"]),
    )
    now = _utcnow()
    for nis in own:
        if nis in fresh:
            e = dict(entries[nis])
            e.update(
                status="skipped",
                checked=now,
                name=names.get(nis, e.get("name")),
                inputs={"dataset": inputs["dataset"], "publication": publication.hash},
                config=inputs["config"],
                version=__version__,
                error=None,
            )
            entries[nis] = e
            result.skipped.append(nis)
    todo = [n for n in own if n not in fresh]
    run.todo = len(todo)
    title = f"batch {out}" + (f" (shard {shard[0]}/{shard[1]})" if shard else "")
    reporter.start(title, len(own), len(todo))
    run.write_manifest()

    t = time.monotonic()
    try:
        for nis, error in hash_errors.items():
            run.record(_failed(nis, error), None)
        todo = [n for n in todo if n not in hash_errors]
        for nis in todo:
            _clean_temp(out / nis)
        with contextlib.suppress(OSError):
            for tmp in out.glob(f".{run.manifest.name}.*.tmp"):
                tmp.unlink()
        if todo and o.jobs == 1:
            guard.raise_at = 2
            warm = getattr(builder, "warm_up", None)
            if callable(warm):
                warm()
            timed = _accepts_timings(builder)
            for i, nis in enumerate(todo):
                if guard.stop:
                    result.pending = todo[i:]
                    break
                run.record(render_one(builder, nis, out, formats, lang, timed, i + 1), hashes[nis])
        elif todo:
            del builder  # the workers load their own
            guard.raise_at = None
            result.pending = _render_pool(run, todo, hashes, o, guard)
    except BatchInterrupted as exc:
        result.interrupted = exc.signum
        done = set(result.rendered) | {f.nis for f in result.failures}
        result.pending = [n for n in todo if n not in done]
    finally:
        guard.raise_at = None
        timings["render"] = time.monotonic() - t
        t = time.monotonic()
        try:
            run.write_manifest()
        finally:
            result.manifest = run.manifest
            try:
                result.manifest, result.index = merge_outputs(
                    out,
                    lang=lang,
                    publication=publication,
                    inputs=inputs,
                    remove_parts=shard is None,
                    warn=reporter.warning,
                )
            except LockedError as exc:  # the reports are done; another shard will merge
                reporter.warning(f"manifest.json and index.html not merged: {exc}")
        timings["merge"] = time.monotonic() - t


def _render_pool(
    run: _Run, todo: list[str], hashes: dict[str, str | None], o: _Options, guard: _SignalGuard
) -> list[str]:
    """Render ``todo`` in ``jobs`` worker slots; returns what was not done (on a stop)."""
    ctx = multiprocessing.get_context("spawn")
    initargs = (o.factory_ref, str(run.publication.path), o.config, os.getpid())
    slots = [_Slot(ctx, initargs, o.recycle_after) for _ in range(min(o.jobs, len(todo)))]
    pending = deque(todo)
    crashes: Counter[str] = Counter()
    killed = False
    try:
        while True:
            if not guard.stop:
                for s in slots:
                    if s.future is None and pending:
                        s.submit(pending.popleft(), run.out, run.formats, run.lang)
            busy = {s.future: s for s in slots if s.future is not None}
            if not busy:
                break
            done, _ = wait(busy, timeout=0.25, return_when=FIRST_COMPLETED)
            for fut in done:
                s = busy[fut]
                nis = s.nis or ""
                s.future, s.nis = None, None
                try:
                    res = fut.result()
                except CancelledError:
                    pending.appendleft(nis)
                    continue
                except BrokenProcessPool:
                    s.retire(kill=True)
                    if guard.stop:  # e.g. Ctrl-C reached a worker still starting up
                        pending.appendleft(nis)
                        continue
                    crashes[nis] += 1
                    if crashes[nis] < 2:
                        run.reporter.warning(f"the worker rendering {nis} died; retrying it once")
                        pending.append(nis)
                        continue
                    res = _failed(
                        nis,
                        "the worker process died while rendering this report "
                        "(crash or out of memory)",
                    )
                except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result
                    res = _failed(nis, one_line(exc))
                run.record(res, hashes.get(nis))
            now = time.monotonic()
            if o.report_timeout is not None:
                for s in slots:
                    if s.future is not None and now - s.submitted > o.report_timeout:
                        nis = s.nis or ""
                        s.future, s.nis = None, None
                        s.retire(kill=True)
                        run.record(
                            _failed(
                                nis,
                                f"timed out after {o.report_timeout:.0f} s; the worker was killed",
                            ),
                            hashes.get(nis),
                        )
            if guard.stop and (guard.count >= 2 or now - guard.first > o.stop_grace):
                for s in slots:
                    if s.future is not None:
                        pending.appendleft(s.nis or "")
                        s.future, s.nis = None, None
                        s.retire(kill=True)
                killed = True
                break
    finally:
        for s in slots:
            s.close(kill=killed)
    return list(pending)


__all__ = [
    "run_batch",
    "BatchResult",
    "Failure",
    "ReportOutcome",
    "PublicationRecord",
    "merge_outputs",
    "render_index",
    "resolve_scope",
    "shard_of",
    "parse_shard",
    "load_entries",
    "load_publication",
    "default_builder_factory",
]
