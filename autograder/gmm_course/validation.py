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


def validate_course(work_dir: Path, verbose: bool = True) -> list[str]:
    """The release checks plus real nbgrader autograding of a reference and a blank submission.

    Returns the list of problems (empty when the course is sound).
    """
    from .grading import Workspace
    from .release_checks import leaked_markers, stale_release_files

    def say(message: str) -> None:
        if verbose:
            print(message, flush=True)

    problems = []
    say("checking that course/ matches a fresh build ...")
    problems += stale_release_files()
    say("checking the release for solution and hidden-test markers ...")
    problems += leaked_markers()
    if work_dir.exists():
        shutil.rmtree(work_dir)
    workspace = Workspace(work_dir)
    say("staging the sources and the gradebook ...")
    workspace.prepare()
    with tempfile.TemporaryDirectory(prefix="gmm-validate-") as scratch:
        reference = prepare_submission(Path(scratch) / "reference", SOURCE_NOTEBOOKS_DIR, REFERENCE_PACKAGE_DIR)
        workspace.submit("reference", reference)
        workspace.submit("blank", STUDENT_PACKAGE_DIR.parent)
    for student, expect_full in (("reference", True), ("blank", False)):
        say(f"autograding the {student} submission with nbgrader ...")
        result = workspace.autograde(student)
        if not result["success"]:
            problems.append(f"{student}: nbgrader autograde failed: {result.get('error', '')[-2000:]}")
            continue
        for grade in workspace.grades(student):
            if grade.kind != "autograded":
                continue
            wanted = grade.max_score if expect_full else 0.0
            if grade.score != wanted:
                problems.append(
                    f"{student}: {grade.notebook} {grade.grade_id} scored {grade.score}/{grade.max_score}, "
                    f"expected {wanted}"
                )
    return problems
