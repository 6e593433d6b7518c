"""Multivariate Gaussian log-densities through Cholesky factors (notebooks 2 and 4).

Shapes: N points, d features, K components. Covariances come in four types, stored
as scikit-learn stores them:

- "full":      (K, d, d)  one unrestricted covariance matrix per component
- "diag":      (K, d)     one diagonal (axis-aligned) covariance per component
- "spherical": (K,)       one variance per component, the same in every direction
- "tied":      (d, d)     one full covariance shared by every component

We never invert a covariance matrix. With Sigma = L L^T (Cholesky, L lower
triangular), the Mahalanobis distance is |L^{-1} (x - mu)|^2 and
log det Sigma = 2 sum_i log L_ii.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

from ._validation import as_float_array, as_samples_2d, check_covariance_type, check_finite

LOG_2PI = float(np.log(2.0 * np.pi))


def cholesky_factor(cov, name: str = "cov") -> np.ndarray:
    """Lower Cholesky factor L of one covariance matrix, with a clear error if there is none.

    Inputs: cov (d, d), symmetric positive definite.
    Returns: L (d, d), lower triangular, with L @ L.T == cov.
    """
    cov = check_finite(as_float_array(cov, name), name)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"{name} must be a square matrix of shape (d, d); got shape {cov.shape}")
    if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12):
        raise ValueError(f"{name} is not symmetric")
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"{name} is not positive definite (smallest eigenvalue "
            f"{np.linalg.eigvalsh(cov).min():.3g}); increase reg_covar"
        ) from None


def multivariate_normal_logpdf(X, mean, cov) -> np.ndarray:
    """Log-density of one multivariate Gaussian at every row of X.

    Inputs:
    - X: (N, d) data points.
    - mean: (d,) the mean mu.
    - cov: (d, d) the covariance Sigma, symmetric positive definite.

    Returns:
    - logpdf: (N,) with
      logpdf[n] = -1/2 [ d log(2 pi) + log det Sigma + (x_n - mu)^T Sigma^{-1} (x_n - mu) ].

    Do not call np.linalg.inv or np.linalg.det: factor Sigma = L L^T with
    ``cholesky_factor`` (given), solve a triangular system for L^{-1}(x_n - mu)
    (scipy.linalg.solve_triangular) and read log det Sigma = 2 sum_i log L_ii off the
    diagonal of L: a sum of logs, because the product of the L_ii overflows or
    underflows once d is in the hundreds. Does not modify its inputs.
    """
    X = as_samples_2d(X)
    mean = np.asarray(mean, dtype=np.float64)
    if mean.shape != (X.shape[1],):
        raise ValueError(f"mean must have shape (d,) = ({X.shape[1]},); got shape {mean.shape}")
    # YOUR CODE HERE
    raise NotImplementedError("multivariate_normal_logpdf: write your solution here")


def check_covariances(covariances, covariance_type: str, n_components: int, n_features: int) -> np.ndarray:
    """Validate covariances against the shape their type requires; return them as float64."""
    check_covariance_type(covariance_type)
    covariances = check_finite(as_float_array(covariances, "covariances"), "covariances")
    expected = {
        "full": (n_components, n_features, n_features),
        "diag": (n_components, n_features),
        "spherical": (n_components,),
        "tied": (n_features, n_features),
    }[covariance_type]
    if covariances.shape != expected:
        raise ValueError(
            f"{covariance_type!r} covariances must have shape {expected} for K={n_components}, "
            f"d={n_features}; got shape {covariances.shape}"
        )
    if covariance_type in ("diag", "spherical") and np.any(covariances <= 0):
        raise ValueError(f"{covariance_type!r} variances must be positive; got {covariances}")
    if covariance_type in ("full", "tied") and not np.allclose(
        covariances, np.swapaxes(covariances, -1, -2), rtol=1e-10, atol=1e-12
    ):
        raise ValueError(f"{covariance_type!r} covariances must be symmetric matrices")
    return covariances


def to_full_covariances(covariances, covariance_type: str, n_components: int, n_features: int) -> np.ndarray:
    """Expand covariances of any type to one full (d, d) matrix per component.

    Inputs: covariances in the shape of ``covariance_type``; n_components K; n_features d.
    Returns: (K, d, d) array. Handy for drawing ellipses of any covariance type.
    """
    covariances = check_covariances(covariances, covariance_type, n_components, n_features)
    if covariance_type == "full":
        return covariances.copy()
    if covariance_type == "tied":
        return np.repeat(covariances[None], n_components, axis=0)
    if covariance_type == "spherical":
        return covariances[:, None, None] * np.eye(n_features)
    full = np.zeros((n_components, n_features, n_features))
    idx = np.arange(n_features)
    full[:, idx, idx] = covariances
    return full


def log_component_densities(X, means, covariances, covariance_type: str = "full") -> np.ndarray:
    """log N(x_n | mu_k, Sigma_k) for every point and every component, all four types.

    Inputs:
    - X: (N, d) data.
    - means: (K, d) component means.
    - covariances: in the shape of ``covariance_type``.
    - covariance_type: "full", "diag", "spherical" or "tied".

    Returns: (N, K) array of log-densities.
    """
    X = as_samples_2d(X)
    means = check_finite(as_float_array(means, "means"), "means")
    if means.ndim != 2 or means.shape[1] != X.shape[1]:
        raise ValueError(f"means must have shape (K, d) with d={X.shape[1]}; got shape {means.shape}")
    n_components, d = means.shape
    covariances = check_covariances(covariances, covariance_type, n_components, d)
    full = to_full_covariances(covariances, covariance_type, n_components, d)
    columns = [multivariate_normal_logpdf(X, means[k], full[k]) for k in range(n_components)]
    return np.stack(columns, axis=1)
