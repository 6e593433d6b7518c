"""The instructor report: one line per problem, flag or fault, per student.

Each line names the student, the file, what is wrong and what the grader did about it
(the same four fields as the import report), so that nothing the grader decided on its
own goes unsaid.
"""

from __future__ import annotations

import csv
from pathlib import Path

from .pipeline import SubmissionResult

REPORT_FILE = "grading_report.csv"


def report_rows(result: SubmissionResult) -> list[tuple[str, str, str, str]]:
    rows = [(n.student, n.file, n.problem, n.action) for n in result.notes]
    rows += [
        (result.student, flag.split(" ", 1)[0], "FLAG " + flag.split(" ", 1)[1], "clean check recorded; review")
        for flag in result.flags
    ]
    rows += [(result.student, "-", event, "contained; graded what could be graded") for event in result.events]
    if result.isolation != "jail":
        rows.append((result.student, "-", "student code ran without the jail", "see README, Trust model"))
    return rows


def write_report(root: Path, results: list[SubmissionResult]) -> tuple[Path, list[str]]:
    """Write ``grading_report.csv`` for ``results``; return its path and the lines to print."""
    path = root / REPORT_FILE
    rows = [row for result in results for row in report_rows(result)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "file", "problem", "action"])
        writer.writerows(rows)
    return path, [f"NOTE {s}: {f}: {p} -> {a}" for s, f, p, a in rows]
