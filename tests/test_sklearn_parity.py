"""The reference agrees with scikit-learn's GaussianMixture started from the same parameters."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

import gmm_reference as ref

from .conftest import well_separated_mixture

COVARIANCE_TYPES = ("full", "diag", "spherical", "tied")
# A tol no change can fall below except an exactly repeated likelihood: both run max_iter iterations.
NEVER_CONVERGE = 1e-300


def _precisions(covariances, covariance_type):
    if covariance_type in ("full", "tied"):
        return np.linalg.inv(covariances)  # scikit-learn's API takes precisions; only the test inverts
    return 1.0 / covariances


def _sklearn_from(init, covariance_type, max_iter, tol=NEVER_CONVERGE):
    weights, means, covariances = init
    model = GaussianMixture(
        n_components=len(weights),
        covariance_type=covariance_type,
        weights_init=weights,
        means_init=means,
        precisions_init=_precisions(covariances, covariance_type),
        max_iter=max_iter,
        tol=tol,
        reg_covar=1e-6,
    )
    return model


def _datasets(faithful):
    _, synthetic, _ = well_separated_mixture(seed=3, n_samples=500, d=3, k=3)
    return {"faithful": (faithful, 2), "faithful_k3": (faithful, 3), "synthetic_d3": (synthetic, 3)}


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("dataset", ["faithful", "faithful_k3", "synthetic_d3"])
def test_em_history_and_parameters_match_sklearn(faithful, covariance_type, dataset):
    X, k = _datasets(faithful)[dataset]
    # Random starts: k-means starts on well-separated data are already at EM's fixed point.
    init = ref.random_init(X, k, np.random.default_rng(7), covariance_type)
    max_iter = 40
    ours = ref.run_em(X, init, covariance_type=covariance_type, tol=NEVER_CONVERGE, max_iter=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # expected: it is told never to converge
        theirs = _sklearn_from(init, covariance_type, max_iter).fit(X)

    # scikit-learn records the average log-likelihood of the parameters each E-step sees:
    # of the initial parameters and after iterations 1 .. n_iter_ - 1. Ours adds the final one.
    # With tol ~ 0, "converged" means "the likelihood repeated to the last bit": a question of rounding, which
    # differs between the two codes (scikit-learn 1.9 wobbles by ~1e-14 at the fixed point where ours repeats
    # exactly). So: either both ran to max_iter, or one stopped at an exact repeat where the other was at the
    # same fixed point up to rounding. Convergence under a real tol is compared in the next test.
    for converged, n_iter in ((ours.converged, ours.n_iter), (theirs.converged_, theirs.n_iter_)):
        assert converged or n_iter == max_iter
    if ours.converged != theirs.converged_:
        stop = min(ours.n_iter, theirs.n_iter_)
        tails = np.diff(ours.log_likelihood_history / X.shape[0])[stop - 2 :], np.diff(theirs.lower_bounds_)[stop - 2 :]
        assert max(np.max(np.abs(tail)) for tail in tails) < 1e-12
    # Near a fixed point the likelihood repeats to the last bit after a data-dependent number
    # of iterations (rounding differs between the two codes), so compare the common prefix.
    common = min(ours.log_likelihood_history.size, len(theirs.lower_bounds_))
    assert common >= 5
    np.testing.assert_allclose(
        ours.log_likelihood_history[:common] / X.shape[0], theirs.lower_bounds_[:common], rtol=1e-8
    )
    np.testing.assert_allclose(ours.weights, theirs.weights_, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(ours.means, theirs.means_, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(ours.covariances, theirs.covariances_, rtol=1e-6, atol=1e-10)
    # The final parameters score the same on the data under both implementations.
    np.testing.assert_allclose(ours.log_likelihood / X.shape[0], theirs.score(X), rtol=1e-8)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("tol", [1e-3, 1e-6])
def test_convergence_rule_matches_sklearn(faithful, covariance_type, tol):
    init = ref.random_init(faithful, 3, np.random.default_rng(7), covariance_type)
    ours = ref.run_em(faithful, init, covariance_type=covariance_type, tol=tol, max_iter=500)
    theirs = _sklearn_from(init, covariance_type, max_iter=500, tol=tol).fit(faithful)
    assert ours.converged and theirs.converged_
    # The same rule on the same sequence of likelihoods: scikit-learn scores the parameters before each M-step,
    # ours after it, so its change at iteration t is ours at iteration t - 1 and it stops one iteration later.
    assert theirs.n_iter_ == ours.n_iter + 1
    common = ours.log_likelihood_history.size - 1
    np.testing.assert_allclose(
        ours.log_likelihood_history[:common] / faithful.shape[0], theirs.lower_bounds_[:common], rtol=1e-8
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_bic_aic_and_score_samples_match_sklearn(faithful, covariance_type):
    init = ref.kmeans_init(faithful, 3, np.random.default_rng(2), covariance_type)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = _sklearn_from(init, covariance_type, max_iter=25).fit(faithful)
    model = ref.GaussianMixture(3, covariance_type, init=init, max_iter=25, tol=NEVER_CONVERGE).fit(faithful)
    assert model.n_parameters() == theirs._n_parameters()
    np.testing.assert_allclose(model.bic(faithful), theirs.bic(faithful), rtol=1e-8)
    np.testing.assert_allclose(model.aic(faithful), theirs.aic(faithful), rtol=1e-8)
    np.testing.assert_allclose(model.score_samples(faithful), theirs.score_samples(faithful), rtol=1e-8)
    np.testing.assert_allclose(model.predict_proba(faithful), theirs.predict_proba(faithful), atol=1e-8)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("d", [1, 2, 5])
@pytest.mark.parametrize("k", [1, 2, 4])
def test_parameter_count_matches_sklearn(covariance_type, d, k):
    X = np.random.default_rng(0).normal(size=(50, d))
    model = GaussianMixture(k, covariance_type=covariance_type, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    assert ref.n_parameters(k, d, covariance_type) == model._n_parameters()


def test_one_dimensional_em_matches_sklearn(faithful):
    x = faithful[:, 0]
    init = ref.initial_parameters_1d(x, 2, np.random.default_rng(4))
    ours = ref.fit_gmm_1d(x, 2, init=init, tol=NEVER_CONVERGE, max_iter=30, var_floor=1e-12)
    weights, means, variances = init
    model = GaussianMixture(
        2,
        covariance_type="spherical",
        weights_init=weights,
        means_init=means[:, None],
        precisions_init=1.0 / variances,
        max_iter=30,
        tol=NEVER_CONVERGE,
        reg_covar=1e-300,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x[:, None])
    np.testing.assert_allclose(ours.log_likelihoods[:-1] / x.size, model.lower_bounds_, rtol=1e-8)
    np.testing.assert_allclose(ours.means, model.means_[:, 0], rtol=1e-6)
    np.testing.assert_allclose(ours.variances, model.covariances_, rtol=1e-6)
    np.testing.assert_allclose(ours.weights, model.weights_, rtol=1e-6)
