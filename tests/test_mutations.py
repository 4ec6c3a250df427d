"""Property-based (issue 16): random mutations of a small valid export of each CSV dialect —
byte flips, truncation, line-end changes — are either read (a change of line ends: to the same
cells) or refused with one line (a typed error, exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ksz_reports.core.config import load_config
from ksz_reports.core.errors import EXIT_BAD_INPUT, KszError
from ksz_reports.ingest.reader import read_export

EXPORTS = Path(__file__).parent / "data" / "exports"
FILES = [
    "ksz_dwh_long_2023-06-30.csv",
    "ksz_dwh_wide_2023-06-30.csv",
    "podmi_monthly_2023-03-31.csv",
]
CONFIG = load_config()
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _cells(path: Path) -> list[tuple]:
    table = read_export(path, config=CONFIG).drop_columns(["source"])
    return sorted(tuple(str(v) for v in row.values()) for row in table.to_pylist())


def _outcome(path: Path) -> list[tuple] | None:
    """The cells, or None when refused in one line with exit 2; anything else fails the test."""
    try:
        return _cells(path)
    except KszError as exc:
        assert exc.exit_code == EXIT_BAD_INPUT, exc
        text = str(exc)
        assert text and "\n" not in text and "\r" not in text and "Traceback" not in text, text
        return None


def _mutate(data: bytes, flips: list[tuple[int, int]], cut: int | None) -> bytes:
    out = bytearray(data)
    for pos, byte in flips:
        out[pos % len(out)] = byte
    return bytes(out[: cut % (len(out) + 1)] if cut is not None else out)


@pytest.mark.parametrize("name", FILES)
def test_byte_flips_and_truncation(name: str, tmp_path: Path) -> None:
    data = (EXPORTS / name).read_bytes()
    path = tmp_path / name

    @SETTINGS
    @given(
        flips=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=3),
        cut=st.none() | st.integers(0, 1 << 16),
    )
    def check(flips: list[tuple[int, int]], cut: int | None) -> None:
        path.write_bytes(_mutate(data, flips, cut))
        _outcome(path)

    check()


@pytest.mark.parametrize("name", FILES)
def test_line_end_changes(name: str, tmp_path: Path) -> None:
    data = (EXPORTS / name).read_bytes()
    whole = _cells(EXPORTS / name)
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    path = tmp_path / name

    @SETTINGS
    @given(
        ends=st.lists(
            st.sampled_from([b"\n", b"\r\n", b"\r"]), min_size=len(lines), max_size=len(lines)
        )
    )
    def check(ends: list[bytes]) -> None:
        body = b"".join(line + end for line, end in zip(lines[:-1], ends, strict=False))
        path.write_bytes(body + lines[-1])
        got = _outcome(path)
        if b"\r" not in ends[: len(lines) - 1]:
            assert got == whole  # LF and CR LF, even mixed: the same cells
        else:
            assert got in (None, whole)  # a CR-only line end: refused, or read the same

    check()


def test_a_refused_mutation_is_one_error_line_and_exit_2_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ksz_reports.cli import main

    data = (EXPORTS / FILES[0]).read_bytes()
    for i, mutated in enumerate([data[:-3], data.replace(b";", b"\x00", 1), data[:150]]):
        path = tmp_path / f"m{i}" / FILES[0]
        path.parent.mkdir()
        path.write_bytes(mutated)
        try:
            main(["ingest", str(path), "--out", str(tmp_path / f"m{i}" / "data")])
            code = 0
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        assert (code, out) == (2, ""), err
        assert err.startswith(f"Error: {path}") and err.count("\n") == 1, err
        assert sorted(p.name for p in path.parent.iterdir()) == [FILES[0]]  # nothing written
