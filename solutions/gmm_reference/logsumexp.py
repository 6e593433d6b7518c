"""The log-sum-exp trick (notebook 3).

Mixture models add probabilities, ``p(x) = sum_k pi_k N(x | mu_k, Sigma_k)``, but in
more than a handful of dimensions each term underflows to 0.0 in float64. We keep
everything as logarithms instead and add them with::

    log sum_i exp(a_i) = m + log sum_i exp(a_i - m),      m = max_i a_i

Every ``a_i - m`` is <= 0, so no ``exp`` overflows, and the largest term is exactly
``exp(0) = 1``, so the sum cannot underflow to 0.
"""

from __future__ import annotations

import numpy as np


def naive_logsumexp(a, axis=None, keepdims: bool = False) -> np.ndarray:
    """Compute ``log(sum(exp(a)))`` literally. Given, for contrast: it is NOT stable.

    Inputs:
    - a: array of any shape.
    - axis: None (reduce over everything), an int, or a tuple of ints.
    - keepdims: keep the reduced axes with length 1.

    Returns:
    - the same as ``logsumexp``, except that it returns -inf where every term
      underflows (e.g. a = [-1000, -1000]) and inf where one term overflows
      (e.g. a = [1000, 0]).
    """
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(over="ignore", divide="ignore"):
        return np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))


def logsumexp(a, axis=None, keepdims: bool = False) -> np.ndarray:
    """Compute ``log(sum(exp(a), axis))`` without overflow or underflow.

    Inputs:
    - a: array of any shape, float entries that may be -inf (log of a zero
      probability), very large (1e308) or very negative (-1e308).
    - axis: None (reduce over all entries), an int, or a tuple of ints, as in
      ``np.sum``.
    - keepdims: if True the reduced axes are kept with length 1, so the result
      broadcasts against ``a`` (handy for ``a - logsumexp(a, axis=1, keepdims=True)``).

    Returns:
    - out: float64, with exactly the shape of ``np.sum(a, axis=axis, keepdims=keepdims)``:
      for a of shape (1, 3), axis=1 gives shape (1,), and keepdims=True gives (1, 1).
      Axes of length 1 that are not reduced stay. When that shape is () (axis=None and
      keepdims=False, or a 1-D a reduced over axis 0) a NumPy scalar or a 0-d array
      are both fine. A slice whose entries are all -inf gives -inf (not NaN), and no
      warning is printed for it; a slice holding +inf gives +inf; a slice holding NaN
      gives NaN.

    Does not modify its inputs.

    Hint: subtract the maximum of each slice first (``np.max(a, axis=axis,
    keepdims=True)`` broadcasts against ``a``). Take care when that maximum is itself
    -inf or +inf: ``-inf - (-inf)`` is NaN. To drop the kept axes at the end, name them:
    ``np.squeeze(out, axis=axis)`` (without ``axis`` it would also drop length-1 axes
    that were not reduced).
    """
    ### BEGIN SOLUTION
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0:  # an empty sum is 0, whose log is -inf
        with np.errstate(divide="ignore"):
            return np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))
    shift = np.max(a, axis=axis, keepdims=True)
    # An all -inf (or +inf) slice would give inf - inf = NaN: shift it by 0 instead.
    shift = np.where(np.isfinite(shift), shift, 0.0)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        # a - shift can only overflow towards -inf, whose exp is 0: harmless.
        total = np.sum(np.exp(a - shift), axis=axis, keepdims=True)
        out = np.log(total) + shift
    if not keepdims:
        out = np.squeeze(out, axis=axis) if axis is not None else out.reshape(())
    return out[()] if out.ndim == 0 else out
    ### END SOLUTION
