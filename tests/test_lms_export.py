"""export --format canvas|moodle|gradescope (issue 15): each platform's import layout, read back by a CSV parser.

The class is built in memory (``ClassGrades``): ann complete, bob with a written answer still to grade by hand,
cy late with a penalty. The pending-hand-grading rule of the project CSV holds: bob gets no score, and is named.
"""

from __future__ import annotations

import csv
import io

import pytest

from gmm_course.export import ClassGrades
from gmm_course.grading import CellGrade
from gmm_course.late import Lateness
from gmm_course.lms_export import FORMATS, header, rows_from_grades, write_lms_csv

NB = "01_em_1d_old_faithful"
CELLS = [(NB, "test_a", "autograded", 6.0), (NB, "answer_b", "manual", 4.0)]


def _grade(grade_id: str, score: float | None) -> CellGrade:
    kind, max_score = ("autograded", 6.0) if grade_id == "test_a" else ("manual", 4.0)
    return CellGrade(NB, grade_id, kind, score, max_score, needs_manual_grade=score is None)


@pytest.fixture
def data() -> ClassGrades:
    scores = {"ann": (6.0, 3.5), "bob": (6.0, None), "cy": (2.0, 4.0)}
    grades = {
        s: {(NB, "test_a"): _grade("test_a", a), (NB, "answer_b"): _grade("answer_b", b)}
        for s, (a, b) in scores.items()
    }
    late = {"cy": Lateness("cy", 30 * 3600.0, 1.5)}
    return ClassGrades(sorted(scores), CELLS, grades, late)


def _read(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_each_format_has_the_platform_header():
    assert header("canvas", "GMM EM", "12345") == [
        "Student", "ID", "SIS User ID", "SIS Login ID", "Section", "GMM EM (12345)"
    ]  # fmt: skip
    assert header("moodle", "GMM EM") == ["ID number", "GMM EM"]
    assert header("gradescope", "GMM EM") == ["Name", "SID", "Email", "Total Score", "Max Points"]
    with pytest.raises(ValueError, match="unknown format 'blackboard'"):
        header("blackboard", "GMM EM")


def test_canvas_round_trip(tmp_path, data):
    path = tmp_path / "canvas.csv"
    left_out = write_lms_csv(path, "canvas", rows_from_grades(data), "GMM EM", "12345")
    rows = _read(path)
    assert rows[1] == ["Points Possible", "", "", "", "", "10"]
    by_id = {row[2]: row for row in rows[2:]}  # the student id in SIS User ID
    assert by_id["ann"] == ["ann", "", "ann", "", "", "9.5"]
    assert by_id["cy"][5] == "4.5"  # 6 earned, 1.5 late penalty
    assert by_id["bob"][5] == "" and left_out == ["bob"]  # pending: no partial total


def test_canvas_can_put_the_id_in_another_column(tmp_path, data):
    path = tmp_path / "canvas.csv"
    write_lms_csv(path, "canvas", rows_from_grades(data), "GMM EM", "1", id_column="SIS Login ID")
    records = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [r["SIS Login ID"] for r in records[1:]] == ["ann", "bob", "cy"]
    assert all(r["SIS User ID"] == "" for r in records[1:])


def test_moodle_round_trip(tmp_path, data):
    path = tmp_path / "moodle.csv"
    write_lms_csv(path, "moodle", rows_from_grades(data), "GMM EM")
    records = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert records == [
        {"ID number": "ann", "GMM EM": "9.5"},
        {"ID number": "bob", "GMM EM": ""},
        {"ID number": "cy", "GMM EM": "4.5"},
    ]


def test_gradescope_round_trip(tmp_path, data):
    path = tmp_path / "gradescope.csv"
    write_lms_csv(path, "gradescope", rows_from_grades(data), "GMM EM")
    records = {r["SID"]: r for r in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))}
    assert records["ann"] == {"Name": "ann", "SID": "ann", "Email": "", "Total Score": "9.5", "Max Points": "10"}
    assert records["bob"]["Total Score"] == "" and records["cy"]["Total Score"] == "4.5"


@pytest.mark.parametrize("fmt", FORMATS)
def test_text_cells_are_never_formulas(tmp_path, data, fmt):
    formula = ClassGrades(["=HYPERLINK(1)"], CELLS, {"=HYPERLINK(1)": data.grades["ann"]})
    path = tmp_path / f"{fmt}.csv"
    write_lms_csv(path, fmt, rows_from_grades(formula), "+evil")
    cells = [cell for row in _read(path) for cell in row]
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells), cells
    assert "'=HYPERLINK(1)" in cells and "9.5" in cells
