"""EM for a one-dimensional Gaussian mixture (notebook 1).

Model: ``p(x) = sum_k pi_k N(x | mu_k, sigma_k^2)`` with K components.
Shapes used throughout: N data points, K components.

- x:         (N,)  the data
- weights:   (K,)  mixing weights pi_k, non-negative, summing to 1
- means:     (K,)  component means mu_k
- variances: (K,)  component variances sigma_k^2 (> 0)
- resp:      (N, K) responsibilities r_nk = p(z_n = k | x_n)

No function here modifies its array arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import (
    as_samples_1d,
    check_max_iter,
    check_n_components,
    check_positive,
    make_rng,
)

LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class UnivariateFit:
    """Result of ``fit_gmm_1d``.

    - weights, means, variances: (K,) fitted parameters.
    - log_likelihoods: (n_iter + 1,) total log-likelihood sum_n log p(x_n) of the
      initial parameters (entry 0) and after each EM iteration.
    - n_iter: number of EM iterations run (0 if max_iter=0).
    - converged: True if and only if the stopping rule held at the last iteration run,
      including when that iteration is number max_iter; False if max_iter=0.
    """

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    log_likelihoods: np.ndarray
    n_iter: int
    converged: bool


def _check_params_1d(weights, means, variances):
    weights = np.asarray(weights, dtype=np.float64)
    means = np.asarray(means, dtype=np.float64)
    variances = np.asarray(variances, dtype=np.float64)
    for name, value in (("weights", weights), ("means", means), ("variances", variances)):
        if value.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array of shape (K,); got shape {value.shape}")
    if not weights.shape == means.shape == variances.shape:
        raise ValueError(
            "weights, means and variances must all have shape (K,); got "
            f"{weights.shape}, {means.shape} and {variances.shape}"
        )
    if np.any(variances <= 0):
        raise ValueError(f"variances must be positive; got {variances}")
    return weights, means, variances


def normal_pdf(x, means, variances) -> np.ndarray:
    """Evaluate every component's Gaussian density at every data point.

    Inputs:
    - x: array of shape (N,), the data points.
    - means: array of shape (K,), the component means mu_k.
    - variances: array of shape (K,), the component variances sigma_k^2 (> 0).

    Returns:
    - dens: array of shape (N, K) with
      dens[n, k] = exp(-(x[n] - mu_k)^2 / (2 sigma_k^2)) / sqrt(2 pi sigma_k^2).

    Use broadcasting (x[:, None] against means[None, :]), not a Python loop.
    Does not modify its inputs.
    """
    x = as_samples_1d(x)
    means = np.asarray(means, dtype=np.float64)
    variances = np.asarray(variances, dtype=np.float64)
    ### BEGIN SOLUTION
    diff = x[:, None] - means[None, :]
    return np.exp(-0.5 * diff**2 / variances) / np.sqrt(2.0 * np.pi * variances)
    ### END SOLUTION


def e_step_1d(x, weights, means, variances) -> np.ndarray:
    """E-step: the responsibility of each component for each data point.

    Inputs:
    - x: (N,) data.
    - weights: (K,) mixing weights pi_k.
    - means: (K,) component means.
    - variances: (K,) component variances.

    Returns:
    - resp: (N, K) with resp[n, k] = pi_k N(x_n | mu_k, sigma_k^2) / sum_j pi_j N(x_n | mu_j, sigma_j^2).
      Every row is non-negative and sums to 1.

    It must work for points far from every component (1000 standard deviations away),
    where every density underflows to 0 and the direct ratio is 0/0. Compute
    a[n, k] = log pi_k + log N(x_n | mu_k, sigma_k^2) from its formula, subtract each
    row's maximum, then exponentiate and divide by the row sum: the ratios are
    unchanged and the largest term of every row becomes exp(0) = 1.
    Does not modify its inputs.
    """
    x = as_samples_1d(x)
    weights, means, variances = _check_params_1d(weights, means, variances)
    ### BEGIN SOLUTION
    # Work with logarithms so that points far from every component do not give 0/0.
    log_dens = -0.5 * (LOG_2PI + np.log(variances) + (x[:, None] - means) ** 2 / variances)
    with np.errstate(divide="ignore"):
        weighted = log_dens + np.log(weights)
    # Shift each row so that its largest term is exp(0) = 1: the row sum lies in [1, K].
    scaled = np.exp(weighted - weighted.max(axis=1, keepdims=True))
    return scaled / scaled.sum(axis=1, keepdims=True)
    ### END SOLUTION


def m_step_1d(x, resp, var_floor: float = 1e-6):
    """M-step: re-estimate weights, means and variances from responsibilities.

    Inputs:
    - x: (N,) data.
    - resp: (N, K) responsibilities from the E-step.
    - var_floor: smallest variance allowed. A component that sits on a few
      identical values would otherwise shrink its variance towards 0 and the
      likelihood towards infinity.

    Returns a tuple (weights, means, variances), each of shape (K,):
    - N_k = sum_n resp[n, k]          (the effective number of points of component k)
    - weights[k] = N_k / N
    - means[k] = sum_n resp[n, k] x_n / N_k
    - variances[k] = max(sum_n resp[n, k] (x_n - means[k])^2 / N_k, var_floor)

    Clipping at the floor (not adding it) is the exact maximiser of the M-step's
    objective under the constraint variance >= var_floor. Does not modify its inputs.
    """
    x = as_samples_1d(x)
    resp = np.asarray(resp, dtype=np.float64)
    if resp.ndim != 2 or resp.shape[0] != x.shape[0]:
        raise ValueError(f"resp must have shape (N, K) with N={x.shape[0]}; got shape {resp.shape}")
    var_floor = check_positive(var_floor, "var_floor")
    ### BEGIN SOLUTION
    # A tiny constant keeps an empty component from dividing 0 by 0.
    nk = resp.sum(axis=0) + 10.0 * np.finfo(np.float64).eps
    weights = nk / nk.sum()
    means = resp.T @ x / nk
    variances = np.einsum("nk,nk->k", resp, (x[:, None] - means) ** 2) / nk
    return weights, means, np.maximum(variances, var_floor)
    ### END SOLUTION


def log_likelihood_1d(x, weights, means, variances) -> float:
    """Total log-likelihood sum_n log( sum_k pi_k N(x_n | mu_k, sigma_k^2) ).

    Inputs: x (N,), weights (K,), means (K,), variances (K,).
    Returns: a Python float. Does not modify its inputs.
    """
    x = as_samples_1d(x)
    weights, means, variances = _check_params_1d(weights, means, variances)
    ### BEGIN SOLUTION
    log_dens = -0.5 * (LOG_2PI + np.log(variances) + (x[:, None] - means) ** 2 / variances)
    with np.errstate(divide="ignore"):
        weighted = log_dens + np.log(weights)
    # log sum_k exp(a_k) = m + log sum_k exp(a_k - m), m the row maximum: no log(0) far from the data.
    top = weighted.max(axis=1)
    return float(np.sum(top + np.log(np.sum(np.exp(weighted - top[:, None]), axis=1))))
    ### END SOLUTION


def initial_parameters_1d(x, n_components: int, rng):
    """Random start: K distinct data values as means, the data variance for all, equal weights.

    Inputs: x (N,), n_components K, rng a numpy Generator or an int seed.
    Returns: (weights, means, variances), each of shape (K,).
    """
    x = as_samples_1d(x)
    k = check_n_components(n_components, x)
    rng = make_rng(rng)
    means = rng.choice(np.unique(x), size=k, replace=False)
    variances = np.full(k, max(float(np.var(x)), 1e-6))
    return np.full(k, 1.0 / k), means, variances


def fit_gmm_1d(
    x,
    n_components: int = 2,
    *,
    init=None,
    rng=0,
    tol: float = 1e-6,
    max_iter: int = 500,
    var_floor: float = 1e-6,
) -> UnivariateFit:
    """Fit a 1-D Gaussian mixture by EM.

    Inputs:
    - x: (N,) data.
    - n_components: K.
    - init: optional (weights, means, variances) to start from; if None, use
      ``initial_parameters_1d(x, n_components, rng)``.
    - rng: numpy Generator or int seed, used only when init is None.
    - tol: the stopping rule. After iteration t (t >= 1) compute l_t, the total
      log-likelihood; stop as soon as |l_t - l_(t-1)| / N < tol (scikit-learn's rule).
    - max_iter: the largest number of EM iterations (E-step then M-step); 0 runs none.
    - var_floor: passed to ``m_step_1d``.

    Returns a ``UnivariateFit``. Its ``log_likelihoods`` has n_iter + 1 entries: the
    total log-likelihood of the initial parameters, then of the parameters after
    each iteration. n_iter is the number of iterations run; converged is True if and
    only if the stopping test held at the last iteration run, including when that
    iteration is number max_iter; max_iter=0 runs none and converged is False.
    With exact E- and M-steps the log-likelihood never decreases (up to rounding):
    clipping a variance at the floor is the exact maximiser of the M-step under that
    constraint, provided the start respects the floor. Does not modify its inputs.
    """
    x = as_samples_1d(x)
    tol = check_positive(tol, "tol")
    max_iter = check_max_iter(max_iter)
    if init is None:
        init = initial_parameters_1d(x, n_components, rng)
    else:
        check_n_components(len(init[0]), x)
    weights, means, variances = _check_params_1d(*init)
    ### BEGIN SOLUTION
    n = x.shape[0]
    history = [log_likelihood_1d(x, weights, means, variances)]
    converged = False
    n_iter = 0
    for iteration in range(1, max_iter + 1):
        n_iter = iteration
        resp = e_step_1d(x, weights, means, variances)
        weights, means, variances = m_step_1d(x, resp, var_floor)
        history.append(log_likelihood_1d(x, weights, means, variances))
        if abs(history[-1] - history[-2]) / n < tol:
            converged = True
            break
    return UnivariateFit(weights, means, variances, np.array(history), n_iter, converged)
    ### END SOLUTION
