"""The hostile corpus (tests/hostile/corpus.py), graded end to end as one class.

Every cheating attempt earns no point it did not earn honestly, every fault is
contained, correct submissions get full marks, and the gradebook holds for each
student exactly what the clean check decided.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from gmm_course.autograding import autograde_class, load_result
from gmm_course.grading import Workspace
from gmm_course.paths import ASSIGNMENT_ID, REFERENCE_PACKAGE_DIR, REPO_ROOT
from gmm_course.pipeline import GradingOptions
from gmm_course.report import report_rows
from gmm_course.sandbox.jail import jail_available

from .hostile import corpus

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile")]  # its own class, graded once per worker
NOTEBOOK = corpus.NOTEBOOK.removesuffix(".ipynb")


def _submission(case: corpus.Case, release: Path, target: Path, workspace_root: Path) -> Path:
    shutil.copytree(release, target, ignore=shutil.ignore_patterns("gmm_student", "*.md", "*.txt"))
    shutil.copytree(REFERENCE_PACKAGE_DIR, target / "gmm_student", ignore=shutil.ignore_patterns("__pycache__"))
    (target / "gmm_student" / "testing.py").unlink()
    for module, code in case.code.items():
        code = code.replace("REPO", str(REPO_ROOT)).replace("WORKSPACE", str(workspace_root))
        with (target / "gmm_student" / module).open("a", encoding="utf-8") as handle:
            handle.write("\n" + code)
    if case.edit:
        getattr(corpus, case.edit)(target)
    return target


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if not jail_available():
        pytest.skip("this machine does not allow unprivileged user namespaces (the jail)")
    base = tmp_path_factory.mktemp("hostile")
    workspace = Workspace(base / "course")
    workspace.prepare()
    release = workspace.root / "release" / ASSIGNMENT_ID
    for case in corpus.CASES:
        folder = _submission(case, release, base / "folders" / case.name, workspace.root)
        workspace.submit(case.name, folder)
    scratch = Path(tempfile.mkdtemp(prefix="gmm-hostile-"))  # short: the kernel's unix sockets live in it
    options = GradingOptions(cell_timeout=10, budget=120, notebooks=("01_",), jail=True, scratch_dir=str(scratch))
    outcomes = autograde_class(workspace, progress=False, options=options, jobs=2)
    yield workspace, {o.student: o for o in outcomes}, scratch
    shutil.rmtree(scratch, ignore_errors=True)


@pytest.mark.parametrize("case", corpus.CASES, ids=lambda c: c.name)
def test_each_case_costs_exactly_its_own_points(graded, case):
    workspace, outcomes, _ = graded
    assert outcomes[case.name].status == "graded", outcomes[case.name].error
    result = load_result(workspace.root, case.name)
    assert result.isolation == "jail"
    autograded = {c.grade_id: c.score for c in result.cells if c.notebook == NOTEBOOK}
    assert sum(autograded.values()) == case.score, (case.tries, [(c.grade_id, c.message) for c in result.cells])
    assert {c.grade_id for c in result.cells if c.flagged} == set(case.flags)
    lines = [" ".join(row) for row in report_rows(result)]
    for fragment in case.report:
        assert any(fragment in line for line in lines), (fragment, lines)
    # The gradebook holds what the clean check decided, cell by cell.
    recorded = {
        g.grade_id: g.score for g in workspace.grades(case.name) if g.notebook == NOTEBOOK and g.kind == "autograded"
    }
    assert recorded == autograded


def test_escape_attempts_leave_no_trace(graded):
    workspace, _, scratch = graded
    assert not (REPO_ROOT / "hostile-was-here.txt").exists()
    assert not (workspace.root / "hostile-was-here.txt").exists()
    assert not list(scratch.iterdir()), "scratch folders are removed after each student"


def test_flooded_output_is_cut(graded):
    workspace, _, _ = graded
    notebook = workspace.autograded_dir("floods_output") / corpus.NOTEBOOK
    assert notebook.stat().st_size < 3_000_000


def test_honest_neighbours_get_identical_full_marks(graded):
    workspace, _, _ = graded
    first, last = (workspace.grades(name) for name in ("honest_first", "honest_last"))
    assert [(g.grade_id, g.score) for g in first] == [(g.grade_id, g.score) for g in last]
    assert sum(g.score for g in first if g.kind == "autograded" and g.notebook == NOTEBOOK) == 10
