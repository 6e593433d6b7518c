"""Grades out of the gradebook: a CSV (one row per student) and a summary for the instructor.

A cell's score is the gradebook's final score (nbgrader's ``Grade.score``: a grader's manual score or override,
else the autograder's, plus extra credit). A cell still waiting for a grader (a written answer not graded yet, or
a hand-graded answer that changed since and is marked for review) is *pending*: its CSV cell is empty, it adds
nothing to the totals, and its points are listed in the ``pending`` column; ``complete`` is ``no`` for every
student with pending points, and the summary starts by saying how many students still need hand grading.

Late work (:mod:`.late`, nbgrader's late-penalty plugin): ``hours_late``, ``late_penalty`` (points) and
``total_after_penalty`` close each row; the penalty never exceeds the points earned, so no total is negative.

Text that reaches the CSV or the terminal (student ids, grade ids in the column names) goes through
:mod:`.plain_text`: printable, encodable, and never read as a spreadsheet formula. Scores are written by the
grader from numbers (``f"{score:g}"``) and cannot be formulas, so a negative score stays a number.
"""

from __future__ import annotations

import csv
import statistics
from dataclasses import dataclass, field, replace
from pathlib import Path

from .grading import CellGrade, Workspace
from .late import Lateness, class_lateness
from .plain_text import csv_cell, printable


@dataclass(frozen=True)
class ClassGrades:
    """The grades of a class: every graded cell of every student."""

    students: list[str]
    cells: list[tuple[str, str, str, float]]  # (notebook, grade_id, kind, max_score) in course order
    grades: dict[str, dict[tuple[str, str], CellGrade]]
    late: dict[str, Lateness] = field(default_factory=dict)  # each student's lateness and late penalty (.late)

    def penalty(self, student: str) -> float:
        """The student's late penalty in points (0 if on time; see :mod:`.late`)."""
        entry = self.late.get(student)
        return entry.penalty if entry else 0.0

    def final_total(self, student: str) -> float:
        """Points earned so far less the late penalty (never below 0: the penalty is at most what was earned)."""
        return self.total(student) - self.penalty(student)

    @property
    def notebooks(self) -> list[str]:
        return sorted({cell[0] for cell in self.cells})

    def notebook_total(self, student: str, notebook: str) -> float:
        return sum(g.score or 0.0 for key, g in self.grades[student].items() if key[0] == notebook)

    def total(self, student: str, kind: str | None = None) -> float:
        """Points earned so far (pending cells count nothing), of one kind of cell or of all."""
        return sum(g.score or 0.0 for g in self.grades[student].values() if kind is None or g.kind == kind)

    def pending(self, student: str) -> float:
        """Points of the student's cells still waiting for a grader (see :attr:`.CellGrade.pending`)."""
        return sum(g.max_score for g in self.grades[student].values() if g.pending)

    def pending_cells(self, student: str) -> list[CellGrade]:
        """The student's cells still waiting for a grader, in course order."""
        return [g for key, g in sorted(self.grades[student].items()) if g.pending]

    def incomplete(self) -> list[str]:
        """Students with at least one cell still waiting for a grader."""
        return [s for s in self.students if self.pending_cells(s)]


def collect_grades(workspace: Workspace, students: list[str]) -> ClassGrades:
    """Read the gradebook's grades of ``students``, with each one's late penalty (:mod:`.late`)."""
    grades, cells = {}, {}
    for student in students:
        rows = workspace.grades(student)
        grades[student] = {(g.notebook, g.grade_id): g for g in rows}
        for g in rows:
            cells[(g.notebook, g.grade_id)] = (g.notebook, g.grade_id, g.kind, g.max_score)
    data = ClassGrades(students, [cells[key] for key in sorted(cells)], grades)
    return replace(data, late=class_lateness(workspace, data))


def csv_columns(data: ClassGrades) -> list[str]:
    """The CSV header: student, a column per graded cell and a total per notebook, then the totals."""
    columns = ["student"]
    for notebook in data.notebooks:
        columns += [f"{notebook}:{c[1]}" for c in data.cells if c[0] == notebook]
        columns.append(f"{notebook}:total")
    columns += ["autograded_total", "manual_total", "total", "max_total", "pending", "complete"]
    return columns + ["hours_late", "late_penalty", "total_after_penalty"]


