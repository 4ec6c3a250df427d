"""What runs inside a batch's worker process: build the report builder once, render one report,
compute report hashes.

A spawned worker unpickles references to this module's functions, so it imports this module
(and the ``ksz_reports`` and ``ksz_reports.batch`` packages, both lazy) and nothing else of
the batch. Keep it that way: this module imports only the standard library and
:mod:`ksz_reports.core`, never the publication or the renderer (pandas, pyarrow, scipy,
WeasyPrint, matplotlib). The builder a worker uses is named by its factory —
:data:`DEFAULT_BUILDER` is a string, so a batch with another builder (the tests' fake one) never
loads the renderer at all.
"""

from __future__ import annotations

import importlib
import inspect
import os
import resource
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ksz_reports.core.errors import KszError, UsageError
from ksz_reports.core.fingerprints import file_sha256

# For the annotations only: ksz_reports.core.config imports ksz_reports.core.schema, which loads
# pandas and pyarrow (a worker still does, when it unpickles the Config it is given).
if TYPE_CHECKING:
    from ksz_reports.core.config import Config

#: The report builder a batch uses unless told otherwise, named (not imported) so that a batch
#: with another builder never loads the renderer (WeasyPrint, matplotlib).
DEFAULT_BUILDER = "ksz_reports.report.builder:ReportBuilder"


def one_line(exc: BaseException, limit: int = 300) -> str:
    """``ValueError: first line of the message`` (a KszError's own text), at most ``limit`` chars."""
    text = str(exc).strip()
    first = text.splitlines()[0].strip() if text else ""
    if isinstance(exc, KszError) and first:
        line = first
    else:
        line = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"


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
    """A manifest entry's record of one report file: name (relative to the report folder),
    SHA-256 and size."""
    path = Path(path)
    if not path.is_absolute():
        path = out / path
    try:
        name = path.relative_to(report_dir).as_posix()
    except ValueError:
        name = os.path.relpath(path, report_dir)
    return {"name": name, "sha256": file_sha256(path), "bytes": path.stat().st_size}


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


def _failed(nis: str, error: str) -> dict[str, Any]:
    """The result of a report that failed outside :func:`render_one` (its hash, its worker)."""
    return {
        "nis": nis,
        "status": "failed",
        "files": [],
        "duration": 0.0,
        "error": error,
        "traceback": None,
        "timings": {},
    }


_WORKER: dict[str, Any] = {}


def _watch_parent(parent: int) -> None:
    """Exit a worker whose batch process died (kill -9): orphans must not keep rendering."""
    while True:
        time.sleep(0.25)
        if os.getppid() != parent:
            os._exit(75)


def _worker_init(
    factory: Any, publication_path: str, config: Any, parent: int, started: Any = None
) -> None:
    """Per worker: ignore the batch's signals (the batch decides), build the builder, warm up.
    ``started``: a shared double where each report writes when it begins (for its timeout)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(
        target=_watch_parent, args=(parent,), daemon=True, name="ksz-parent-watch"
    ).start()
    _WORKER.clear()
    _WORKER["tasks"] = 0
    _WORKER["started"] = started
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
    started = _WORKER.get("started")
    if started is not None:
        started.value = time.monotonic()
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


__all__ = ["DEFAULT_BUILDER", "default_builder_factory", "one_line", "render_one"]
