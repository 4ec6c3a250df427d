"""The header of an export mapped onto the canonical columns of a dialect.

:func:`_map_header` says which header column is which canonical column (the dialect's nl and fr
aliases, matched with :func:`ksz_reports.core.text.normalize`), which columns hold the values of a
wide export (one column per period, or per category of a dimension), and which columns are
unknown, duplicated or missing. :func:`_required_check` tells whether a row of cells holds every
required column (to find the header row), :func:`_missing` is the error naming the first missing
column. Detection and the reader both judge a header this way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ksz_reports.core.errors import InputError, quoted
from ksz_reports.core.text import normalize
from ksz_reports.ingest.dialects import Dialect
from ksz_reports.ingest.sources import _Header


def _quote_list(items: Iterable[str], limit: int = 8) -> str:
    items = list(items)
    shown = ", ".join(quoted(x) for x in items[:limit])
    return shown + (f" … ({len(items)} in all)" if len(items) > limit else "")


@dataclass
class _Layout:
    roles: dict[str, int]  # canonical role → header index
    values: list[tuple[int, str]]  # value columns: (header index, header text)
    unknown: list[int]
    not_period: list[int]
    duplicate: tuple[str, int, int] | None  # (what, first column, second column), 0-based
    missing: list[str]
    recognised: int

    @property
    def ok(self) -> bool:
        return not self.missing and self.duplicate is None


def _map_header(names: Sequence[str], dialect: Dialect, config: Any) -> _Layout:
    aliases = dialect.alias_index()
    ignored = dialect.ignored()
    roles: dict[str, int] = {}
    values: list[tuple[int, str]] = []
    unknown: list[int] = []
    not_period: list[int] = []
    duplicate = None
    recognised = 0
    wide = dialect.wide
    value_keys: dict[str, int] = {}  # a wide file's value columns (periods, codes) by name
    swing = dialect.swing.code_map() if dialect.swing is not None else None
    for i, name in enumerate(names):
        key = normalize(name)
        if not key:
            continue
        role = aliases.get(key)
        if role is not None:
            recognised += 1
            if role in roles:
                duplicate = duplicate or (role, roles[role], i)
            else:
                roles[role] = i
            continue
        if key in ignored:
            recognised += 1
            continue
        if swing is not None:  # one column per indicator code
            if key in swing or config.indicator_lookup(name) is not None:
                values.append((i, name))
            else:
                unknown.append(i)
            continue
        if wide is not None:
            if wide.columns == "period":
                if any(p.match(name) for p in wide.patterns):
                    if key in value_keys:
                        duplicate = duplicate or (f"period {name.strip()}", value_keys[key], i)
                    value_keys.setdefault(key, i)
                    values.append((i, name))
                    recognised += 1
                elif re.search(wide.looks_like, name):
                    not_period.append(i)
                else:
                    unknown.append(i)
            else:
                dim = wide.columns
                code = dialect.value_map(dim).get(key) or config.codes.lookup(dim, name)
                if code is not None:
                    if code in value_keys:
                        duplicate = duplicate or (f"{dim} {code}", value_keys[code], i)
                    value_keys.setdefault(code, i)
                    values.append((i, name))
                    recognised += 1
                else:
                    unknown.append(i)
            continue
        unknown.append(i)
    missing = [r for r in dialect.required_roles if r not in roles]
    if wide is not None and not values and not not_period:
        missing.append("period" if wide.columns == "period" else wide.columns)
    if swing is not None and not values and not missing:
        missing.append("indicator")
    return _Layout(roles, values, unknown, not_period, duplicate, missing, recognised)


def _required_check(dialect: Dialect) -> Any:
    """A predicate: does this row of cells hold every required column of the dialect?"""
    aliases = dialect.alias_index()
    need = set(dialect.required_roles)

    def check(cells: Sequence[str]) -> bool:
        found = {aliases.get(normalize(c)) for c in cells}
        return need <= found

    return check


def _missing(file: str, d: Dialect, header: _Header, lay: _Layout) -> InputError:
    role = lay.missing[0]
    if d.layout == "swing" and role == "indicator":
        return InputError(
            f"no indicator code columns (dialect {d.name})",
            file=file,
            row=header.row,
            hint="A Swing file has one column per indicator code after period, geolevel and "
            f"geoitem; map each code in swing.codes of {d.where}. Header seen: "
            f"{_quote_list(header.names, 12)}",
            code="missing-column",
        )
    if d.wide is not None and role in ("period", d.wide.columns) and role not in d.columns:
        what = "period" if role == "period" else f"{role} category"
        return InputError(
            f"no {what} columns (dialect {d.name})",
            file=file,
            row=header.row,
            hint=f"A wide export has one column per {what}; header seen: "
            f"{_quote_list(header.names, 12)}",
            code="missing-column",
        )
    aliases = d.columns.get(role, [])
    also = f" (also accepted: {_quote_list(aliases[1:], 6)})" if aliases[1:] else ""
    return InputError(
        f"missing required column {aliases[0]!r} ({role}) for dialect {d.name}",
        file=file,
        row=header.row,
        hint=f"Add the column{also}; header seen: {_quote_list(header.names, 12)}",
        code="missing-column",
    )
