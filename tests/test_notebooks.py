"""The course notebooks: structure, the grader's verdicts, nbval on sources and release."""

from __future__ import annotations

import shutil
import subprocess
import sys

import nbformat
import pytest

from gmm_course.mutants import CATALOGUE
from gmm_course.normalise import normalise
from gmm_course.paths import COURSE_DIR, REFERENCE_PACKAGE_DIR, SOURCE_NOTEBOOKS_DIR
from gmm_course.validation import grade_source_notebook

from .conftest import REPO

NOTEBOOKS = [
    "01_em_1d_old_faithful.ipynb",
    "02_em_2d_full_covariance.ipynb",
    "03_log_sum_exp.ipynb",
    "04_choosing_k_bic_aic.ipynb",
    "05_kmeans_vs_random_init.ipynb",
    "06_project_report.ipynb",
]
# The project report (notebook 6) is written text graded by hand. It has no autograded cell: every
# function it runs is graded in notebooks 1-5, and a second test of them would charge one mistake twice.
REPORT = "06_project_report.ipynb"
# (autograded points, manually graded points) allowed per notebook, inclusive.
POINTS = {name: ((8, 14), (2, 6)) for name in NOTEBOOKS} | {REPORT: ((0, 0), (10, 16))}
SANITIZE = REPO / "tests" / "nbval_sanitize.cfg"


def _cells(name):
    return nbformat.read(SOURCE_NOTEBOOKS_DIR / name, as_version=4).cells


def _autograded_ids(name):
    return {
        c.metadata["nbgrader"]["grade_id"]
        for c in _cells(name)
        if c.metadata["nbgrader"]["grade"] and c.cell_type == "code"
    }


AUTOGRADED = [name for name in NOTEBOOKS if name != REPORT]


