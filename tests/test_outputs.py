"""Outputs under hostile conditions (issue 16): a read-only OUT and a full disk are one line
(exit 2) with the previous report intact and no temporary leftovers; a folder swap never leaves
a moment where OUT/NNNNN is missing (renameat2 RENAME_EXCHANGE, two renames where unavailable);
ingest --out through a symbolic link replaces the link's target and keeps the link."""

from __future__ import annotations

import errno
import os
import shutil
import threading
from pathlib import Path

import pytest
from clirun import run_main

from ksz_reports.cli import main
from ksz_reports.core import atomic
from ksz_reports.ingest.dataset import ingest

NIS = "73028"
GOOD = Path(__file__).parent / "data" / "exports" / "ksz_dwh_long_2023-06-30.csv"


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file and folder under ``folder`` (hidden ones too; the lock's text aside)."""
    return {
        str(p.relative_to(folder)): b"" if p.is_dir() or p.name == ".lock" else p.read_bytes()
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture(scope="module")
def rendered(limburg_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """OUT with the report of 73028 (html, xlsx) and its publication."""
    out = tmp_path_factory.mktemp("rendered") / "out"
    try:
        main(
            ["report", NIS, "--data", str(limburg_data), "--out", str(out), "--format", "html,xlsx"]
        )
    except SystemExit as exc:
        assert not exc.code
    return out


def _report(data: Path, out: Path, capsys) -> tuple[int, str, str]:
    return run_main(
        ["report", NIS, "--data", str(data), "--out", str(out), "--format", "html,xlsx"], capsys
    )


def _copy(rendered: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(rendered, out, symlinks=True)
    return out


def _raise(code: int):
    def fail(*_a, **_k):
        raise OSError(code, os.strerror(code))

    return fail


FULL = "cannot write into this folder: No space left on device. Free space on the disk and run again (the previous output is kept).\n"
READ_ONLY = "cannot write into this folder: Read-only file system. Give a folder you may write to (the previous output is kept).\n"


def test_a_full_disk_while_writing_a_file(rendered, limburg_data, tmp_path, capsys, monkeypatch):
    out = _copy(rendered, tmp_path)
    before = _snapshot(out)
    real = Path.write_bytes

    def full(self: Path, data: bytes) -> int:
        if out in self.parents:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    assert _report(limburg_data, out, capsys) == (2, "", f"Error: {out}: {FULL}")
    assert _snapshot(out) == before  # previous report intact, no temporary folder left


@pytest.mark.parametrize("exchange", [True, False])
def test_a_full_disk_at_the_swap(rendered, limburg_data, tmp_path, capsys, monkeypatch, exchange):
    """The last step fails: with RENAME_EXCHANGE, and with the two renames (the second fails:
    the previous folder is put back)."""
    out = _copy(rendered, tmp_path)
    before = _snapshot(out)
    if exchange:
        monkeypatch.setattr(atomic, "exchange", _raise(errno.ENOSPC))
    else:
        monkeypatch.setattr(atomic, "RENAMEAT2", None)
        real = os.replace
        calls = []

        def second_fails(src, dst):
            calls.append(dst)
            if len(calls) == 2 and Path(dst).name == NIS:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(src, dst)

        monkeypatch.setattr(atomic.os, "replace", second_fails)
    assert _report(limburg_data, out, capsys) == (2, "", f"Error: {out}: {FULL}")
    assert _snapshot(out) == before


def test_a_read_only_out(rendered, limburg_data, tmp_path, capsys, monkeypatch):
    """Simulated (EROFS at the first write of the new report folder): the tests may run as root,
    who writes into a folder without write permission."""
    out = _copy(rendered, tmp_path)
    before = _snapshot(out)
    monkeypatch.setattr(atomic.tempfile, "mkdtemp", _raise(errno.EROFS))
    assert _report(limburg_data, out, capsys) == (2, "", f"Error: {out}: {READ_ONLY}")
    assert _snapshot(out) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_really_read_only_out(rendered, limburg_data, tmp_path, capsys):
    out = _copy(rendered, tmp_path)
    before = _snapshot(out)
    for folder in [out, *(p for p in out.rglob("*") if p.is_dir())]:
        folder.chmod(0o555)
    try:
        code, stdout, err = _report(limburg_data, out, capsys)
    finally:
        for folder in [out, *(p for p in out.rglob("*") if p.is_dir())]:
            folder.chmod(0o755)
    assert (code, stdout) == (2, "")
    assert err.startswith(f"Error: {out}") and "Permission denied" in err and err.count("\n") == 1
    assert _snapshot(out) == before


def _poll(folder: Path, stop: threading.Event, missing: list) -> None:
    while not stop.is_set():
        if not os.path.isdir(folder):
            missing.append(1)


def test_the_swap_never_leaves_the_folder_missing(tmp_path):
    dest = tmp_path / "12345"
    dest.mkdir()
    (dest / "v").write_text("0")
    stop, missing = threading.Event(), []
    reader = threading.Thread(target=_poll, args=(dest, stop, missing))
    reader.start()
    try:
        for i in range(300):
            with atomic.atomic_dir(dest) as tmp:
                (tmp / "v").write_text(str(i))
    finally:
        stop.set()
        reader.join()
    assert atomic.RENAMEAT2 is not None  # Linux with glibc: the exchange is used
    assert missing == []
    assert (dest / "v").read_text() == "299"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["12345"]


def test_a_reader_never_sees_the_report_missing_during_re_renders(
    rendered, limburg_data, tmp_path, capsys
):
    out = _copy(rendered, tmp_path)
    stop, missing = threading.Event(), []
    reader = threading.Thread(target=_poll, args=(out / NIS, stop, missing))
    reader.start()
    try:
        for _ in range(2):
            code, _out, err = run_main(
                ["report", NIS, "--data", str(limburg_data), "--out", str(out), "--format", "html"],
                capsys,
            )
            assert code == 0, err
    finally:
        stop.set()
        reader.join()
    assert missing == []
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp") or ".old-" in p.name]


def test_ingest_out_through_a_symlink(tmp_path):
    target = tmp_path / "store" / "data"
    link = tmp_path / "data"
    ingest([GOOD], target)
    link.symlink_to(target)
    first = (target / "ingest.json").read_bytes()
    ingest([GOOD], link)
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert (target / "ingest.json").read_bytes() != first or (target / "canonical.parquet").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "store"]
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == ["data"]  # no .data.old-PID


def test_tables_xlsx_is_byte_identical_between_renders(rendered, limburg_data, tmp_path, capsys):
    out = _copy(rendered, tmp_path)
    first = (out / NIS / "tables.xlsx").read_bytes()
    assert _report(limburg_data, out, capsys)[0] == 0
    assert (out / NIS / "tables.xlsx").read_bytes() == first
