"""The validated arguments of :func:`~ksz_reports.batch.run.run_batch`, as one value handed to
the steps of a run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ksz_reports.batch.scope import Shard
from ksz_reports.core.config import Config
from ksz_reports.geo import Geography

BuilderFactory = Callable[[Path, Any], Any]


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


__all__ = ["BuilderFactory"]
