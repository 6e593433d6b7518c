"""A synthetic class of submissions whose correct grades are known in advance.

Each demo student starts from the released notebooks, fills in (or not) the written
answers with the model answers of the source notebooks, and submits a gmm_student
package: the reference, the blank skeleton, or the reference with known mistakes from
the mutant catalogue applied. The autograded score each student must get follows
from the catalogue: full marks minus the points of every cell its mistakes fail.
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .mutants import ALL_MUTANTS
from .normalise import write_normalised
from .notebooks import read_notebook
from .paths import COURSE_DIR, REFERENCE_PACKAGE_DIR, SOURCE_NOTEBOOKS_DIR, source_notebooks
from .skeleton import is_excluded


@dataclass(frozen=True)
class DemoStudent:
    name: str
    description: str
    mutants: tuple[str, ...] = ()
    blank: bool = False
    as_zip: bool = False


DEMO_CLASS = (
    DemoStudent("ada_correct", "complete and correct"),
    DemoStudent("ben_blank", "blank: the release as handed out", blank=True, as_zip=True),
    DemoStudent(
        "cleo_mistakes",
        "typical mistakes in several functions",
        mutants=(
            "nb01_resp_unnormalised",
            "nb02_m_step_cov_divided_by_n",
            "nb03_lse_naive",
            "nb04_bic_n_not_log_n",
            "nb05_params_weights_are_counts",
        ),
        as_zip=True,
    ),
    DemoStudent("dan_raises", "code that raises an exception", mutants=("nb01_m_step_raises",)),
    DemoStudent("eve_infinite_loop", "an infinite loop", mutants=("nb05_kmeans_waits_for_empty_cluster",), as_zip=True),
)


def autograded_points() -> dict[tuple[str, str], float]:
    """(notebook, grade_id) -> points of every autograded test cell of the source notebooks."""
    points = {}
    for path in source_notebooks():
        for cell in read_notebook(path).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
                points[(path.stem, meta["grade_id"])] = float(meta["points"])
    return points


def expected_autograded_score(student: DemoStudent) -> float:
    points = autograded_points()
    if student.blank:
        return 0.0
    failed = set()
    for name in student.mutants:
        mutant = ALL_MUTANTS[name]
        failed |= {key for key in points if key[1] in mutant.fails}
    return sum(p for key, p in points.items() if key not in failed)


def fill_written_answers(released: Path, source: Path, target: Path) -> None:
    """Copy the model answers of the source notebook into the released one's answer cells."""
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in read_notebook(source).cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = read_notebook(released)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
    write_normalised(nbformat.from_dict(nb), target)


def make_submission(student: DemoStudent, folder: Path) -> Path:
    """Write one student's submission folder (the release with their work in it)."""
    folder.mkdir(parents=True)
    for released in sorted(COURSE_DIR.glob("*.ipynb")):
        if student.blank:
            shutil.copy2(released, folder / released.name)
        else:
            fill_written_answers(released, SOURCE_NOTEBOOKS_DIR / released.name, folder / released.name)
    shutil.copytree(COURSE_DIR / "data", folder / "data")
    package = folder / "gmm_student"
    if student.blank:
        shutil.copytree(COURSE_DIR / "gmm_student", package, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        package.mkdir()
        for path in REFERENCE_PACKAGE_DIR.glob("*.py"):
            if not is_excluded(path.read_text(encoding="utf-8")):
                shutil.copy2(path, package / path.name)
    for name in student.mutants:
        ALL_MUTANTS[name].apply(folder)
    return folder


def write_demo_class(lms_dir: Path, students=DEMO_CLASS) -> Path:
    """Write an LMS-style export: ``NAME/`` folders and ``NAME.zip`` files (wrapped in a top folder)."""
    if lms_dir.exists():
        shutil.rmtree(lms_dir)
    lms_dir.mkdir(parents=True)
    scratch = lms_dir.parent / (lms_dir.name + "_scratch")
    if scratch.exists():
        shutil.rmtree(scratch)
    for student in students:
        if not student.as_zip:
            make_submission(student, lms_dir / student.name)
            continue
        folder = make_submission(student, scratch / student.name / "gmm_course")
        with zipfile.ZipFile(lms_dir / f"{student.name}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder.parent.parent).as_posix())
    shutil.rmtree(scratch, ignore_errors=True)
    return lms_dir
