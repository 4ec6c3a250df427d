"""The queue of calls shared out among this process and helper processes
(:mod:`ksz_reports.disclosure.helpers`): each call run by exactly one process, results in the
order submitted, errors raised here, no helper outliving its queue or its caller."""

from __future__ import annotations

import io
import os
import signal
import sys
import time

import pytest

from ksz_reports.disclosure import helpers as H


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _slow_in_a_helper() -> int:
    """This process's id; in a helper, a minute later."""
    if sys.argv[0].endswith("helpers.py"):
        time.sleep(60)
    return os.getpid()


def _calls(folder, calls):
    """``calls`` (function, args) as the calls 1… of ``folder``, as :class:`Jobs` writes them."""
    for k, call in enumerate(calls, start=1):
        H._write(folder / f"{k}.in", call)


def test_a_helper_takes_every_announced_call_nobody_has_taken(tmp_path, monkeypatch):
    _calls(tmp_path, [(int, ("4",)), (int, ("5",)), (int, ("x",))])
    assert H._claim(tmp_path, 2) and not H._claim(tmp_path, 2)  # taken by someone else
    monkeypatch.setattr(H.sys, "stdin", io.StringIO(f"{tmp_path}\n1\n2\n3\n"))
    H._helper([])
    assert H._outcome(tmp_path / "1.out", int, ("0",)) == 4
    assert not (tmp_path / "2.out").exists()
    with pytest.raises(ValueError, match="invalid literal"):  # its error, raised here
        H._outcome(tmp_path / "3.out", int, ("0",))
    monkeypatch.setattr(H.sys, "stdin", io.StringIO(""))
    H._helper([])  # sent nothing (the caller ended): leaves


def test_without_helpers_every_call_runs_here_in_order_and_nothing_is_pickled():
    ran = []
    with H.Jobs(H.Helpers(0)) as jobs:
        for k in range(3):
            jobs.submit(ran.append, k)  # not picklable by reference: never pickled
        assert ran == [] and not any(jobs.folder.iterdir())
        assert jobs.results() == [None, None, None]
    assert ran == [0, 1, 2]


def test_a_helper_runs_calls_while_they_are_submitted_and_results_keep_their_order():
    with H.Jobs(H.Helpers(1)) as jobs:
        jobs.submit(_pid_after, 0.0)
        deadline = time.monotonic() + 60
        while not (jobs.folder / "0.out").exists():  # the helper took it before the next came
            assert time.monotonic() < deadline
            time.sleep(0.01)
        for _ in range(3):
            jobs.submit(_pid_after, 0.0)
        pids = jobs.results()
    assert len(pids) == 4 and pids[0] != os.getpid()
    assert set(pids) <= {pids[0], os.getpid()}


def test_the_first_error_in_order_is_raised_and_no_helper_outlives_the_queue():
    helpers = H.Helpers(1)
    (process,) = helpers.processes
    with pytest.raises(ValueError, match="invalid literal"), H.Jobs(helpers) as jobs:
        jobs.submit(int, "1")
        jobs.submit(int, "y")
        jobs.submit(_slow_in_a_helper)  # asleep in the helper, or quick here
        jobs.results()
    assert process.poll() is not None


def test_a_helper_that_dies_or_cannot_start_leaves_its_calls_to_this_process(tmp_path, monkeypatch):
    assert H._outcome(tmp_path / "lost.out", os.getpid, ()) == os.getpid()  # no outcome
    helpers = H.Helpers(1)
    (process,) = helpers.processes
    process.kill()
    process.wait()
    with H.Jobs(helpers) as jobs:
        for _ in range(2):
            jobs.submit(os.getpid)
        assert jobs.results() == [os.getpid()] * 2
    helpers = H.Helpers(1)
    (process,) = helpers.processes
    with H.Jobs(helpers) as jobs:  # sent to the queue, then dead: left out at the next call
        process.kill()
        process.wait()
        for _ in range(2):
            jobs.submit(os.getpid)
        assert jobs._serving == []
        assert jobs.results() == [os.getpid()] * 2
    monkeypatch.setattr(H.sys, "executable", str(tmp_path / "no-python"))
    assert H.Helpers(1).processes == []


