"""What a batch covers: the scope (all, a region, province or arrondissement, a list of codes or
names) resolved on the publication's geography, and the deterministic split into shards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ksz_reports.core.errors import UsageError
from ksz_reports.geo import geographies, normalise_code
from ksz_reports.geo import geography as geo_default

Shard = tuple[int, int]


def parse_shard(shard: str | Sequence[int] | None) -> Shard | None:
    """``(k, n)`` from ``"k/n"`` or a pair; None for no shard or ``1/1``; UsageError otherwise."""
    if shard is None:
        return None
    try:
        if isinstance(shard, str):
            k_text, n_text = shard.split("/")
            k, n = int(k_text), int(n_text)
        else:
            k, n = (int(x) for x in shard)
    except (ValueError, TypeError):
        raise UsageError(f"shard must be K/N with 1 <= K <= N, e.g. 1/2; got {shard!r}") from None
    if not 1 <= k <= n:
        raise UsageError(f"shard must be K/N with 1 <= K <= N, e.g. 1/2; got {k}/{n}")
    return None if n == 1 else (k, n)


def shard_of(codes: Sequence[str], shard: Shard | None) -> list[str]:
    """The codes of shard ``(k, n)``: position ``i`` of the sorted list where ``i % n == k - 1``."""
    ordered = sorted(codes)
    if shard is None:
        return ordered
    k, n = shard
    return [c for i, c in enumerate(ordered) if i % n == k - 1]


def _shard_tag(shard: Shard) -> str:
    return f"shard-{shard[0]}-of-{shard[1]}"


def resolve_scope(scope: Any, municipalities: Sequence[str], geography: Any = None) -> list[str]:
    """The sorted NIS codes a batch covers.

    ``scope``: None or ``"all"`` (every municipality of the publication), a region, province or
    arrondissement NIS code (``"02000"``, ``"40000"``), or a list of municipality NIS codes or
    names (a unit code in the list adds its members). UsageError/NotFoundError (exit 2) for an
    unknown code or name, or a municipality the publication does not hold.
    """
    allowed = sorted(set(municipalities))
    if scope is None:
        return allowed
    if geography is None:
        geography = next(
            (g for g in reversed(geographies()) if set(allowed) <= set(g.codes)), geo_default()
        )
    items = [scope] if isinstance(scope, str | int) else list(scope)
    if not items:
        raise UsageError("the scope is empty: give --all, a region, a province or municipalities")
    chosen: set[str] = set()
    for item in items:
        text = str(item).strip()
        if text.lower() == "all":
            chosen.update(allowed)
            continue
        code = normalise_code(text)
        if code is not None and code in geography:
            chosen.update(geography.members(code))
        else:
            chosen.add(geography.lookup(text).nis)  # NotFoundError with suggestions
    missing = sorted(chosen - set(allowed))
    if missing:
        shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
        raise UsageError(
            f"{len(missing)} municipalities of the scope are not in the publication "
            f"({shown}); the publication covers {len(allowed)} municipalities"
        )
    return sorted(chosen)


__all__ = ["Shard", "parse_shard", "resolve_scope", "shard_of"]
