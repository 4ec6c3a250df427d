"""The status of a published cell (docs/domain.md#flags-and-symbols), shared by the suppression, the derived values, the
audit and the publication.

``published`` (shown), ``suppressed`` (primary: ``0 < n < threshold``), ``secondary`` (suppressed
to protect a sensitive cell), ``not_available`` (masked at the source because it is small: unknown
to us as to anybody, never shown, never read as 0, and protected like a primary cell) and
``unknown`` (no value for another reason, e.g. not covered by the source: not sensitive). The
method is described in :mod:`ksz_reports.disclosure`.
"""

from __future__ import annotations

import pandas as pd

from ksz_reports.core.vocabulary import NOT_AVAILABLE, SECONDARY, SUPPRESSED, UNKNOWN

__all__ = [
    "PUBLISHED",
    "SUPPRESSED",
    "SECONDARY",
    "NOT_AVAILABLE",
    "UNKNOWN",
    "STATUSES",
    "STATUS_DTYPE",
    "CODES",
]

PUBLISHED = "published"
#: Every status a cell can get, in code order.
STATUSES: tuple[str, ...] = (PUBLISHED, SUPPRESSED, SECONDARY, NOT_AVAILABLE, UNKNOWN)
STATUS_DTYPE = pd.CategoricalDtype(list(STATUSES))
#: The integer code of each status (its position in STATUSES), for arrays of codes.
CODES: dict[str, int] = {status: code for code, status in enumerate(STATUSES)}
