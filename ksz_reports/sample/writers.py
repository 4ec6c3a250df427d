"""Vectorised CSV assembly: the sample files are built as bytes in the dialect's encoding.

A dialect's CSV conventions (:class:`_Csv`), pre-rendered fields taken from a dictionary by index
(:func:`_column`, :func:`_value_column`), rows joined element-wise with Arrow kernels and written
in one go (:func:`_write_rows`), and the thousands separator of a number format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class _Csv:
    """How a dialect writes a CSV file."""

    sep: str
    eol: str
    encoding: str
    quote_all: bool
    bom: bool = False

    def field(self, text: str) -> bytes:
        """One field, quoted when the dialect says so or when it has to be."""
        if self.quote_all or self.sep in text or '"' in text or "\n" in text or "\r" in text:
            text = '"' + text.replace('"', '""') + '"'
        return text.encode(self.encoding)

    def fields(self, texts: Sequence[str]) -> bytes:
        """Several fields joined by the separator (one pre-rendered part of a row)."""
        return self.sep.encode(self.encoding).join(self.field(t) for t in texts)

    def header(self, names: Sequence[str]) -> bytes:
        start = "\ufeff".encode() if self.bom else b""
        return start + self.fields(names) + self.eol.encode(self.encoding)


LONG_CSV = _Csv(sep=";", eol="\r\n", encoding="cp1252", quote_all=False)
WIDE_CSV = _Csv(sep=",", eol="\n", encoding="utf-8", quote_all=True, bom=True)
PODMI_CSV = _Csv(sep=";", eol="\n", encoding="utf-8", quote_all=False)


def _column(dictionary: Sequence[bytes], idx: np.ndarray) -> pa.Array:
    """A binary column: ``dictionary[idx]`` (pre-rendered fields)."""
    return pc.take(pa.array(list(dictionary), pa.binary()), pa.array(np.asarray(idx, np.int32)))


def _value_column(
    values: np.ndarray, fmt: Callable[[int], str], masked: str, csv: _Csv
) -> pa.Array:
    """Counts rendered with ``fmt``; ``-1`` is a masked-at-source cell rendered as ``masked``."""
    uniq, inv = np.unique(values, return_inverse=True)
    texts = [csv.field(masked if v < 0 else fmt(int(v))) for v in uniq]
    return _column(texts, inv.reshape(-1))


def _write_rows(fh: BinaryIO, parts: Sequence[pa.Array | bytes], csv: _Csv) -> None:
    """Join the parts of each row with the separator, end it, and write the bytes."""
    binary = pa.binary()
    items = [pa.scalar(p, binary) if isinstance(p, bytes) else p for p in parts]
    sep = pa.scalar(csv.sep.encode(csv.encoding), binary)
    rows = pc.binary_join_element_wise(*items, sep)
    rows = pc.binary_join_element_wise(
        rows, pa.scalar(csv.eol.encode(csv.encoding), binary), pa.scalar(b"", binary)
    )
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    if len(rows) == 0:
        return
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[
        rows.offset : rows.offset + len(rows) + 1
    ]
    fh.write(memoryview(rows.buffers()[2])[int(offsets[0]) : int(offsets[-1])])


def _thousands(sep: str) -> Callable[[int], str]:
    return lambda v: f"{v:,}".replace(",", sep)
