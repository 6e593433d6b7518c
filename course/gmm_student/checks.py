"""Checks for the visible tests: they explain what is wrong in plain words (given).

Every function raises ``AssertionError`` with a message aimed at you, the student,
such as "row 17 of resp sums to 0.73, but each row of responsibilities must sum to 1".
They return None when all is well.
"""

from __future__ import annotations

import numpy as np


def check_array(value, name: str, shape: tuple | None = None) -> None:
    """``value`` must be a finite float NumPy array, of ``shape`` if given."""
    if not isinstance(value, np.ndarray):
        raise AssertionError(f"{name} should be a NumPy array, but it is a {type(value).__name__}.")
    if shape is not None and value.shape != tuple(shape):
        raise AssertionError(f"{name} should have shape {tuple(shape)}, but it has shape {value.shape}.")
    if not np.issubdtype(value.dtype, np.floating):
        raise AssertionError(f"{name} should hold floats, but its dtype is {value.dtype}.")
    if not np.all(np.isfinite(value)):
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(value))[0])
        raise AssertionError(
            f"{name} contains {value[where]} at index {where}. NaN usually means 0/0 "
            "(for example dividing by a sum of underflowed probabilities)."
        )


def check_scalar(value, name: str) -> None:
    """``value`` must be one finite real number (a Python or NumPy float)."""
    if isinstance(value, np.ndarray) and value.shape != ():
        raise AssertionError(f"{name} should be a single number, but it is an array of shape {value.shape}.")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating, np.ndarray)):
        raise AssertionError(f"{name} should be a number, but it is a {type(value).__name__}.")
    if not np.isfinite(value):
        raise AssertionError(f"{name} should be finite, but it is {value}.")


def check_responsibilities(resp, n_samples: int, n_components: int, name: str = "resp") -> None:
    """Responsibilities: shape (N, K), entries in [0, 1], every row summing to 1."""
    check_array(resp, name, (n_samples, n_components))
    if np.any(resp < 0):
        n, k = (int(i) for i in np.argwhere(resp < 0)[0])
        raise AssertionError(f"{name}[{n}, {k}] = {resp[n, k]:.3g} is negative; responsibilities are probabilities.")
    sums = resp.sum(axis=1)
    bad = np.flatnonzero(~np.isclose(sums, 1.0, rtol=0, atol=1e-8))
    if bad.size:
        raise AssertionError(
            f"row {bad[0]} of {name} sums to {sums[bad[0]]:.12g}, but each row must sum to 1 "
            f"({bad.size} of {n_samples} rows are off). Did you divide by the sum over components?"
        )


def check_weights(weights, n_components: int, name: str = "weights") -> None:
    """Mixing weights: shape (K,), non-negative, summing to 1."""
    check_array(weights, name, (n_components,))
    if np.any(weights < 0):
        raise AssertionError(f"{name} has a negative entry: {weights}.")
    if not np.isclose(weights.sum(), 1.0, rtol=0, atol=1e-8):
        raise AssertionError(
            f"{name} sum to {weights.sum():.12g}, not 1. The weights are N_k / N: did you divide by N?"
        )


def check_covariances(covariances, n_components: int, n_features: int, name: str = "covariances") -> None:
    """Full covariances: shape (K, d, d), each symmetric positive definite."""
    check_array(covariances, name, (n_components, n_features, n_features))
    for k, cov in enumerate(covariances):
        if not np.allclose(cov, cov.T, rtol=1e-8, atol=1e-10):
            raise AssertionError(f"{name}[{k}] is not symmetric: a covariance matrix must equal its transpose.")
        smallest = np.linalg.eigvalsh(cov).min()
        if smallest <= 0:
            raise AssertionError(
                f"{name}[{k}] is not positive definite (smallest eigenvalue {smallest:.3g}). "
                "Did you add reg_covar to the diagonal?"
            )


def check_non_decreasing(history, name: str = "log-likelihood", tol: float = 1e-9) -> None:
    """EM never lowers the log-likelihood: each entry >= the previous (up to rounding)."""
    history = np.asarray(history, dtype=np.float64)
    if history.ndim != 1 or history.size < 2:
        raise AssertionError(
            f"the {name} history should be a 1-D sequence of at least 2 values; got shape {history.shape}."
        )
    drops = np.diff(history)
    scale = tol * np.maximum(1.0, np.abs(history[:-1]))
    bad = np.flatnonzero(drops < -scale)
    if bad.size:
        i = int(bad[0])
        raise AssertionError(
            f"the {name} decreased at iteration {i + 1}: from {history[i]:.6f} to {history[i + 1]:.6f}. "
            "EM can never do that, so the E-step or M-step has a bug."
        )


def check_close(actual, expected, name: str, rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """``actual`` must match ``expected`` elementwise; the message names the worst entry."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise AssertionError(f"{name} should have shape {expected.shape}, but it has shape {actual.shape}.")
    close = np.isclose(actual, expected, rtol=rtol, atol=atol)
    if not np.all(close):
        error = np.where(close, 0.0, np.abs(actual - expected))
        where = np.unravel_index(np.argmax(error), error.shape)
        at = f" at index {tuple(int(i) for i in where)}" if actual.ndim else ""
        raise AssertionError(f"{name} is wrong{at}: got {actual[where]:.6g}, expected {expected[where]:.6g}.")
