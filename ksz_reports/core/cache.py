"""The asset cache: what rendering derives from the package's own files alone — font subsets,
simplified map outlines — computed once per machine and version instead of once per process,
so an ad-hoc report costs about what a report of a warm batch worker costs.

An entry is a function of its *key* (a JSON-able document naming every input: the package
version, the digest of the source file, the parameters), stored under the key's digest in
:func:`cache_dir`. Each file starts with the SHA-256 of its content, checked on read: a damaged
or tampered entry is recomputed, never used. Entries are written atomically; an unwritable
cache (read-only home, a full disk) only costs time — the value is computed and used anyway.
Data-dependent results (the publication, the cutoffs) are not assets: they live with the
dataset (:mod:`ksz_reports.disclosure.publication`).

The folder is ``$KSZ_REPORTS_CACHE`` if set (``off`` disables the cache), else
``$XDG_CACHE_HOME/ksz_reports``, else ``~/.cache/ksz_reports``. Deleting it is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ksz_reports import __version__

ENV = "KSZ_REPORTS_CACHE"
_DIGEST = 32  # bytes of the SHA-256 that heads every entry


def cache_dir() -> Path | None:
    """The asset cache folder (not created here), or None when disabled (``KSZ_REPORTS_CACHE=off``)."""
    explicit = os.environ.get(ENV, "").strip()
    if explicit:
        return None if explicit.lower() == "off" else Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "ksz_reports"


def entry_path(kind: str, key: Any) -> Path | None:
    """Where the entry of ``kind`` (a folder name) and ``key`` lives (None: cache disabled)."""
    folder = cache_dir()
    if folder is None:
        return None
    document = json.dumps({"version": __version__, "kind": kind, "key": key}, sort_keys=True)
    return folder / kind / f"{hashlib.sha256(document.encode()).hexdigest()[:32]}.bin"


def cached_bytes(kind: str, key: Any, compute: Callable[[], bytes]) -> bytes:
    """The bytes of the entry ``(kind, key)``: read when present and intact, else ``compute()``d
    and stored (best effort)."""
    path = entry_path(kind, key)
    if path is not None:
        with contextlib.suppress(OSError):
            raw = path.read_bytes()
            body = raw[_DIGEST:]
            if raw[:_DIGEST] == hashlib.sha256(body).digest():
                return body
    data = compute()
    if path is not None:
        _store(path, data)
    return data


def _store(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(hashlib.sha256(data).digest() + data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


__all__ = ["ENV", "cache_dir", "cached_bytes", "entry_path"]
