"""The gmm-course command line (issue 12): clear errors, no folder deleted that a command did not make, help with
examples, the Formgrader on the right course folder, and feedback that addresses the student."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from gmm_course import cli, demo, validation
from gmm_course.demo_class import DEMO_CLASS
from gmm_course.formgrader import course_problem

from .conftest import CLI, REPO, gmm_course

COMMANDS = sorted(cli.build_parser()._subparsers._group_actions[0].choices)  # every subcommand


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (links and folders too) with a hash of its bytes."""
    result = {}
    for path in sorted(folder.rglob("*")):
        key = path.relative_to(folder).as_posix()
        if path.is_symlink():
            result[key] = "link " + os.readlink(path)
        elif path.is_dir():
            result[key] = "folder"
        else:
            result[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return result


def _course_folder(folder: Path) -> Path:
    """A course folder as a term leaves it: a gradebook, submissions and a report (fake bytes, real layout)."""
    (folder / "submitted" / "ada" / "gmm_em").mkdir(parents=True)
    (folder / "submitted" / "ada" / "gmm_em" / "01_em.ipynb").write_text("{}")
    (folder / "gradebook.db").write_bytes(os.urandom(4096))
    (folder / "grading_report.csv").write_text("student,notes\nada,\n")
    return folder


def _no_traceback(run: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in run.stdout + run.stderr, run.stderr
    assert "[Errno" not in run.stdout + run.stderr, run.stderr


# -- part 3: no command deletes a folder it did not create


def test_validate_refuses_a_course_folder_and_leaves_it_byte_identical(tmp_path):
    course = _course_folder(tmp_path / ".grading")
    before = _snapshot(course)
    run = gmm_course("validate", "--work-dir", course, check=False)
    assert run.returncode != 0
    assert str(course) in run.stderr and "not made by validate" in run.stderr
    _no_traceback(run)
    assert _snapshot(course) == before


def test_validate_grades_in_a_scratch_folder_of_its_own(tmp_path):
    folder, remove = validation.scratch_folder(None)
    try:
        assert remove and folder.is_dir() and folder != paths_default_validate()
    finally:
        shutil.rmtree(folder)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert validation.scratch_folder(empty) == (empty, False)  # an empty folder is taken, and kept
    (empty / "left by the last run").write_text("x")
    assert validation.scratch_folder(empty) == (empty, False)  # validate's own folder is emptied for the next run
    assert [p.name for p in empty.iterdir()] == [validation.SCRATCH_MARKER]
    with pytest.raises(ValueError, match="is a file"):
        validation.scratch_folder(empty / validation.SCRATCH_MARKER)


def paths_default_validate() -> Path:
    """Where validate used to grade (and delete) by default."""
    return REPO / "build" / "validate"


def test_demo_refuses_a_demo_folder_it_did_not_make(tmp_path):
    course = _course_folder(tmp_path / "demo")
    before = _snapshot(course)
    run = gmm_course("demo", "--work-dir", tmp_path, check=False)
    assert run.returncode != 0 and str(course) in run.stderr and "not made by the demo" in run.stderr
    _no_traceback(run)
    assert _snapshot(course) == before
    (course / demo.DEMO_MARKER).write_text("")
    assert demo.demo_folder(tmp_path) == course and [p.name for p in course.iterdir()] == [demo.DEMO_MARKER]


# -- part 4: a folder with no course is an error that names it; the Formgrader on the right folder


def test_a_folder_without_a_course_is_named_and_the_course_below_it_suggested(tmp_path):
    _course_folder(tmp_path / "grading" / "demo")
    for command in ("autograde", "feedback", "export", "formgrader"):
        run = gmm_course(command, "--work-dir", tmp_path / "grading", check=False)
        assert run.returncode != 0, (command, run.stdout)
        assert f"{tmp_path / 'grading'} holds no course" in run.stderr, (command, run.stderr)
        assert f"try --work-dir {tmp_path / 'grading' / 'demo'}" in run.stderr
        _no_traceback(run)
    assert not (tmp_path / "grading" / "grades.csv").exists()
    assert not (tmp_path / "grading" / "grading_report.csv").exists()


def test_formgrader_print_only_writes_the_course_config_and_prints_the_command(tmp_path):
    course = _course_folder(tmp_path / "course")
    run = gmm_course("formgrader", "--work-dir", course, "--port", 8765, "--print-only")
    config = course / "nbgrader_config.py"
    assert f"wrote {config}" in run.stdout
    assert f"cd {course} && " in run.stdout and "--ServerApp.ip=127.0.0.1" in run.stdout
    assert "--ServerApp.port=8765" in run.stdout and "--no-browser" in run.stdout
    loaded = subprocess.run(  # the file as Jupyter loads it: the course root and gradebook are this folder's
        [
            *CLI[:1],
            "-c",
            "from traitlets.config.loader import PyFileConfigLoader as L; import sys; "
            "c = L('nbgrader_config.py', path=sys.argv[1]).load_config(); "
            "print(c.CourseDirectory.root, c.CourseDirectory.db_url)",
            str(course),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.split() == [str(course), f"sqlite:///{course / 'gradebook.db'}"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(url: str, token: str):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.slow
@pytest.mark.xdist_group("autograder")
def test_formgrader_serves_the_graded_course(graded_class, tmp_path):
    """``gmm-course formgrader`` on a graded course: the Formgrader's REST API lists its students and submissions."""
    course = tmp_path / "course"
    shutil.copytree(graded_class.root, course)  # the shared graded class stays as it was
    port, token = _free_port(), "gmm-course-test-token"
    env = {**os.environ, "JUPYTER_TOKEN": token, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    process = subprocess.Popen(
        [*CLI, "formgrader", "--work-dir", str(course), "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/formgrader/api"
    try:
        deadline, students = time.monotonic() + 120, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                students = _get_json(f"{base}/students", token)
                break
            except OSError:
                time.sleep(0.5)
        assert students is not None, process.stdout.read() if process.poll() is not None else "no answer in 120 s"
        names = sorted(s["id"] for s in students)
        assert names == sorted(s.name for s in DEMO_CLASS)
        submissions = _get_json(f"{base}/submissions/gmm_em", token)
        assert sorted(s["student"] for s in submissions) == names
        assert all(s["autograded"] for s in submissions)
        assert [a["name"] for a in _get_json(f"{base}/assignments", token)] == ["gmm_em"]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# -- part 9: every command's wrong invocation is a clear error, help with a description and an example


def _wrong_invocations(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    """For each command: arguments of a wrong invocation, and what its message must say."""
    missing = tmp_path / "mistyped"
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    empty_course = tmp_path / "empty_course"
    (empty_course / "submitted").mkdir(parents=True)
    return {
        "build": (["build", "--fresh"], "unrecognized arguments: --fresh"),
        "validate": (["validate", "--work-dir", str(a_file)], f"{a_file} is a file"),
        "import": (["import", str(missing), "--work-dir", str(tmp_path / "course")], f"{missing}: no such folder"),
        "autograde": (["autograde", "--work-dir", str(missing)], f"{missing}: no such folder"),
        "formgrader": (["formgrader", "--work-dir", str(missing), "--print-only"], f"{missing}: no such folder"),
        "feedback": (["feedback", "nobody", "--work-dir", str(empty_course)], "no graded student nobody"),
        "export": (["export", "--work-dir", str(missing)], f"{missing}: no such folder"),
        "similarity": (["similarity", "--work-dir", str(missing)], f"{missing}: no such folder"),
        "demo": (["demo", "--timeout", "soon"], "invalid int value: 'soon'"),
        "skeleton": (["skeleton", "now"], "unrecognized arguments: now"),
        "run-source": (["run-source", "99_missing.ipynb"], "no source notebook '99_missing.ipynb'"),
        "check-notebook": (["check-notebook", "99_missing.ipynb"], "no notebook '99_missing.ipynb'"),
    }


def test_every_command_has_a_wrong_invocation_under_test(tmp_path):
    assert sorted(_wrong_invocations(tmp_path)) == COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_a_wrong_invocation_is_a_clear_error(tmp_path, command):
    args, message = _wrong_invocations(tmp_path)[command]
    run = gmm_course(*args, check=False)
    assert run.returncode != 0, run.stdout
    assert message in run.stderr, run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("gmm-course") and ": error: " in last, run.stderr
    _no_traceback(run)
    assert not (tmp_path / "course").exists()  # a failed import makes no course folder
    if command == "export":
        assert not missing_csv(tmp_path).exists()


def missing_csv(tmp_path: Path) -> Path:
    """Where export would have written its CSV in the mistyped folder."""
    return tmp_path / "mistyped" / "grades.csv"


def test_feedback_without_graded_students_says_so(tmp_path):
    (tmp_path / "course" / "submitted").mkdir(parents=True)
    run = gmm_course("feedback", "--work-dir", tmp_path / "course", check=False)
    assert run.returncode == 1 and f"no graded student in {tmp_path / 'course'}" in run.stderr
    _no_traceback(run)


def test_check_notebook_names_an_unknown_package_before_grading_anything():
    run = gmm_course("check-notebook", "03_log_sum_exp.ipynb", "--package", "no_such_mutant", check=False)
    assert run.returncode != 0 and "unknown package no_such_mutant" in run.stderr
    _no_traceback(run)


@pytest.mark.slow
def test_check_notebook_graded_only_grades_the_reference_and_a_mutant_as_expected():
    run = gmm_course(
        "check-notebook", "03_log_sum_exp.ipynb", "--package", "reference", "--package", "nb03_lse_naive",
        "--graded-only", "--timeout", "60",
    )  # fmt: skip
    assert "check-notebook: 2 of 2 as expected" in run.stdout, run.stdout
    assert "== 03_log_sum_exp.ipynb with nb03_lse_naive: " in run.stdout


def test_main_help_is_plain_text_with_the_cycle():
    run = gmm_course("--help")
    assert "``" not in run.stdout and ".grading/demo" in run.stdout
    assert "gmm-course formgrader" in run.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_help_has_a_description_and_an_example(command):
    run = gmm_course(command, "--help")
    usage, description = run.stdout.split("\n\n")[:2]
    assert usage.startswith(f"usage: gmm-course {command}")
    assert len(description.split()) >= 15 and "``" not in run.stdout, description
    example = run.stdout.split("\nexample:\n")[1]
    assert example.lstrip().startswith(f"gmm-course {command.split()[0]}") or f"gmm-course {command}" in example


def test_demo_help_states_its_folder_and_cell_time():
    run = gmm_course("demo", "--help")
    assert ".grading/demo" in run.stdout and f"at most {demo.DEMO_CELL_TIMEOUT}" in run.stdout
    assert cli.DEMO_CELL_TIMEOUT == demo.DEMO_CELL_TIMEOUT


def test_course_problem_accepts_a_course_and_a_gradebook_elsewhere(tmp_path):
    assert course_problem(_course_folder(tmp_path / "course")) == ""
    (tmp_path / "new").mkdir()
    assert "no submitted/ folder" in course_problem(tmp_path / "new", "postgresql://grader@db/gmm")


# -- part 10: feedback addresses the student


def test_timeout_and_death_messages_address_the_student(tmp_path):
    from gmm_course.sandbox.remote import MAX_PROCESS_STARTS, CellTimeout, StudentProcessDied, StudentSession

    session = StudentSession(tmp_path, use_jail=False, memory_limit_mb=2048, find_record_type=lambda *_: None)
    process = session._current()  # a real student process, stopped as a timeout stops it
    with pytest.raises(CellTimeout) as timeout:
        session._time_out(process)
    said = [str(timeout.value), process.exit_description()]
    session.starts = MAX_PROCESS_STARTS
    session.process = None
    with pytest.raises(StudentProcessDied) as gave_up:
        session._current()
    said.append(str(gave_up.value))
    for message in said:
        assert message.startswith(("your code", "gave up after starting your code")), message
        assert "student" not in message, message


@pytest.mark.slow
def test_a_cell_stopped_by_the_grader_tells_the_student_it_was_their_code(tmp_path):
    import nbformat

    from gmm_course.kernel_stage import run_kernel_stage

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("while True:\n    pass")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "test_0", "points": 1, "solution": False}
    nb.cells.append(cell)
    ran, _, _, _ = run_kernel_stage(nb, tmp_path, cell_timeout=1, use_jail=False, memory_limit_mb=2048)
    messages = [o.get("evalue", "") for o in ran.cells[0].outputs if o.get("output_type") == "error"]
    assert any(m.startswith("your code was stopped by the grader") for m in messages), messages
