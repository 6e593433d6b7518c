"""Label switching: match the components of two fits before comparing them (given).

EM's answer is only defined up to a relabelling of the components: the fit that
calls the short eruptions "component 0" is as good as the one that calls them
"component 1". Compare fits only after putting their components in corresponding order.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def match_components(reference_means, estimated_means) -> np.ndarray:
    """Best one-to-one matching of estimated components to reference components.

    Inputs: reference_means (K, d) or (K,); estimated_means of the same shape.
    Returns: perm (K,) ints, such that estimated_means[perm] lines up with reference_means
    (minimising the total squared distance between matched means). Does not modify its inputs.
    """
    ref = np.asarray(reference_means, dtype=np.float64)
    est = np.asarray(estimated_means, dtype=np.float64)
    if ref.shape != est.shape:
        raise ValueError(f"cannot match components: shapes {ref.shape} and {est.shape} differ")
    ref = ref.reshape(ref.shape[0], -1)
    est = est.reshape(est.shape[0], -1)
    cost = np.sum((ref[:, None, :] - est[None, :, :]) ** 2, axis=2)
    rows, cols = linear_sum_assignment(cost)
    return cols[np.argsort(rows)]


def permute_components(perm, weights, means, covariances, covariance_type: str = "full"):
    """Reorder a parameter set by ``perm``; tied covariances are shared and stay as they are.

    Returns new arrays (weights (K,), means (K, d), covariances); does not modify its inputs.
    """
    perm = np.asarray(perm)
    covariances = np.asarray(covariances)
    if covariance_type != "tied":
        covariances = covariances[perm]
    return np.asarray(weights)[perm], np.asarray(means)[perm], covariances
