"""A grading workspace: an nbgrader course directory where submissions are autograded.

Layout under ``root`` (nbgrader's own): ``source/gmm_em`` (the source notebooks with
hidden tests and the skeleton package), ``release/``, ``submitted/<student>/gmm_em``,
``autograded/...``, ``feedback/...`` and the gradebook (``gradebook.db``, SQLite,
unless a database URL is given).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .build import generate_release
from .config import CELL_TIMEOUT_SECONDS, nbgrader_config
from .environment import pin_threads, use_this_environment
from .paths import ASSIGNMENT_ID, COURSE_ID
from .submissions import TIMESTAMP_FORMAT


@dataclass(frozen=True)
class CellGrade:
    """The grade of one graded cell of one student's notebook, as the gradebook holds it.

    ``score`` is nbgrader's final score (``Grade.score``: the manual score if a grader gave one, else the
    autograder's, plus any extra credit), or ``None`` while the cell is *pending*: a written answer not graded
    yet, or a hand-graded cell whose answer changed since (marked ``needs_manual_grade`` for review; its old
    ``manual_score`` is kept in the gradebook and here, but does not count until a grader confirms it).
    ``comment`` is the grader's comment (``manual_comment``), else the autograder's (``auto_comment``, e.g.
    "No response."), else empty.
    """

    notebook: str
    grade_id: str
    kind: str  # "autograded" (a test cell) or "manual" (a written answer)
    score: float | None
    max_score: float
    auto_score: float | None = None
    manual_score: float | None = None
    extra_credit: float | None = None
    needs_manual_grade: bool = False
    comment: str = ""

    @property
    def pending(self) -> bool:
        """True while the cell waits for a grader (its points are not in any total yet)."""
        return self.score is None

    @property
    def review(self) -> bool:
        """True for a hand-graded cell whose answer changed since it was graded (pending until confirmed)."""
        return self.needs_manual_grade and self.manual_score is not None


@dataclass
class Workspace:
    root: Path
    db_url: str | None = None
    cell_timeout: int = CELL_TIMEOUT_SECONDS
    _api: object = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.root / 'gradebook.db'}"

    def api(self):
        if self._api is None:
            from nbgrader.apps import NbGraderAPI

            use_this_environment()
            pin_threads()
            self._api = NbGraderAPI(config=nbgrader_config(self.root, self.db_url, self.cell_timeout))
            self._api.log.setLevel(logging.ERROR)
        return self._api

    def prepare(self) -> None:
        """Stage the sources and record the assignment in the gradebook (keeps existing grades)."""
        self.root.mkdir(parents=True, exist_ok=True)
        generate_release(self.root, self.db_url, fresh_db=False)

    def submitted_dir(self, student_id: str) -> Path:
        return self.root / "submitted" / student_id / ASSIGNMENT_ID

    def autograded_dir(self, student_id: str) -> Path:
        return self.root / "autograded" / student_id / ASSIGNMENT_ID

    def submit(self, student_id: str, folder: Path, timestamp: datetime | None = None) -> Path:
        """Copy a submission folder into ``submitted/`` (the original is never touched)."""
        target = self.submitted_dir(student_id)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(folder, target, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        stamp = (timestamp or datetime.now(UTC)).strftime(TIMESTAMP_FORMAT)
        (target / "timestamp.txt").write_text(stamp + "\n")
        return target

    def autograde(self, student_id: str) -> dict:
        """Run nbgrader autograde for one student; returns nbgrader's result dict."""
        return self.api().autograde(ASSIGNMENT_ID, student_id, force=True, create=True)

    def grades(self, student_id: str) -> list[CellGrade]:
        """Every graded cell of the student's submission, as recorded in the gradebook (see :class:`CellGrade`)."""
        from nbgrader.api import Gradebook

        grades = []
        with Gradebook(self.database_url, COURSE_ID) as gradebook:
            submission = gradebook.find_submission(ASSIGNMENT_ID, student_id)
            for notebook in sorted(submission.notebooks, key=lambda nb: nb.name):
                comments = {c.name: c.manual_comment or c.auto_comment or "" for c in notebook.comments}
                for grade in sorted(notebook.grades, key=lambda g: g.name):
                    kind = "autograded" if grade.cell.cell_type == "code" else "manual"
                    unscored = grade.manual_score is None and grade.auto_score is None
                    score = None if grade.needs_manual_grade or unscored else float(grade.score)
                    grades.append(
                        CellGrade(
                            notebook.name,
                            grade.name,
                            kind,
                            score,
                            grade.max_score,
                            auto_score=grade.auto_score,
                            manual_score=grade.manual_score,
                            extra_credit=grade.extra_credit,
                            needs_manual_grade=bool(grade.needs_manual_grade),
                            comment=comments.get(grade.name, ""),
                        )
                    )
        return grades
