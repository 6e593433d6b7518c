"""Hand grades are never lost (issue 12, parts 1, 5 and 7).

Formgrader writes a grader's score into nbgrader's gradebook as ``manual_score`` (an override of an autograded test
cell, or the grade of a written answer) and a comment as ``manual_comment``. ``export`` must read the gradebook's
final score, re-grading must keep hand grades of unchanged answers and flag changed ones for review, ``export``
must say what is still pending, and a partial ``autograde`` run must not drop other students' report lines.

The fast tests drive :func:`.record.record_submission` against a tiny gradebook built with nbgrader's own API and
write hand grades exactly as Formgrader's REST handlers do (:func:`formgrader_grade`, :func:`formgrader_comment`).
The slow test grades one real student and drives Formgrader's REST API on a running Jupyter server.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import compute_checksum

from gmm_course.environment import use_this_environment
from gmm_course.export import ClassGrades, collect_grades, read_csv, summary, write_csv
from gmm_course.grading import CellGrade, Workspace
from gmm_course.paths import ASSIGNMENT_ID, COURSE_ID
from gmm_course.pipeline import CellResult, SubmissionResult
from gmm_course.plain_text import csv_cell
from gmm_course.record import record_submission
from gmm_course.report import failure_row, write_report

from .conftest import gmm_course

NOTEBOOK = "01_tiny"
STUB = "YOUR ANSWER HERE"


# ---------------------------------------------------------------- a tiny course, graded by record_submission


def _answer_cell(text: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(STUB)
    cell.metadata["nbgrader"] = {"grade": True, "solution": True, "locked": False, "grade_id": "a1", "points": 3}
    cell.metadata["nbgrader"]["checksum"] = compute_checksum(cell)  # of the released (unanswered) cell
    cell.source = text
    return cell


def _notebook(answer: str, code: str = "x = 1") -> nbformat.NotebookNode:
    test = nbformat.v4.new_code_cell("assert x == 1")
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": "t1", "points": 2}
    solution = nbformat.v4.new_code_cell(code)
    solution.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False, "grade_id": "s1"}
    return nbformat.v4.new_notebook(cells=[solution, test, _answer_cell(answer)])


class TinyCourse:
    """A course folder with one notebook (a test cell ``t1`` of 2 points, a written answer ``a1`` of 3)."""

    def __init__(self, root: Path, template: Path):
        use_this_environment()  # nbgrader's Gradebook runs ``alembic`` from this environment
        root.mkdir(parents=True)
        shutil.copyfile(template, root / "gradebook.db")
        self.root = root
        self.workspace = Workspace(root)
        self.db = self.workspace.database_url

    @staticmethod
    def make_gradebook(path: Path) -> Path:
        """The gradebook of the tiny course (made once: nbgrader takes seconds to create one)."""
        use_this_environment()
        with Gradebook(f"sqlite:///{path}", COURSE_ID) as gradebook:
            gradebook.add_assignment(ASSIGNMENT_ID)
            gradebook.add_notebook(NOTEBOOK, ASSIGNMENT_ID)
            gradebook.add_grade_cell("t1", NOTEBOOK, ASSIGNMENT_ID, max_score=2, cell_type="code")
            gradebook.add_grade_cell("a1", NOTEBOOK, ASSIGNMENT_ID, max_score=3, cell_type="markdown")
            gradebook.add_solution_cell("s1", NOTEBOOK, ASSIGNMENT_ID)
            gradebook.add_solution_cell("a1", NOTEBOOK, ASSIGNMENT_ID)
        return path

    def grade(self, student: str, answer: str, test_score: float = 0.0, package: str = "def f(): pass\n") -> None:
        """What ``autograde`` does for one student: write ``autograded/`` and record it in the gradebook."""
        submitted = self.root / "submitted" / student / ASSIGNMENT_ID
        (submitted / "gmm_student").mkdir(parents=True, exist_ok=True)
        (submitted / "gmm_student" / "core.py").write_text(package)
        autograded = self.root / "autograded" / student / ASSIGNMENT_ID
        autograded.mkdir(parents=True, exist_ok=True)
        nbformat.write(_notebook(answer), str(autograded / f"{NOTEBOOK}.ipynb"))
        cells = [CellResult(NOTEBOOK, "t1", 2.0, test_score, "", "passed", None, True, False)]
        record_submission(self.db, self.root, SubmissionResult(student, cells, [], [], [], "jail"))

    def grade_ids(self, student: str) -> dict[str, str]:
        """nbgrader's ids of the student's grades (the ids in Formgrader's URLs), by grade id."""
        with Gradebook(self.db, COURSE_ID) as gradebook:
            notebook = gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT_ID, student)
            return {g.name: g.id for g in notebook.grades}

    def comment_ids(self, student: str) -> dict[str, str]:
        with Gradebook(self.db, COURSE_ID) as gradebook:
            notebook = gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT_ID, student)
            return {c.name: c.id for c in notebook.comments}

    def grades(self, student: str) -> dict[str, CellGrade]:
        return {g.grade_id: g for g in self.workspace.grades(student)}

    def export(self, *students: str) -> tuple[ClassGrades, dict[str, dict[str, str]]]:
        data = collect_grades(self.workspace, list(students))
        return data, read_csv(write_csv(data, self.root / "grades.csv"))


