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
    ### BEGIN SOLUTION
    chol = cholesky_factor(cov)
    if chol.shape != (X.shape[1], X.shape[1]):
        raise ValueError(f"cov must have shape (d, d) with d={X.shape[1]}; got shape {chol.shape}")
    z = solve_triangular(chol, (X - mean).T, lower=True)  # (d, N)
    log_det = 2.0 * np.sum(np.log(np.diag(chol)))
    return -0.5 * (X.shape[1] * LOG_2PI + log_det + np.sum(z**2, axis=0))
    ### END SOLUTION


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


### BEGIN SOLUTION
def _precision_cholesky(covariances, covariance_type: str, n_features: int):
    """Turn covariances of any type into per-component whitening matrices.

    Inputs:
    - covariances: in the shape of ``covariance_type`` (see the module docstring).
    - n_features: d.

    Returns (whiten, log_det):
    - whiten: (K, d, d) with whiten[k] = L_k^{-T}, so that
      (x - mu_k)^T Sigma_k^{-1} (x - mu_k) = |(x - mu_k) @ whiten[k]|^2.
    - log_det: (K,) log det Sigma_k.
    For "tied", K is 1 here: the one matrix is shared by every component.
    """
    d = n_features
    if covariance_type == "diag":
        whiten = np.zeros((covariances.shape[0], d, d))
        idx = np.arange(d)
        whiten[:, idx, idx] = 1.0 / np.sqrt(covariances)
        return whiten, np.sum(np.log(covariances), axis=1)
    if covariance_type == "spherical":
        whiten = np.eye(d)[None, :, :] / np.sqrt(covariances)[:, None, None]
        return whiten, d * np.log(covariances)
    stack = covariances[None] if covariance_type == "tied" else covariances
    try:
        chol = np.linalg.cholesky(stack)  # all K at once; inputs were checked on entry
    except np.linalg.LinAlgError:
        for k, cov in enumerate(stack):
            cholesky_factor(cov, name=f"covariance of component {k}")  # raises, naming the component
        raise
    # L^{-1} of a triangular factor (never Sigma^{-1} itself), transposed: whiten = L^{-T}.
    whiten = np.swapaxes(np.linalg.solve(chol, np.broadcast_to(np.eye(d), stack.shape)), 1, 2)
    log_det = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
    return whiten, log_det


def _log_densities_by_component(X, means, covariances, covariance_type: str) -> np.ndarray:
    """log N(x_n | mu_k, Sigma_k) laid out component-major, shape (K, N), inputs already checked.

    Component-major keeps every reduction over components and dimensions a sum of
    contiguous rows, which is several times faster than reducing a short last axis.
    """
    n_components, d = means.shape
    whiten, log_det = _precision_cholesky(covariances, covariance_type, d)
    if covariance_type == "tied":
        whiten = np.broadcast_to(whiten, (n_components, d, d))
        log_det = np.broadcast_to(log_det, (n_components,))
    # Row k*d + j of `projected` is the j-th whitened coordinate of every point for component k.
    stacked = np.transpose(whiten, (0, 2, 1)).reshape(n_components * d, d)
    projected = stacked @ X.T
    projected -= np.einsum("kd,kde->ke", means, whiten).reshape(-1, 1)
    np.square(projected, out=projected)
    blocks = projected.reshape(n_components, d, X.shape[0])
    mahalanobis = blocks[:, 0].copy()
    for j in range(1, d):
        mahalanobis += blocks[:, j]
    mahalanobis += (d * LOG_2PI + np.asarray(log_det))[:, None]
    mahalanobis *= -0.5
    return mahalanobis


### END SOLUTION


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
    ### BEGIN SOLUTION
    return _log_densities_by_component(X, means, covariances, covariance_type).T
    ### END SOLUTION
    ### BEGIN SKELETON
    # full = to_full_covariances(covariances, covariance_type, n_components, d)
    # columns = [multivariate_normal_logpdf(X, means[k], full[k]) for k in range(n_components)]
    # return np.stack(columns, axis=1)
    ### END SKELETON
