"""The manifest: one entry per report (status, files with their SHA-256, report hash, inputs),
in ``OUT/manifest.json`` or a shard's part ``OUT/manifest.shard-K-of-N.json``; read back
tolerantly (per NIS the most recent entry wins), written atomically, and the check whether a
report is up to date."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ksz_reports import __version__
from ksz_reports.batch.files import _read_json, _utcnow, _write_text
from ksz_reports.batch.record import PublicationRecord
from ksz_reports.batch.scope import Shard
from ksz_reports.core.fingerprints import file_sha256

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "ksz_reports.manifest/1"

_NIS = re.compile(r"^\d{5}$")
_PART = re.compile(r"^manifest\.shard-(\d+)-of-(\d+)\.json$")


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


__all__ = ["MANIFEST", "MANIFEST_FORMAT", "load_entries", "manifest_parts"]
