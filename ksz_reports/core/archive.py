"""Bounds on what an .xlsx workbook (a ZIP archive) may cost, checked before a member is read.

A decompression bomb (a sheet of gigabytes of spaces packed into kilobytes) is refused from the
archive's central directory alone: the declared uncompressed sizes (Python's :mod:`zipfile`
never unpacks more than a member declares, so a lying header cannot get past the bound) and the
ratio of each member's uncompressed to compressed size. The limits are ``ingest.xlsx_max_bytes``
and ``ingest.xlsx_max_ratio`` of config/settings.yaml (docs/dialects.md, Common rules).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ksz_reports.core.errors import InputError

#: The ratio bound applies to members that unpack to more than this (a small member may be
#: made of one repeated byte and is harmless).
RATIO_FLOOR = 1 << 20
#: Defaults when no configuration is given (the shipped config/settings.yaml says the same).
DEFAULT_MAX_BYTES = 256 << 20
DEFAULT_MAX_RATIO = 100.0


def check_members(
    zf: zipfile.ZipFile,
    file: str | Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_ratio: float = DEFAULT_MAX_RATIO,
) -> None:
    """Raise :class:`InputError` when the archive would unpack to more than ``max_bytes`` in
    all, or one member over :data:`RATIO_FLOOR` to more than ``max_ratio`` times its packed
    size. Reads only the central directory."""
    infos = zf.infolist()
    hint = (
        "Not read: a workbook's sheets compress about 5 to 20 times. Export the workbook again, "
        "or raise {key} in config/settings.yaml"
    )
    for info in infos:
        if info.file_size > RATIO_FLOOR:
            ratio = info.file_size / max(1, info.compress_size)
            if ratio > max_ratio:
                raise InputError(
                    f"member {info.filename!r} of the workbook unpacks to {info.file_size:,} "
                    f"bytes, {ratio:,.0f} times its packed size (at most {max_ratio:g} times: a "
                    "decompression bomb?)",
                    file=str(file),
                    hint=hint.format(key="ingest.xlsx_max_ratio"),
                    code="too-large",
                )
    total = sum(info.file_size for info in infos)
    if total > max_bytes:
        big = max(infos, key=lambda i: i.file_size)
        raise InputError(
            f"the workbook unpacks to {total:,} bytes (member {big.filename!r}: "
            f"{big.file_size:,}), more than the {max_bytes:,} allowed",
            file=str(file),
            hint=hint.format(key="ingest.xlsx_max_bytes"),
            code="too-large",
        )
