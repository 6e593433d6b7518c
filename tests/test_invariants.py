"""Property tests (hypothesis) of what EM guarantees, whatever the data and start."""

from __future__ import annotations

import numpy as np
import scipy.special
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import gmm_reference as ref

COVARIANCE_TYPES = ("full", "diag", "spherical", "tied")
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def data_and_start(draw):
    """A data set (N, d) from a random mixture and a random start of K components."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(20, 200))
    d = draw(st.integers(1, 4))
    k = draw(st.integers(1, 4))
    scale = draw(st.sampled_from([1e-2, 1.0, 1e3]))
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3 * scale, size=(k, d))
    X = centres[rng.integers(k, size=n)] + rng.normal(scale=scale, size=(n, d))
    covariance_type = draw(st.sampled_from(COVARIANCE_TYPES))
    start = ref.random_init(X, k, rng, covariance_type, reg_covar=1e-6 * scale**2)
    return X, start, covariance_type, scale


def _floor_binds(fit, covariance_type, d, reg_covar) -> bool:
    """Whether some component's smallest covariance eigenvalue came within 1000 x reg_covar of the floor."""
    for _, (weights, _, covariances) in fit.snapshots:
        full = ref.to_full_covariances(covariances, covariance_type, len(weights), d)
        if np.linalg.eigvalsh(full).min() < 1000 * reg_covar:
            return True
    return False


@SETTINGS
@given(data_and_start())
def test_em_invariants_hold_at_every_iteration(case):
    X, start, covariance_type, scale = case
    reg_covar = 1e-6 * scale**2
    fit = ref.run_em(
        X, start, covariance_type=covariance_type, tol=1e-12, max_iter=30, reg_covar=reg_covar, snapshot_every=1
    )
    history = fit.log_likelihood_history
    # EM never lowers the log-likelihood when its M-step is an exact maximiser. With reg_covar > 0
    # it stops being one once a component has collapsed onto the floor (Sigma + reg*I is not the
    # argmax; scikit-learn's history falls alike, see test_regularised_em_can_fall_like_sklearn).
    if not _floor_binds(fit, covariance_type, X.shape[1], reg_covar):
        event("log-likelihood checked for monotonicity")
        assert np.all(np.diff(history) >= -1e-9 * np.abs(history[:-1]).clip(1.0))
    for _, params in fit.snapshots:
        weights, _, covariances = params
        assert np.all(weights >= 0) and abs(weights.sum() - 1.0) < 1e-12
        full = ref.to_full_covariances(covariances, covariance_type, len(weights), X.shape[1])
        np.testing.assert_array_equal(full, np.swapaxes(full, 1, 2))
        assert np.all(np.linalg.eigvalsh(full) > 0)
        resp = ref.e_step(X, *params, covariance_type)
        assert np.all(resp >= 0)
        np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=0, atol=1e-12)
        log_resp, total = ref.log_e_step(X, *params, covariance_type)
        np.testing.assert_allclose(np.exp(log_resp), resp, atol=1e-12)
        np.testing.assert_allclose(total, ref.log_likelihood(X, *params, covariance_type), rtol=1e-12)


@SETTINGS
@given(data_and_start())
def test_em_without_regulariser_never_decreases(case):
    X, start, covariance_type, scale = case
    try:
        fit = ref.run_em(
            X, start, covariance_type=covariance_type, tol=1e-12, max_iter=30, reg_covar=0.0, snapshot_every=1
        )
    except ValueError:
        assume(False)  # a component collapsed onto fewer than d + 1 points: the likelihood is unbounded
    for _, (weights, _, covariances) in fit.snapshots:
        full = ref.to_full_covariances(covariances, covariance_type, len(weights), X.shape[1])
        # A component shrinking onto a point (the likelihood's singularity) or a nearly singular one:
        # float rounding, not EM, decides what happens there.
        eigenvalues = np.linalg.eigvalsh(full)
        assume(weights.min() > 1e-8 and eigenvalues.min() > 1e-6 * scale**2 and np.linalg.cond(full).max() < 1e8)
    history = fit.log_likelihood_history
    assert np.all(np.diff(history) >= -1e-9 * np.abs(history[:-1]).clip(1.0))


