"""The batch: incremental, parallel, safe to kill, one failure does not stop the others.

Fast: the report module is replaced by ``tests/fake_builder.py`` (dependency injection), whose
behaviour is set by ``KSZ_FAKE_*`` environment variables so spawned workers see it too. The
real renderer is exercised by the ``slow`` end-to-end test at the bottom.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import fake_builder
import pytest

from ksz_reports import __version__
from ksz_reports.batch import (
    MANIFEST,
    BatchResult,
    PublicationRecord,
    load_entries,
    merge_outputs,
    parse_shard,
    render_index,
    resolve_scope,
    run_batch,
    shard_of,
)
from ksz_reports.batch.files import _utcnow
from ksz_reports.batch.workers import _peak_rss_mb
from ksz_reports.core.errors import (
    EXIT_FAILURES,
    EXIT_LOCKED,
    LockedError,
    NotFoundError,
    UsageError,
)
from ksz_reports.core.fingerprints import file_sha256
from ksz_reports.core.lock import BatchLock
from ksz_reports.core.progress import LogProgress

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
FACTORY = "fake_builder:make_builder"
PREPARE = "fake_builder:prepare_publication"
# Eight municipalities of the province of Antwerp (today's geography).
SCOPE = ["11001", "11002", "11004", "11005", "11008", "11009", "11013", "11016"]
FOOTER = fake_builder.FOOTER.encode()


@pytest.fixture(autouse=True)
def _clean_fake_env(monkeypatch):
    for var in list(os.environ):
        if var.startswith("KSZ_FAKE_"):
            monkeypatch.delenv(var)


@pytest.fixture
def data(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "canonical.parquet").write_bytes(b"fake dataset v1")
    (folder / "ingest.json").write_text('{"rows": 1}')
    return folder


def batch(data: Path, out: Path, **kw) -> BatchResult:
    kw.setdefault("scope", SCOPE)
    kw.setdefault("jobs", 1)
    kw.setdefault("progress", "quiet")
    return run_batch(data, out, builder_factory=FACTORY, prepare=PREPARE, **kw)


def manifest(out: Path) -> dict[str, dict]:
    doc = json.loads((out / MANIFEST).read_text())
    return {e["nis"]: e for e in doc["reports"]}


def report_paths(out: Path) -> list[Path]:
    """The report files under ``out`` (temp files of writers in progress excluded)."""
    return sorted(p for p in out.glob("[0-9]*/*") if not p.name.startswith("."))


def report_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in report_paths(out)}


def mtimes(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in report_paths(out)}


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KSZ_FAKE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), str(ROOT), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


BATCH_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from ksz_reports.batch.run import run_batch
    kw = json.loads(sys.argv[3])
    result = run_batch(sys.argv[1], sys.argv[2], builder_factory="fake_builder:make_builder",
                       prepare="fake_builder:prepare_publication", progress="log", **kw)
    sys.exit(result.exit_code)
    """
)