def test_the_six_notebooks_are_there():
    assert sorted(p.name for p in SOURCE_NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")) == NOTEBOOKS
    assert [name for name in NOTEBOOKS if _autograded_ids(name)] == AUTOGRADED
    # Every notebook with autograded cells has a mutant catalogue; the report may have an empty one.
    assert set(AUTOGRADED) <= set(CATALOGUE) <= set(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_nbgrader_metadata_is_complete_and_consistent(name):
    cells = _cells(name)
    prefix = "nb" + name[:2] + "_"
    grade_ids = [cell.metadata["nbgrader"]["grade_id"] for cell in cells]
    assert len(grade_ids) == len(set(grade_ids)), f"{name}: duplicate grade_id"
    assert all(g.startswith(prefix) for g in grade_ids), f"{name}: grade_ids must start with {prefix}"
    auto_points = manual_points = 0
    for cell in cells:
        meta = cell.metadata["nbgrader"]
        assert meta["schema_version"] == 3
        if meta["grade"] and not meta["solution"]:
            assert cell.cell_type == "code" and meta["locked"], f"{meta['grade_id']}: a test cell must be locked code"
            assert "BEGIN HIDDEN TESTS" in cell.source, f"{meta['grade_id']} has no hidden tests"
            auto_points += meta["points"]
        elif meta["grade"] and meta["solution"]:
            assert cell.cell_type == "markdown", f"{meta['grade_id']}: written answers are markdown"
            manual_points += meta["points"]
        elif meta["solution"]:
            pytest.fail(f"{meta['grade_id']}: code answers belong in gmm_student, not in the notebook")
        else:
            assert meta["locked"], f"{meta['grade_id']}: instructions and given code are read-only"
    (auto_low, auto_high), (manual_low, manual_high) = POINTS[name]
    assert auto_low <= auto_points <= auto_high, f"{name}: {auto_points} autograded points"
    assert manual_low <= manual_points <= manual_high, f"{name}: {manual_points} manually graded points"


def test_report_answers_carry_a_model_answer_and_a_rubric():
    # The release replaces each answer cell whole, so the rubric for instructors stays in the source.
    answers = [c for c in _cells(REPORT) if c.metadata["nbgrader"]["grade"] and c.metadata["nbgrader"]["solution"]]
    assert len(answers) >= 5
    for cell in answers:
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        assert cell.source.startswith("**Model answer.**"), f"{grade_id}: no model answer"
        assert "(Grading:" in cell.source, f"{grade_id}: no grading rubric"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stored_notebooks_are_normalised(name):
    nb = nbformat.read(SOURCE_NOTEBOOKS_DIR / name, as_version=4)
    assert normalise(nbformat.from_dict(nb)) == nb, "run `gmm-course run-source` to store it normalised"


@pytest.mark.slow
@pytest.mark.parametrize("graded_only", [False, True], ids=["whole", "graded-only"])
@pytest.mark.parametrize("name", AUTOGRADED)
def test_reference_passes_every_autograded_cell(name, graded_only):
    # graded-only: the reduced notebook the mutant and alternative tests run must keep every graded cell
    # and everything each needs (gmm_course.graded_cells).
    grades = grade_source_notebook(name, "reference", graded_only=graded_only)
    assert grades.results and not grades.failed, [r for r in grades.results if not r.passed]
    nb = nbformat.read(SOURCE_NOTEBOOKS_DIR / name, as_version=4)
    tests = {
        cell.metadata["nbgrader"]["grade_id"]
        for cell in nb.cells
        if cell.cell_type == "code"
        and cell.metadata.get("nbgrader", {}).get("grade")
        and not cell.metadata["nbgrader"].get("solution")
    }
    assert {r.grade_id for r in grades.results} == tests


@pytest.mark.slow
@pytest.mark.parametrize("graded_only", [False, True], ids=["whole", "graded-only"])
@pytest.mark.parametrize("name", AUTOGRADED)
def test_blank_skeleton_fails_every_autograded_cell(name, graded_only):
    grades = grade_source_notebook(name, "skeleton", graded_only=graded_only)
    assert grades.results and not grades.passed, f"{name}: the blank skeleton passes {sorted(grades.passed)}"


MUTANTS = [(name, mutant) for name, mutants in CATALOGUE.items() for mutant in mutants]


@pytest.mark.slow
@pytest.mark.parametrize("name, mutant", MUTANTS, ids=[m.name for _, m in MUTANTS])
def test_each_known_mistake_fails_exactly_its_cells(name, mutant):
    # Every cell of the reference runs in seconds; 30 s bounds the infinite-loop mutant.
    grades = grade_source_notebook(name, mutant.name, timeout=30, graded_only=True)
    assert grades.failed == set(mutant.fails), (
        f"{mutant.description}: failed {sorted(grades.failed)}, expected {sorted(mutant.fails)}"
    )


SPREADING = [
    pytest.param(mutant, other, id=f"{mutant.name}-in-nb{other[:2]}")
    for _, mutant in MUTANTS
    for other in AUTOGRADED
    if any(grade_id.startswith(f"nb{other[:2]}_") for grade_id in mutant.also_fails)
]


@pytest.mark.slow
@pytest.mark.parametrize("mutant, other", SPREADING)
def test_a_mistake_that_other_notebooks_test_too_fails_exactly_its_listed_cells_there(mutant, other):
    # also_fails (cells of other notebooks that call the same function) feeds the demo's expected scores.
    grades = grade_source_notebook(other, mutant.name, timeout=30, graded_only=True)
    listed = {grade_id for grade_id in mutant.also_fails if grade_id.startswith(f"nb{other[:2]}_")}
    assert grades.failed == listed, f"{mutant.description}: failed {sorted(grades.failed)} in {other}"


def test_every_notebook_has_at_least_five_known_mistakes():
    for name in AUTOGRADED:
        assert len(CATALOGUE[name]) >= 5, name
        covered = set().union(*(m.fails for m in CATALOGUE[name]))
        autograded = _autograded_ids(name)
        assert covered <= autograded, f"{name}: mutants name unknown cells {covered - autograded}"
    # A mistake in the report's code is one of notebooks 1-5's mistakes: no cell of its own can fail.
    assert CATALOGUE.get(REPORT, []) == [], f"{REPORT} has no autograded cell for a mutant to fail"


def _pytest(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
def test_nbval_source_notebooks_reproduce_their_stored_outputs():
    run = _pytest("--nbval", "--nbval-sanitize-with", str(SANITIZE), *NOTEBOOKS, cwd=SOURCE_NOTEBOOKS_DIR)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


@pytest.mark.slow
def test_nbval_lax_released_notebooks_run_with_a_complete_package(tmp_path):
    release = tmp_path / "course"
    shutil.copytree(COURSE_DIR, release, ignore=shutil.ignore_patterns("gmm_student", "__pycache__"))
    shutil.copytree(REFERENCE_PACKAGE_DIR, release / "gmm_student", ignore=shutil.ignore_patterns("__pycache__"))
    run = _pytest("--nbval-lax", *NOTEBOOKS, cwd=release)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
