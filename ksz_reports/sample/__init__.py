"""Sample exports for all 581 municipalities in every shipped dialect: :func:`generate_sample`."""

from ksz_reports.sample.generate import (
    DIALECTS,
    SampleFile,
    SampleSummary,
    generate_sample,
    sample_file_names,
)
from ksz_reports.sample.ksz import plan_ksz_tables
from ksz_reports.sample.world import KSZ_YEARS, PODMI_VINTAGES

__all__ = [
    "DIALECTS",
    "KSZ_YEARS",
    "PODMI_VINTAGES",
    "SampleFile",
    "SampleSummary",
    "generate_sample",
    "plan_ksz_tables",
    "sample_file_names",
]
