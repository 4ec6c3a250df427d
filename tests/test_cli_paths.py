"""Paths on the command line (issue 16): a missing path, a folder for a file (and the reverse),
an unreadable path, a symbolic link loop, a dangling link and a FIFO get one ``Error:`` line
naming the path, exit 2 — for every command that takes a path; nothing is written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clirun import run_main

from ksz_reports.core import paths

GOOD = Path(__file__).parent / "data" / "exports" / "ksz_dwh_long_2023-06-30.csv"


@pytest.fixture
def places(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "folder"
    folder.mkdir()
    file = tmp_path / "file.csv"
    file.write_bytes(GOOD.read_bytes())
    loop = tmp_path / "loop"
    os.symlink(loop.name, loop)  # a link to itself
    dangling = tmp_path / "dangling"
    os.symlink("nowhere", dangling)
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    return {
        "missing": tmp_path / "missing.csv",
        "folder": folder,
        "file": file,
        "loop": loop,
        "dangling": dangling,
        "fifo": fifo,
    }


#: what each kind of bad path must say (after "Error: <path>: ")
SAYS = {
    "missing": "does not exist. Give an existing ",
    "folder": "a folder, not a file. Give the path of a file.",
    "file": "a file, not a folder. Give the path of a folder.",
    "loop": "a symbolic link loop (too many levels of symbolic links). Point the link at the ",
    "dangling": "a symbolic link to 'nowhere', which does not exist. Point the link at an existing ",
    "fifo_file": "a named pipe (FIFO), not a regular file. ",
    "fifo_folder": "a named pipe (FIFO), not a folder. Give the path of a folder.",
}

#: command → (arguments with {} where the path goes, kind: input file / input folder / output
#: folder / output file)
COMMANDS = {
    "validate": (["validate", "{}"], "in_file"),
    "ingest": (["ingest", "{}", "--out", "{tmp}/data"], "in_file"),
    "ingest --out": (["ingest", str(GOOD), "--out", "{}"], "out_folder"),
    "population import": (["population", "import", "{}"], "in_file"),
    "income import": (["income", "import", "{}"], "in_file"),
    "compare --data": (["compare", "--data", "{}", "--indicator", "pension"], "in_folder"),
    "report --data": (["report", "44021", "--data", "{}", "--out", "{tmp}/o"], "in_folder"),
    "batch --data": (["batch", "--data", "{}", "--out", "{tmp}/o"], "in_folder"),
    "audit": (["audit", "{}"], "in_folder"),
    "sample --out": (["sample", "--out", "{}"], "out_folder"),
    "--config": (["--config", "{}", "validate", str(GOOD)], "out_folder"),
}

BAD = {
    "in_file": ["missing", "folder", "loop", "dangling", "fifo"],
    "in_folder": ["missing", "file", "loop", "dangling", "fifo"],
    "out_folder": ["file", "loop", "dangling", "fifo"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_bad_paths_are_one_line(
    command: str, places: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args, kind = COMMANDS[command]
    for bad in BAD[kind]:
        path = places[bad]
        argv = [a.replace("{}", str(path)).replace("{tmp}", str(tmp_path)) for a in args]
        before = sorted(p.name for p in tmp_path.iterdir())
        code, out, err = run_main(argv, capsys)
        key = bad if bad != "fifo" else ("fifo_file" if kind == "in_file" else "fifo_folder")
        assert (code, out) == (2, ""), (command, bad, err)
        assert err.startswith(f"Error: {path}: {SAYS[key]}"), (command, bad, err)
        assert err.count("\n") == 1, err
        assert "Usage:" not in err
        if bad in ("loop", "fifo"):
            assert "does not exist" not in err and "No such file" not in err
        assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_compare_out_must_be_a_file(places, tmp_path, capsys) -> None:
    for bad, says in (("folder", SAYS["folder"]), ("loop", SAYS["loop"])):
        argv = ["compare", "--data", str(tmp_path), "--indicator", "pension"]
        code, _out, err = run_main([*argv, "--out", str(places[bad])], capsys)
        assert code == 2 and err.startswith(f"Error: {places[bad]}: {says}"), err


def test_unreadable_paths(places, tmp_path, capsys, monkeypatch) -> None:
    """An export that cannot be opened, a folder that cannot be listed (simulated: the tests may
    run as root, who reads everything)."""

    def denied(*_a, **_k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(paths, "open", denied, raising=False)
    code, _out, err = run_main(["validate", str(places["file"])], capsys)
    assert (code, err) == (
        2,
        f"Error: {places['file']}: cannot be read (Permission denied). Check the permissions.\n",
    )
    monkeypatch.undo()
    monkeypatch.setattr(paths.os, "scandir", denied)
    code, _out, err = run_main(["audit", str(places["folder"])], capsys)
    assert (code, err) == (
        2,
        f"Error: {places['folder']}: cannot be read (Permission denied). Check the permissions.\n",
    )


def test_a_name_is_escaped(tmp_path, capsys) -> None:
    odd = tmp_path / "new\nline\x1b[31m.csv"
    code, _out, err = run_main(["validate", str(odd)], capsys)
    assert code == 2
    assert (
        err
        == f"Error: {tmp_path}/new\\nline\\x1b[31m.csv: does not exist. Give an existing file.\n"
    )


def test_the_library_says_what_a_path_is(places) -> None:
    """read_export / validate (not only the CLI): a FIFO, a loop, a folder said as such."""
    from ksz_reports.core.errors import InputError
    from ksz_reports.ingest.reader import read_export
    from ksz_reports.ingest.validate import validate

    for bad, key in (("fifo", "fifo_file"), ("loop", "loop"), ("folder", "folder")):
        with pytest.raises(InputError) as info:
            read_export(places[bad])
        assert str(info.value).startswith(f"{places[bad]}: {SAYS[key]}")
        assert [p["text"] for p in validate([places[bad]]).problems] == [str(info.value)]
