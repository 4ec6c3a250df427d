"""Age classes as intervals of completed years: ``18-64``, ``65+``, ``total``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ksz_reports.core.schema import TOTAL

MAX_AGE = 200
_RANGE = re.compile(r"^(\d{1,3})-(\d{1,3})$")
_OPEN = re.compile(r"^(\d{1,3})\+$")


@dataclass(frozen=True, order=True)
class AgeClass:
    """Ages ``low`` to ``high`` inclusive (``high`` = MAX_AGE for an open class)."""

    low: int
    high: int

    def __str__(self) -> str:
        if self.low == 0 and self.high == MAX_AGE:
            return TOTAL
        return f"{self.low}+" if self.high == MAX_AGE else f"{self.low}-{self.high}"

    def intersect(self, other: AgeClass) -> AgeClass | None:
        low, high = max(self.low, other.low), min(self.high, other.high)
        return AgeClass(low, high) if low <= high else None

    def contains(self, other: AgeClass) -> bool:
        return self.low <= other.low and other.high <= self.high


def parse_age_class(text: str) -> AgeClass:
    """``"18-64"`` → AgeClass(18, 64); ``"65+"`` → AgeClass(65, MAX_AGE); ``"total"`` → all ages."""
    s = str(text).strip().replace(" ", "")
    if s == TOTAL:
        return AgeClass(0, MAX_AGE)
    if m := _RANGE.match(s):
        low, high = int(m[1]), int(m[2])
        if low <= high:
            return AgeClass(low, high)
    if m := _OPEN.match(s):
        return AgeClass(int(m[1]), MAX_AGE)
    raise ValueError(f"not an age class: {text!r} (write 18-64, 65+ or total)")
