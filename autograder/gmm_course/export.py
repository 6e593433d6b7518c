"""Grades out of the gradebook: a CSV (one row per student) and a summary for the instructor.

Text that reaches the CSV or the terminal (student ids, grade ids in the column names) goes through
:mod:`.plain_text`: printable, encodable, and never read as a spreadsheet formula. Scores are written by the
grader from numbers (``f"{score:g}"``) and cannot be formulas, so a negative score stays a number.
"""

from __future__ import annotations

import csv
import statistics
from dataclasses import dataclass
from pathlib import Path

from .grading import CellGrade, Workspace
from .plain_text import csv_cell, printable


@dataclass(frozen=True)
class ClassGrades:
    students: list[str]
    cells: list[tuple[str, str, str, float]]  # (notebook, grade_id, kind, max_score) in course order
    grades: dict[str, dict[tuple[str, str], CellGrade]]

    @property
    def notebooks(self) -> list[str]:
        return sorted({cell[0] for cell in self.cells})

    def notebook_total(self, student: str, notebook: str) -> float:
        return sum(g.score or 0.0 for key, g in self.grades[student].items() if key[0] == notebook)

    def total(self, student: str, kind: str | None = None) -> float:
        return sum(g.score or 0.0 for g in self.grades[student].values() if kind is None or g.kind == kind)


def collect_grades(workspace: Workspace, students: list[str]) -> ClassGrades:
    grades, cells = {}, {}
    for student in students:
        rows = workspace.grades(student)
        grades[student] = {(g.notebook, g.grade_id): g for g in rows}
        for g in rows:
            cells[(g.notebook, g.grade_id)] = (g.notebook, g.grade_id, g.kind, g.max_score)
    return ClassGrades(students, [cells[key] for key in sorted(cells)], grades)


def csv_columns(data: ClassGrades) -> list[str]:
    columns = ["student"]
    for notebook in data.notebooks:
        columns += [f"{notebook}:{c[1]}" for c in data.cells if c[0] == notebook]
        columns.append(f"{notebook}:total")
    return columns + ["autograded_total", "manual_total", "total", "max_total"]


def write_csv(data: ClassGrades, path: Path) -> Path:
    """One row per student; empty cells are written answers not graded yet."""
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
            ]
            writer.writerow(row)
    return path


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def summary(data: ClassGrades) -> str:
    """Class mean and spread, per-question averages, and the checks that fail most often."""
    if not data.students:
        return "no graded students"
    totals = [data.total(s) for s in data.students]
    max_total = sum(c[3] for c in data.cells)
    lines = [
        f"{len(data.students)} students; total out of {max_total:g}: mean {statistics.mean(totals):.2f}, "
        f"median {statistics.median(totals):g}, min {min(totals):g}, max {max(totals):g}",
        "",
        f"{'question (grade_id)':<40} {'kind':<10} {'max':>4} {'mean':>6} {'full':>5} {'zero':>5}",
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
        lines.append(f"{printable(grade_id):<40} {kind:<10} {max_score:>4g} {mean:>6} {full:>5} {zero:>5}")
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
    """Per student: points per notebook and totals, as a text table."""
    notebooks = data.notebooks
    header = f"{'student':<20}" + "".join(f"{nb[:2]:>6}" for nb in notebooks) + f"{'auto':>7}{'manual':>8}{'total':>7}"
    lines = [header, "-" * len(header)]
    for student in data.students:
        per_notebook = [data.notebook_total(student, nb) for nb in notebooks]
        lines.append(
            f"{printable(student):<20}"
            + "".join(f"{x:>6g}" for x in per_notebook)
            + f"{data.total(student, 'autograded'):>7g}{data.total(student, 'manual'):>8g}{data.total(student):>7g}"
        )
    return "\n".join(lines)
