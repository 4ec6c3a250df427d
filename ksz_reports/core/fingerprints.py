"""Content hashes: of a file, of a folder, of the shipped templates, and the one *input key*.

An input key is the digest of a small JSON document naming everything a result depends on
(dataset, configuration, population, geography, version, code, …); the publication, its cache in
the dataset folder, the copy beside the reports and the batch record all compare the same
document (:func:`ksz_reports.disclosure.publication.publication_inputs`).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from ksz_reports.core.resources import templates_dir


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's content."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _tree_files(root: Path) -> list[Path]:
    """Regular files under ``root`` (or ``root`` itself), hidden names and temp files excluded."""
    if root.is_file():
        return [root]
    files = []
    for p in root.rglob("*"):
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not p.is_file():
            continue
        files.append(p)
    return sorted(files)


def tree_hash(root: str | Path) -> str:
    """Content hash of a file or folder: every non-hidden file's relative name and content."""
    root = Path(root)
    h = hashlib.sha256()
    for p in _tree_files(root):
        rel = p.name if root.is_file() else p.relative_to(root).as_posix()
        h.update(rel.encode() + b"\0" + file_sha256(p).encode() + b"\n")
    return h.hexdigest()


def tree_digests(root: str | Path) -> dict[str, str]:
    """``{relative name: sha256}`` of every non-hidden file under ``root``."""
    root = Path(root)
    return {p.relative_to(root).as_posix(): file_sha256(p) for p in _tree_files(root)}


def optional_tree_hash(root: str | Path) -> str:
    """:func:`tree_hash` of a folder that may not exist (``"none"`` then)."""
    return tree_hash(root) if Path(root).is_dir() else "none"


@cache
def templates_hash() -> str:
    """Content hash of the shipped templates, CSS, fonts and catalogs (once per process)."""
    h = hashlib.sha256()
    root = templates_dir()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


#: The stages whose code makes a publication (:func:`code_hash`): a publication made by other code
#: — another suppression method, another cutoff rule — is not reused.
PUBLICATION_STAGES = ("core", "ingest", "geo", "measures", "disclosure")


def source_hash(root: str | Path, packages: tuple[str, ...]) -> str:
    """Content hash of the Python sources (``*.py``) of the sub-packages ``packages`` of the
    package folder ``root`` (compiled files and caches are not sources)."""
    root = Path(root)
    h = hashlib.sha256()
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            h.update(path.relative_to(root).as_posix().encode() + b"\0")
            h.update(file_sha256(path).encode() + b"\n")
    return h.hexdigest()


@cache
def code_hash() -> str:
    """:func:`source_hash` of this installation's :data:`PUBLICATION_STAGES` (once per process):
    the version of the code a publication is made by, finer than the package's version number."""
    return source_hash(Path(__file__).resolve().parent.parent, PUBLICATION_STAGES)


def input_key(inputs: dict[str, Any], length: int = 20) -> str:
    """The short digest of an inputs document (key order does not matter)."""
    blob = json.dumps(inputs, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:length]
