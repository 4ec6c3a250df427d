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
   ``jobs`` processes when they turn out to be slow
   (:data:`~ksz_reports.batch.pool.HASH_POOL_AFTER`).
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
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import re
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ksz_reports import __version__
from ksz_reports.batch.files import _clean_temp, _utcnow, _write_text
from ksz_reports.batch.manifest import (
    MANIFEST,
    _manifest_doc,
    _up_to_date,
    _write_manifest,
    load_entries,
)
from ksz_reports.batch.merge import merge_outputs
from ksz_reports.batch.options import BuilderFactory, _Options
from ksz_reports.batch.pool import _render_pool, _report_hashes
from ksz_reports.batch.record import PublicationRecord, ensure_publication
from ksz_reports.batch.results import BatchResult, Failure, ReportOutcome
from ksz_reports.batch.scope import Shard, _shard_tag, parse_shard, resolve_scope, shard_of
from ksz_reports.batch.signals import BatchInterrupted, _SignalGuard
from ksz_reports.batch.workers import (
    _accepts_timings,
    _failed,
    _resolve_callable,
    default_builder_factory,
    one_line,
    render_one,
)
from ksz_reports.core.config import Config, load_config
from ksz_reports.core.errors import LockedError, UsageError
from ksz_reports.core.lock import BatchLock, locked_error, probe
from ksz_reports.core.progress import Progress, make_progress
from ksz_reports.core.vocabulary import check_formats, check_lang
from ksz_reports.disclosure.publication import (
    prepare_publication,
    publication_geography,
    publication_inputs,
)

LOCK = ".lock"
ERRORS_DIR = ".errors"

_SHARD_LOCK = re.compile(r"^\.lock\.shard-(\d+)-of-(\d+)$")


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
    ``report_timeout``: seconds a report may run in a worker before it is killed and failed
    (None: never); counted from when the worker begins it, not from its slow start.

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
            result.pending = _render_pool(
                todo,
                hashes,
                o,
                guard,
                publication_path=publication.path,
                record=run.record,
                warn=reporter.warning,
            )
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


__all__ = ["ERRORS_DIR", "LOCK", "run_batch"]
