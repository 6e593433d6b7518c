"""A small scikit-learn-like estimator on top of the functions (given)."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp  # given code stays usable before notebook 3

from ._validation import as_samples_2d, make_rng
from .em import _weighted_log_densities, check_params, e_step
from .fitting import fit_gmm
from .gaussian import to_full_covariances
from .model_selection import aic, bic, n_parameters


class GaussianMixture:
    """Gaussian mixture fitted by EM.

    ``GaussianMixture(n_components, covariance_type="full", init="kmeans", n_init=1,
    rng=0, tol=1e-6, max_iter=200, reg_covar=1e-6)``. After ``fit(X)`` it has
    ``weights_`` (K,), ``means_`` (K, d), ``covariances_``, ``log_likelihood_history_``,
    ``n_iter_``, ``converged_`` and ``fit_`` (the GMMFit). ``fit_options`` go to ``fit_gmm``
    (``init`` may also be a (weights, means, covariances) start). No method modifies its
    array arguments.
    """

    def __init__(self, n_components: int, covariance_type: str = "full", **fit_options):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.fit_options = fit_options

    def fit(self, X) -> GaussianMixture:
        fit = fit_gmm(X, self.n_components, covariance_type=self.covariance_type, **self.fit_options)
        self.fit_ = fit
        self.weights_, self.means_, self.covariances_ = fit.params
        self.log_likelihood_history_ = fit.log_likelihood_history
        self.n_iter_, self.converged_ = fit.n_iter, fit.converged
        return self

    def _params(self, X):
        if not hasattr(self, "fit_"):
            raise ValueError("this GaussianMixture is not fitted yet: call fit(X) first")
        return check_params(X, self.weights_, self.means_, self.covariances_, self.covariance_type)

    def predict_proba(self, X) -> np.ndarray:
        """Responsibilities, shape (N, K)."""
        X = as_samples_2d(X)
        return e_step(X, *self._params(X), self.covariance_type)

    def predict(self, X) -> np.ndarray:
        """Most responsible component of each point, shape (N,)."""
        return np.argmax(self.predict_proba(X), axis=1)

    def score_samples(self, X) -> np.ndarray:
        """log p(x_n) for every point, shape (N,): low values flag anomalies."""
        X = as_samples_2d(X)
        return logsumexp(_weighted_log_densities(X, self._params(X), self.covariance_type), axis=1)

    def score(self, X) -> float:
        """Average log-likelihood per point."""
        return float(np.mean(self.score_samples(X)))

    def n_parameters(self) -> int:
        return n_parameters(self.n_components, self.means_.shape[1], self.covariance_type)

    def bic(self, X) -> float:
        X = as_samples_2d(X)
        return bic(self.score(X) * X.shape[0], self.n_parameters(), X.shape[0])

    def aic(self, X) -> float:
        X = as_samples_2d(X)
        return aic(self.score(X) * X.shape[0], self.n_parameters())

    def sample(self, n_samples: int, rng=0):
        """Draw n_samples points: returns (X (n, d), labels (n,))."""
        if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}")
        if not hasattr(self, "fit_"):
            raise ValueError("this GaussianMixture is not fitted yet: call fit(X) first")
        return sample_mixture(self.weights_, self.means_, self.covariances_, n_samples, rng, self.covariance_type)


def sample_mixture(weights, means, covariances, n_samples: int, rng, covariance_type: str = "full"):
    """Draw from a mixture: returns (X (n, d), labels (n,)). Given.

    The labels come from ``rng.choice(K, size=n, p=weights)``; each point is then
    mu_k + L_k z with z standard normal and Sigma_k = L_k L_k^T.
    """
    rng = make_rng(rng)
    means = np.asarray(means, dtype=np.float64)
    if means.ndim != 2:
        raise ValueError(f"means must have shape (K, d); got shape {means.shape}")
    k, d = means.shape
    params = check_params(np.zeros((1, d)), weights, means, covariances, covariance_type)
    full = to_full_covariances(params.covariances, covariance_type, k, d)
    labels = rng.choice(k, size=n_samples, p=params.weights)
    noise = rng.standard_normal((n_samples, d))
    chol = np.linalg.cholesky(full)
    X = means[labels] + np.einsum("nij,nj->ni", chol[labels], noise)
    return X, labels
