"""CSV chunking (issue 16): a valid CSV is read to the same cells wherever the reader's chunks
(:data:`ksz_reports.ingest.sources.CHUNK_BYTES`, 16 MiB) fall, a quoted line break just before
a boundary included: every boundary position of a small file of each CSV dialect is tried."""

from __future__ import annotations

from pathlib import Path

import pytest

from ksz_reports.core.config import load_config
from ksz_reports.core.errors import InputError
from ksz_reports.ingest import sources
from ksz_reports.ingest.detect import _detect_with
from ksz_reports.ingest.dialects import dialects_for
from ksz_reports.ingest.reader import read_export

EXPORTS = Path(__file__).parent / "data" / "exports"

#: sample → (a name as it is, the same name with quoted line breaks and a doubled quote)
VARIANTS = {
    "ksz_dwh_long_2023-06-30.csv": (b"Aartselaar", b'"Aart\r\nse""laar\r\n"'),
    "ksz_dwh_wide_2023-06-30.csv": (b'"Anvers"', b'"An\nve""rs\n"'),
    "podmi_monthly_2023-03-31.csv": (b";Gent;", b';"Ge\nnt""\n";'),
}


def _cells(table) -> list[tuple]:
    return sorted(
        tuple(str(v) for v in row.values()) for row in table.drop_columns(["source"]).to_pylist()
    )


@pytest.fixture(scope="module")
def config():
    return load_config()


def _fields(path: Path, config) -> list[tuple]:
    """Every parsed field of the file with the row it is numbered by (the chunked layer)."""
    _d, src, _layout, probe = _detect_with(path, dialects_for(config), config)
    try:
        width = len(src.header.names)
        out = []
        for raw in src.batches(list(range(width))):
            cols = [raw.columns[i].to_pylist() for i in range(width)]
            out += [(raw.row(k), *(c[k] for c in cols)) for k in range(raw.n)]
        return out
    finally:
        probe.close()


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_same_cells_wherever_the_chunks_fall(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config
) -> None:
    plain, quoted = VARIANTS[name]
    data = (EXPORTS / name).read_bytes()
    assert data.count(plain) >= 1
    path = tmp_path / name
    path.write_bytes(data.replace(plain, quoted, 1))
    whole = _cells(read_export(path, config=config))
    fields = _fields(path, config)
    assert len(whole) > 3
    assert any(b"\n" in f for row in fields for f in row[1:])
    header_end = data.index(b"\n") + 1
    for size in range(1, len(data) - header_end + 2):  # a boundary at every position
        monkeypatch.setattr(sources, "CHUNK_BYTES", size)
        assert _fields(path, config) == fields, size
        if size % 97 == 1:  # and now and then the whole reader
            assert _cells(read_export(path, config=config)) == whole, size


def test_errors_are_located_the_same_wherever_the_chunks_fall(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config
) -> None:
    """A bad count after a record with a quoted line break: the same row (the line the bad
    record begins on) for every chunk size; an unclosed quote is refused the same way too."""
    name = "ksz_dwh_long_2023-06-30.csv"
    plain, quoted = VARIANTS[name]
    data = (EXPORTS / name).read_bytes().replace(plain, quoted, 1)
    lines = data.split(b"\r\n")
    lines[4] = lines[4].rsplit(b";", 1)[0] + b";abc"
    bad = tmp_path / name
    bad.write_bytes(b"\r\n".join(lines))
    with pytest.raises(InputError) as whole:
        read_export(bad, config=config)
    assert ", row 5, column 'Aantal': not a count: 'abc'" in str(whole.value)
    for size in range(1, len(data), 37):
        monkeypatch.setattr(sources, "CHUNK_BYTES", size)
        with pytest.raises(InputError) as info:
            read_export(bad, config=config)
        assert str(info.value) == str(whole.value), size
