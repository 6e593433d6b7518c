"""EM for a d-dimensional Gaussian mixture (notebooks 2 and 3).

Shapes: N points, d features, K components.

- X:           (N, d)  data
- weights:     (K,)    mixing weights pi_k (non-negative, summing to 1)
- means:       (K, d)  component means mu_k
- covariances: (K, d, d) for "full"; see ``gaussian`` for the other types
- resp:        (N, K)  responsibilities r_nk = p(z_n = k | x_n)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from . import gaussian
from ._validation import (
    as_samples_2d,
    check_covariance_type,
    check_max_iter,
    check_positive,
    check_responsibilities,
    check_weights,
)
from .gaussian import check_covariances, log_component_densities
from .logsumexp import logsumexp


class GMMParams(NamedTuple):
    """The parameters of a mixture: (weights (K,), means (K, d), covariances)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray


@dataclass(frozen=True)
class GMMFit:
    """Result of ``run_em`` / ``fit_gmm``.

    - weights (K,), means (K, d), covariances (shape of covariance_type): fitted parameters.
    - log_likelihood_history: (n_iter + 1,) total log-likelihood sum_n log p(x_n) of the
      initial parameters (entry 0) and after each iteration. It never decreases with
      reg_covar=0; with reg_covar > 0 it can fall by a tiny amount once a component has
      collapsed onto the floor, because Sigma + reg_covar*I is then not the exact maximiser.
    - n_iter: EM iterations run; converged: whether the stopping rule of ``run_em`` held at
      the last iteration run (also when that is iteration max_iter).
    - snapshots: list of (iteration, GMMParams), taken at iteration 0, every
      ``snapshot_every`` iterations and at the end (empty if snapshot_every is None).
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    covariance_type: str
    log_likelihood_history: np.ndarray
    n_iter: int
    converged: bool
    snapshots: list = field(default_factory=list)

    @property
    def params(self) -> GMMParams:
        return GMMParams(self.weights, self.means, self.covariances)

    @property
    def log_likelihood(self) -> float:
        """Total log-likelihood of the fitted parameters."""
        return float(self.log_likelihood_history[-1])


def check_params(X: np.ndarray, weights, means, covariances, covariance_type: str) -> GMMParams:
    """Validate a parameter set against data X of shape (N, d); return float64 arrays."""
    check_covariance_type(covariance_type)
    weights = check_weights(weights)
    means = np.asarray(means, dtype=np.float64)
    if means.shape != (weights.shape[0], X.shape[1]):
        raise ValueError(f"means must have shape (K, d) = ({weights.shape[0]}, {X.shape[1]}); got shape {means.shape}")
    covariances = check_covariances(covariances, covariance_type, weights.shape[0], X.shape[1])
    return GMMParams(weights, means, covariances)


def _weighted_log_densities(X, params: GMMParams, covariance_type: str) -> np.ndarray:
    """log pi_k + log N(x_n | mu_k, Sigma_k), shape (N, K). A zero weight gives -inf."""
    log_dens = log_component_densities(X, params.means, params.covariances, covariance_type)
    with np.errstate(divide="ignore"):
        log_dens += np.log(params.weights)
    return log_dens


def e_step(X, weights, means, covariances, covariance_type: str = "full") -> np.ndarray:
    """E-step: responsibilities of every component for every point.

    Inputs:
    - X: (N, d) data.
    - weights: (K,) mixing weights.
    - means: (K, d) component means.
    - covariances: (K, d, d) for "full" (other types: see ``gaussian``).
    - covariance_type: "full" unless told otherwise.

    Returns:
    - resp: (N, K), resp[n, k] = pi_k N(x_n | mu_k, Sigma_k) / sum_j pi_j N(x_n | mu_j, Sigma_j).
      Rows are non-negative and sum to 1.

    ``log_component_densities`` (given) computes log N(x_n | mu_k, Sigma_k) for you. Work
    in log space: a_nk = log pi_k + log N(x_n | mu_k, Sigma_k); subtract each row's
    maximum m_n = max_k a_nk before exponentiating (exp(a_nk - m_n) is at most 1 and the
    largest is exactly 1), then divide each row by its sum. The shift cancels in the
    ratio, and without it a point far from every component gives 0 / 0 = NaN.
    Does not modify its inputs.
    """
    X = as_samples_2d(X)
    params = check_params(X, weights, means, covariances, covariance_type)
    # YOUR CODE HERE
    raise NotImplementedError("e_step: write your solution here")


def log_e_step(X, weights, means, covariances, covariance_type: str = "full"):
    """E-step in log space, stable where densities underflow to 0.

    Inputs: as ``e_step``.

    Returns a tuple (log_resp, log_likelihood):
    - log_resp: (N, K), log r_nk = log pi_k + log N(x_n | mu_k, Sigma_k) - log p(x_n);
      every row satisfies logsumexp(log_resp[n]) == 0.
    - log_likelihood: float, sum_n log p(x_n) with
      log p(x_n) = logsumexp_k (log pi_k + log N(x_n | mu_k, Sigma_k)).

    Use ``logsumexp``; never exponentiate a log-density before normalising.
    Does not modify its inputs.
    """
    X = as_samples_2d(X)
    params = check_params(X, weights, means, covariances, covariance_type)
    # YOUR CODE HERE
    raise NotImplementedError("log_e_step: write your solution here")


def m_step(X, resp, reg_covar: float = 1e-6, covariance_type: str = "full") -> GMMParams:
    """M-step: maximum-likelihood parameters given responsibilities.

    Inputs:
    - X: (N, d) data.
    - resp: (N, K) responsibilities.
    - reg_covar: added to the diagonal of every covariance so that it stays
      positive definite even for a component that sits on a few points (a
      regulariser added to the maximum-likelihood answer, not a clip at a floor).
    - covariance_type: "full" (the default), "diag", "spherical" or "tied".

    Returns GMMParams(weights, means, covariances) with N_k = sum_n r_nk and
    - weights: (K,), N_k / N
    - means: (K, d), mu_k = sum_n r_nk x_n / N_k
    - covariances, in the shape of covariance_type (notebook 2 asks for "full",
      notebook 4 for the other three). With the per-component scatter
      S_k = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T / N_k, a (d, d) matrix:
      - "full":      (K, d, d), Sigma_k = S_k + reg_covar * I
      - "diag":      (K, d),    sigma2_kj = sum_n r_nk (x_nj - mu_kj)^2 / N_k + reg_covar
                                (the diagonal of S_k; no d x d matrix is needed)
      - "spherical": (K,),      sigma2_k = (1/d) sum_j [sum_n r_nk (x_nj - mu_kj)^2 / N_k] + reg_covar
                                (the MEAN of the d diagonal variances, trace(S_k) / d, not the trace)
      - "tied":      (d, d),    Sigma = sum_k N_k S_k / N + reg_covar * I
                                (one matrix for all components, each S_k weighted by its N_k)
      reg_covar is added once to every variance (to the diagonal only).
    Does not modify its inputs.
    """
    X = as_samples_2d(X)
    resp = check_responsibilities(resp, X.shape[0])
    reg_covar = check_positive(reg_covar, "reg_covar", allow_zero=True)
    check_covariance_type(covariance_type)
    # YOUR CODE HERE
    raise NotImplementedError("m_step: write your solution here")


def log_likelihood(X, weights, means, covariances, covariance_type: str = "full") -> float:
    """Total log-likelihood sum_n log sum_k pi_k N(x_n | mu_k, Sigma_k), as a float.

    Inputs: as ``e_step``.

    Returns: a float, sum_n log p(x_n). Compute it in log space with the same row
    maximum as in ``e_step``: with a_nk = log pi_k + log N(x_n | mu_k, Sigma_k) and
    m_n = max_k a_nk,
        log p(x_n) = m_n + log sum_k exp(a_nk - m_n),
    which stays finite for a point far from every component, where every
    exp(a_nk) is 0.0. (Notebook 3 turns this shift into a general ``logsumexp``; you
    may use it here once it is written, but you do not need it.)
    Does not modify its inputs.
    """
    X = as_samples_2d(X)
    params = check_params(X, weights, means, covariances, covariance_type)
    # YOUR CODE HERE
    raise NotImplementedError("log_likelihood: write your solution here")


def run_em(
    X,
    init,
    *,
    covariance_type: str = "full",
    tol: float = 1e-6,
    max_iter: int = 200,
    reg_covar: float = 1e-6,
    snapshot_every: int | None = None,
) -> GMMFit:
    """Run EM from given initial parameters until convergence or max_iter.

    Inputs:
    - X: (N, d) data.
    - init: (weights, means, covariances), the starting parameters.
    - covariance_type, reg_covar: passed to the E- and M-steps.
    - tol: the stopping rule. After iteration t (t >= 1: one E-step, one M-step) compute
      l_t, the total log-likelihood of the new parameters; stop as soon as
      |l_t - l_(t-1)| / N < tol (l_0 is that of the initial parameters).
    - max_iter: the largest number of iterations; max_iter=0 runs none.
    - snapshot_every: if an int s, record (iteration, params) at iteration 0, every
      s iterations and at the last one, for drawing how the fit evolves.

    Returns a ``GMMFit`` with
    - log_likelihood_history: (n_iter + 1,) l_0, l_1, ..., l_(n_iter).
    - n_iter: the number of iterations run.
    - converged: True if and only if the stopping rule held at the last iteration run,
      including when that iteration is number max_iter; False for max_iter=0.
    Use this module's ``e_step``, ``m_step`` and ``log_likelihood``. Does not modify its inputs.
    """
    X = as_samples_2d(X)
    params = check_params(X, *init, covariance_type)
    tol = check_positive(tol, "tol")
    max_iter = check_max_iter(max_iter)
    reg_covar = check_positive(reg_covar, "reg_covar", allow_zero=True)
    if snapshot_every is not None and (not isinstance(snapshot_every, int) or snapshot_every < 1):
        raise ValueError(f"snapshot_every must be None or a positive integer; got {snapshot_every!r}")
    # YOUR CODE HERE
    raise NotImplementedError("run_em: write your solution here")
