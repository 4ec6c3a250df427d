"""The publication a batch renders from, as recorded in ``OUT/.publication.json``: reused while
its inputs are unchanged and its files intact, else prepared once under
``OUT/.publication.lock`` (shards that find it locked wait).

The preparing itself is the caller's ``prepare`` (the batch passes
:func:`ksz_reports.disclosure.publication.prepare_publication`); this module only records,
checks and waits, so the manifest and the index can read the record without loading the
publication's machinery.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ksz_reports.batch.files import _jsonable, _read_json, _utcnow, _write_json
from ksz_reports.batch.workers import _accepts
from ksz_reports.core.errors import LockedError
from ksz_reports.core.fingerprints import tree_digests
from ksz_reports.core.lock import BatchLock
from ksz_reports.core.progress import Progress
from ksz_reports.geo import Geography

PUBLICATION_DIR = ".publication"
PUBLICATION_RECORD = ".publication.json"
PUBLICATION_LOCK = ".publication.lock"


@dataclass(frozen=True)
class PublicationRecord:
    """The publication a batch renders from (a :class:`PublicationInfo` as recorded on disk)."""

    path: Path
    hash: str
    municipalities: list[str]
    disclosure: dict[str, Any]
    cutoffs: list[str]
    reused: bool = False
    #: The id of the publication's geography (``2025``, ``2019``); empty for an old record.
    geography: str = ""

    def summary(self) -> dict[str, Any]:
        """The manifest's and the JSON summary's ``publication`` block."""
        return {
            "hash": self.hash,
            "geography": self.geography,
            "municipalities": len(self.municipalities),
            "disclosure": self.disclosure,
            "cutoffs": self.cutoffs,
            "reused": self.reused,
        }


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
            geography=str((rec.get("inputs") or {}).get("geography") or ""),
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
        path,
        rec["hash"],
        rec["municipalities"],
        rec["disclosure"],
        rec["cutoffs"],
        reused=False,
        geography=str(inputs.get("geography") or ""),
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


__all__ = ["PublicationRecord", "ensure_publication", "load_publication"]
