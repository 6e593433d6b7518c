"""The student release: what a fresh build produces, with no solution or hidden test in it."""

from __future__ import annotations

import json

import pytest

from gmm_course.paths import COURSE_DIR, SOURCE_NOTEBOOKS_DIR
from gmm_course.release_checks import FORBIDDEN_MARKERS, leaked_markers, stale_release_files


@pytest.mark.slow
def test_committed_release_matches_a_fresh_build():
    problems = stale_release_files()
    assert not problems, "run `gmm-course build`:\n" + "\n".join(problems)


def test_release_holds_no_solution_or_hidden_test():
    assert leaked_markers() == []


def test_leak_check_can_fail(tmp_path):
    (tmp_path / "x.py").write_text("a = 1\n    ### BEGIN HIDDEN TESTS\n")
    (tmp_path / "y.ipynb").write_text('{"source": "import gmm_reference"}')
    problems = leaked_markers(tmp_path)
    assert len(problems) == 2 and "x.py:2" in problems[0]
    assert "gmm_reference" in FORBIDDEN_MARKERS


def test_release_has_every_notebook_without_outputs_and_the_student_files():
    sources = sorted(p.name for p in SOURCE_NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    released = sorted(p.name for p in COURSE_DIR.glob("*.ipynb"))
    assert released == sources and len(released) == 6
    for name in released:
        nb = json.loads((COURSE_DIR / name).read_text())
        for cell in nb["cells"]:
            assert cell.get("outputs", []) == [] and cell.get("execution_count") is None, name
    for required in ("README.md", "requirements.txt", "data/old_faithful.csv", "data/README.md", "gmm_student/em.py"):
        assert (COURSE_DIR / required).is_file(), required
