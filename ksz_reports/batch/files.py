"""The batch's files on disk: atomic text and JSON writes readable as the umask allows, tolerant
JSON reads, timestamps, and the clean-up of what a killed writer left behind."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ksz_reports.batch.workers import one_line
from ksz_reports.core import atomic


def _utcnow() -> str:
    """A sortable UTC timestamp with microseconds (manifest entries: most recent wins)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


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
