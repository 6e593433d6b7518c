"""Choosing the number of components: parameter counts, BIC, AIC, held-out likelihood (notebook 4)."""

from __future__ import annotations

import numbers
import sys
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from ._validation import as_samples_2d, check_covariance_type, make_rng
from .em import log_likelihood
from .fitting import fit_restarts


def n_parameters(n_components: int, n_features: int, covariance_type: str = "full") -> int:
    """Number of free parameters of a K-component mixture in d dimensions.

    Inputs: n_components K >= 1, n_features d >= 1, covariance_type.

    Returns an int: the free means (K d), plus the free covariance entries, plus
    K - 1 free weights (they sum to 1). A symmetric d x d matrix has d (d + 1) / 2
    free entries; "diag" has d per component, "spherical" 1 per component, and
    "tied" one full matrix in all. In 1-D "full", "diag" and "spherical" give 3K - 1;
    "tied" gives 2K (one variance shared by all components).
    """
    for name, value in (("n_components", n_components), ("n_features", n_features)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    check_covariance_type(covariance_type)
    # YOUR CODE HERE
    raise NotImplementedError("n_parameters: write your solution here")


def _check_score_inputs(log_likelihood_value, n_params):
    if not np.isfinite(log_likelihood_value):
        raise ValueError(f"log_likelihood must be finite; got {log_likelihood_value!r}")
    if isinstance(n_params, bool) or not isinstance(n_params, numbers.Integral) or n_params < 1:
        raise ValueError(f"n_params must be a positive integer; got {n_params!r}")


def bic(log_likelihood_value: float, n_params: int, n_samples: int) -> float:
    """Bayesian information criterion, BIC = -2 log L + p log N (lower is better).

    Inputs: the total log-likelihood log L of the fitted model, its number of free
    parameters p, and the number of data points N. Returns a float.
    """
    _check_score_inputs(log_likelihood_value, n_params)
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}")
    # YOUR CODE HERE
    raise NotImplementedError("bic: write your solution here")


def aic(log_likelihood_value: float, n_params: int) -> float:
    """Akaike information criterion, AIC = -2 log L + 2 p (lower is better). Returns a float."""
    _check_score_inputs(log_likelihood_value, n_params)
    # YOUR CODE HERE
    raise NotImplementedError("aic: write your solution here")


def held_out_log_likelihood(X_test, weights, means, covariances, covariance_type: str = "full") -> float:
    """Average log-likelihood per point of data the model was not fitted on (higher is better). Given."""
    X_test = as_samples_2d(X_test, "X_test")
    return log_likelihood(X_test, weights, means, covariances, covariance_type) / X_test.shape[0]


@dataclass(frozen=True)
class ModelScore:
    """One row of a model search: K, covariance type, fitted log-likelihood, p, BIC, AIC.

    ``fit`` is the best restart run to convergence by ``run_em``; ``n_reached`` of the
    ``n_init`` restarts ended within ``reach_tol`` of its log-likelihood (see ``fit_restarts``).
    """

    n_components: int
    covariance_type: str
    log_likelihood: float
    n_params: int
    bic: float
    aic: float
    fit: object
    n_reached: int = 1
    n_init: int = 1


def select_model(
    X,
    n_components_range,
    covariance_types=("full",),
    *,
    n_init: int = 20,
    rng=0,
    progress: bool = True,
    **fit_options,
) -> list[ModelScore]:
    """Fit every (K, covariance type) with restarts and score each by BIC and AIC. Given.

    Inputs: X (N, d); an iterable of K; covariance types; n_init restarts each, screened
    together by ``fit_restarts`` (the best one is then run to convergence by your
    ``run_em``); rng a Generator or int seed; other options (init, screen_tol, tol,
    max_iter, reg_covar, reach_tol) go to ``fit_restarts``. ``progress`` shows a progress
    bar over the models.
    Returns a list of ModelScore, in the order of the loops (type outer, K inner).
    Take ``min(scores, key=lambda s: s.bic)`` for the BIC choice.
    """
    X = as_samples_2d(X)
    rng = make_rng(rng)
    models = [(covariance_type, k) for covariance_type in covariance_types for k in n_components_range]
    if progress:
        models = tqdm(models, desc="models", file=sys.stdout, ascii=True, leave=False)
    scores = []
    for covariance_type, k in models:
        survey = fit_restarts(X, k, covariance_type=covariance_type, n_init=n_init, rng=rng, **fit_options)
        p = n_parameters(k, X.shape[1], covariance_type)
        ll = survey.best.log_likelihood
        scores.append(
            ModelScore(
                k,
                covariance_type,
                ll,
                p,
                bic(ll, p, X.shape[0]),
                aic(ll, p),
                survey.best,
                survey.n_reached,
                survey.n_init,
            )
        )
    return scores
