"""Grades in the column layout a learning platform imports: Canvas, Moodle, Gradescope.

One score per student for the whole assignment: the gradebook's total (hand grades included) minus the late
penalty (:mod:`.late`). The rule of the project CSV holds here too: a total is never exported as if it were final
while points still wait for hand grading. The project CSV says so in its ``pending`` and ``complete`` columns; a
platform's import has no such column and would take a partial total as the grade, so a student with pending points
gets an *empty* score cell (the platform imports nothing for them) and :func:`write_lms_csv` returns their ids so
that the command names them. Export again once hand grading is done.

Layouts (what each platform's grade import reads):

- ``canvas``: the Canvas gradebook CSV: ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``, then
  one column per assignment named ``<assignment> (<Canvas assignment id>)``; the second row is ``Points Possible``
  with the maximum under the assignment. The student id goes into the column ``id_column`` names (default
  ``SIS User ID``), the other id columns stay empty: Canvas matches a row by whichever id it has.
- ``moodle``: Moodle's grade import from a CSV file: an identifier column (``ID number``, mapped to the user
  field of that name in the import form) and one grade column named after the grade item.
- ``gradescope``: Gradescope's score upload: ``Name``, ``SID``, ``Email`` (students are matched by SID or
  email), ``Total Score`` and ``Max Points``.

Every text cell goes through :func:`.plain_text.csv_cell` (printable, never a spreadsheet formula).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from .plain_text import csv_cell

FORMATS = ("canvas", "moodle", "gradescope")
CANVAS_ID_COLUMNS = ("ID", "SIS User ID", "SIS Login ID")


@dataclass(frozen=True)
class LmsRow:
    """One student's line: the score to import (``None``: none yet, points pending) and the points possible."""

    student: str
    score: float | None
    max_score: float


def header(fmt: str, assignment: str, assignment_id: str = "") -> list[str]:
    """The header row of ``fmt`` for the assignment ``assignment`` (Canvas: its id in Canvas too)."""
    if fmt == "canvas":
        name = f"{assignment} ({assignment_id})" if assignment_id else assignment
        return ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", name]
    if fmt == "moodle":
        return ["ID number", assignment]
    if fmt == "gradescope":
        return ["Name", "SID", "Email", "Total Score", "Max Points"]
    raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def lms_rows(fmt: str, rows: list[LmsRow], assignment: str, assignment_id: str = "", id_column: str = "SIS User ID"):
    """Every row of the file, header first, as lists of strings (not yet defused: see :func:`write_lms_csv`)."""
    table = [header(fmt, assignment, assignment_id)]
    if fmt == "canvas":
        if id_column not in CANVAS_ID_COLUMNS:
            raise ValueError(f"unknown Canvas id column {id_column!r}: one of {', '.join(CANVAS_ID_COLUMNS)}")
        possible = max((r.max_score for r in rows), default=0.0)
        table.append(["Points Possible", "", "", "", "", f"{possible:g}"])
        for row in rows:
            ids = ["" if column != id_column else row.student for column in CANVAS_ID_COLUMNS]
            table.append([row.student, *ids, "", _score(row.score)])
    elif fmt == "moodle":
        table += [[row.student, _score(row.score)] for row in rows]
    else:
        table += [[row.student, row.student, "", _score(row.score), f"{row.max_score:g}"] for row in rows]
    return table


_NUMBER = re.compile(r"-?\d+(\.\d+)?(e[-+]?\d+)?")


def _cell(text: str) -> str:
    """A score the grader wrote stays a number; any other cell is made safe (:func:`.plain_text.csv_cell`)."""
    return text if _NUMBER.fullmatch(text) else csv_cell(text)


def write_lms_csv(
    path: Path,
    fmt: str,
    rows: list[LmsRow],
    assignment: str,
    assignment_id: str = "",
    id_column: str = "SIS User ID",
) -> list[str]:
    """Write the ``fmt`` file to ``path``; return the students left without a score (points pending)."""
    table = lms_rows(fmt, rows, assignment, assignment_id, id_column)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([[_cell(cell) for cell in line] for line in table])
    return [row.student for row in rows if row.score is None]


def rows_from_grades(data) -> list[LmsRow]:
    """One :class:`LmsRow` per student of ``data`` (:class:`.export.ClassGrades`): the total after the late
    penalty, or no score while points are pending."""
    possible = sum(cell[3] for cell in data.cells)
    return [LmsRow(s, None if data.pending_cells(s) else data.final_total(s), possible) for s in data.students]
