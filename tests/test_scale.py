"""Grading at scale (issue 6): the same grades serially, with local worker processes, and on a Dask cluster
with a PostgreSQL gradebook; a worker killed midway loses nothing.

The reference is ``graded_class`` (tests/conftest.py): the demo class graded serially into SQLite.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from gmm_course.demo_class import DEMO_CLASS, write_demo_class
from gmm_course.grading import Workspace
from gmm_course.paths import COURSE_ID, source_notebooks
from gmm_course.services import local_dask_cluster, local_postgres

from .conftest import CLI, REPO, gmm_course

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("autograder")]
#: A smaller class for the tests that kill a worker: enough that a worker is busy when it dies.
KILL_CLASS = [s for s in DEMO_CLASS if s.name in ("ada_correct", "cleo_mistakes", "dan_raises")]
#: The class graded another way (--jobs, Dask): every kind of outcome (full marks, blank, mistakes, a cell
#: that times out), compared with the same students of the serially graded demo class.
MODES_CLASS = [s for s in DEMO_CLASS if s.name in ("ada_correct", "ben_blank", "cleo_mistakes", "eve_infinite_loop")]


def _grades(workspace: Workspace, students) -> dict:
    """student -> every graded cell's (notebook, grade id, kind, score, max score), from the gradebook."""
    return {
        s.name: sorted((g.notebook, g.grade_id, g.kind, g.score, g.max_score) for g in workspace.grades(s.name))
        for s in students
    }


def _row_counts(database_url: str, students) -> dict[str, int]:
    """How many rows of the students the gradebook holds per table that grading writes (a lost or doubled
    write shows here)."""
    from nbgrader.api import Grade, Gradebook, SubmittedAssignment, SubmittedNotebook

    ids = [s.name for s in students]
    with Gradebook(database_url, COURSE_ID) as gradebook:
        assignments = gradebook.db.query(SubmittedAssignment).filter(SubmittedAssignment.student_id.in_(ids))
        notebooks = gradebook.db.query(SubmittedNotebook).join(SubmittedAssignment)
        grades = gradebook.db.query(Grade).join(SubmittedNotebook).join(SubmittedAssignment)
        return {
            "SubmittedAssignment": assignments.count(),
            "SubmittedNotebook": notebooks.filter(SubmittedAssignment.student_id.in_(ids)).count(),
            "Grade": grades.filter(SubmittedAssignment.student_id.in_(ids)).count(),
        }


def _imported(tmp_path: Path, students, db: str | None = None) -> Workspace:
    work = tmp_path / "course"
    lms = write_demo_class(tmp_path / "lms", students)
    gmm_course("import", lms, "--work-dir", work, *(["--db", db] if db else []))
    return Workspace(work, db_url=db)


def test_dask_with_postgresql_gives_the_serial_grades(graded_class, tmp_path):
    with local_postgres(tmp_path) as db, local_dask_cluster(n_workers=2) as scheduler:
        workspace = _imported(tmp_path, MODES_CLASS, db)
        run = gmm_course(
            "autograde", "--work-dir", workspace.root, "--db", db, "--scheduler", scheduler, "--timeout", 20, "--quiet"
        )
        assert f"{len(MODES_CLASS)} graded, 0 unchanged since last graded, 0 failed" in run.stdout
        assert _grades(workspace, MODES_CLASS) == _grades(graded_class, MODES_CLASS)
        assert _row_counts(db, MODES_CLASS) == _row_counts(graded_class.database_url, MODES_CLASS)
        assert not (workspace.root / "gradebook.db").exists()  # everything went to PostgreSQL


def test_jobs_gives_the_serial_grades(graded_class, tmp_path):
    workspace = _imported(tmp_path, MODES_CLASS)
    run = gmm_course("autograde", "--work-dir", workspace.root, "--jobs", 2, "--timeout", 20, "--quiet")
    assert f"{len(MODES_CLASS)} graded" in run.stdout and "slowest: " in run.stdout
    assert _grades(workspace, MODES_CLASS) == _grades(graded_class, MODES_CLASS)
    assert _row_counts(workspace.database_url, MODES_CLASS) == _row_counts(graded_class.database_url, MODES_CLASS)


def _start_autograde(workspace: Workspace, *where: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, "autograde", "--work-dir", str(workspace.root), "--timeout", "20", "--quiet", *where],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_until(condition, process: subprocess.Popen, what: str, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"grading ended before {what}: {process.communicate()}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.1)


def _finish(process: subprocess.Popen) -> tuple[str, str]:
    try:
        out, err = process.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    assert process.returncode == 0, f"autograde exited {process.returncode}:\n{out}\n{err}"
    return out, err


def _is_grading(process: psutil.Process) -> bool:
    """The worker process has started grading: a kernel or the clean check runs under it."""
    try:
        commands = [" ".join(child.cmdline()) for child in process.children(recursive=True)]
    except psutil.Error:  # a child that ended meanwhile
        return False
    return any("ipykernel" in command or "sandbox.check_server" in command for command in commands)


def test_a_local_worker_killed_midway_loses_nothing(graded_class, tmp_path):
    workspace = _imported(tmp_path, KILL_CLASS)
    process = _start_autograde(workspace, "--jobs", "2")

    def busy_worker() -> psutil.Process | None:
        workers = [p for p in psutil.Process(process.pid).children() if "python" in p.name().lower()]
        return next((worker for worker in workers if _is_grading(worker)), None)

    _wait_until(lambda: busy_worker() is not None, process, "a worker grading")
    busy_worker().kill()  # SIGKILL: as sudden as the out-of-memory killer
    out, err = _finish(process)
    assert "a worker process died: grading" in err
    assert f"{len(KILL_CLASS)} graded, 0 unchanged since last graded, 0 failed" in out
    assert _grades(workspace, KILL_CLASS) == _grades(graded_class, KILL_CLASS)
    assert _row_counts(workspace.database_url, KILL_CLASS) == _row_counts(graded_class.database_url, KILL_CLASS)


def test_a_dask_worker_killed_midway_loses_nothing(graded_class, tmp_path):
    from distributed import Client

    workspace = _imported(tmp_path, KILL_CLASS)
    with local_dask_cluster(n_workers=2) as scheduler, Client(scheduler) as client:
        process = _start_autograde(workspace, "--scheduler", scheduler)
        pids = client.run(os.getpid)  # worker address -> process id

        def busy_worker() -> int | None:
            return next((pid for pid in pids.values() if _is_grading(psutil.Process(pid))), None)

        _wait_until(lambda: busy_worker() is not None, process, "a worker grading")
        killed = busy_worker()
        os.kill(killed, signal.SIGKILL)  # its nanny starts a new worker; the scheduler reschedules its task
        out, _ = _finish(process)
        assert killed not in client.run(os.getpid).values()  # the grading went on without it
    assert f"{len(KILL_CLASS)} graded, 0 unchanged since last graded, 0 failed" in out
    assert _grades(workspace, KILL_CLASS) == _grades(graded_class, KILL_CLASS)
    assert _row_counts(workspace.database_url, KILL_CLASS) == _row_counts(graded_class.database_url, KILL_CLASS)
    notebooks = sorted(p.name for p in source_notebooks())
    for student in KILL_CLASS:  # the autograded notebooks are all there
        assert sorted(p.name for p in workspace.autograded_dir(student.name).glob("*.ipynb")) == notebooks
