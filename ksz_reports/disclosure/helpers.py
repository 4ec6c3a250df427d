"""Calls shared out among this process and helper processes started ahead of them
(``disclosure.processes``).

Two stages of the disclosure hand work to other processes: the publication discloses each
indicator as soon as its measures are computed (:func:`ksz_reports.disclosure.build.
build_publication`: no relation joins two indicators), and a large linked table is protected in
chunks of whole connected components (:mod:`ksz_reports.disclosure.parts`). Both put their calls
in a :class:`Jobs` queue served by :class:`Helpers`:

* a helper (``python -m ksz_reports.disclosure.helpers MODULE…``) imports the modules its calls
  will need at once — about a second —, then waits for the queue's folder on its standard input,
  then for the number of each call as it is submitted;
* a call waits in the folder (``k.in``, pickled; removed once taken); whichever process is free
  takes the next one nobody has taken (a claim file, created exclusively: exactly one process
  runs each call) and writes its outcome beside it (``k.out``; an error is an outcome too);
* when the queue ends (:meth:`Jobs.results`), this process takes every call nobody has taken, in
  order, waits for the helpers and returns every call's result in the order submitted.

A helper that cannot start or dies leaves its calls to this process: only time is lost. An error
of a call is raised here as it would be in one process, and no helper outlives its queue — nor
the caller: one whose caller died takes no further call, and a helper has a session of its own
(Ctrl-C interrupts the caller, which ends it).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["Helpers", "Jobs"]

#: what a helper imports while it waits for its first call, unless told otherwise
WARM_MODULES = ("ksz_reports.disclosure.complements",)


class Helpers:
    """``count`` helper processes, started now: each imports ``warm`` (module names) and then
    waits to be sent to a :class:`Jobs` queue (:meth:`serve`). Each helper serves one queue;
    used as a context manager, none outlives the block."""

    def __init__(self, count: int, warm: tuple[str, ...] = WARM_MODULES):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self.processes: list[subprocess.Popen] = []
        for _ in range(max(count, 0)):
            try:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", __name__, *warm],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.DEVNULL,
                        env=env,
                        # a session of its own: Ctrl-C interrupts the caller, which ends it
                        start_new_session=True,
                    )
                )
            except OSError:
                break

    def serve(self, folder: Path) -> list[subprocess.Popen]:
        """Send each waiting helper to the queue in ``folder``; the helpers that took it (the
        queue then announces each call on their standard input: :meth:`Jobs.submit`)."""
        serving, self.processes = self.processes, []
        sent = []
        for process in serving:
            if _send(process, f"{folder}\n"):
                sent.append(process)
            else:  # it died while waiting
                process.wait()
        return sent

    def close(self) -> None:
        """End every helper still waiting (end of input: it leaves without work)."""
        for process in self.processes:
            _end_input(process)
            process.wait()
        self.processes = []

    def __enter__(self) -> Helpers:
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            if exc[0] is not None and process.poll() is None:
                process.kill()
        self.close()


class Jobs:
    """A queue of calls ``run(*args)``, taken one after the other by whichever of this process
    and the ``helpers`` is free (see the module's description). :meth:`submit` adds a call — a
    waiting helper may start on it at once —; :meth:`results` ends the queue and returns every
    call's result in the order submitted. Used as a context manager: on leaving, every helper
    still at work is killed (this process failed or was interrupted) and the folder removed.
    ``run`` must be a module-level function; without helpers nothing is pickled and every call
    runs here, in :meth:`results`."""

    def __init__(self, helpers: Helpers):
        self._tmp = tempfile.TemporaryDirectory(prefix="ksz-jobs-")
        self.folder = Path(self._tmp.name)
        self._helpers = helpers
        self._serving = helpers.serve(self.folder)
        self._calls: list[tuple[Callable[..., Any], tuple]] = []

    def submit(self, run: Callable[..., Any], *args: Any) -> None:
        """Add the call ``run(*args)`` to the queue."""
        k = len(self._calls)
        self._calls.append((run, args))
        if not self._serving:
            return
        _write(self.folder / f"{k}.in", (run, args))
        for process in list(self._serving):
            if not _send(process, f"{k}\n"):  # it died: its calls are this process's
                self._serving.remove(process)
                _end_input(process)
                process.wait()

    def results(self) -> list[Any]:
        """End the queue, run here every call nobody has taken (in order), wait for the helpers
        (end them when this process took every call: nothing is left for them) and return every
        call's result in the order submitted. An error of a call is raised: the first of this
        process's own calls, else the first of the helpers' in order."""
        for process in self._serving:
            _end_input(process)
        done: dict[int, Any] = {}
        for k, (run, args) in enumerate(self._calls):
            if _claim(self.folder, k):
                (self.folder / f"{k}.in").unlink(missing_ok=True)  # no helper will read it
                done[k] = run(*args)
        for process in self._serving:
            if len(done) == len(self._calls):  # nothing left for it: not even its imports
                process.kill()
            process.wait()
        return [
            done[k] if k in done else _outcome(self.folder / f"{k}.out", run, args)
            for k, (run, args) in enumerate(self._calls)
        ]

    def __enter__(self) -> Jobs:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            for process in self._serving:  # this process failed or was interrupted
                if process.poll() is None:
                    process.kill()
                    process.wait()
            self._helpers.close()
        finally:
            self._tmp.cleanup()


def _send(process: subprocess.Popen, line: str) -> bool:
    """Write ``line`` to a helper's standard input; False when it has gone."""
    try:
        assert process.stdin is not None
        process.stdin.write(line.encode())
        process.stdin.flush()
    except (OSError, ValueError):
        return False
    return True


def _end_input(process: subprocess.Popen) -> None:
    with contextlib.suppress(OSError, ValueError):
        assert process.stdin is not None
        process.stdin.close()


def _claim(folder: Path, k: int) -> bool:
    """Take call ``k`` of ``folder`` unless another process has: its claim file is created
    exclusively, so exactly one process gets each call."""
    try:
        os.close(os.open(folder / f"{k}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _write(path: Path, value: Any) -> None:
    """``value`` pickled to ``path``, whole or not at all."""
    partial = path.with_name(path.name + ".part")
    with open(partial, "wb") as fh:
        pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, path)


def _outcome(path: Path, run: Callable[..., Any], args: tuple) -> Any:
    """The outcome a helper wrote to ``path`` (its error raised here), or ``run(*args)`` in this
    process when the helper ended without one."""
    try:
        with open(path, "rb") as fh:
            status, value = pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError):
        return run(*args)
    if status == "error":
        raise value
    return value


def _helper(warm: list[str]) -> None:
    """A helper process: the ``warm`` modules imported, then the folder of a :class:`Jobs`
    queue read from standard input (none: leave), then each call announced there (one number
    per line, until the end of input) that nobody has taken run, its outcome (or its error)
    written beside it."""
    for module in warm:  # what its calls run on, imported while the caller prepares them
        importlib.import_module(module)
    parent = os.getppid()
    line = sys.stdin.readline().strip()
    if not line:
        return
    folder = Path(line)
    while line := sys.stdin.readline().strip():
        k = int(line)
        if os.getppid() != parent:  # the caller died: nobody waits for its calls
            return
        try:
            if not _claim(folder, k):
                continue
            with open(folder / f"{k}.in", "rb") as fh:
                run, args = pickle.load(fh)
            os.unlink(folder / f"{k}.in")  # read: the folder holds no more than it must
        except OSError:  # the folder has gone: the caller ended
            return
        try:
            result: tuple = ("ok", run(*args))
        except Exception as exc:  # noqa: BLE001 - raised again by the caller, as in one process
            result = ("error", exc)
        try:
            _write(folder / f"{k}.out", result)
        except OSError:
            return


if __name__ == "__main__":
    _helper(sys.argv[1:])