def test_regularised_em_can_fall_like_sklearn():
    """A component pinned at the floor: both implementations fall by the same tiny amount."""
    import warnings

    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(56)  # 20 points in 3-D, 4 components: one collapses (found by search)
    centres = rng.normal(scale=3, size=(4, 3))
    X = centres[rng.integers(4, size=20)] + rng.normal(size=(20, 3))
    start = ref.random_init(X, 4, rng, "full", reg_covar=1e-6)
    ours = ref.run_em(X, start, tol=1e-300, max_iter=40, reg_covar=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = GaussianMixture(
            4,
            weights_init=start.weights,
            means_init=start.means,
            precisions_init=np.linalg.inv(start.covariances),
            max_iter=40,
            tol=1e-300,
            reg_covar=1e-6,
        ).fit(X)
    common = min(len(theirs.lower_bounds_), ours.log_likelihood_history.size)  # an exact repeat stops a run
    np.testing.assert_allclose(
        ours.log_likelihood_history[:common] / X.shape[0], theirs.lower_bounds_[:common], rtol=1e-9
    )
    assert np.diff(ours.log_likelihood_history).min() < 0  # the fall is real ...
    assert np.diff(ours.log_likelihood_history).min() > -1e-2  # ... and tiny


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(30, 200), st.integers(1, 4))
def test_one_dimensional_em_never_decreases(seed, n, k):
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=n) * rng.choice([0.3, 3.0], size=n), 2)  # rounded, like the eruptions
    assume(np.unique(x).size >= k)
    fit = ref.fit_gmm_1d(x, k, rng=rng, tol=1e-12, max_iter=50)
    assert np.all(np.diff(fit.log_likelihoods) >= -1e-9 * np.abs(fit.log_likelihoods[:-1]).clip(1.0))
    assert abs(fit.weights.sum() - 1.0) < 1e-12 and np.all(fit.variances >= 1e-6)
    resp = ref.e_step_1d(x, fit.weights, fit.means, fit.variances)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, atol=1e-12)


finite_or_infinite = st.one_of(
    st.floats(min_value=-1e308, max_value=1e308),
    st.just(-np.inf),
)


@SETTINGS
@given(
    arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=finite_or_infinite),
    st.sampled_from([None, 0, 1, -1, (0, 1)]),
    st.booleans(),
)
def test_logsumexp_matches_scipy(a, axis, keepdims):
    with np.errstate(all="ignore"):  # scipy may warn on all -inf slices; we must not
        expected = scipy.special.logsumexp(a, axis=axis, keepdims=keepdims)
    ours = ref.logsumexp(a, axis=axis, keepdims=keepdims)
    assert np.shape(ours) == np.shape(expected)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=0)


def test_logsumexp_edge_cases_without_warnings():
    with np.errstate(all="raise"):  # any floating-point warning would raise here
        rows = ref.logsumexp(
            np.array(
                [
                    [-np.inf, -np.inf],
                    [1000.0, 1000.0],
                    [-1000.0, -1000.0],
                    [np.inf, 0.0],
                    [1e308, 1e308],
                    [-1e308, 1e308],
                ]
            ),
            axis=1,
        )
    np.testing.assert_array_equal(rows[:1], [-np.inf])
    np.testing.assert_allclose(rows[1:3], [1000.0 + np.log(2), -1000.0 + np.log(2)], rtol=1e-15)
    # 1e308 + log 2 rounds to 1e308: no overflow to inf.
    assert rows[3] == np.inf and rows[4] == 1e308 and rows[5] == 1e308
    assert np.isnan(ref.logsumexp(np.array([np.nan, 1.0])))
    assert ref.logsumexp([]) == -np.inf
    # The naive version really does fail where the stable one does not.
    assert ref.naive_logsumexp(np.array([1000.0, 1000.0])) == np.inf
    assert ref.naive_logsumexp(np.array([-1000.0, -1000.0])) == -np.inf
