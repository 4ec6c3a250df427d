"""The end of every run: fold ``manifest.json`` and every shard's part into ``manifest.json`` and
write ``index.html``, both atomically and under ``OUT/.merge.lock`` (the shard that finishes
last merges everybody's reports)."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from ksz_reports.batch.files import _read_json, _write_text
from ksz_reports.batch.index import INDEX, render_index
from ksz_reports.batch.manifest import (
    MANIFEST,
    _manifest_doc,
    _write_manifest,
    load_entries,
    manifest_parts,
)
from ksz_reports.batch.record import PublicationRecord, load_publication
from ksz_reports.core.lock import BatchLock
from ksz_reports.geo import geography

MERGE_LOCK = ".merge.lock"


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
        geo = geography(publication.geography) if publication and publication.geography else None
        _write_text(index, render_index(entries, publication=publication, lang=lang, geography=geo))
        if remove_parts:
            for p in parts:
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
    return manifest, index


__all__ = ["MERGE_LOCK", "merge_outputs"]
