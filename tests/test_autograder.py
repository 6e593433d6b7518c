"""End to end: the gmm-course commands on the demo class, with exact expected scores."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from gmm_course.autograding import STATE_FILE, autograde_class
from gmm_course.demo_class import DEMO_CLASS, expected_autograded_score, write_demo_class
from gmm_course.export import collect_grades, read_csv, write_csv
from gmm_course.feedback import write_feedback
from gmm_course.grading import Workspace
from gmm_course.paths import COURSE_DIR, SOURCE_NOTEBOOKS_DIR

from .conftest import CLI, REPO, gmm_course

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("autograder")]


def _autograded_scores(workspace):
    return {
        student.name: {(g.notebook, g.grade_id): g.score for g in workspace.grades(student.name)}
        for student in DEMO_CLASS
    }


def test_every_demo_student_gets_exactly_the_expected_autograded_score(graded_class):
    data = collect_grades(graded_class, [s.name for s in DEMO_CLASS])
    for student in DEMO_CLASS:
        assert data.total(student.name, "autograded") == expected_autograded_score(student), student.description
    full = expected_autograded_score(DEMO_CLASS[0])
    assert full > 40 and expected_autograded_score(DEMO_CLASS[1]) == 0
    assert all(0 < expected_autograded_score(s) < full for s in DEMO_CLASS[2:])


def _hidden_test_lines() -> set[str]:
    """Lines of hidden tests that the student's release does not show anyway."""
    released = set()
    for path in COURSE_DIR.glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            released |= {line.strip() for line in cell.source.splitlines()}
    lines = set()
    for path in SOURCE_NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            hidden = re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S)
            for block in hidden:
                lines |= {line.strip() for line in block.splitlines() if len(line.strip()) > 20}
    # A continuation line such as "rtol=1e-8, atol=1e-10)" that the release shows inside a longer line, or that
    # the skeleton package holds, reveals nothing.
    shown = "\n".join(released) + "".join(p.read_text() for p in (COURSE_DIR / "gmm_student").glob("*.py"))
    return {line for line in lines - released if line not in shown}


def test_feedback_shows_scores_and_messages_but_no_hidden_test(graded_class):
    run = gmm_course("feedback", "--work-dir", str(graded_class.root))
    reports = sorted(graded_class.root.glob("feedback/*/gmm_em/feedback.html"))
    assert len(reports) == len(DEMO_CLASS), run.stdout
    hidden = _hidden_test_lines()
    assert len(hidden) > 50
    import html

    for report in reports:
        text = html.unescape(report.read_text())
        assert "HIDDEN TESTS" not in text and "gmm_reference" not in text
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{report}: hidden test lines in the feedback: {leaked[:3]}"
    mistakes = html.unescape((graded_class.root / "feedback/cleo_mistakes/gmm_em/feedback.html").read_text())
    assert "what went wrong" in mistakes and "Error" in mistakes and "data:image/png;base64" in mistakes


def test_export_round_trips_through_the_gradebook(graded_class, tmp_path):
    run = gmm_course("export", "--work-dir", str(graded_class.root), "--csv", str(tmp_path / "grades.csv"))
    assert "tests failed most often" in run.stdout
    rows = read_csv(tmp_path / "grades.csv")
    assert sorted(rows) == sorted(s.name for s in DEMO_CLASS)
    for student, grades in _autograded_scores(graded_class).items():
        for (notebook, grade_id), score in grades.items():
            cell = rows[student][f"{notebook}:{grade_id}"]
            assert (cell == "" and score is None) or float(cell) == score
        expected_auto = expected_autograded_score(next(s for s in DEMO_CLASS if s.name == student))
        assert float(rows[student]["autograded_total"]) == expected_auto


def test_regrading_gives_identical_grades(graded_class):
    before = _autograded_scores(graded_class)
    unchanged = autograde_class(graded_class, progress=False)
    assert {o.status for o in unchanged} == {"skipped"}  # nothing changed: nothing re-run
    regraded = autograde_class(graded_class, ["ada_correct", "cleo_mistakes"], force=True, progress=False)
    assert {o.status for o in regraded} == {"graded"}
    assert _autograded_scores(graded_class) == before


def test_interrupted_grading_resumes_and_loses_nothing(graded_class, tmp_path):
    work = tmp_path / "course"
    lms = write_demo_class(tmp_path / "lms", [s for s in DEMO_CLASS if s.name in ("ada_correct", "cleo_mistakes")])
    gmm_course("import", str(lms), "--work-dir", str(work))
    process = subprocess.Popen(
        [*CLI, "autograde", "--work-dir", str(work), "--quiet", "--jobs", "1"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    state = work / STATE_FILE
    deadline = time.time() + 300
    while not state.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert process.poll() is None, "grading finished before it could be interrupted"
    import os

    os.killpg(process.pid, signal.SIGKILL)  # as hard as a crash: the kernels die too
    process.wait()
    assert len(json.loads(state.read_text())) == 1  # one student graded, the other not
    run = gmm_course("autograde", "--work-dir", str(work), "--quiet")
    assert "1 graded, 1 unchanged" in run.stdout
    resumed = Workspace(work)
    for name in ("ada_correct", "cleo_mistakes"):
        got = {(g.notebook, g.grade_id): g.score for g in resumed.grades(name)}
        assert got == _autograded_scores(graded_class)[name]


def test_every_command_has_help():
    for command in ("build", "validate", "import", "autograde", "feedback", "export", "demo"):
        run = gmm_course(command, "--help")
        assert "usage: gmm-course " + command in run.stdout


def test_unknown_student_is_a_clear_error(graded_class):
    run = gmm_course("autograde", "nobody", "--work-dir", str(graded_class.root), check=False)
    assert run.returncode == 2 and "not imported: nobody" in run.stderr


def test_export_from_a_folder_with_no_course_fails_and_names_the_folder(tmp_path):
    # an empty CSV and exit 0 would pass for "the class has no grades": a mistyped --work-dir must be loud
    (tmp_path / "empty").mkdir()
    run = gmm_course("export", "--work-dir", str(tmp_path / "empty"), "--csv", str(tmp_path / "g.csv"), check=False)
    assert run.returncode != 0 and "holds no course" in run.stderr and str(tmp_path / "empty") in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "g.csv").exists()


def test_write_csv_and_feedback_accept_an_empty_class(tmp_path):
    workspace = Workspace(tmp_path / "empty")
    assert write_feedback(workspace, []) == []
    data = collect_grades(workspace, [])
    assert Path(write_csv(data, tmp_path / "g.csv")).read_text().startswith("student,")
