"""Starting points for EM: random, k-means++ and Lloyd's k-means (notebook 5).

Shapes: N points, d features, K components. No function here modifies its inputs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import (
    as_samples_2d,
    check_covariance_type,
    check_max_iter,
    check_n_components,
    check_positive,
    make_rng,
)
from .em import GMMParams, m_step


class KMeansResult(NamedTuple):
    """centroids (K, d), labels (N,) ints in [0, K), inertia (sum of squared distances), n_iter, converged."""

    centroids: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int
    converged: bool


def squared_distances(X, centroids) -> np.ndarray:
    """Squared Euclidean distance of every point to every centroid, shape (N, K). Given.

    Inputs: X (N, d); centroids (K, d). Does not modify its inputs.
    """
    X = np.asarray(X, dtype=np.float64)
    centroids = np.asarray(centroids, dtype=np.float64)
    d2 = np.sum(X**2, axis=1)[:, None] - 2.0 * X @ centroids.T + np.sum(centroids**2, axis=1)[None, :]
    return np.maximum(d2, 0.0)


def data_covariance(X, covariance_type: str, n_components: int, reg_covar: float) -> np.ndarray:
    """The covariance of all of X, in the shape ``covariance_type`` needs for K components. Given."""
    n, d = X.shape
    centred = X - X.mean(axis=0)
    cov = centred.T @ centred / n + reg_covar * np.eye(d)
    if covariance_type == "tied":
        return cov
    if covariance_type == "full":
        return np.repeat(cov[None], n_components, axis=0)
    if covariance_type == "diag":
        return np.repeat(np.diag(cov)[None], n_components, axis=0)
    return np.full(n_components, np.trace(cov) / d)


def random_init(X, n_components: int, rng, covariance_type: str = "full", reg_covar: float = 1e-6) -> GMMParams:
    """Random start: K distinct data points as means, the data covariance for every component.

    Inputs: X (N, d); n_components K; rng a Generator or int seed.
    Returns GMMParams(weights (K,) all 1/K, means (K, d), covariances of covariance_type).
    Does not modify its inputs.
    """
    X = as_samples_2d(X)
    k = check_n_components(n_components, X)
    check_covariance_type(covariance_type)
    rng = make_rng(rng)
    distinct = np.unique(X, axis=0)
    means = distinct[rng.choice(distinct.shape[0], size=k, replace=False)]
    return GMMParams(np.full(k, 1.0 / k), means, data_covariance(X, covariance_type, k, reg_covar))


def kmeans_plus_plus(X, n_components: int, rng) -> np.ndarray:
    """k-means++ seeding: spread-out initial centroids chosen among the data points.

    Inputs:
    - X: (N, d) data.
    - n_components: K.
    - rng: numpy Generator (or int seed).

    Returns:
    - centroids: (K, d), each a row of X (a new array, not a view of X).

    Does not modify its inputs.

    Algorithm, using exactly these random calls so results are reproducible:
    1. the first centroid is X[rng.integers(N)];
    2. for each further centroid, let D2[n] be the squared distance of x_n to its
       nearest chosen centroid, and pick X[rng.choice(N, p=D2 / D2.sum())].
    """
    X = as_samples_2d(X)
    k = check_n_components(n_components, X)
    rng = make_rng(rng)
    ### BEGIN SOLUTION
    n = X.shape[0]
    chosen = [int(rng.integers(n))]
    nearest = squared_distances(X, X[chosen])[:, 0]
    for _ in range(1, k):
        index = int(rng.choice(n, p=nearest / nearest.sum()))
        chosen.append(index)
        nearest = np.minimum(nearest, squared_distances(X, X[index : index + 1])[:, 0])
    return X[chosen].copy()
    ### END SOLUTION


def kmeans(X, n_components: int, rng, *, max_iter: int = 100, init=None) -> KMeansResult:
    """Lloyd's k-means.

    Inputs:
    - X: (N, d) data.
    - n_components: K.
    - rng: Generator or int seed, passed to ``kmeans_plus_plus`` when init is None.
    - max_iter: the largest number of (assign, update) rounds.
    - init: optional (K, d) starting centroids.

    Returns a KMeansResult. Each round: assign every point to its nearest centroid
    (ties go to the lower index, as np.argmin does), then move every centroid to
    the mean of its points; a centroid with no points stays where it is. Stop as
    soon as an assignment round changes no label (converged=True). n_iter is the
    number of centroid updates made; labels and inertia belong to the final centroids.
    Convergence found at update number max_iter still counts (converged=True); with
    max_iter=0 no update is made (n_iter=0, converged=False).

    Does not modify its inputs: neither X nor init (work on copies).
    """
    X = as_samples_2d(X)
    k = check_n_components(n_components, X)
    max_iter = check_max_iter(max_iter)
    if init is None:
        centroids = kmeans_plus_plus(X, k, rng)
    else:
        centroids = np.array(init, dtype=np.float64)
        if centroids.shape != (k, X.shape[1]):
            raise ValueError(f"init must have shape (K, d) = ({k}, {X.shape[1]}); got shape {centroids.shape}")
    ### BEGIN SOLUTION
    labels = np.argmin(squared_distances(X, centroids), axis=1)
    converged = False
    n_iter = 0
    for iteration in range(1, max_iter + 1):
        n_iter = iteration
        counts = np.bincount(labels, minlength=k)
        sums = np.stack([np.bincount(labels, weights=column, minlength=k) for column in X.T], axis=1)
        occupied = counts > 0
        centroids[occupied] = sums[occupied] / counts[occupied, None]
        new_labels = np.argmin(squared_distances(X, centroids), axis=1)
        if np.array_equal(new_labels, labels):
            converged = True
            break
        labels = new_labels
    inertia = float(np.sum(squared_distances(X, centroids)[np.arange(X.shape[0]), labels]))
    return KMeansResult(centroids, labels, inertia, n_iter, converged)
    ### END SOLUTION


def params_from_labels(
    X, labels, n_components: int, covariance_type: str = "full", reg_covar: float = 1e-6
) -> GMMParams:
    """Mixture parameters from a hard partition (the k-means initialisation of EM).

    Inputs:
    - X: (N, d) data.
    - labels: (N,) integers in [0, K).
    - n_components: K.
    - covariance_type: "full", "tied", "diag" or "spherical".
    - reg_covar: added to the diagonal of every covariance.

    Returns GMMParams with, for each cluster k:
    - weights[k]: the fraction of points with label k,
    - means[k]: the centroid of those points,
    - covariances[k]: their covariance (divide by N_k), plus reg_covar on the diagonal
      (other covariance types constrained as in ``m_step``).
    Hint: a one-hot matrix of the labels is a valid responsibility matrix.

    Raises ValueError if some cluster k in [0, K) has no point, with a message that
    names the empty cluster(s) by number (e.g. "empty cluster(s) 3"): a component
    needs at least one point for its mean and covariance. (``kmeans`` can return such
    a partition: a centroid with no points stays where it is.)

    Does not modify its inputs.
    """
    X = as_samples_2d(X)
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"labels must be an integer array of shape (N,) = ({X.shape[0]},); got {labels.dtype} {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= n_components):
        raise ValueError(f"labels must lie in [0, {n_components}); got values from {labels.min()} to {labels.max()}")
    reg_covar = check_positive(reg_covar, "reg_covar", allow_zero=True)
    ### BEGIN SOLUTION
    counts = np.bincount(labels, minlength=n_components)
    if np.any(counts == 0):
        empty = ", ".join(str(k) for k in np.flatnonzero(counts == 0))
        raise ValueError(
            f"empty cluster(s) {empty}: no point has that label, and every component needs at least one point "
            "for its mean and covariance"
        )
    one_hot = np.zeros((X.shape[0], n_components))
    one_hot[np.arange(X.shape[0]), labels] = 1.0
    return m_step(X, one_hot, reg_covar, covariance_type)
    ### END SOLUTION


def kmeans_init(X, n_components: int, rng, covariance_type: str = "full", reg_covar: float = 1e-6) -> GMMParams:
    """Start EM from a k-means partition (k-means++ seeding, then Lloyd). Given.

    Raises ValueError (from ``params_from_labels``) if Lloyd's algorithm left a cluster
    empty; from k-means++ seeds we have not seen it happen on the course's data.
    Does not modify its inputs.
    """
    result = kmeans(X, n_components, rng)
    return params_from_labels(X, result.labels, n_components, covariance_type, reg_covar)
