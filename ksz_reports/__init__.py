"""ksz_reports — per-municipality social-policy reports from KSZ DWH AM&SB and POD MI exports.

The public API (imported lazily, so ``import ksz_reports`` stays cheap):

>>> import ksz_reports
>>> ksz_reports.generate_sample("exports")                       # realistic sample exports
>>> ksz_reports.validate(["exports/ksz_dwh_long_2023-03-01.csv"])  # a report, never raises
>>> ksz_reports.ingest(sorted(Path("exports").iterdir()), "data")  # the canonical dataset
>>> ks = ksz_reports.open("data")                                # analysis: tidy DataFrames
>>> ks.indicator("ll", period="2020", level="region")
>>> ksz_reports.render_report("data", "Gent", "reports")         # HTML, PDF, cells.csv
>>> ksz_reports.run_batch("data", "reports", jobs=2)             # every municipality
>>> ksz_reports.audit_dir("reports")                             # try to break the suppression
>>> ksz_reports.income(2022, at="2025-01-01")                     # Statbel median income (context)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "open": "ksz_reports.api",
    "KszData": "ksz_reports.api",
    "generate_sample": "ksz_reports.sample",
    "read_export": "ksz_reports.ingest.reader",
    "validate": "ksz_reports.ingest.validate",
    "ingest": "ksz_reports.ingest.dataset",
    "open_dataset": "ksz_reports.ingest.dataset",
    "load_config": "ksz_reports.core.config",
    "apply_cutoffs": "ksz_reports.measures.cutoffs",
    "prepare_publication": "ksz_reports.disclosure.publication",
    "render_report": "ksz_reports.report.builder",
    "ReportBuilder": "ksz_reports.report.builder",
    "run_batch": "ksz_reports.batch.run",
    "audit_dir": "ksz_reports.disclosure.audit",
    "lookup": "ksz_reports.geo",
    "import_statbel": "ksz_reports.geo.statbel",
    "income": "ksz_reports.geo.income",
    "import_income": "ksz_reports.geo.income",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ksz_reports' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