def start_batch(data: Path, out: Path, env: dict[str, str], **kw) -> subprocess.Popen:
    """A batch in its own process group (so ``killpg`` reaches its workers too)."""
    kw.setdefault("scope", SCOPE)
    return subprocess.Popen(
        [sys.executable, "-c", BATCH_SCRIPT, str(data), str(out), json.dumps(kw)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for(predicate, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def ok_count(out: Path, since: str = "") -> int:
    path = out / MANIFEST
    if not path.exists():
        parts = list(out.glob("manifest.shard-*.json"))
        if not parts:
            return 0
        path = parts[0]
    doc = json.loads(path.read_text())
    return sum(
        1 for e in doc["reports"] if e["status"] == "ok" and (e.get("rendered") or "") > since
    )


# ------------------------------------------------------------------------------------------
# rendering, manifest, incremental


def test_renders_every_report_in_recycled_workers(data, tmp_path):
    out = tmp_path / "out"
    result = batch(data, out, jobs=2, recycle_after=2, scope=SCOPE[:6])
    assert result.exit_code == 0, result.failures
    assert sorted(result.rendered) == SCOPE[:6]
    entries = manifest(out)
    for nis in SCOPE[:6]:
        e = entries[nis]
        assert e["status"] == "ok" and e["error"] is None
        assert {f["name"] for f in e["files"]} == {"report.html", "report.pdf", "cells.csv"}
        for f in e["files"]:
            content = (out / nis / f["name"]).read_bytes()
            assert content.endswith(FOOTER + b"\n")
            assert file_sha256(out / nis / f["name"]) == f["sha256"]
            assert len(content) == f["bytes"]
        assert e["inputs"]["publication"] == result.publication["hash"]
        assert e["report_hash"] and e["config"] and e["version"] and e["duration"] >= 0
    # Workers are recycled every 2 reports: 6 reports on 2 slots need at least 3 processes.
    pids = {o.worker_pid for o in result.outcomes}
    assert len(pids) >= 3 and os.getpid() not in pids
    assert max(o.worker_tasks for o in result.outcomes) <= 2
    assert (out / "index.html").exists()
    assert not (out / ".lock").exists()


def test_unchanged_rerun_renders_nothing(data, tmp_path):
    out = tmp_path / "out"
    first = batch(data, out)
    assert first.exit_code == 0
    before, entries_before = mtimes(out), manifest(out)
    again = batch(data, out)
    assert again.exit_code == 0
    assert again.rendered == [] and sorted(again.skipped) == SCOPE
    assert mtimes(out) == before
    after = manifest(out)
    for nis in SCOPE:
        assert after[nis]["status"] == "skipped"
        assert after[nis]["rendered"] == entries_before[nis]["rendered"]
        assert after[nis]["files"] == entries_before[nis]["files"]
    assert again.publication["reused"] is True


def test_one_changed_input_rerenders_only_that_report(data, tmp_path, monkeypatch):
    out = tmp_path / "out"
    batch(data, out)
    before, entries_before = mtimes(out), manifest(out)
    monkeypatch.setenv("KSZ_FAKE_SALT_NIS", "11005=changed")
    result = batch(data, out)
    assert result.rendered == ["11005"]
    assert len(result.skipped) == len(SCOPE) - 1
    after, entries_after = mtimes(out), manifest(out)
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {"11005/report.html", "11005/report.pdf", "11005/cells.csv"}
    assert entries_after["11005"]["rendered"] > entries_before["11005"]["rendered"]
    assert entries_after["11005"]["report_hash"] != entries_before["11005"]["report_hash"]
    for nis in set(SCOPE) - {"11005"}:
        assert entries_after[nis]["rendered"] == entries_before[nis]["rendered"]


def test_damaged_or_missing_files_are_rerendered(data, tmp_path):
    out = tmp_path / "out"
    batch(data, out)
    pdf = out / "11001" / "report.pdf"
    pdf.write_bytes(pdf.read_bytes()[:100])  # truncated behind our back
    (out / "11002" / "cells.csv").unlink()
    html = out / "11004" / "report.html"  # same size, other content
    html.write_bytes(html.read_bytes().replace(b"11004", b"99999"))
    result = batch(data, out)
    assert sorted(result.rendered) == ["11001", "11002", "11004"]
    assert pdf.read_bytes().endswith(FOOTER + b"\n")


def test_force_rerenders_everything(data, tmp_path):
    out = tmp_path / "out"
    batch(data, out)
    result = batch(data, out, force=True)
    assert sorted(result.rendered) == SCOPE and result.skipped == []


def test_new_dataset_means_new_publication_and_new_reports(data, tmp_path, monkeypatch):
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("KSZ_FAKE_CALLS", str(calls))
    out = tmp_path / "out"
    first = batch(data, out)
    batch(data, out)
    assert len(calls.read_text().splitlines()) == 1  # prepared once, then reused
    (data / "canonical.parquet").write_bytes(b"fake dataset v2")
    third = batch(data, out)
    assert len(calls.read_text().splitlines()) == 2
    assert third.publication["hash"] != first.publication["hash"]
    assert sorted(third.rendered) == SCOPE
    # A damaged publication folder is not reused either.
    (out / ".publication" / "publication.parquet").write_text("tampered")
    batch(data, out)
    assert len(calls.read_text().splitlines()) == 3


# ------------------------------------------------------------------------------------------
# failures


def test_one_broken_municipality_does_not_stop_the_others(data, tmp_path, monkeypatch):
    monkeypatch.setenv("KSZ_FAKE_FAIL", "11004")
    out = tmp_path / "out"
    result = batch(data, out, jobs=2)
    assert result.exit_code == EXIT_FAILURES == 1
    assert [f.nis for f in result.failures] == ["11004"]
    assert sorted(result.rendered) == sorted(set(SCOPE) - {"11004"})
    e = manifest(out)["11004"]
    assert e["status"] == "failed"
    assert e["error"] == "ValueError: broken data for 11004"  # one line
    assert "Traceback" in (out / ".errors" / "11004.txt").read_text()
    index = (out / "index.html").read_text()
    assert "broken data for 11004" in index
    assert 'href="11004/' not in index
    # Fixed data: the next run renders only the failed report, and clears its error file.
    monkeypatch.delenv("KSZ_FAKE_FAIL")
    again = batch(data, out)
    assert again.exit_code == 0 and again.rendered == ["11004"]
    assert not (out / ".errors" / "11004.txt").exists()


def test_a_crashing_worker_costs_only_its_own_report(data, tmp_path, monkeypatch):
    monkeypatch.setenv("KSZ_FAKE_CRASH", "11005")
    out = tmp_path / "out"
    result = batch(data, out, jobs=2, scope=SCOPE[:6])
    assert [f.nis for f in result.failures] == ["11005"]
    assert "worker process died" in result.failures[0].error
    assert sorted(result.rendered) == sorted(set(SCOPE[:6]) - {"11005"})


def test_a_hanging_report_is_killed_after_the_timeout(data, tmp_path, monkeypatch):
    monkeypatch.setenv("KSZ_FAKE_HANG", "11002")
    out = tmp_path / "out"
    t0 = time.monotonic()
    result = batch(data, out, jobs=2, scope=SCOPE[:4], report_timeout=2.0)
    assert time.monotonic() - t0 < 30
    assert [f.nis for f in result.failures] == ["11002"]
    assert "timed out" in result.failures[0].error
    assert len(result.rendered) == 3


def test_a_slow_worker_start_does_not_count_against_the_report_timeout(data, tmp_path, monkeypatch):
    # Building and warming up the real renderer takes seconds; a timeout shorter than that must
    # not kill healthy reports (it did: the clock started at submission).
    monkeypatch.setenv("KSZ_FAKE_WARM_SLEEP", "3")
    result = batch(data, tmp_path / "out", jobs=2, scope=SCOPE[:4], report_timeout=1.0)
    assert result.failures == [] and sorted(result.rendered) == SCOPE[:4]


def test_slow_report_hashes_are_spread_over_processes(data, tmp_path, monkeypatch):
    out = tmp_path / "out"
    batch(data, out, scope=SCOPE)
    monkeypatch.setenv("KSZ_FAKE_HASH_SLEEP", "0.15")
    monkeypatch.setattr("ksz_reports.batch.pool.HASH_POOL_AFTER", 0.1)
    stream = io.StringIO()
    result = batch(data, out, scope=SCOPE, jobs=2, progress=LogProgress(stream))
    assert "report hashes in 2 processes" in stream.getvalue()
    assert result.rendered == [] and sorted(result.skipped) == SCOPE  # same hashes as in-process


def test_a_failing_report_hash_fails_only_that_report(data, tmp_path, monkeypatch):
    monkeypatch.setenv("KSZ_FAKE_HASH_FAIL", "11002")
    result = batch(data, tmp_path / "out", scope=SCOPE[:3])
    assert [(f.nis, f.error) for f in result.failures] == [
        ("11002", "report_hash: KeyError: '11002'")
    ]
    assert sorted(result.rendered) == ["11001", "11004"]


# ------------------------------------------------------------------------------------------
# locks and signals


def test_two_batches_at_once_the_second_is_refused_then_sigterm_stops_the_first(data, tmp_path):
    out = tmp_path / "out"
    env = subprocess_env(KSZ_FAKE_SLEEP="0.4")
    from ksz_reports.geo import geography

    scope = geography().members("11000")[:14]
    proc = start_batch(data, out, env, jobs=2, scope=scope)
    try:
        wait_for(lambda: ok_count(out) >= 2, what="the first reports")
        with pytest.raises(LockedError) as err:
            batch(data, out)
        text = str(err.value)
        assert f"pid {proc.pid} " in text and socket.gethostname() in text and "since" in text
        assert err.value.exit_code == EXIT_LOCKED == 3
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "interrupted by SIGTERM" in stderr
    assert not (out / ".lock").exists()
    entries = manifest(out)
    assert entries and all(e["status"] == "ok" for e in entries.values())  # nothing half-done
    assert len(entries) < len(scope)  # it stopped early
    assert (out / "index.html").exists()
    # The next run completes what is missing, and only that.
    result = batch(data, out, jobs=2, scope=scope)
    assert result.exit_code == 0
    assert len(result.rendered) == len(scope) - len(entries)
    assert len(result.skipped) == len(entries)


def test_sigterm_in_process_stops_after_the_current_report(data, tmp_path):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers need the main thread")
    before = signal.getsignal(signal.SIGTERM)

    class TermAfterFirst(LogProgress):
        def rendered(self, *args) -> None:
            super().rendered(*args)
            os.kill(os.getpid(), signal.SIGTERM)  # as if systemd stopped the service now

    out = tmp_path / "out"
    result = batch(data, out, progress=TermAfterFirst(io.StringIO()))
    assert result.interrupted == signal.SIGTERM
    assert result.exit_code == 128 + signal.SIGTERM
    assert result.rendered == [SCOPE[0]] and result.pending == SCOPE[1:]
    assert list(manifest(out)) == [SCOPE[0]]
    assert not (out / ".lock").exists()
    assert signal.getsignal(signal.SIGTERM) == before


def test_kill_9_mid_run_then_rerun_completes_and_matches_a_clean_run(data, tmp_path, monkeypatch):
    clean, out = tmp_path / "clean", tmp_path / "out"
    env_v2 = subprocess_env(KSZ_FAKE_SALT="v2", KSZ_FAKE_SLEEP="0.3")
    # The previous quarter's complete, good output (content "v1").
    monkeypatch.setenv("KSZ_FAKE_SALT", "v1")
    batch(data, out, jobs=1)
    old = report_files(out)
    start = _utcnow()
    proc = start_batch(data, out, env_v2, jobs=2, force=True)
    seen_incomplete: list[str] = []

    def watch() -> None:  # every report file, read at any moment, is complete
        while proc.poll() is None:
            for p in report_paths(out):
                try:
                    content = p.read_bytes()
                except FileNotFoundError:
                    continue
                if not content.endswith(FOOTER + b"\n"):
                    seen_incomplete.append(p.name)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        wait_for(lambda: ok_count(out, start) >= 3, what="three reports of the killed run")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        watcher.join()
    assert proc.returncode == -signal.SIGKILL
    assert seen_incomplete == []
    # Killed mid-run: every file is the complete old or the complete new version.
    for name, content in report_files(out).items():
        assert content.endswith(FOOTER + b"\n"), name
    done_before = ok_count(out, start)
    assert done_before < len(SCOPE)

    monkeypatch.setenv("KSZ_FAKE_SALT", "v2")
    rerun = batch(data, out, jobs=2)
    reference = batch(data, clean, jobs=1)
    assert rerun.exit_code == 0 and reference.exit_code == 0
    assert len(rerun.rendered) == len(SCOPE) - done_before  # only what was missing
    assert report_files(out) == report_files(clean)
    assert report_files(out) != old
    assert not list(out.glob("[0-9]*/.*.tmp"))  # the killed writers' temp files are gone
    got, want = manifest(out), manifest(clean)
    assert {n: (e["files"], e["report_hash"]) for n, e in got.items()} == {
        n: (e["files"], e["report_hash"]) for n, e in want.items()
    }


# ------------------------------------------------------------------------------------------
# shards


def test_shards_split_the_sorted_list_deterministically():
    codes = [f"{n:05d}" for n in range(11001, 11600, 7)]
    parts = [shard_of(codes, (k, 3)) for k in (1, 2, 3)]
    assert sorted(sum(parts, [])) == sorted(codes)
    assert all(set(a).isdisjoint(b) for a in parts for b in parts if a is not b)
    assert shard_of(list(reversed(codes)), (2, 3)) == parts[1]
    assert parse_shard("2/3") == (2, 3) and parse_shard("1/1") is None and parse_shard(None) is None
    for bad in ("0/2", "3/2", "x", (1, 2, 3)):
        with pytest.raises(UsageError):
            parse_shard(bad)


def test_two_shards_at_once_cover_every_report_exactly_once(data, tmp_path):
    out = tmp_path / "out"
    calls = tmp_path / "calls.txt"
    env = subprocess_env(
        KSZ_FAKE_SLEEP="0.05", KSZ_FAKE_PREPARE_SLEEP="0.5", KSZ_FAKE_CALLS=str(calls)
    )
    procs = [start_batch(data, out, env, jobs=1, shard=[k, 2]) for k in (1, 2)]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert len(calls.read_text().splitlines()) == 1  # the publication was prepared once
    parts = sorted(out.glob("manifest.shard-*-of-2.json"))
    assert [p.name for p in parts] == ["manifest.shard-1-of-2.json", "manifest.shard-2-of-2.json"]
    covered = [e["nis"] for p in parts for e in json.loads(p.read_text())["reports"]]
    assert sorted(covered) == SCOPE  # every report once, no overlap
    # Whichever shard finished last merged both into manifest.json and index.html.
    assert sorted(manifest(out)) == SCOPE
    index = (out / "index.html").read_text()
    assert all(f'href="{nis}/report.html"' in index for nis in SCOPE)
    # A final unsharded run finds everything up to date and folds the parts in.
    final = batch(data, out)
    assert final.rendered == [] and sorted(final.skipped) == SCOPE
    assert not list(out.glob("manifest.shard-*.json"))
    assert sorted(manifest(out)) == SCOPE


def test_shard_and_unsharded_runs_exclude_each_other(data, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with BatchLock(out / ".lock.shard-1-of-2", command="shard one"):
        with pytest.raises(LockedError, match="shard one"):
            batch(data, out)
        with pytest.raises(LockedError, match="shard one"):
            batch(data, out, shard="1/3")  # another split would overlap
        assert batch(data, out, shard="2/2").exit_code == 0  # the other shard may run
    with BatchLock(out / ".lock", command="full run"), pytest.raises(LockedError, match="full run"):
        batch(data, out, shard="1/2")


# ------------------------------------------------------------------------------------------
# index, scope, options, output


def test_index_links_every_report_and_escapes_names(data, tmp_path):
    out = tmp_path / "out"
    batch(data, out)
    doc = json.loads((out / MANIFEST).read_text())
    doc["reports"][0]["name"] = "<script>alert(1)</script> & co"
    doc["reports"][1]["files"].append({"name": "../../etc/passwd", "sha256": "x", "bytes": 1})
    (out / MANIFEST).write_text(json.dumps(doc))
    merge_outputs(out)
    index = (out / "index.html").read_text()
    assert "<script>" not in index
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in index
    for nis in SCOPE:
        for name in ("report.html", "report.pdf", "cells.csv"):
            assert f'href="{nis}/{name}"' in index
    assert "passwd" not in index
    assert not re.search(r"(href|src)=\"(https?:)?//", index)  # offline: no external URL
    assert '<td class="n">123</td>' in index  # primary suppressions
    assert '<td class="n">45</td>' in index  # secondary suppressions
    assert "not stable yet" in index  # the cut periods
    assert __version__ in index


def test_render_index_counts_outdated_and_missing():
    pub = PublicationRecord(
        Path("."), "new", ["11001", "11002", "11004"], {"primary": 1, "secondary": 2}, []
    )
    entries = {
        "11001": {
            "nis": "11001",
            "name": "A",
            "status": "ok",
            "inputs": {"publication": "new"},
            "files": [{"name": "report.html"}],
        },
        "11002": {
            "nis": "11002",
            "name": "B",
            "status": "ok",
            "inputs": {"publication": "old"},
            "files": [{"name": "report.html"}],
        },
    }
    html = render_index(entries, publication=pub, lang="en")
    assert 'class="outdated"' in html and "not rendered yet" in html


def test_scope_by_province_region_names_and_errors(data, tmp_path, monkeypatch):
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("KSZ_FAKE_CALLS", str(calls))
    from ksz_reports.geo import geography

    geo = geography()
    codes = list(geo.codes)
    assert resolve_scope(None, codes) == codes
    assert resolve_scope("all", codes) == codes
    assert resolve_scope("10000", codes) == geo.members("10000")  # province Antwerpen
    assert resolve_scope("04000", codes) == geo.members("04000")  # Brussels region
    assert resolve_scope(["Gent", "aartselaar", 11002], codes) == [
        "11001",
        "11002",
        "44021",
    ]
    with pytest.raises(NotFoundError, match="Gent"):
        batch(data, tmp_path / "out", scope=["Gnet"])
    with pytest.raises(UsageError):
        batch(data, tmp_path / "out", scope=["99999"])
    with pytest.raises(UsageError):
        batch(data, tmp_path / "out", scope=[])
    assert not calls.exists()  # a bad scope fails before the publication is prepared


def test_bad_options_are_usage_errors(data, tmp_path):
    for kw in (
        {"formats": "html,docx"},
        {"lang": "de"},
        {"jobs": -1},
        {"shard": "3/2"},
        {"recycle_after": 0},
    ):
        with pytest.raises(UsageError):
            batch(data, tmp_path / "out", **kw)
    with pytest.raises(UsageError, match="importable"):
        run_batch(
            data,
            tmp_path / "out",
            jobs=2,
            builder_factory=lambda p, c: None,
            prepare=PREPARE,
            progress="quiet",
        )
    with pytest.raises(UsageError, match="does not exist"):
        batch(tmp_path / "nope", tmp_path / "out")


def test_xlsx_format_and_language_are_part_of_the_report(data, tmp_path):
    out = tmp_path / "out"
    batch(data, out, formats="html,xlsx", scope=SCOPE[:2])
    assert (out / "11001" / "tables.xlsx").exists()
    again = batch(data, out, formats=("html", "xlsx"), scope=SCOPE[:2], lang="fr")
    assert sorted(again.rendered) == SCOPE[:2]  # another language is another report


def test_log_lines_and_json_summary(data, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KSZ_FAKE_FAIL", "11002")
    stream = io.StringIO()
    result = batch(
        data, tmp_path / "out", scope=SCOPE[:3], progress=LogProgress(stream), json_summary=True
    )
    lines = stream.getvalue().splitlines()
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"
    assert any(
        re.fullmatch(rf"{stamp} rendered 11001 Aartselaar \(\d+\.\d s\) \[\d/3\]", ln)
        for ln in lines
    ), lines
    assert any(
        re.fullmatch(
            rf"{stamp} FAILED 11002 Antwerpen: ValueError: broken data for "
            rf"11002 \[\d/3\]",
            ln,
        )
        for ln in lines
    ), lines
    assert re.fullmatch(
        rf"{stamp} done in .*2 rendered, 1 failed, 0 up to date.*\(exit 1\)", lines[-1]
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary == json.loads(json.dumps(result.to_dict()))
    assert summary["exit_code"] == 1 and summary["failures"][0]["nis"] == "11002"


def test_quiet_prints_only_failures(data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KSZ_FAKE_FAIL", "11002")
    batch(data, tmp_path / "out", scope=SCOPE[:3], progress="auto", quiet=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and "FAILED 11002 Antwerpen" in lines[0]


def test_corrupt_manifest_is_ignored_with_a_warning(data, tmp_path):
    out = tmp_path / "out"
    batch(data, out, scope=SCOPE[:2])
    (out / MANIFEST).write_text("{ not json")
    warnings: list[str] = []
    assert load_entries(out, warnings.append) == {}
    assert warnings and "manifest.json" in warnings[0]
    result = batch(data, out, scope=SCOPE[:2])
    assert sorted(result.rendered) == SCOPE[:2]  # re-rendered, manifest whole again
    assert sorted(manifest(out)) == SCOPE[:2]


# ------------------------------------------------------------------------------------------
# end to end, with the real report module


@pytest.mark.slow
def test_end_to_end_kill_and_rerun_with_the_real_renderer(limburg_data, tmp_path):
    import shutil

    pypdf = pytest.importorskip("pypdf")
    data = tmp_path / "data"
    shutil.copytree(limburg_data, data)
    # Hasselt (with Kortessem since 2025), Herstappe (tiny), Pelt (merged in 2019)
    scope = ["71072", "73028", "72043"]
    out, clean = tmp_path / "out", tmp_path / "clean"
    # The publication is prepared once (the slow part) and shared with the clean run.
    first = run_batch(data, out, scope=scope[:1], jobs=1, progress="quiet")
    assert first.exit_code == 0, first.failures
    clean.mkdir()
    shutil.copytree(out / ".publication", clean / ".publication")
    shutil.copy2(out / ".publication.json", clean / ".publication.json")

    script = textwrap.dedent(
        """
        import sys
        from ksz_reports.batch.run import run_batch
        sys.exit(run_batch(sys.argv[1], sys.argv[2], scope=sys.argv[3].split(","), jobs=2,
                           force=True, progress="log").exit_code)
        """
    )
    start = _utcnow()
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(data), str(out), ",".join(scope)],
        env=subprocess_env(),
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: ok_count(out, start) >= 1, timeout=600, what="a real report")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    for p in report_paths(out):  # killed mid-run: every file is whole
        if p.suffix == ".pdf":
            assert len(pypdf.PdfReader(p).pages) >= 1
        elif p.suffix == ".html":
            assert p.read_text(encoding="utf-8").rstrip().endswith("</html>")

    rerun = run_batch(data, out, scope=scope, jobs=2, progress="quiet")
    reference = run_batch(data, clean, scope=scope, jobs=2, progress="quiet")
    assert rerun.exit_code == 0 and reference.exit_code == 0, (rerun.failures, reference.failures)
    assert rerun.publication["reused"] and reference.publication["reused"]
    for nis in scope:
        assert len(pypdf.PdfReader(out / nis / "report.pdf").pages) >= 1
        assert (out / nis / "cells.csv").read_bytes() == (clean / nis / "cells.csv").read_bytes()
    got, want = manifest(out), manifest(clean)
    assert {n: e["report_hash"] for n, e in got.items()} == {
        n: e["report_hash"] for n, e in want.items()
    }
    unchanged = run_batch(data, out, scope=scope, jobs=2, progress="quiet")
    assert unchanged.rendered == [] and sorted(unchanged.skipped) == sorted(scope)


def test_cli_batch_exits_3_while_another_batch_holds_the_lock(data, tmp_path):
    from ksz_reports.cli import cli

    if "batch" not in cli.commands:
        pytest.skip("the batch command is not wired into the CLI yet")
    out = tmp_path / "out"
    out.mkdir()
    with BatchLock(out / ".lock", command="the first batch"):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "ksz_reports.cli",
                "batch",
                "--data",
                str(data),
                "--out",
                str(out),
                "--all",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=subprocess_env(),
            timeout=120,
        )
    assert proc.returncode == EXIT_LOCKED, proc.stderr
    assert proc.stderr.startswith("Error: ") and f"pid {os.getpid()} " in proc.stderr
    assert "the first batch" in proc.stderr


def test_a_relative_output_folder_works_in_workers(data, tmp_path, monkeypatch):
    # regression: a relative OUT was joined twice (OUT/OUT/NNNNN) once the builder returned paths
    monkeypatch.chdir(tmp_path)
    result = batch(data, Path("relout"), scope=SCOPE[:2], jobs=2)
    assert result.exit_code == 0, result.failures
    assert sorted(manifest(tmp_path / "relout")) == sorted(SCOPE[:2])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux /proc")
def test_worker_peak_memory_is_its_own_not_its_parents():
    """A spawned worker reports its own peak, not the (larger) peak of the process that started
    it: the benchmark's "RSS after 50 and after 500 reports" depends on it."""
    import multiprocessing

    ballast = b"x" * (150 * 2**20)  # written, so resident in this process
    parent = _peak_rss_mb()
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        worker = pool.apply(_peak_rss_mb)
    assert len(ballast) and parent > 150
    assert worker < parent - 100
