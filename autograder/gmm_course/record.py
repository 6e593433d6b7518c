"""Write a graded submission into nbgrader's gradebook (one writer: the parent process).

Autograded cells get the clean check's score as nbgrader's ``auto_score``; written
answers get what nbgrader's own autograder would give them (0 and "No response." if
unchanged from the release, otherwise left for manual grading). A manual score an
instructor already gave is kept, and the cell is marked for review, as nbgrader does.
"""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.utils import compute_checksum, determine_grade, is_grade, is_solution

from .paths import ASSIGNMENT_ID, COURSE_ID
from .pipeline import SubmissionResult
from .submissions import TIMESTAMP_FORMAT


def _timestamp(autograded: Path) -> datetime | None:
    stamp = autograded / "timestamp.txt"
    if not stamp.exists():
        return None
    try:
        return datetime.strptime(stamp.read_text().strip(), TIMESTAMP_FORMAT)
    except ValueError:
        return None


def record_submission(db_url: str, root: Path, result: SubmissionResult) -> None:
    """Store ``result`` (and the written answers of ``autograded/<student>``) in the gradebook."""
    autograded = root / "autograded" / result.student / ASSIGNMENT_ID
    scores = {(c.notebook, c.grade_id): c.score for c in result.cells}
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
                    grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
                if is_solution(cell):
                    comment = gradebook.find_comment(grade_id, notebook.stem, ASSIGNMENT_ID, result.student)
                    unchanged = cell.metadata["nbgrader"].get("checksum") == compute_checksum(cell)
                    comment.auto_comment = "No response." if unchanged else None
        gradebook.db.commit()
