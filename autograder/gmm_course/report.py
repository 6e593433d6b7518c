"""The instructor report: one line per problem, flag or fault, per student.

Each line names the student, the file, what is wrong and what the grader did about it
(the same four fields as the import report), so that nothing the grader decided on its
own goes unsaid. Every field is student-controlled in part (grade ids, file names,
messages quoting student output), so each is made printable and encodable
(:func:`.plain_text.printable`) before it reaches the terminal, and each CSV cell is
also defused against spreadsheet formulas (:func:`.plain_text.csv_cell`). The file is
written whole and then moved into place: a report cut short cannot replace a good one.

A run that grades some students only (``autograde --force STUDENT``) replaces the lines
of those students and keeps every other student's lines as they were: the report is
merged by student, so a partial run never loses the notes of the rest of the class.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

from .pipeline import SubmissionResult
from .plain_text import csv_cell, printable

REPORT_FILE = "grading_report.csv"

Row = tuple[str, str, str, str]


def report_rows(result: SubmissionResult) -> list[Row]:
    """The report lines of one graded submission: (student, file, problem, action), each field printable.

    ``file`` is empty for lines about the whole submission.
    """
    rows = [(n.student, n.file, n.problem, n.action) for n in result.notes]
    rows += [
        (result.student, flag.split(" ", 1)[0], "FLAG " + flag.split(" ", 1)[-1], "clean check recorded; review")
        for flag in result.flags
    ]
    rows += [(result.student, "", event, "contained; graded what could be graded") for event in result.events]
    if result.isolation != "jail":
        rows.append((result.student, "", "student code ran without the jail", "see README, Trust model"))
    return [(printable(s), printable(f), printable(p), printable(a)) for s, f, p, a in rows]


def failure_row(student: str, error: str) -> Row:
    """The report line of a student whose grading failed as a whole (so that no student vanishes from it)."""
    return (printable(student), "", printable(f"grading failed: {error}"), "not graded; re-run autograde")


def note_line(row: Row) -> str:
    """One report row as the ``NOTE`` line printed for the instructor."""
    student, file, problem, action = row
    return f"NOTE {student}: {file + ': ' if file else ''}{problem} -> {action}"


HEADER = ["student", "file", "problem", "action"]


def _kept_rows(path: Path, replaced: set[str]) -> list[list[str]]:
    """The lines of an existing report (as written, already escaped) of students not in ``replaced``."""
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8", errors="surrogateescape") as handle:
        rows = list(csv.reader(handle))
    if not rows or rows[0] != HEADER:
        return []  # not a report of ours: replaced whole, as before
    return [[csv_cell(field) for field in row] for row in rows[1:] if len(row) == 4 and row[0] not in replaced]


def write_report(
    root: Path,
    results: list[SubmissionResult],
    failures: Sequence[Row] = (),
    students: Sequence[str] = (),
) -> tuple[Path, list[str]]:
    """Merge this run's lines into ``grading_report.csv``; return its path and this run's lines to print.

    The lines of every student of this run (each of ``results``, each student of ``failures`` and each of
    ``students``, e.g. one graded now without any problem) replace that student's earlier lines; the lines of
    other students are kept. The rows are ordered by student, each student's lines in the order written.
    """
    path = root / REPORT_FILE
    rows = [row for result in results for row in report_rows(result)] + list(failures)
    replaced = {csv_cell(printable(s)) for s in [*(r.student for r in results), *students]}
    replaced |= {csv_cell(row[0]) for row in failures}
    merged = _kept_rows(path, replaced) + [[csv_cell(field) for field in row] for row in rows]
    merged.sort(key=lambda row: row[0])  # stable: each student's lines keep their order
    temporary = path.with_name(f".{REPORT_FILE}.tmp")
    with temporary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(merged)
    os.replace(temporary, path)
    return path, [note_line(row) for row in rows]
