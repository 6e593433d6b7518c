"""The end-to-end instructor demo (``make demo``)."""

from __future__ import annotations

import numpy as np

import gmm_reference as ref

from .paths import SOURCE_NOTEBOOKS_DIR


def fit_old_faithful() -> None:
    """Fit the reference to Old Faithful in 1-D and 2-D and print what it finds."""
    X = ref.load_old_faithful(SOURCE_NOTEBOOKS_DIR / "data" / "old_faithful.csv")
    one_d = ref.fit_gmm_1d(X[:, 0], 2, rng=0)
    print(
        f"1-D EM on {X.shape[0]} eruption durations: {one_d.n_iter} iterations, "
        f"log-likelihood {one_d.log_likelihoods[-1]:.3f}"
    )
    for k in np.argsort(one_d.means):
        print(
            f"  weight {one_d.weights[k]:.3f}  mean {one_d.means[k]:.3f} min  sd {np.sqrt(one_d.variances[k]):.3f} min"
        )
    two_d = ref.fit_gmm(X, 2, n_init=3, rng=0)
    print(f"2-D EM (eruptions, waiting): {two_d.n_iter} iterations, log-likelihood {two_d.log_likelihood:.3f}")
    for k in np.argsort(two_d.means[:, 0]):
        m = two_d.means[k]
        print(f"  weight {two_d.weights[k]:.3f}  mean ({m[0]:.3f}, {m[1]:.2f}) min")


def run_demo(args) -> int:
    fit_old_faithful()
    return 0
