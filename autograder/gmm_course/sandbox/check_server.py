"""A fork server for the clean check: a fresh checker process per submission, without a new interpreter's start.

Each submission's clean check runs in a process of its own (:mod:`.checker`), and it used to be a new
``python -m gmm_course.sandbox.checker``: half a second of starting Python and importing NumPy, SciPy,
Matplotlib, scikit-learn and the reference solution before checking anything, a tenth of a second per notebook.
Here each grading worker keeps one server process that has imported those and nothing else, and forks it once
per submission. The child is as fresh as a new interpreter where it matters: the server never runs a check
itself and never imports a course's ``gmm_student``, so no submission's state can reach the next one, and the
child exits when its check is done. It is not jailed, exactly as the checker it replaces: the student's code
runs in the jailed student process the checker starts (:mod:`.remote`).

The protocol is one JSON line each way per check: ``{"argv": [...], "log": path}`` in, ``{"exit": code}`` out;
the child's stdout and stderr go to ``log``. The server ends when its grading worker closes the pipe or dies.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import select
import subprocess
import sys
import threading
import traceback
from pathlib import Path

from .jail import die_with_parent

#: What every clean check imports: loaded once by the server, shared copy-on-write by every check it forks.
PRELOAD = (
    "numpy",
    "scipy.linalg",
    "scipy.optimize",
    "scipy.special",
    "scipy.stats",
    "matplotlib.pyplot",
    "sklearn.cluster",
    "sklearn.mixture",
    "gmm_reference",
    "gmm_reference.testing",
    "gmm_course.sandbox.checker",
    "gmm_course.sandbox.remote",
    "gmm_course.sandbox.trusted_package",
)


def _preload() -> None:
    import matplotlib

    matplotlib.use("Agg")
    for name in PRELOAD:
        with contextlib.suppress(ImportError):  # a check that needs it then fails as it would have anyway
            importlib.import_module(name)


def _run_child(request: dict) -> int:
    """In the forked child: run one clean check, its output going to the request's log file."""
    die_with_parent()  # the server's death (its worker's) ends the check and the student process under it
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    from .checker import main

    try:
        return main(request["argv"])
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # noqa: BLE001 - reported through the log, as a crashed interpreter would
        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def serve(requests=sys.stdin, replies=sys.stdout) -> int:
    """The server's loop: read one request per line, fork a child to run it, answer with its exit code."""
    _preload()
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the child never returns into this loop
            os._exit(_run_child(request))
        _, status = os.waitpid(pid, 0)
        replies.write(json.dumps({"exit": os.waitstatus_to_exitcode(status)}) + "\n")
        replies.flush()
    return 0


class CheckServer:
    """The grading side: one server process, started on first use, reused for every later check."""

    def __init__(self) -> None:
        self.owner = os.getpid()
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            preexec_fn=die_with_parent,
        )

    def usable(self) -> bool:
        return self.owner == os.getpid() and self.process.poll() is None

    def run(self, argv: list[str], log: Path, timeout: float) -> int:
        """Run one clean check with ``argv``; its output goes to ``log``. Returns its exit code."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write((json.dumps({"argv": argv, "log": str(log)}) + "\n").encode())
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            self.close()  # and with it the check: the child dies with the server
            raise subprocess.TimeoutExpired(["clean check", *argv], timeout)
        line = self.process.stdout.readline()
        if not line:
            self.close()
            raise RuntimeError(f"the clean check's server ended (exit {self.process.returncode})")
        return int(json.loads(line)["exit"])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()


_servers: dict[tuple[int, int], CheckServer] = {}  # one per process and thread: each runs one check at a time
_servers_lock = threading.Lock()


def run_check(argv: list[str], log: Path, timeout: float) -> int:
    """Run one clean check (``checker.main(argv)``) in a fresh process forked from this thread's server."""
    key = (os.getpid(), threading.get_ident())
    with _servers_lock:
        server = _servers.get(key)
        if server is None or not server.usable():
            server = _servers[key] = CheckServer()
    return server.run(argv, log, timeout)


@atexit.register
def _close_servers() -> None:
    for key, server in list(_servers.items()):
        if key[0] == os.getpid():
            server.close()


if __name__ == "__main__":
    sys.exit(serve())
