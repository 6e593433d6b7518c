"""Bad input raises ValueError with a message that says what is wrong."""

from __future__ import annotations

import numpy as np
import pytest

import gmm_reference as ref

X = np.random.default_rng(0).normal(size=(30, 2))
START = ref.random_init(X, 2, 0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ref.fit_gmm(X[:, 0], 2), r"X must be a 2-D array of shape \(N, d\); got shape \(30,\)"),
        (
            lambda: ref.fit_gmm(np.where(np.arange(60).reshape(30, 2) == 7, np.nan, X), 2),
            r"X contains NaN or infinite values \(first at index \(3, 1\)",
        ),
        (lambda: ref.fit_gmm(np.vstack([X, [[np.inf, 0]]]), 2), r"NaN or infinite"),
        (
            lambda: ref.fit_gmm(np.ones((10, 2)), 2),
            r"n_components=2 is larger than the number of distinct data points \(1\)",
        ),
        (lambda: ref.fit_gmm(X, 0), r"n_components must be at least 1"),
        (lambda: ref.fit_gmm(X, 2.5), r"n_components must be a positive integer"),
        (lambda: ref.fit_gmm(X, 2, tol=0), r"tol must be > 0; got 0"),
        (lambda: ref.fit_gmm(X, 2, tol=-1e-3), r"tol must be > 0"),
        (lambda: ref.fit_gmm(X, 2, max_iter=-1), r"max_iter must be a non-negative integer"),
        (lambda: ref.fit_gmm(X, 2, covariance_type="banana"), r"covariance_type must be one of full, diag"),
        (lambda: ref.fit_gmm(X, 2, init="magic"), r"init must be 'kmeans', 'random'"),
        (lambda: ref.fit_gmm(X, 2, rng=None), r"rng must be a numpy.random.Generator or an integer seed"),
        (lambda: ref.fit_gmm(X, 2, reg_covar=-1.0), r"reg_covar must be >= 0"),
        (lambda: ref.fit_gmm(np.zeros((0, 2)), 1), r"at least one row"),
        (lambda: ref.fit_gmm([["a", "b"]], 1), r"X must be numeric"),
        (lambda: ref.fit_gmm_1d(np.ones((3, 2)), 2), r"x must be a 1-D array of shape \(N,\)"),
        (lambda: ref.fit_gmm_1d(np.arange(5.0), 2, tol=0.0), r"tol must be > 0"),
        (lambda: ref.e_step(X, [0.5, 0.6], *START[1:]), r"weights must sum to 1; they sum to 1.1"),
        (
            lambda: ref.e_step(X, START.weights, START.means[:, :1], START.covariances),
            r"means must have shape \(K, d\) = \(2, 2\)",
        ),
        (lambda: ref.e_step(X, *START[:2], -START.covariances), r"not positive definite"),
        (lambda: ref.e_step(X, *START[:2], START.covariances[:1]), r"'full' covariances must have shape \(2, 2, 2\)"),
        (lambda: ref.m_step(X, np.ones((29, 2)) / 2), r"resp must have shape \(N, K\) with N=30 rows"),
        (lambda: ref.m_step(X, -np.ones((30, 2))), r"resp has negative entries"),
        (lambda: ref.multivariate_normal_logpdf(X, np.zeros(3), np.eye(2)), r"mean must have shape \(d,\) = \(2,\)"),
        (
            lambda: ref.multivariate_normal_logpdf(X, np.zeros(2), np.array([[1.0, 2.0], [0.0, 1.0]])),
            r"cov is not symmetric",
        ),
        (lambda: ref.n_parameters(0, 2), r"n_components must be a positive integer"),
        (lambda: ref.bic(np.nan, 5, 100), r"log_likelihood must be finite"),
        (lambda: ref.bic(-10.0, 5, 0), r"n_samples must be a positive integer"),
        (lambda: ref.params_from_labels(X, np.full(30, 3), 2), r"labels must lie in \[0, 2\)"),
        (lambda: ref.kmeans(X, 2, 0, init=np.zeros((3, 2))), r"init must have shape \(K, d\) = \(2, 2\)"),
        (lambda: ref.GaussianMixture(2).predict(X), r"not fitted yet"),
        (lambda: ref.run_em(X, START, snapshot_every=0), r"snapshot_every must be None or a positive integer"),
    ],
)
def test_bad_input_is_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_loader_names_the_file(tmp_path):
    bad_header = tmp_path / "header.csv"
    bad_header.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"header.csv: expected the header 'eruptions,waiting'"):
        ref.load_old_faithful(bad_header)
    bad_value = tmp_path / "value.csv"
    bad_value.write_text("eruptions,waiting\n1.5,abc\n")
    with pytest.raises(ValueError, match=r"value.csv: not a numeric two-column CSV"):
        ref.load_old_faithful(bad_value)
    missing = tmp_path / "missing.csv"
    missing.write_text("eruptions,waiting\n1.5,\n")
    with pytest.raises(ValueError, match=r"missing.csv"):
        ref.load_old_faithful(missing)
    with pytest.raises(FileNotFoundError):
        ref.load_old_faithful(tmp_path / "absent.csv")
