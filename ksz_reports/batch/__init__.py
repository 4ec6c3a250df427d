"""The unattended batch: one report per municipality, incremental, parallel, safe to kill
(:func:`run_batch`; the steps are described in :mod:`ksz_reports.batch.run`).

>>> from ksz_reports.batch import run_batch
>>> run_batch("data", "reports", scope="all", jobs=2).exit_code

The modules:

- :mod:`~ksz_reports.batch.run`: :func:`run_batch` — options, lock, publication, the incremental
  check, rendering, the manifest after every report;
- :mod:`~ksz_reports.batch.results`: :class:`BatchResult`, :class:`Failure`,
  :class:`ReportOutcome`; :mod:`~ksz_reports.batch.signals`: SIGTERM/SIGINT as a stop request;
  :mod:`~ksz_reports.batch.options`: the validated arguments;
- :mod:`~ksz_reports.batch.scope`: the scope and the shards;
- :mod:`~ksz_reports.batch.record`: the publication as recorded in ``OUT/.publication.json``;
- :mod:`~ksz_reports.batch.manifest`, :mod:`~ksz_reports.batch.index` and
  :mod:`~ksz_reports.batch.merge`: ``manifest.json``, its shard parts and ``index.html``;
- :mod:`~ksz_reports.batch.pool`: the process pools (render slots, report hashes);
- :mod:`~ksz_reports.batch.workers`: what runs inside a worker process;
- :mod:`~ksz_reports.batch.files`: atomic writes, tolerant reads.

The names are imported lazily: a spawned worker imports this package on its way to
:mod:`~ksz_reports.batch.workers` and must not pay for the rest (the publication loads pandas,
pyarrow and scipy).
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "run_batch": "ksz_reports.batch.run",
    "LOCK": "ksz_reports.batch.run",
    "BatchResult": "ksz_reports.batch.results",
    "Failure": "ksz_reports.batch.results",
    "ReportOutcome": "ksz_reports.batch.results",
    "parse_shard": "ksz_reports.batch.scope",
    "resolve_scope": "ksz_reports.batch.scope",
    "shard_of": "ksz_reports.batch.scope",
    "PublicationRecord": "ksz_reports.batch.record",
    "load_publication": "ksz_reports.batch.record",
    "MANIFEST": "ksz_reports.batch.manifest",
    "load_entries": "ksz_reports.batch.manifest",
    "INDEX": "ksz_reports.batch.index",
    "render_index": "ksz_reports.batch.index",
    "merge_outputs": "ksz_reports.batch.merge",
    "DEFAULT_BUILDER": "ksz_reports.batch.workers",
    "default_builder_factory": "ksz_reports.batch.workers",
}

__all__ = list(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ksz_reports.batch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
