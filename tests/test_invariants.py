"""Property tests (hypothesis) of what EM guarantees, whatever the data and start."""

from __future__ import annotations

import numpy as np
import scipy.special
from hypothesis import HealthCheck, assume, given, settings
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


@SETTINGS
@given(data_and_start())
def test_em_invariants_hold_at_every_iteration(case):
    X, start, covariance_type, scale = case
    fit = ref.run_em(
        X, start, covariance_type=covariance_type, tol=1e-12, max_iter=30, reg_covar=1e-6 * scale**2, snapshot_every=1
    )
    history = fit.log_likelihood_history
    # The log-likelihood never decreases (up to float rounding of a sum of N terms).
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
