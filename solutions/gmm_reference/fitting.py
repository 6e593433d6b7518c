"""fit_gmm: initialise, run EM, keep the best of several restarts (given).

``fit_restarts`` runs many restarts at once: a vectorised EM (given, the same updates as
``run_em``) screens them all, then your ``run_em`` takes the best one to convergence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_samples_2d, check_covariance_type, check_n_components, make_rng
from .em import GMMFit, run_em
from .gaussian import to_full_covariances
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


def _batched_em(X, weights, means, covariances, covariance_type, *, tol, max_iter, reg_covar):
    """EM on R restarts at once (given). Same updates as ``run_em``, vectorised over the restarts.

    Inputs: X (N, d); weights (R, K); means (R, K, d); covariances (R, K, d, d), full matrices that
    already satisfy the constraint of covariance_type; tol, max_iter, reg_covar as in ``run_em``.
    Returns (weights, means, covariances, log_likelihood (R,), n_iter (R,)), covariances still as
    (R, K, d, d) full matrices. Each restart stops on its own by the rule of ``run_em``: the
    restarts still running form a shrinking batch.

    For speed every pass over the data is one matrix product with the d^2 products x_i x_j
    of each point (moments about 0, not about each mean). That loses digits for a component
    far narrower than its distance from 0 (a relative error near 1e-9 for a spike of variance
    1e-6 at 4.5), harmless for ranking restarts: ``fit_restarts`` hands the best one to
    ``run_em``, which centres every covariance on its own mean.
    """
    n, d = X.shape
    eye = np.eye(d)
    products = (X[:, :, None] * X[:, None, :]).reshape(n, d * d)  # (N, d^2): x_i x_j of every point
    weights, means, covariances = weights.copy(), means.copy(), covariances.copy()
    n_restarts, n_components = weights.shape
    final = np.full(n_restarts, -np.inf)
    n_iter = np.zeros(n_restarts, dtype=int)
    active = np.arange(n_restarts)
    previous = None
    for iteration in range(max_iter + 1):
        w, mu, cov = weights[active], means[active], covariances[active]
        rk = active.size * n_components
        # E-step in log space. Precision P = L^-T L^-1 from the inverse of the (triangular) Cholesky
        # factor L; (x - mu)^T P (x - mu) = sum_ij P_ij x_i x_j - 2 (P mu)^T x + mu^T P mu.
        chol = np.linalg.cholesky(cov)  # (R, K, d, d)
        inv_chol = np.linalg.solve(chol, np.broadcast_to(eye, chol.shape))
        precision = np.swapaxes(inv_chol, -1, -2) @ inv_chol
        p_mu = (precision @ mu[..., None])[..., 0]  # (R, K, d)
        log_det = 2.0 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1)
        constant = d * np.log(2 * np.pi) + log_det + np.sum(p_mu * mu, axis=-1)  # (R, K)
        log_joint = precision.reshape(rk, d * d) @ products.T
        log_joint -= 2.0 * (p_mu.reshape(rk, d) @ X.T)
        log_joint += constant.reshape(rk, 1)
        log_joint *= -0.5
        with np.errstate(divide="ignore"):
            log_joint += np.log(w).reshape(rk, 1)
        log_joint = log_joint.reshape(active.size, n_components, n)
        shift = log_joint.max(axis=1, keepdims=True)
        log_joint -= shift
        joint = np.exp(log_joint, out=log_joint)
        total = joint.sum(axis=1, keepdims=True)
        ll = (np.log(total) + shift).sum(axis=(1, 2))
        final[active] = ll
        if previous is not None:
            done = np.abs(ll - previous) / n < tol
            if done.any():
                keep = ~done
                active, ll, joint, total = active[keep], ll[keep], joint[keep], total[keep]
                if active.size == 0:
                    break
                rk = active.size * n_components
        if iteration == max_iter:
            break
        # M-step, as in ``m_step``, for every restart still running.
        resp = (joint / total).reshape(rk, n)
        nk = resp.sum(axis=1) + 10.0 * np.finfo(np.float64).eps  # (R K,)
        mu = (resp @ X) / nk[:, None]
        scatter = (resp @ products).reshape(rk, d, d) / nk[:, None, None] - mu[:, :, None] * mu[:, None, :]
        nk, mu = nk.reshape(active.size, n_components), mu.reshape(active.size, n_components, d)
        scatter = scatter.reshape(active.size, n_components, d, d)
        if covariance_type == "diag":
            scatter = scatter * eye
        elif covariance_type == "spherical":
            scatter = np.trace(scatter, axis1=-2, axis2=-1)[..., None, None] / d * eye
        elif covariance_type == "tied":
            shared = np.einsum("rk,rkij->rij", nk, scatter) / nk.sum(axis=1)[:, None, None]
            scatter = np.broadcast_to(shared[:, None], scatter.shape)
        weights[active] = nk / nk.sum(axis=1, keepdims=True)
        means[active] = mu
        covariances[active] = 0.5 * (scatter + np.swapaxes(scatter, -1, -2)) + reg_covar * eye
        n_iter[active] += 1
        previous = ll
    return weights, means, covariances, final, n_iter


def _constrained(covariances: np.ndarray, covariance_type: str) -> np.ndarray:
    """Full (K, d, d) matrices that satisfy covariance_type, back in that type's own shape."""
    if covariance_type == "full":
        return covariances.copy()
    if covariance_type == "tied":
        return covariances[0].copy()
    variances = np.diagonal(covariances, axis1=1, axis2=2)
    return variances.copy() if covariance_type == "diag" else variances.mean(axis=1)


