"""fit_gmm: initialise, run EM, keep the best of several restarts (given)."""

from __future__ import annotations

import numpy as np

from ._validation import as_samples_2d, check_covariance_type, check_n_components, make_rng
from .em import GMMFit, run_em
from .initialisation import kmeans_init, random_init

INITIALISERS = {"kmeans": kmeans_init, "random": random_init}


def fit_gmm(
    X,
    n_components: int,
    *,
    covariance_type: str = "full",
    init="kmeans",
    n_init: int = 1,
    rng=0,
    tol: float = 1e-6,
    max_iter: int = 200,
    reg_covar: float = 1e-6,
    snapshot_every: int | None = None,
) -> GMMFit:
    """Fit a Gaussian mixture by EM, keeping the best of ``n_init`` restarts.

    Inputs:
    - X: (N, d) data; n_components: K.
    - init: "kmeans" (k-means++ then Lloyd; it uses your notebook 5 functions),
      "random" (random data points), or a (weights, means, covariances) tuple to start
      from (then n_init must be 1).
    - n_init: number of restarts; the one with the highest final log-likelihood wins.
    - rng: Generator or int seed; restart i draws from the same generator in turn.
    - tol, max_iter, reg_covar, snapshot_every, covariance_type: see ``run_em``.

    Returns the best ``GMMFit``.
    """
    X = as_samples_2d(X)
    k = check_n_components(n_components, X)
    check_covariance_type(covariance_type)
    if isinstance(n_init, bool) or not isinstance(n_init, int) or n_init < 1:
        raise ValueError(f"n_init must be a positive integer; got {n_init!r}")
    if isinstance(init, str):
        if init not in INITIALISERS:
            raise ValueError(f"init must be 'kmeans', 'random' or a parameter tuple; got {init!r}")
        make_init = INITIALISERS[init]
        rng = make_rng(rng)
        starts = (make_init(X, k, rng, covariance_type, reg_covar) for _ in range(n_init))
    else:
        if n_init != 1:
            raise ValueError("n_init must be 1 when init is a parameter tuple")
        starts = iter([tuple(init)])
    best = None
    for start in starts:
        fit = run_em(
            X,
            start,
            covariance_type=covariance_type,
            tol=tol,
            max_iter=max_iter,
            reg_covar=reg_covar,
            snapshot_every=snapshot_every,
        )
        if best is None or fit.log_likelihood > best.log_likelihood:
            best = fit
    return best


def all_restarts(X, n_components: int, seeds, **kwargs) -> list[GMMFit]:
    """One ``fit_gmm`` per seed (n_init=1 each), for comparing runs. Returns a list of GMMFit."""
    return [fit_gmm(X, n_components, rng=np.random.default_rng(seed), **kwargs) for seed in seeds]
