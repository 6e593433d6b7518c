"""Where things live in the repository (one place, so every command agrees)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(os.environ.get("GMM_COURSE_ROOT", Path(__file__).resolve().parents[2]))
SOLUTIONS_DIR = REPO_ROOT / "solutions"
REFERENCE_PACKAGE_DIR = SOLUTIONS_DIR / "gmm_reference"
SOURCE_NOTEBOOKS_DIR = REPO_ROOT / "source_notebooks"
COURSE_DIR = REPO_ROOT / "course"
STUDENT_PACKAGE_DIR = COURSE_DIR / "gmm_student"
AUTOGRADER_DIR = REPO_ROOT / "autograder"
NBGRADER_CONFIG = AUTOGRADER_DIR / "nbgrader_config.py"
DEFAULT_WORK_DIR = REPO_ROOT / ".grading"
ASSIGNMENT_ID = "gmm_em"
COURSE_ID = "gmm-em-course"


def source_notebooks() -> list[Path]:
    """The course's source notebooks (``NN_name.ipynb``), in course order."""
    return sorted(SOURCE_NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
