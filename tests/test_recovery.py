"""On data drawn from a known mixture, the fit recovers it up to a permutation of components."""

from __future__ import annotations

import numpy as np
import pytest

import gmm_reference as ref

from .conftest import well_separated_mixture


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("d,k", [(2, 3), (3, 4)])
def test_fit_recovers_true_parameters(seed, d, k):
    truth, X, labels = well_separated_mixture(seed, n_samples=20_000, d=d, k=k)
    fit = ref.fit_gmm(X, k, n_init=3, rng=seed)
    perm = ref.match_components(truth.means, fit.means)
    weights, means, covariances = ref.permute_components(perm, *fit.params)
    # Sampling error with N = 20 000: weights ~ sqrt(w(1-w)/N) < 0.004, means ~ sigma/sqrt(N_k);
    # the bounds below are about 5 standard errors.
    np.testing.assert_allclose(weights, truth.weights, atol=0.02)
    np.testing.assert_allclose(means, truth.means, atol=0.1)
    np.testing.assert_allclose(covariances, truth.covariances, atol=0.15)
    # Hard labels agree with the generating labels up to the same permutation.
    agreement = np.mean(np.argsort(perm)[ref.GaussianMixture(k, init=fit.params).fit(X).predict(X)] == labels)
    assert agreement > 0.99


def test_one_dimensional_recovery():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(2.0, 0.25, 3000), rng.normal(4.3, 0.45, 7000)])
    fit = ref.fit_gmm_1d(x, 2, rng=rng)
    order = np.argsort(fit.means)
    np.testing.assert_allclose(fit.means[order], [2.0, 4.3], atol=0.03)
    np.testing.assert_allclose(np.sqrt(fit.variances[order]), [0.25, 0.45], atol=0.03)
    np.testing.assert_allclose(fit.weights[order], [0.3, 0.7], atol=0.02)


def test_sample_reproduces_moments_of_its_mixture():
    truth, _, _ = well_separated_mixture(4, d=2, k=2)
    X, labels = ref.sample_mixture(*truth, 50_000, np.random.default_rng(0))
    for k in range(2):
        points = X[labels == k]
        np.testing.assert_allclose(points.mean(axis=0), truth.means[k], atol=0.05)
        np.testing.assert_allclose(np.cov(points.T, bias=True), truth.covariances[k], atol=0.08)
    np.testing.assert_allclose(np.bincount(labels) / labels.size, truth.weights, atol=0.01)


def test_kmeans_finds_separated_clusters_and_keeps_empty_centroids():
    truth, X, labels = well_separated_mixture(6, n_samples=900, d=2, k=3)
    result = ref.kmeans(X, 3, np.random.default_rng(1))
    assert result.converged
    perm = ref.match_components(truth.means, result.centroids)
    assert np.mean(np.argsort(perm)[result.labels] == labels) > 0.98
    # A centroid far from every point keeps its place instead of becoming NaN.
    start = np.vstack([X[:2], [[1e6, 1e6]]])
    far = ref.kmeans(X, 3, 0, init=start)
    np.testing.assert_array_equal(far.centroids[2], [1e6, 1e6])
    assert np.all(np.isfinite(far.centroids))


def test_kmeans_plus_plus_prefers_far_points():
    # Two tight groups far apart: the second centroid must come from the other group.
    X = np.vstack([np.zeros((50, 2)) + np.arange(50)[:, None] * 1e-3, np.full((50, 2), 100.0)])
    for seed in range(20):
        centroids = ref.kmeans_plus_plus(X, 2, seed)
        assert abs(centroids[0, 0] - centroids[1, 0]) > 50
