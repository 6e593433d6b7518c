"""Checks of the student release: fresh (equal to a new build) and free of solutions."""

from __future__ import annotations

import filecmp
import tempfile
from pathlib import Path

from .build import build_release
from .paths import COURSE_DIR

FORBIDDEN_MARKERS = (
    "### BEGIN SOLUTION",
    "### END SOLUTION",
    "BEGIN HIDDEN TESTS",
    "END HIDDEN TESTS",
    "### BEGIN SKELETON",
    "gmm_reference",
    "BEGIN MARK SCHEME",
)


def _files(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts
    }


def stale_release_files(course_dir: Path = COURSE_DIR) -> list[str]:
    """Differences between ``course_dir`` and a fresh build (empty when it is up to date)."""
    with tempfile.TemporaryDirectory(prefix="gmm-build-") as scratch:
        fresh = build_release(Path(scratch) / "course", staging=Path(scratch) / "staging")
        ours, theirs = _files(course_dir), _files(fresh)
        problems = [f"course/{name}: missing (a fresh build has it)" for name in sorted(theirs - ours)]
        problems += [f"course/{name}: not produced by the build" for name in sorted(ours - theirs)]
        problems += [
            f"course/{name}: differs from a fresh build"
            for name in sorted(ours & theirs)
            if not filecmp.cmp(course_dir / name, fresh / name, shallow=False)
        ]
    return problems


def leaked_markers(course_dir: Path = COURSE_DIR) -> list[str]:
    """Every released file line that holds a solution or hidden-test marker."""
    problems = []
    for name in sorted(_files(course_dir)):
        path = course_dir / name
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for marker in FORBIDDEN_MARKERS:
                if marker in line:
                    problems.append(f"course/{name}:{number}: contains {marker!r}")
    return problems
