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

import nbformat

from .alternatives import ALL_ALTERNATIVES
from .graded_cells import graded_cells_only
from .mutants import ALL_MUTANTS, prepare_submission
from .notebooks import GradeResult, autograded_results, execute_notebook, read_notebook
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


def grade_source_notebook(
    notebook: str, package: str = "reference", timeout: int = 120, *, graded_only: bool = False
) -> NotebookGrades:
    """Run a source notebook (with its hidden tests) against a package in a scratch folder.

    ``package`` is "reference", "skeleton", the name of a mutant from the catalogue, or
    the names of one or more valid alternatives joined by "+" (applied in that order;
    they must change different code). With ``graded_only``, only the graded cells and the
    cells they need run (:func:`~gmm_course.graded_cells.graded_cells_only`): the same
    grades in a fraction of the time.
    """
    with tempfile.TemporaryDirectory(prefix="gmm-check-") as scratch:
        folder = prepare_submission(
            Path(scratch) / "submission", SOURCE_NOTEBOOKS_DIR, REFERENCE_PACKAGE_DIR, [notebook]
        )
        if package == "skeleton":
            shutil.rmtree(folder / "gmm_student")
            shutil.copytree(STUDENT_PACKAGE_DIR, folder / "gmm_student")
        elif package in ALL_MUTANTS:
            ALL_MUTANTS[package].apply(folder)
        elif package != "reference":
            names = package.split("+")
            unknown = [name for name in names if name not in ALL_ALTERNATIVES]
            if unknown:
                raise ValueError(
                    f"unknown package {package!r}: use reference, skeleton, a mutant name or "
                    f"alternative names joined by '+' (unknown: {', '.join(unknown)})"
                )
            for name in names:
                ALL_ALTERNATIVES[name].apply(folder)
        if graded_only:
            nbformat.write(graded_cells_only(read_notebook(folder / notebook)), str(folder / notebook))
        nb = execute_notebook(folder / notebook, cwd=folder, timeout=timeout)
        return NotebookGrades(notebook, package, autograded_results(nb))


#: Written into a scratch folder that ``validate`` made, so that a later run may empty it again.
SCRATCH_MARKER = ".gmm-validate-scratch"


def scratch_folder(work_dir: Path | None) -> tuple[Path, bool]:
    """The folder ``validate`` grades in, and whether to remove it afterwards.

    Without ``work_dir``, a fresh temporary folder (removed afterwards). A given folder is used only if it does
    not exist yet, is empty, or was made by an earlier ``validate`` (it holds :data:`SCRATCH_MARKER`); it is kept
    afterwards for inspection. Any other folder may hold a course's grades: it is refused, never emptied.
    """
    if work_dir is None:
        return Path(tempfile.mkdtemp(prefix="gmm-validate-")), True
    if work_dir.exists() and not work_dir.is_dir():
        raise ValueError(f"{work_dir} is a file, not a folder: give validate a new or empty folder (or no --work-dir)")
    if work_dir.is_dir() and any(work_dir.iterdir()):
        if not (work_dir / SCRATCH_MARKER).is_file():
            raise ValueError(
                f"{work_dir} is not empty and was not made by validate (it may hold a course's grades): "
                "give validate a new or empty folder, or no --work-dir for a temporary one"
            )
        shutil.rmtree(work_dir)  # validate's own scratch folder of an earlier run
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / SCRATCH_MARKER).write_text("made by gmm-course validate; emptied by its next run\n")
    return work_dir, False


def validate_course(work_dir: Path | None = None, verbose: bool = True) -> list[str]:
    """The release checks plus real nbgrader autograding of a reference and a blank submission.

    ``work_dir``: where to grade (see :func:`scratch_folder`); by default a temporary folder, removed afterwards.
    Returns the list of problems (empty when the course is sound).
    """
    folder, remove = scratch_folder(work_dir)
    try:
        return _validate_in(folder, verbose)
    finally:
        if remove:
            shutil.rmtree(folder, ignore_errors=True)


def _validate_in(work_dir: Path, verbose: bool) -> list[str]:
    """:func:`validate_course` in the scratch folder ``work_dir`` (made by validate, empty but for its marker)."""
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
