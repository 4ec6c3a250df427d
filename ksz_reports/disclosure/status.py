"""The status of a published cell (docs/domain.md#flags-and-symbols), shared by the suppression, the derived values, the
audit and the publication.

``published`` (shown), ``suppressed`` (primary: ``0 < n < threshold``), ``secondary`` (suppressed
to protect a primary cell) and ``not_available`` (masked at the source: unknown to us as to
anybody, never shown, never read as 0). The method is described in :mod:`ksz_reports.disclosure`.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["PUBLISHED", "SUPPRESSED", "SECONDARY", "NOT_AVAILABLE", "STATUSES", "STATUS_DTYPE"]

PUBLISHED = "published"
SUPPRESSED = "suppressed"
SECONDARY = "secondary"
NOT_AVAILABLE = "not_available"
#: Every status a cell can get, in code order.
STATUSES: tuple[str, ...] = (PUBLISHED, SUPPRESSED, SECONDARY, NOT_AVAILABLE)
STATUS_DTYPE = pd.CategoricalDtype(list(STATUSES))
