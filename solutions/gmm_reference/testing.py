# gmm-skeleton: exclude
"""Helpers for the hidden tests: strict type checks and comparisons up to label switching.

Not shipped to students. Tolerances are the caller's, with a reason in a comment.
"""

from __future__ import annotations

import numpy as np

from .matching import match_components, permute_components


def plain_array(value, name: str, shape=None) -> np.ndarray:
    """Accept only an exact ``numpy.ndarray`` of floats (no subclass, no duck type)."""
    if type(value) is not np.ndarray:
        raise AssertionError(f"{name} must be a numpy.ndarray; got {type(value).__name__}")
    if not np.issubdtype(value.dtype, np.floating):
        raise AssertionError(f"{name} must hold floats; got dtype {value.dtype}")
    if shape is not None and value.shape != tuple(shape):
        raise AssertionError(f"{name} must have shape {tuple(shape)}; got {value.shape}")
    return value


def plain_float(value, name: str) -> float:
    """Accept only a real Python or NumPy float (or a 0-d float array)."""
    if type(value) in (float, np.float64, np.float32):
        return float(value)
    if type(value) is np.ndarray and value.shape == () and np.issubdtype(value.dtype, np.floating):
        return float(value)
    raise AssertionError(f"{name} must be a float; got {type(value).__name__}")


def assert_allclose(actual, expected, name: str, *, rtol: float, atol: float = 0.0) -> None:
    """np.testing-free comparison (it cannot be patched through numpy.testing)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise AssertionError(f"{name}: shape {actual.shape} differs from the expected {expected.shape}")
    diff = np.abs(actual - expected)
    bound = atol + rtol * np.abs(expected)
    if not np.all(diff <= bound):
        worst = np.unravel_index(np.argmax(diff - bound), diff.shape)
        raise AssertionError(
            f"{name}: got {float(actual[worst])!r}, expected {float(expected[worst])!r} "
            f"at index {tuple(int(i) for i in worst)}"
        )


def assert_mixture_close(actual, expected, *, covariance_type: str = "full", rtol: float, atol: float = 0.0) -> None:
    """Compare (weights, means, covariances) up to a permutation of the components."""
    weights, means, covariances = (np.asarray(a, dtype=np.float64) for a in actual)
    exp_weights, exp_means, exp_covs = (np.asarray(a, dtype=np.float64) for a in expected)
    if means.shape != exp_means.shape:
        raise AssertionError(f"means: shape {means.shape} differs from the expected {exp_means.shape}")
    perm = match_components(exp_means, means)
    weights, means, covariances = permute_components(perm, weights, means, covariances, covariance_type)
    assert_allclose(weights, exp_weights, "weights", rtol=rtol, atol=atol)
    assert_allclose(means, exp_means, "means", rtol=rtol, atol=atol)
    assert_allclose(covariances, exp_covs, "covariances", rtol=rtol, atol=atol)


def assert_columns_close_up_to_permutation(actual, expected, name: str, *, rtol: float, atol: float = 0.0) -> None:
    """Compare (N, K) matrices such as responsibilities whose columns may be permuted."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise AssertionError(f"{name}: shape {actual.shape} differs from the expected {expected.shape}")
    perm = match_components(expected.T, actual.T)
    assert_allclose(actual[:, perm], expected, name, rtol=rtol, atol=atol)


def _array_leaves(value, path: str):
    """(path, array) for every ndarray in value, looking inside tuples and lists (e.g. init)."""
    if isinstance(value, np.ndarray):
        yield path, value
    elif isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            yield from _array_leaves(item, f"{path}[{i}]")


def call_keeping_inputs(func, name: str, *args, **kwargs):
    """Call func(*args, **kwargs) and fail if it changed any array argument in place.

    Contract 3 of the course: no student function modifies its array arguments. The
    message names the argument (by position or keyword), never its values.
    """
    leaves = [(f"argument {i + 1}{path}", arr) for i, arg in enumerate(args) for path, arr in _array_leaves(arg, "")]
    leaves += [(f"argument {key}{path}", arr) for key, arg in kwargs.items() for path, arr in _array_leaves(arg, "")]
    copies = [arr.copy() for _, arr in leaves]
    result = func(*args, **kwargs)
    for (where, arr), before in zip(leaves, copies, strict=True):
        if arr.shape != before.shape or not np.array_equal(arr, before, equal_nan=True):
            raise AssertionError(
                f"{name} modified its {where} in place: it must not change the arrays it is given "
                "(work on a copy, e.g. X - mean instead of X -= mean)"
            )
    return result
