"""Write a graded submission into nbgrader's gradebook (one writer: the parent process).

Autograded cells get the clean check's score as nbgrader's ``auto_score``; written
answers get what nbgrader's own autograder would give them (0 and "No response." if
unchanged from the release, otherwise left for manual grading).

Hand grades are never touched: a ``manual_score``, ``extra_credit`` or
``manual_comment`` given in Formgrader stays in the gradebook through any number of
re-gradings. Whether it still *counts* depends on whether the answer it was given to
is still the one submitted (the re-grading rule, see :func:`keep_or_review`):

- each graded cell has a fingerprint of what its score depends on: for a written
  answer nbgrader's own checksum of the cell (as nbgrader's autograder compares it),
  for a test cell a hash of the test itself, the notebook's other code cells and the
  submitted files other than notebooks (the ``gmm_student`` package the test runs);
- the fingerprints recorded at each grading are kept in ``answers/<student>.json``
  in the course folder (the autograded notebook of the previous run is overwritten by
  the new one, and nbgrader's gradebook has no place for them);
- unchanged fingerprint (``autograde --force``, or a resubmission that left this cell
  alone): the hand grade stands and its review state is kept as it was;
- changed fingerprint, or none on record (a gradebook written before fingerprints were
  kept): the hand grade is kept but the cell is marked ``needs_manual_grade`` for
  review, as nbgrader does; it counts as pending (see :meth:`.Workspace.grades`) until
  the grader saves a score for it again in Formgrader.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from datetime import datetime
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.utils import compute_checksum, determine_grade, is_grade, is_solution

from .paths import ASSIGNMENT_ID, COURSE_ID
from .pipeline import SubmissionResult
from .submissions import TIMESTAMP_FORMAT

#: Folder of the course directory holding, per student, the fingerprint of each graded cell at its last grading.
ANSWERS_DIR = "answers"


def _timestamp(autograded: Path) -> datetime | None:
    stamp = autograded / "timestamp.txt"
    if not stamp.exists():
        return None
    try:
        return datetime.strptime(stamp.read_text().strip(), TIMESTAMP_FORMAT)
    except ValueError:
        return None


def answers_path(root: Path, student: str) -> Path:
    """Where the fingerprints of ``student``'s graded cells are kept."""
    return root / ANSWERS_DIR / f"{student}.json"


def load_fingerprints(root: Path, student: str) -> dict[str, str]:
    """``{"notebook/grade_id": fingerprint}`` of the student's last recorded grading (empty if none or unreadable)."""
    path = answers_path(root, student)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _save_fingerprints(root: Path, student: str, fingerprints: dict[str, str]) -> None:
    path = answers_path(root, student)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(fingerprints, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


def files_fingerprint(submitted: Path) -> str:
    """SHA-256 over the submitted files other than notebooks and the timestamp (the code the tests import)."""
    digest = hashlib.sha256()
    if submitted.is_dir():
        for path in sorted(p for p in submitted.rglob("*") if p.is_file()):
            relative = path.relative_to(submitted)
            if path.suffix == ".ipynb" or relative.as_posix() == "timestamp.txt" or "__pycache__" in relative.parts:
                continue
            digest.update(relative.as_posix().encode("utf-8", "surrogateescape") + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def cell_fingerprints(nb, files: str) -> dict[str, str]:
    """``{grade_id: fingerprint}`` of every graded cell of a notebook (see the module's re-grading rule)."""
    code = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code" and not is_grade(cell):
            code.update(cell.source.encode("utf-8", "surrogateescape") + b"\0")
    context = code.hexdigest() + files
    fingerprints = {}
    for cell in nb.cells:
        if not is_grade(cell):
            continue
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        if cell.cell_type == "code":
            test = cell.source.encode("utf-8", "surrogateescape")
            fingerprints[grade_id] = "test:" + hashlib.sha256(test + b"\0" + context.encode()).hexdigest()
        else:
            fingerprints[grade_id] = "answer:" + compute_checksum(cell)
    return fingerprints


def keep_or_review(grade, previous: str | None, current: str) -> None:
    """Set ``grade.needs_manual_grade`` after its ``auto_score`` was recorded, keeping every hand grade.

    No hand grade: review is needed only where the autograder gives no score (a written answer). A hand grade
    (``manual_score``) for the same answer as before keeps its state (graded, or still to review); for a changed
    answer, or one whose previous answer is unknown, it is kept in the gradebook and marked for review.
    """
    if grade.manual_score is None:
        grade.needs_manual_grade = grade.auto_score is None
    elif previous is None or previous != current:
        grade.needs_manual_grade = True


def record_submission(db_url: str, root: Path, result: SubmissionResult) -> None:
    """Store ``result`` (and the written answers of ``autograded/<student>``) in the gradebook."""
    autograded = root / "autograded" / result.student / ASSIGNMENT_ID
    files = files_fingerprint(root / "submitted" / result.student / ASSIGNMENT_ID)
    scores = {(c.notebook, c.grade_id): c.score for c in result.cells}
    previous = load_fingerprints(root, result.student)
    current = dict(previous)  # notebooks not graded in this run keep their fingerprints
    with Gradebook(db_url, COURSE_ID) as gradebook:
        gradebook.update_or_create_student(result.student)
        timestamp = _timestamp(autograded)
        kwargs = {"timestamp": timestamp} if timestamp else {}
        with warnings.catch_warnings():
            # nbgrader's add_submission trips a harmless SQLAlchemy autoflush warning
            warnings.simplefilter("ignore")
            gradebook.update_or_create_submission(ASSIGNMENT_ID, result.student, **kwargs)
        for notebook in sorted(autograded.glob("*.ipynb")):
            nb = nbformat.read(str(notebook), as_version=4)
            fingerprints = cell_fingerprints(nb, files)
            for cell in nb.cells:
                if not is_grade(cell) and not is_solution(cell):
                    continue
                grade_id = cell.metadata["nbgrader"]["grade_id"]
                if is_grade(cell):
                    grade = gradebook.find_grade(grade_id, notebook.stem, ASSIGNMENT_ID, result.student)
                    if cell.cell_type == "code":
                        grade.auto_score = scores.get((notebook.stem, grade_id), 0.0)
                    else:
                        grade.auto_score, _ = determine_grade(cell)
                    key = f"{notebook.stem}/{grade_id}"
                    keep_or_review(grade, previous.get(key), fingerprints[grade_id])
                    current[key] = fingerprints[grade_id]
                if is_solution(cell):
                    comment = gradebook.find_comment(grade_id, notebook.stem, ASSIGNMENT_ID, result.student)
                    unchanged = cell.metadata["nbgrader"].get("checksum") == compute_checksum(cell)
                    comment.auto_comment = "No response." if unchanged else None
        gradebook.db.commit()
    _save_fingerprints(root, result.student, current)
