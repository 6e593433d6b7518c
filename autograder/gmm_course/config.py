"""The nbgrader configuration of this course, in one place.

``autograder/nbgrader_config.py`` applies it for instructors who call ``nbgrader``
directly; ``gmm-course`` builds the same configuration for its own nbgrader calls.
"""

from __future__ import annotations

from pathlib import Path

from traitlets.config import Config

from .paths import ASSIGNMENT_ID, COURSE_ID, REFERENCE_PACKAGE_DIR

CELL_TIMEOUT_SECONDS = 60


def student_package_files() -> list[str]:
    """Relative paths of the gmm_student files a student submits (never overwritten by the grader)."""
    return sorted(
        f"gmm_student/{p.name}"
        for p in REFERENCE_PACKAGE_DIR.glob("*.py")
        if "# gmm-skeleton: exclude" not in p.read_text(encoding="utf-8").splitlines()[:5]
    )


def nbgrader_config(root: Path, db_url: str | None = None, cell_timeout: int = CELL_TIMEOUT_SECONDS) -> Config:
    """nbgrader settings for a course directory at ``root`` (gradebook: SQLite inside it by default)."""
    c = Config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.db_url = db_url or f"sqlite:///{Path(root).resolve() / 'gradebook.db'}"
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".DS_Store"]
    # Students implement gmm_student/*.py: grade their files, do not overwrite them with ours.
    c.Autograde.exclude_overwriting = {ASSIGNMENT_ID: student_package_files()}
    c.ExecutePreprocessor.timeout = cell_timeout
    c.ExecutePreprocessor.kernel_name = "python3"
    c.Execute.timeout = cell_timeout
    c.Execute.kernel_name = "python3"
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
    return c
