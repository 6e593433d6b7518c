"""Build the student release: the skeleton from the reference, ``course/`` from the source notebooks.

nbgrader's ``generate_assignment`` runs in a staging course directory
(``build/nbgrader``): its source folder holds the source notebooks, the data,
the student README and the *skeleton* package, so the release can never contain the
reference. The release is then copied to ``course/`` (stale files removed) and its
notebooks normalised like the sources.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from .config import nbgrader_config
from .environment import use_this_environment
from .normalise import write_normalised
from .notebooks import read_notebook
from .paths import ASSIGNMENT_ID, COURSE_DIR, REFERENCE_PACKAGE_DIR, REPO_ROOT, SOURCE_NOTEBOOKS_DIR, source_notebooks
from .skeleton import write_skeleton

STAGING_DIR = REPO_ROOT / "build" / "nbgrader"
SOURCE_EXTRAS = ("data", "README.md", "requirements.txt")


def stage_source(staging: Path, skeleton_dir: Path) -> Path:
    """Lay out ``staging/source/gmm_em`` for nbgrader; return that folder."""
    source = staging / "source" / ASSIGNMENT_ID
    if source.exists():
        shutil.rmtree(source)
    source.mkdir(parents=True)
    notebooks = source_notebooks()
    if not notebooks:
        raise FileNotFoundError(f"no source notebooks (NN_name.ipynb) in {SOURCE_NOTEBOOKS_DIR}")
    for notebook in notebooks:
        shutil.copy2(notebook, source / notebook.name)
    for extra in SOURCE_EXTRAS:
        path = SOURCE_NOTEBOOKS_DIR / extra
        if path.is_dir():
            shutil.copytree(path, source / extra)
        elif path.is_file():
            shutil.copy2(path, source / extra)
    shutil.copytree(skeleton_dir, source / "gmm_student", ignore=shutil.ignore_patterns("__pycache__"))
    return source


def generate_release(staging: Path, db_url: str | None = None, fresh_db: bool = True) -> Path:
    """Generate the skeleton, run nbgrader generate_assignment in ``staging``; return the release folder.

    It also records the assignment, its notebooks and grade cells in the gradebook
    (SQLite in ``staging`` unless ``db_url`` names another); ``fresh_db`` starts that
    SQLite file anew (the build's own staging gradebook holds nothing else).
    """
    from nbgrader.apps import NbGraderAPI

    use_this_environment()
    skeleton_dir = staging / "skeleton" / "gmm_student"
    if skeleton_dir.exists():
        shutil.rmtree(skeleton_dir)
    write_skeleton(REFERENCE_PACKAGE_DIR, skeleton_dir)
    stage_source(staging, skeleton_dir)
    db = staging / "gradebook.db"
    if fresh_db and db_url is None and db.exists():
        db.unlink()
    api = NbGraderAPI(config=nbgrader_config(staging, db_url))
    api.log.setLevel(logging.ERROR)
    result = api.generate_assignment(ASSIGNMENT_ID, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{result['error']}\n{result['log']}")
    release = staging / "release" / ASSIGNMENT_ID
    for notebook in release.glob("*.ipynb"):
        write_normalised(read_notebook(notebook), notebook)
    return release


def sync_tree(source: Path, target: Path) -> None:
    """Make ``target`` an exact copy of ``source`` (files added, changed and removed)."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))


def build_release(course_dir: Path = COURSE_DIR, staging: Path = STAGING_DIR, verbose: bool = False) -> Path:
    """Regenerate ``course_dir`` (skeleton package included) from the sources."""
    release = generate_release(staging)
    sync_tree(release, course_dir)
    if verbose:
        files = sorted(p.relative_to(course_dir).as_posix() for p in course_dir.rglob("*") if p.is_file())
        print(f"built {course_dir} ({len(files)} files):")
        for name in files:
            print(f"  {name}")
    return course_dir