def formgrader_grade(db: str, grade_id: str, manual_score: float | None, extra_credit: float | None = None) -> None:
    """What Formgrader's ``PUT /formgrader/api/grade/<id>`` does (nbgrader's GradeHandler.put, line for line)."""
    with Gradebook(db, COURSE_ID) as gradebook:
        grade = gradebook.find_grade_by_id(grade_id)
        grade.manual_score = manual_score
        grade.extra_credit = extra_credit
        grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
        gradebook.db.commit()


def formgrader_comment(db: str, comment_id: str, text: str) -> None:
    """What Formgrader's ``PUT /formgrader/api/comment/<id>`` does (nbgrader's CommentHandler.put)."""
    with Gradebook(db, COURSE_ID) as gradebook:
        gradebook.find_comment_by_id(comment_id).manual_comment = text
        gradebook.db.commit()


@pytest.fixture(scope="module")
def tiny_gradebook(tmp_path_factory) -> Path:
    return TinyCourse.make_gradebook(tmp_path_factory.mktemp("tiny") / "gradebook.db")


@pytest.fixture
def course(tmp_path, tiny_gradebook) -> TinyCourse:
    return TinyCourse(tmp_path / "course", tiny_gradebook)


def test_export_reads_a_formgrader_override_of_a_test_cell(course):
    course.grade("ann", "My answer.", test_score=0.0)
    ids = course.grade_ids("ann")
    formgrader_grade(course.db, ids["t1"], 1.5)  # partial credit for a near miss
    formgrader_grade(course.db, ids["a1"], 2.0, extra_credit=0.5)
    grades = course.grades("ann")
    assert (grades["t1"].score, grades["t1"].auto_score, grades["t1"].manual_score) == (1.5, 0.0, 1.5)
    assert grades["a1"].score == 2.5  # nbgrader's Grade.score: manual score plus extra credit
    _, rows = course.export("ann")
    assert rows["ann"][f"{NOTEBOOK}:t1"] == "1.5" and rows["ann"]["autograded_total"] == "1.5"
    assert rows["ann"]["total"] == "4" and rows["ann"]["complete"] == "yes" and rows["ann"]["pending"] == "0"


def test_regrading_an_unchanged_submission_keeps_hand_grades_and_comments(course):
    course.grade("ann", "My answer.", test_score=0.0)
    ids, comments = course.grade_ids("ann"), course.comment_ids("ann")
    formgrader_grade(course.db, ids["t1"], 2.0)
    formgrader_grade(course.db, ids["a1"], 2.5)
    formgrader_comment(course.db, comments["a1"], "Good, but say why the log-likelihood cannot decrease.")
    course.grade("ann", "My answer.", test_score=0.0)  # autograde --force: the same submission again
    grades = course.grades("ann")
    assert (grades["t1"].score, grades["a1"].score) == (2.0, 2.5)
    assert not grades["a1"].needs_manual_grade and not grades["a1"].pending
    assert grades["a1"].comment == "Good, but say why the log-likelihood cannot decrease."
    _, rows = course.export("ann")
    assert (rows["ann"]["total"], rows["ann"]["complete"]) == ("4.5", "yes")


def test_a_changed_answer_is_marked_for_review_and_its_hand_grade_kept(course):
    course.grade("ann", "My answer.")
    ids, comments = course.grade_ids("ann"), course.comment_ids("ann")
    formgrader_grade(course.db, ids["a1"], 2.5)
    formgrader_comment(course.db, comments["a1"], "Nearly.")
    course.grade("ann", "My better answer.")  # a resubmission with another answer
    a1 = course.grades("ann")["a1"]
    assert a1.needs_manual_grade and a1.review and a1.pending and a1.score is None
    assert (a1.manual_score, a1.comment) == (2.5, "Nearly.")  # kept for the grader, not counted
    data, rows = course.export("ann")
    assert (rows["ann"][f"{NOTEBOOK}:a1"], rows["ann"]["pending"], rows["ann"]["complete"]) == ("", "3", "no")
    assert "1 of 1 students still need hand grading" in summary(data) and "marked for review" in summary(data)
    course.grade("ann", "My better answer.")  # re-graded before the review: still to review
    assert course.grades("ann")["a1"].review
    formgrader_grade(course.db, ids["a1"], 3.0)  # the grader saves a score for the new answer
    assert course.grades("ann")["a1"].score == 3.0
    course.grade("ann", "My better answer.")
    assert course.grades("ann")["a1"].score == 3.0


