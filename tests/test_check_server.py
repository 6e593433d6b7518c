"""The clean check's fork server: exit codes and logs come back, a check that overruns dies with its server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from gmm_course.sandbox import check_server
from gmm_course.sandbox.check_server import run_check

pytestmark = pytest.mark.slow

COURSE = Path(__file__).resolve().parents[1] / "course"


def _test_notebook(path: Path, source: str) -> Path:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "test_it", "points": 2, "solution": False}
    nb.cells.append(cell)
    nbformat.write(nb, str(path))
    return path


def _argv(tmp_path: Path, notebook: Path) -> list[str]:
    own = tmp_path / "clean"
    if not own.exists():
        shutil.copytree(COURSE / "gmm_student", own / "gmm_student")
    return [
        "--own-dir", str(own), "--skeleton-parent", str(COURSE), "--out", str(tmp_path / "out.json"),
        "--budget", "600", "--no-jail", str(notebook),
    ]  # fmt: skip


def _server_pid() -> int:
    return check_server._servers[(os.getpid(), threading.get_ident())].process.pid


def test_checks_run_in_fresh_children_of_one_server(tmp_path):
    # Each check imports the trusted gmm_student anew; a check run in the server itself would fail the second time.
    notebook = _test_notebook(tmp_path / "nb.ipynb", "import os, gmm_student\nprint(os.getpid())\nassert 1 + 1 == 2")
    assert run_check(_argv(tmp_path, notebook), tmp_path / "first.log", timeout=120) == 0
    first = json.loads((tmp_path / "out.json").read_text())
    server = _server_pid()
    assert run_check(_argv(tmp_path, notebook), tmp_path / "second.log", timeout=120) == 0
    second = json.loads((tmp_path / "out.json").read_text())
    assert _server_pid() == server, "the server was started again"
    for outcome in (first, second):
        assert [(c["grade_id"], c["passed"]) for c in outcome["notebooks"]["nb"]["cells"]] == [("test_it", True)]


def test_a_failing_checker_gives_its_exit_code_and_its_output(tmp_path):
    log = tmp_path / "check.log"
    assert run_check(["--own-dir", str(tmp_path)], log, timeout=120) == 2  # argparse: arguments missing
    assert "the following arguments are required: --skeleton-parent, --out" in log.read_text()


def test_a_dead_server_is_replaced(tmp_path):
    log = tmp_path / "check.log"
    run_check(["--bogus"], log, timeout=120)
    old = _server_pid()
    psutil.Process(old).kill()
    psutil.Process(old).wait(timeout=30)
    assert run_check(["--bogus"], log, timeout=120) == 2
    assert _server_pid() != old


def test_a_check_past_its_time_is_killed_with_its_server(tmp_path):
    pid_file = tmp_path / "pid"
    notebook = _test_notebook(
        tmp_path / "nb.ipynb", f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(600)"
    )
    with pytest.raises(subprocess.TimeoutExpired):
        run_check(_argv(tmp_path, notebook), tmp_path / "check.log", timeout=20)
    checker = int(pid_file.read_text())
    deadline = time.monotonic() + 30
    while _running(checker):
        assert time.monotonic() < deadline, "the overrunning check outlived its server"
        time.sleep(0.1)


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
