"""Grade a notebook against a given gmm_student package: the reference, the skeleton, or a mutant.

These checks are what make the grader trustworthy: the reference must pass every
autograded cell, the blank skeleton must fail every one, and each known mistake must
fail exactly the cells its catalogue entry names.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .mutants import ALL_MUTANTS, prepare_submission
from .notebooks import GradeResult, autograded_results, execute_notebook
from .paths import REFERENCE_PACKAGE_DIR, SOURCE_NOTEBOOKS_DIR, STUDENT_PACKAGE_DIR


@dataclass(frozen=True)
class NotebookGrades:
    notebook: str
    package: str
    results: list[GradeResult]

    @property
    def failed(self) -> set[str]:
        return {r.grade_id for r in self.results if not r.passed}

    @property
    def passed(self) -> set[str]:
        return {r.grade_id for r in self.results if r.passed}


def grade_source_notebook(notebook: str, package: str = "reference", timeout: int = 120) -> NotebookGrades:
    """Run a source notebook (with its hidden tests) against a package in a scratch folder.

    ``package`` is "reference", "skeleton", or the name of a mutant from the catalogue.
    """
    with tempfile.TemporaryDirectory(prefix="gmm-check-") as scratch:
        folder = prepare_submission(
            Path(scratch) / "submission", SOURCE_NOTEBOOKS_DIR, REFERENCE_PACKAGE_DIR, [notebook]
        )
        if package == "skeleton":
            shutil.rmtree(folder / "gmm_student")
            shutil.copytree(STUDENT_PACKAGE_DIR, folder / "gmm_student")
        elif package != "reference":
            if package not in ALL_MUTANTS:
                raise ValueError(f"unknown package {package!r}: use reference, skeleton or a mutant name")
            ALL_MUTANTS[package].apply(folder)
        nb = execute_notebook(folder / notebook, cwd=folder, timeout=timeout)
        return NotebookGrades(notebook, package, autograded_results(nb))