def test_changed_code_puts_a_test_cell_override_up_for_review(course):
    course.grade("ann", "My answer.", test_score=0.0)
    formgrader_grade(course.db, course.grade_ids("ann")["t1"], 1.0)
    course.grade("ann", "My answer.", test_score=2.0, package="def f(): return 1\n")  # resubmitted code
    t1 = course.grades("ann")["t1"]
    assert t1.review and t1.score is None and t1.auto_score == 2.0 and t1.manual_score == 1.0


def test_a_hand_grade_from_before_fingerprints_were_kept_is_reviewed_not_trusted(course):
    course.grade("ann", "My answer.")
    formgrader_grade(course.db, course.grade_ids("ann")["a1"], 2.0)
    shutil.rmtree(course.root / "answers")  # a gradebook hand-graded with an older gmm-course
    course.grade("ann", "My answer.")
    a1 = course.grades("ann")["a1"]
    assert a1.review and a1.manual_score == 2.0


def test_export_says_what_is_pending(course):
    course.grade("ann", "My answer.", test_score=2.0)  # the written answer waits for a grader
    course.grade("bob", STUB, test_score=2.0)  # no answer: 0 and "No response.", nothing to grade
    data, rows = course.export("ann", "bob")
    assert (rows["ann"][f"{NOTEBOOK}:a1"], rows["ann"]["total"], rows["ann"]["pending"]) == ("", "2", "3")
    assert rows["ann"]["complete"] == "no"
    assert (rows["bob"][f"{NOTEBOOK}:a1"], rows["bob"]["pending"], rows["bob"]["complete"]) == ("0", "0", "yes")
    assert course.grades("bob")["a1"].comment == "No response."
    assert summary(data).splitlines()[0].startswith("hand grading: 1 of 2 students still need hand grading")
    formgrader_grade(course.db, course.grade_ids("ann")["a1"], 3.0)
    data, rows = course.export("ann", "bob")
    assert (rows["ann"]["total"], rows["ann"]["complete"]) == ("5", "yes")
    assert summary(data).splitlines()[0] == "hand grading: complete for all 2 students"


# ---------------------------------------------------------------- the report, merged by student


def _result(student: str, *events: str) -> SubmissionResult:
    return SubmissionResult(student, [], [], [], list(events), "jail")


def test_a_partial_run_keeps_the_other_students_report_lines(tmp_path):
    write_report(tmp_path, [_result("ann", "ann ran long"), _result("bob", "bob wrote to stderr"), _result("=cy", "x")])
    path, lines = write_report(tmp_path, [_result("bob")], [failure_row("dan", "crashed")], ["bob"])
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["student", "file", "problem", "action"]
    assert [(r[0], r[2]) for r in rows[1:]] == [
        (csv_cell("=cy"), "x"),  # escaped once, not twice
        ("ann", "ann ran long"),
        ("dan", "grading failed: crashed"),
    ]  # bob re-graded without a problem: his old line is gone; the others are kept
    assert lines == ["NOTE dan: grading failed: crashed -> not graded; re-run autograde"]
    write_report(tmp_path, [_result("ann", "again")], [], ["ann"])
    with path.open(newline="", encoding="utf-8") as handle:
        assert [(r[0], r[2]) for r in list(csv.reader(handle))[1:]][1:] == [
            ("ann", "again"),
            ("dan", "grading failed: crashed"),
        ]


# ---------------------------------------------------------------- end to end: Formgrader's REST API on a live server

