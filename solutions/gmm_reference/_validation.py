"""Input validation shared by every module (given to students in full).

Each checker returns a clean ``float64`` array or raises ``ValueError`` with a
message that says which argument is wrong and how, e.g.
``"X must be a 2-D array of shape (N, d); got shape (5,)"``.
"""

from __future__ import annotations

import numbers

import numpy as np

COVARIANCE_TYPES = ("full", "diag", "spherical", "tied")


def as_float_array(value, name: str) -> np.ndarray:
    """Convert ``value`` to a float64 array, refusing non-numeric input."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numeric; could not convert it to floats ({error})") from None
    return array


def check_finite(array: np.ndarray, name: str) -> np.ndarray:
    """Raise if ``array`` holds NaN or +-inf, naming the first bad entry."""
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))[0]
        where = tuple(int(i) for i in bad)
        raise ValueError(f"{name} contains NaN or infinite values (first at index {where}: {array[where]!r})")
    return array


def as_samples_1d(x, name: str = "x") -> np.ndarray:
    """Validate 1-D data: a finite float array of shape (N,) with N >= 1."""
    array = as_float_array(x, name)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of shape (N,); got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty: need at least one data point")
    return check_finite(array, name)


def as_samples_2d(X, name: str = "X") -> np.ndarray:
    """Validate a data matrix: a finite float array of shape (N, d), N >= 1, d >= 1."""
    array = as_float_array(X, name)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (N, d); got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} must have at least one row and one column; got shape {array.shape}")
    return check_finite(array, name)


def check_n_components(n_components, X: np.ndarray) -> int:
    """Check that ``n_components`` is a positive integer no larger than the distinct points of X."""
    if isinstance(n_components, bool) or not isinstance(n_components, numbers.Integral):
        raise ValueError(f"n_components must be a positive integer; got {n_components!r}")
    n_components = int(n_components)
    if n_components < 1:
        raise ValueError(f"n_components must be at least 1; got {n_components}")
    points = X.reshape(X.shape[0], -1)
    n_distinct = np.unique(points, axis=0).shape[0]
    if n_components > n_distinct:
        raise ValueError(
            f"n_components={n_components} is larger than the number of distinct data points "
            f"({n_distinct}); a mixture cannot have more components than distinct points"
        )
    return n_components


def check_positive(value, name: str, *, allow_zero: bool = False) -> float:
    """Check that a scalar option is a finite number > 0 (or >= 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}; got {value!r}")
    return float(value)


def check_max_iter(max_iter) -> int:
    """Check that ``max_iter`` is a non-negative integer."""
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative integer; got {max_iter!r}")
    return int(max_iter)


def check_covariance_type(covariance_type: str) -> str:
    """Check that the covariance type is one of ``COVARIANCE_TYPES``."""
    if covariance_type not in COVARIANCE_TYPES:
        raise ValueError(f"covariance_type must be one of {', '.join(COVARIANCE_TYPES)}; got {covariance_type!r}")
    return covariance_type


def check_responsibilities(resp, n_samples: int, name: str = "resp") -> np.ndarray:
    """Validate a responsibility matrix of shape (N, K): finite, non-negative."""
    array = as_float_array(resp, name)
    if array.ndim != 2 or array.shape[0] != n_samples:
        raise ValueError(f"{name} must have shape (N, K) with N={n_samples} rows; got shape {array.shape}")
    check_finite(array, name)
    if np.any(array < 0):
        raise ValueError(f"{name} has negative entries; responsibilities are probabilities")
    return array


def check_weights(weights, name: str = "weights") -> np.ndarray:
    """Validate mixing weights of shape (K,): non-negative, summing to 1."""
    array = check_finite(as_float_array(weights, name), name)
    if array.ndim != 1 or array.shape[0] == 0:
        raise ValueError(f"{name} must be a 1-D array of shape (K,); got shape {array.shape}")
    if np.any(array < 0):
        raise ValueError(f"{name} has negative entries: {array}")
    if not np.isclose(array.sum(), 1.0, rtol=0, atol=1e-8):
        raise ValueError(f"{name} must sum to 1; they sum to {array.sum():.12g}")
    return array


def make_rng(rng) -> np.random.Generator:
    """Return a ``numpy.random.Generator``: pass one through, or seed a new one from an int.

    ``None`` is refused on purpose: every random choice in this course is seeded.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise ValueError(f"rng must be a numpy.random.Generator or an integer seed; got {type(rng).__name__}")
