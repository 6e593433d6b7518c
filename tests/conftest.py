"""Shared fixtures: the reference package, the Old Faithful data, synthetic mixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gmm_reference as ref

REPO = Path(__file__).resolve().parents[1]
DATA_CSV = REPO / "course" / "data" / "old_faithful.csv"
SOURCE_DATA_CSV = REPO / "source_notebooks" / "data" / "old_faithful.csv"


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
