"""Rebuild each submitted notebook on the released one, keeping only the student's answers.

Every code cell of this course is the instructor's (locked); a student contributes the
``gmm_student`` package and written answers in markdown answer cells. So the notebook
that is graded is the *released* notebook with each answer cell filled from the
student's copy. Whatever else the student's copy holds or lacks (invalid JSON, answer
cells deleted, duplicated, moved or turned into code, locked cells edited, extra cells)
cannot change what runs; each such problem becomes a line of the instructor report.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .submissions import ImportNote


@dataclass
class SanitisedNotebook:
    notebook: nbformat.NotebookNode
    notes: list[ImportNote]


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _read_student_notebook(path: Path, student: str, notes: list[ImportNote]):
    where = path.name
    if not path.exists():
        notes.append(ImportNote(student, where, "notebook missing", "graded with no written answers"))
        return None
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
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


def sanitise(release_path: Path, student_path: Path, student: str) -> SanitisedNotebook:
    """The released notebook with the student's answers in its answer cells, and what was wrong."""
    notes: list[ImportNote] = []
    released = nbformat.read(str(release_path), as_version=4)
    student_cells = _read_student_notebook(student_path, student, notes)
    where = student_path.name
    if student_cells is None:
        return SanitisedNotebook(released, notes)
    by_id: dict[str, list[tuple[int, dict]]] = {}
    for index, cell in enumerate(student_cells):
        grade_id = _grade_id(cell)
        if isinstance(grade_id, str):
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
        cell.source = _text(answer)
    if positions != sorted(positions):
        notes.append(ImportNote(student, where, "cells moved out of order", "graded in the released order"))
    known = set(order)
    extra = sum(
        1
        for c in student_cells
        if _grade_id(c) not in known and c.get("cell_type") == "code" and not c.get("metadata", {}).get("nbgrader")
    )
    if extra:
        notes.append(ImportNote(student, where, f"{extra} code cell(s) added", "not run (only released code runs)"))
    unknown = sorted({gid for gid in by_id if gid not in known})
    if unknown:
        notes.append(ImportNote(student, where, f"unknown grade cells {', '.join(unknown)[:200]}", "ignored"))
    return SanitisedNotebook(copy.deepcopy(released), notes)