@dataclass(frozen=True)
class RestartSurvey:
    """Result of ``fit_restarts``.

    - best: the GMMFit of your ``run_em`` started from the best restart.
    - final_log_likelihoods: (n_init,) where each restart ended (see ``fit_restarts``).
    - n_reached: how many restarts ended within ``reach_tol`` of best.log_likelihood.
    """

    best: GMMFit
    final_log_likelihoods: np.ndarray
    n_reached: int

    @property
    def n_init(self) -> int:
        return int(self.final_log_likelihoods.size)


def fit_restarts(
    X,
    n_components: int,
    *,
    covariance_type: str = "full",
    init: str = "random",
    n_init: int = 20,
    rng=0,
    screen_tol: float = 1e-4,
    screen_max_iter: int = 200,
    margin: float = 3.0,
    tol: float = 1e-6,
    max_iter: int = 2000,
    reg_covar: float = 1e-6,
    reach_tol: float = 0.1,
) -> RestartSurvey:
    """Many restarts of EM at once; the best one finished by your ``run_em``. Given.

    Three stages: (1) every restart runs, all together in a vectorised EM (the same
    updates as ``run_em``), until its log-likelihood per point changes by less than
    ``screen_tol`` (at most ``screen_max_iter`` iterations); (2) the restarts that ended
    within ``margin`` of the best continue, still together, until the change is below
    ``tol``; (3) your ``run_em`` continues the best one with the same ``tol``, so the
    reported fit is your code's. Restarts left behind in (1) keep their screening value
    (they count as reaching the best only if that value is within ``reach_tol`` of it).

    Inputs:
    - X: (N, d) data; n_components: K; covariance_type, reg_covar: as in ``run_em``.
    - init: "random" or "kmeans"; n_init restarts drawn in turn from rng (as ``fit_gmm`` does).
    - screen_tol, screen_max_iter, margin, tol, max_iter: the stages above.
    - reach_tol: a restart "reached the best" if it ended within reach_tol of the best
      total log-likelihood.

    Returns a ``RestartSurvey``.
    """
    X = as_samples_2d(X)
    k = check_n_components(n_components, X)
    check_covariance_type(covariance_type)
    if init not in INITIALISERS:
        raise ValueError(f"init must be 'kmeans' or 'random'; got {init!r}")
    if isinstance(n_init, bool) or not isinstance(n_init, int) or n_init < 1:
        raise ValueError(f"n_init must be a positive integer; got {n_init!r}")
    rng = make_rng(rng)
    d = X.shape[1]
    starts = [INITIALISERS[init](X, k, rng, covariance_type, reg_covar) for _ in range(n_init)]
    weights = np.array([s[0] for s in starts])
    means = np.array([s[1] for s in starts])
    covariances = np.array([to_full_covariances(s[2], covariance_type, k, d) for s in starts])
    weights, means, covariances, final, _ = _batched_em(
        X, weights, means, covariances, covariance_type, tol=screen_tol, max_iter=screen_max_iter, reg_covar=reg_covar
    )
    options = dict(max_iter=max_iter, reg_covar=reg_covar)
    near = np.flatnonzero(final >= final.max() - margin)
    weights[near], means[near], covariances[near], final[near], _ = _batched_em(
        X, weights[near], means[near], covariances[near], covariance_type, tol=tol, **options
    )
    top = int(np.argmax(final))
    start = (weights[top], means[top], _constrained(covariances[top], covariance_type))
    best = run_em(X, start, covariance_type=covariance_type, tol=tol, **options)
    n_reached = int(np.sum(final >= best.log_likelihood - reach_tol))
    return RestartSurvey(best, final, n_reached)
