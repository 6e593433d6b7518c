"""Shared fixtures: the reference package, the Old Faithful data, synthetic mixtures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gmm_reference as ref

REPO = Path(__file__).resolve().parents[1]
DATA_CSV = REPO / "course" / "data" / "old_faithful.csv"
SOURCE_DATA_CSV = REPO / "source_notebooks" / "data" / "old_faithful.csv"
CLI = [sys.executable, "-m", "gmm_course.cli"]


def gmm_course(*args, check=True, **kwargs) -> subprocess.CompletedProcess[str]:
    """Run ``gmm-course ARGS`` as an instructor would; raise with its output if it fails and ``check``."""
    run = subprocess.run([*CLI, *map(str, args)], cwd=REPO, capture_output=True, text=True, **kwargs)
    if check and run.returncode != 0:
        command = " ".join(map(str, args))
        raise AssertionError(f"gmm-course {command} exited {run.returncode}:\n{run.stdout}\n{run.stderr}")
    return run


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    """The demo class imported and autograded once, serially, through the CLI (as an instructor would).

    The reference run for every test that grades the same class another way (tests marked
    ``xdist_group("autograder")`` share it on one worker).
    """
    from gmm_course.demo_class import write_demo_class
    from gmm_course.grading import Workspace

    root = tmp_path_factory.mktemp("grading")
    work = root / "course"
    lms = write_demo_class(root / "lms")
    gmm_course("import", lms, "--work-dir", work)
    gmm_course("autograde", "--work-dir", work, "--timeout", 20, "--quiet", "--jobs", 1)
    return Workspace(work)


@pytest.fixture(scope="session")
def faithful() -> np.ndarray:
    """Old Faithful, shape (272, 2): eruptions, waiting (minutes)."""
    return ref.load_old_faithful(SOURCE_DATA_CSV)


def well_separated_mixture(seed: int, n_samples: int = 600, d: int = 2, k: int = 3):
    """A mixture whose components are far apart (EM identifies it), and a sample from it."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=10.0, size=(k, d))
    while np.min(np.linalg.norm(means[:, None] - means[None], axis=2) + 1e9 * np.eye(k)) < 6.0:
        means = rng.normal(scale=10.0, size=(k, d))
    factors = rng.normal(scale=0.6, size=(k, d, d))
    covariances = factors @ np.swapaxes(factors, 1, 2) + 0.3 * np.eye(d)
    weights = rng.dirichlet(np.full(k, 5.0))
    X, labels = ref.sample_mixture(weights, means, covariances, n_samples, rng)
    return ref.GMMParams(weights, means, covariances), X, labels


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Refuse to run when ``--dist loadgroup`` would not keep an ``xdist_group`` on one worker.

    The grading tests share module fixtures that grade whole classes; split across workers they would grade each
    class twice, at once. pytest-xdist groups by adding ``@group`` to the node id on each worker; a pytest that
    stores node ids elsewhere (9.2 does) makes that a silent no-op. This hook runs last, after xdist's, so the
    suffix must be there by now.
    """
    if not (hasattr(config, "workerinput") and getattr(config.option, "loadgroup", False)):  # set by xdist on workers
        return
    ungrouped = [item.nodeid for item in items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if ungrouped:
        for item in items:  # fail the run visibly: an error raised here would surface as an xdist INTERNALERROR
            item.add_marker(pytest.mark.skip(reason="not run: see the failing test_xdist_groups_are_applied"))
        problem = (
            f"--dist loadgroup is not grouping tests on this pytest/pytest-xdist pair ({len(ungrouped)} marked tests "
            f"have no @group suffix, e.g. {ungrouped[0]}): install the versions pyproject.toml pins"
        )
        name = "test_xdist_groups_are_applied"
        items.append(_GroupingFailure.from_parent(items[0].parent, name=name, problem=problem))


class _GroupingFailure(pytest.Item):
    """A test item that fails with the grouping problem found at collection."""

    def __init__(self, *, problem: str, **kwargs):
        super().__init__(**kwargs)
        self.problem = problem

    def runtest(self):
        raise AssertionError(self.problem)

    def reportinfo(self):
        return self.path, None, self.name
