"""Time one EM iteration of the reference against scikit-learn's GaussianMixture.

Both start from the same data and initial parameters and run in this process, one
BLAS thread each, interleaved repeat by repeat so that machine load hits both alike.
The cost of one iteration is measured differentially, (t(M2 iterations) -
t(M1 iterations)) / (M2 - M1), so set-up work (input validation, scikit-learn's
initial M-step) does not count; the end-to-end time of a full fit is printed too.

    python benchmarks/bench_em.py            # N = 1e4, 1e5, 1e6; d = 2; K = 3, 5
    python benchmarks/bench_em.py --quick    # N = 1e4, 1e5 only

Prints ns per point per iteration for each, the ratio (scikit-learn / reference,
above 1 means the reference is faster) and the largest relative difference between
the two log-likelihood histories.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

import gmm_reference as ref

NEVER_CONVERGE = 1e-300


def make_problem(n: int, k: int, d: int, seed: int):
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=4.0, size=(k, d))
    factors = rng.normal(scale=0.7, size=(k, d, d))
    covariances = factors @ np.swapaxes(factors, 1, 2) + 0.2 * np.eye(d)
    X, _ = ref.sample_mixture(np.full(k, 1.0 / k), means, covariances, n, rng)
    init = ref.random_init(X, k, rng)
    return X, init


def run_reference(X, init, iterations):
    return ref.run_em(X, init, tol=NEVER_CONVERGE, max_iter=iterations)


def run_sklearn(X, init, iterations):
    weights, means, covariances = init
    model = GaussianMixture(
        len(weights),
        weights_init=weights,
        means_init=means,
        precisions_init=np.linalg.inv(covariances),
        init_params="random_from_data",
        max_iter=iterations,
        tol=NEVER_CONVERGE,
        reg_covar=1e-6,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def measure(n, k, d, repeats, short, long, seed=0):
    X, init = make_problem(n, k, d, seed)
    best = {"reference": [np.inf, np.inf], "sklearn": [np.inf, np.inf]}
    runners = {"reference": run_reference, "sklearn": run_sklearn}
    results = {}
    for _ in range(repeats):
        for name, runner in runners.items():  # interleaved: load hits both alike
            for slot, iterations in enumerate((short, long)):
                seconds, result = timed(runner, X, init, iterations)
                best[name][slot] = min(best[name][slot], seconds)
                results[name] = result
    per_iteration = {name: (t[1] - t[0]) / (long - short) for name, t in best.items()}
    ours = results["reference"].log_likelihood_history[:-1] / n
    theirs = np.asarray(results["sklearn"].lower_bounds_)
    difference = float(np.max(np.abs(ours - theirs) / np.abs(theirs)))
    return per_iteration, best, difference


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip N = 1e6")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    print(f"numpy {np.__version__}; one BLAS thread; per-iteration cost = (t(12 iterations) - t(2)) / 10")
    header = (
        f"{'N':>9} {'K':>2} {'d':>2} | {'reference':>12} {'sklearn':>12} | {'ratio':>6} | "
        f"{'fit ratio':>9} | {'max rel diff loglik':>19}"
    )
    print(header)
    print("-" * len(header))
    worst = np.inf
    with threadpool_limits(limits=1):
        for n in sizes:
            for k in (3, 5):
                per_iteration, best, difference = measure(n, k, 2, args.repeats, short=2, long=12)
                ns = {name: seconds / n * 1e9 for name, seconds in per_iteration.items()}
                ratio = per_iteration["sklearn"] / per_iteration["reference"]
                fit_ratio = best["sklearn"][1] / best["reference"][1]
                worst = min(worst, ratio)
                print(
                    f"{n:>9} {k:>2} {2:>2} | {ns['reference']:>9.1f} ns {ns['sklearn']:>9.1f} ns |"
                    f" {ratio:>5.2f}x | {fit_ratio:>8.2f}x | {difference:>19.1e}"
                )
    print(f"slowest ratio: {worst:.2f}x (ns per point per EM iteration; ratio = sklearn / reference)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