NB01 = "01_em_1d_old_faithful"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Formgrader:
    """A Jupyter server with nbgrader's Formgrader on 127.0.0.1, spoken to as its web page does (token, xsrf)."""

    def __init__(self, root: Path):
        self.token, self.port = "hand-grades-test-token", _free_port()
        (root / "nbgrader_config.py").write_text(
            "from pathlib import Path\nfrom gmm_course.config import nbgrader_config\n"
            f"get_config().merge(nbgrader_config(Path({str(root)!r})))\n"
        )
        runtime = Path(tempfile.mkdtemp(prefix="gmm-jupyter-"))
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime), "JUPYTER_CONFIG_DIR": str(runtime / "config")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "server", "--no-browser", "--allow-root", "--ip=127.0.0.1",
             f"--port={self.port}", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}"],
            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        deadline = time.monotonic() + 90
        while True:
            try:
                self.call("GET", "/formgrader/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise
                time.sleep(0.5)

    def call(self, method: str, path: str, body: dict | None = None):
        headers = {"Authorization": f"token {self.token}", "Content-Type": "application/json"}
        xsrf = next((c.value for c in self.cookies if c.name == "_xsrf"), None)
        if xsrf:
            headers["X-XSRFToken"] = xsrf
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data, headers, method=method)
        with self.opener.open(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def submission(self, notebook: str, student: str) -> str:
        listing = self.call("GET", f"/formgrader/api/submitted_notebooks/{ASSIGNMENT_ID}/{notebook}")
        return next(s["id"] for s in listing if s["student"] == student)

    def grades(self, submission: str) -> dict[str, dict]:
        return {g["name"]: g for g in self.call("GET", f"/formgrader/api/grades?submission_id={submission}")}

    def comments(self, submission: str) -> dict[str, dict]:
        return {c["name"]: c for c in self.call("GET", f"/formgrader/api/comments?submission_id={submission}")}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.mark.slow
def test_formgrader_round_trip_on_a_live_server(tmp_path):
    """Hand-grade in Formgrader (REST), export, re-grade with --force, export, resubmit a changed answer."""
    from gmm_course.demo_class import DEMO_CLASS, make_submission

    student = next(s for s in DEMO_CLASS if s.name == "dan_raises")  # fails some nb01 tests, answers filled in
    workspace = Workspace(tmp_path / "course")
    workspace.prepare()
    folder = make_submission(student, tmp_path / "lms" / student.name)
    workspace.submit(student.name, folder)
    work = ["--work-dir", workspace.root]
    gmm_course("autograde", student.name, *work, "--timeout", 20, "--quiet", "--jobs", 1)
    before = {g.grade_id: g for g in workspace.grades(student.name) if g.notebook == NB01}
    failed = next(g for g in before.values() if g.kind == "autograded" and g.score == 0)
    assert before["nb01_a1"].pending and before["nb01_a2"].pending

    server = Formgrader(workspace.root)
    try:
        notebook = server.submission(NB01, student.name)
        grades, comments = server.grades(notebook), server.comments(notebook)
        override = failed.max_score / 2
        server.call("PUT", f"/formgrader/api/grade/{grades[failed.grade_id]['id']}", {"manual_score": override})
        server.call("PUT", f"/formgrader/api/grade/{grades['nb01_a1']['id']}", {"manual_score": 1.5})
        server.call("PUT", f"/formgrader/api/grade/{grades['nb01_a2']['id']}", {"manual_score": 2})
        server.call("PUT", f"/formgrader/api/comment/{comments['nb01_a1']['id']}", {"manual_comment": "Half right."})
        assert server.grades(notebook)["nb01_a1"]["manual_score"] == 1.5  # Formgrader's own view
    finally:
        server.stop()

    def export() -> dict[str, str]:
        csv_path = tmp_path / "grades.csv"
        run = gmm_course("export", *work, "--csv", csv_path)
        assert "hand grading:" in run.stdout
        return read_csv(csv_path)[student.name]

    expected = {f"{NB01}:{failed.grade_id}": f"{override:g}", f"{NB01}:nb01_a1": "1.5", f"{NB01}:nb01_a2": "2"}
    row = export()
    assert {key: row[key] for key in expected} == expected

    report = workspace.root / "grading_report.csv"
    with report.open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerow(["zoe", "", "a note of an earlier run", "kept"])
    gmm_course("autograde", "--force", student.name, *work, "--timeout", 20, "--quiet", "--jobs", 1)
    assert "zoe,,a note of an earlier run,kept" in report.read_text(encoding="utf-8")  # merged by student
    after = {g.grade_id: g for g in workspace.grades(student.name) if g.notebook == NB01}
    assert after["nb01_a1"].comment == "Half right." and not after["nb01_a1"].pending
    assert after[failed.grade_id].score == override
    row = export()
    assert {key: row[key] for key in expected} == expected

    resubmitted = workspace.submitted_dir(student.name) / f"{NB01}.ipynb"
    nb = nbformat.read(str(resubmitted), as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "nb01_a1")
    answer.source += "\n\nOn second thought: the variance is the weighted mean squared deviation."
    nbformat.write(nb, str(resubmitted))
    gmm_course("autograde", student.name, *work, "--timeout", 20, "--quiet", "--jobs", 1)
    changed = {g.grade_id: g for g in workspace.grades(student.name) if g.notebook == NB01}
    assert changed["nb01_a1"].review and changed["nb01_a1"].manual_score == 1.5  # kept, not counted
    assert changed["nb01_a2"].score == 2 and changed[failed.grade_id].score == override  # unchanged: kept
    row = export()
    assert row[f"{NB01}:nb01_a1"] == "" and row["complete"] == "no" and float(row["pending"]) >= 2
