"""Rebuild each submitted notebook on the released one, keeping only the student's answers.

Every code cell of this course is the instructor's (locked); a student contributes the
``gmm_student`` package and written answers in markdown answer cells. So the notebook
that is graded is the *released* notebook with each answer cell filled from the
student's copy. Whatever else the student's copy holds or lacks (invalid JSON, answer
cells deleted, duplicated, moved or turned into code, locked cells edited, extra cells)
cannot change what runs; each such problem becomes a line of the instructor report.

The student's file is untrusted JSON of any shape: a cell, its metadata or its
``nbgrader`` entry may be a list, a number or null, a grade id any string (a lone
surrogate included), a file may start with a UTF-8 byte-order mark. Whatever it
holds, :func:`sanitise` returns the released notebook (with as many answers as could
be read) and notes; it never raises on the student's file, and the answers it copies
are valid, encodable text.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .submissions import ImportNote, describe


@dataclass
class SanitisedNotebook:
    notebook: nbformat.NotebookNode
    notes: list[ImportNote]


def _nbgrader(cell) -> dict:
    """The cell's ``metadata.nbgrader`` entry, or ``{}`` when the cell, its metadata or the entry is not a dict."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    entry = meta.get("nbgrader") if isinstance(meta, dict) else None
    return entry if isinstance(entry, dict) else {}


def _grade_id(cell) -> str | None:
    grade_id = _nbgrader(cell).get("grade_id")
    return grade_id if isinstance(grade_id, str) else None


def _read_student_notebook(path: Path, student: str, notes: list[ImportNote]):
    where = path.name
    if not path.exists():
        notes.append(ImportNote(student, where, "notebook missing", "graded with no written answers"))
        return None
    try:
        raw = json.loads(path.read_bytes().decode("utf-8-sig"))  # a BOM is allowed
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        notes.append(ImportNote(student, where, f"not valid notebook JSON ({error})", "graded with no written answers"))
        return None
    cells = raw.get("cells") if isinstance(raw, dict) else None
    if not isinstance(cells, list):
        notes.append(ImportNote(student, where, "no list of cells", "graded with no written answers"))
        return None
    return [c for c in cells if isinstance(c, dict)]


def _text(cell) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _valid_text(text: str) -> tuple[str, bool]:
    """``text`` with lone surrogates (which no file or database can store) replaced by U+FFFD; and if any were."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text), True
    return text, False


def sanitise(release_path: Path, student_path: Path, student: str) -> SanitisedNotebook:
    """The released notebook with the student's answers in its answer cells, and what was wrong.

    Never raises because of the student's file: an unexpected failure reading it becomes a note, and the
    notebook is graded with no written answers.
    """
    try:
        return _sanitise(release_path, student_path, student)
    except Exception as error:  # noqa: BLE001 - one student's odd file must not stop their grading
        problem = f"could not be read as a notebook ({describe(error)})"
        notes = [ImportNote(student, student_path.name, problem, "graded with no written answers")]
        return SanitisedNotebook(nbformat.read(str(release_path), as_version=4), notes)


def _sanitise(release_path: Path, student_path: Path, student: str) -> SanitisedNotebook:
    notes: list[ImportNote] = []
    released = nbformat.read(str(release_path), as_version=4)
    student_cells = _read_student_notebook(student_path, student, notes)
    where = student_path.name
    if student_cells is None:
        return SanitisedNotebook(released, notes)
    by_id: dict[str, list[tuple[int, dict]]] = {}
    for index, cell in enumerate(student_cells):
        grade_id = _grade_id(cell)
        if grade_id is not None:
            by_id.setdefault(grade_id, []).append((index, cell))
    released_ids = [_grade_id(c) for c in released.cells]
    order = {gid: i for i, gid in enumerate(gid for gid in released_ids if gid)}
    positions = []
    for cell in released.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if not grade_id:
            continue
        found = by_id.get(grade_id, [])
        if not meta.get("solution"):
            if not found:
                notes.append(ImportNote(student, where, f"cell {grade_id} deleted", "restored from the release"))
            elif any(_text(c) != cell.source for _, c in found):
                notes.append(ImportNote(student, where, f"locked cell {grade_id} edited", "restored from the release"))
            if len(found) > 1:
                notes.append(
                    ImportNote(
                        student, where, f"cell {grade_id} appears {len(found)} times", "graded once, as released"
                    )
                )
            positions += [i for i, _ in found[:1]]
            continue
        if not found:
            notes.append(ImportNote(student, where, f"answer cell {grade_id} deleted", "graded as no answer"))
            continue
        index, answer = found[0]
        positions.append(index)
        if len(found) > 1:
            notes.append(
                ImportNote(
                    student, where, f"answer cell {grade_id} appears {len(found)} times", "the first copy is graded"
                )
            )
        if answer.get("cell_type") != cell.cell_type:
            problem = f"answer cell {grade_id} changed to a {answer.get('cell_type')} cell"
            notes.append(ImportNote(student, where, problem, "its text is graded as a markdown answer"))
        cell.source, replaced = _valid_text(_text(answer))
        if replaced:
            problem = f"answer cell {grade_id} holds characters that are not valid text (lone surrogates)"
            notes.append(ImportNote(student, where, problem, "each replaced by U+FFFD; the rest is graded"))
    if positions != sorted(positions):
        notes.append(ImportNote(student, where, "cells moved out of order", "graded in the released order"))
    known = set(order)
    extra = sum(
        1 for c in student_cells if _grade_id(c) not in known and c.get("cell_type") == "code" and not _nbgrader(c)
    )
    if extra:
        notes.append(ImportNote(student, where, f"{extra} code cell(s) added", "not run (only released code runs)"))
    unknown = sorted({gid for gid in by_id if gid not in known})
    if unknown:
        notes.append(ImportNote(student, where, f"unknown grade cells {', '.join(unknown)[:200]}", "ignored"))
    return SanitisedNotebook(copy.deepcopy(released), notes)