def write_csv(data: ClassGrades, path: Path) -> Path:
    """One row per student; an empty cell is pending (not graded yet, or marked for review)."""
    max_total = sum(c[3] for c in data.cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([csv_cell(column) for column in csv_columns(data)])
        for student in data.students:
            row = [csv_cell(student)]
            for notebook in data.notebooks:
                for cell in (c for c in data.cells if c[0] == notebook):
                    grade = data.grades[student].get((cell[0], cell[1]))
                    row.append("" if grade is None or grade.score is None else f"{grade.score:g}")
                row.append(f"{data.notebook_total(student, notebook):g}")
            row += [
                f"{data.total(student, 'autograded'):g}",
                f"{data.total(student, 'manual'):g}",
                f"{data.total(student):g}",
                f"{max_total:g}",
                f"{data.pending(student):g}",
                "no" if data.pending_cells(student) else "yes",
                f"{data.late[student].seconds_late / 3600:.2f}" if student in data.late else "0.00",
                f"{data.penalty(student):g}",
                f"{data.final_total(student):g}",
            ]
            writer.writerow(row)
    return path


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    """A grades CSV as ``{student: {column: value}}``."""
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def pending_line(data: ClassGrades) -> str:
    """One line: how many students still need hand grading, and how many points that is."""
    incomplete = data.incomplete()
    if not incomplete:
        return f"hand grading: complete for all {len(data.students)} students"
    cells = sum(len(data.pending_cells(s)) for s in incomplete)
    review = sum(1 for s in incomplete for g in data.pending_cells(s) if g.review)
    points = sum(data.pending(s) for s in incomplete)
    return (
        f"hand grading: {len(incomplete)} of {len(data.students)} students still need hand grading "
        f"({cells} cells, {points:g} points pending"
        + (f", of which {review} changed since graded and marked for review" if review else "")
        + "); their totals are partial (see the pending and complete columns)"
    )


def late_line(data: ClassGrades) -> str:
    """One line: who submitted late and what it cost (the totals in the CSV's ``total_after_penalty``)."""
    late = [entry for student in data.students if (entry := data.late.get(student)) and entry.seconds_late > 0]
    if not late:
        return "late work: none" + ("" if any(e.due for e in data.late.values()) else " (no due date set)")
    points = sum(entry.penalty for entry in late)
    names = ", ".join(printable(entry.student) for entry in late[:10]) + (" ..." if len(late) > 10 else "")
    return f"late work: {len(late)} student(s) submitted late ({names}); late penalties {points:g} points in all"


def summary(data: ClassGrades) -> str:
    """What is pending, class mean and spread, per-question averages, and the checks that fail most often."""
    if not data.students:
        return "no graded students"
    totals = [data.total(s) for s in data.students]
    max_total = sum(c[3] for c in data.cells)
    lines = [
        pending_line(data),
        late_line(data),
        f"{len(data.students)} students; total out of {max_total:g}: mean {statistics.mean(totals):.2f}, "
        f"median {statistics.median(totals):g}, min {min(totals):g}, max {max(totals):g}",
        "",
        f"{'question (grade_id)':<40} {'kind':<10} {'max':>4} {'mean':>6} {'full':>5} {'zero':>5} {'pending':>7}",
    ]
    failures = []
    for notebook, grade_id, kind, max_score in data.cells:
        scores = [
            data.grades[s][(notebook, grade_id)].score for s in data.students if (notebook, grade_id) in data.grades[s]
        ]
        graded = [x for x in scores if x is not None]
        mean = f"{statistics.mean(graded):.2f}" if graded else "-"
        full = sum(1 for x in graded if x == max_score)
        zero = sum(1 for x in graded if x == 0)
        waiting = len(scores) - len(graded)
        lines.append(f"{printable(grade_id):<40} {kind:<10} {max_score:>4g} {mean:>6} {full:>5} {zero:>5} {waiting:>7}")
        if kind == "autograded":
            failures.append((zero, printable(f"{notebook}:{grade_id}")))
    failing = [
        f"  {name}: failed by {count} of {len(data.students)}"
        for count, name in sorted(failures, reverse=True)
        if count
    ]
    lines += ["", "tests failed most often:"] + (failing[:10] or ["  none"])
    return "\n".join(lines)


def grade_table(data: ClassGrades) -> str:
    """Per student: points per notebook, totals and points pending, as a text table."""
    notebooks = data.notebooks
    header = (
        f"{'student':<20}"
        + "".join(f"{nb[:2]:>6}" for nb in notebooks)
        + f"{'auto':>7}{'manual':>8}{'total':>7}{'pending':>8}"
    )
    lines = [header, "-" * len(header)]
    for student in data.students:
        per_notebook = [data.notebook_total(student, nb) for nb in notebooks]
        lines.append(
            f"{printable(student):<20}"
            + "".join(f"{x:>6g}" for x in per_notebook)
            + f"{data.total(student, 'autograded'):>7g}{data.total(student, 'manual'):>8g}{data.total(student):>7g}"
            + f"{data.pending(student):>8g}"
        )
    return "\n".join(lines)