def test_a_queue_this_process_emptied_does_not_wait_for_its_helpers():
    """When this process has taken every call (the helper still importing, here stopped), the
    helper has nothing left to do: it is ended, not waited for."""
    helpers = H.Helpers(1)
    (process,) = helpers.processes
    os.kill(process.pid, signal.SIGSTOP)
    with H.Jobs(helpers) as jobs:
        for _ in range(2):
            jobs.submit(os.getpid)
        assert jobs.results() == [os.getpid()] * 2
    assert process.returncode == -signal.SIGKILL


def test_a_call_a_helper_is_killed_in_is_run_here(tmp_path):
    """A helper that dies in the middle of a call (out of memory, killed) leaves no outcome:
    this process runs the call itself."""
    helpers = H.Helpers(1)
    (process,) = helpers.processes
    with H.Jobs(helpers) as jobs:
        jobs.submit(_slow_in_a_helper)
        deadline = time.monotonic() + 60
        while not (jobs.folder / "0.claim").exists():  # the helper has taken it
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        assert jobs.results() == [os.getpid()]


def test_a_helper_is_not_interrupted_with_its_caller_and_leaves_when_closed():
    """Ctrl-C reaches the caller's process group, not its helpers (a session of their own): no
    traceback of theirs; the caller ends them."""
    with H.Helpers(1) as helpers:
        (process,) = helpers.processes
        assert os.getpgid(process.pid) != os.getpgid(0)
    assert process.returncode == 0


def test_a_publication_disclosed_while_it_is_computed_is_the_one_of_one_process(
    limburg_data, tmp_path, monkeypatch
):
    """``build_publication`` puts each indicator's disclosure on the queue as soon as its
    measures are computed: a helper discloses some of them meanwhile (the measures are slowed
    down here so that it surely does), and the publication — every row, flag and figure but the
    seconds — is the one of one process."""
    import pandas as pd

    import ksz_reports.disclosure.build as B
    from ksz_reports.core.config import load_config
    from ksz_reports.disclosure import parts as P
    from ksz_reports.disclosure.publication import compute_publication, publication_geography

    def publication(processes: int):
        folder = tmp_path / str(processes)
        folder.mkdir()
        (folder / "settings.yaml").write_text(f"disclosure:\n  processes: {processes}\n")
        config = load_config(folder)
        return compute_publication(limburg_data, config, publication_geography(config, None))

    one, one_meta = publication(1)
    monkeypatch.setattr(P, "PARALLEL_MIN_CELLS", 0)  # a helper for this small publication
    monkeypatch.setattr(P.os, "cpu_count", lambda: 2)
    compute = B.compute

    def slow(*args, **kwargs):
        time.sleep(0.2)
        return compute(*args, **kwargs)

    monkeypatch.setattr(B, "compute", slow)
    from_helper, outcome = [], H._outcome

    def spy(path, run, args):
        from_helper.append(path.is_file())
        return outcome(path, run, args)

    monkeypatch.setattr(H, "_outcome", spy)
    two, two_meta = publication(2)
    assert any(from_helper)  # the helper disclosed some indicators
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    figures = {k: v for k, v in one_meta["disclosure"].items() if k != "seconds"}
    assert figures == {k: v for k, v in two_meta["disclosure"].items() if k != "seconds"}
    assert figures["secondary"] > 0 and figures["ok"]
    assert set(two_meta["stage_seconds"]) == {"read_and_cutoffs", "measures", "disclosure"}


def test_the_figures_of_several_indicators_are_those_of_one_run():
    from ksz_reports.disclosure.build import merged_figures

    a = {"threshold": 5, "cells": 10, "secondary": 2, "rounds": 2, "seconds": 0.5, "ok": True}
    b = {"threshold": 5, "cells": 7, "secondary": 0, "rounds": 3, "seconds": 0.25, "ok": False}
    assert merged_figures([a, {}, b]) == {
        "threshold": 5,
        "cells": 17,
        "secondary": 2,
        "rounds": 3,
        "seconds": 0.75,
        "ok": False,
    }
    assert merged_figures([]) == {}
