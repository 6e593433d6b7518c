"""Mutants for notebook 3: see gmm_course.mutants for the format."""

NOTEBOOK = "03_log_sum_exp.ipynb"

_LSE = "logsumexp.py"
_EM = "em.py"
_ALL_LSE = ["nb03_test_lse_values", "nb03_test_lse_extreme", "nb03_test_lse_infinite", "nb03_test_lse_axis"]

MUTANTS: list[dict] = [
    # --- logsumexp --------------------------------------------------------------------------
    {
        "name": "nb03_lse_naive",
        "description": "logsumexp computed literally as log(sum(exp(a))), without shifting by the maximum "
        "and without silencing warnings: overflows, underflows, and warns on all -inf slices",
        "file": _LSE,
        "find": "    shift = np.max(a, axis=axis, keepdims=True)\n",
        "replace": "    return np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))\n"
        "    shift = np.max(a, axis=axis, keepdims=True)\n",
        "fails": ["nb03_test_lse_extreme", "nb03_test_lse_infinite", "nb03_test_lse_axis"],
    },
    {
        "name": "nb03_lse_nan_on_infinite_max",
        "description": "shifts by the maximum but does not treat an infinite maximum apart: an all -inf slice "
        "gives -inf - (-inf) = NaN (and +inf gives inf - inf = NaN)",
        "file": _LSE,
        "find": "    shift = np.where(np.isfinite(shift), shift, 0.0)\n",
        "replace": "",
        "fails": ["nb03_test_lse_infinite"],
    },
    {
        "name": "nb03_lse_shift_by_mean",
        "description": "shifts by the mean instead of the maximum: exact on paper, but exp(a - mean) overflows "
        "when the values are spread out, and a -inf entry makes the mean -inf",
        "file": _LSE,
        "find": "    shift = np.max(a, axis=axis, keepdims=True)\n",
        "replace": "    shift = np.mean(a, axis=axis, keepdims=True)\n",
        "fails": ["nb03_test_lse_extreme", "nb03_test_lse_infinite"],
    },
    {
        "name": "nb03_lse_shift_by_min",
        "description": "shifts by the minimum instead of the maximum: exp(a - min) overflows for spread-out values",
        "file": _LSE,
        "find": "    shift = np.max(a, axis=axis, keepdims=True)\n",
        "replace": "    shift = np.min(a, axis=axis, keepdims=True)\n",
        "fails": ["nb03_test_lse_extreme", "nb03_test_lse_infinite"],
    },
    {
        "name": "nb03_lse_forgets_max",
        "description": "subtracts the maximum before exp but forgets to add it back: returns log(sum(exp(a - m)))",
        "file": _LSE,
        "find": "        out = np.log(total) + shift\n",
        "replace": "        out = np.log(total)\n",
        "fails": _ALL_LSE,
    },
    {
        "name": "nb03_lse_global_max",
        "description": "shifts every slice by the maximum of the whole array instead of its own maximum: "
        "slices far below the global maximum underflow to -inf",
        "file": _LSE,
        "find": "    shift = np.max(a, axis=axis, keepdims=True)\n",
        "replace": "    shift = np.max(a, keepdims=True)\n",
        "fails": ["nb03_test_lse_axis"],
    },
    {
        "name": "nb03_lse_ignores_axis",
        "description": "ignores the axis argument: always reduces over the whole array",
        "file": _LSE,
        "find": "    if a.size == 0:",
        "replace": "    axis = None\n    if a.size == 0:",
        "fails": ["nb03_test_lse_axis"],
    },
    {
        "name": "nb03_lse_ignores_keepdims",
        "description": "ignores keepdims: always drops the reduced axes, so the result does not broadcast against a",
        "file": _LSE,
        "find": "    if not keepdims:\n",
        "replace": "    if True:\n",
        "fails": ["nb03_test_lse_axis"],
    },
    # --- log_e_step -------------------------------------------------------------------------
    {
        "name": "nb03_log_e_step_unnormalised",
        "description": "log_e_step returns log pi_k + log N(x_n | mu_k, Sigma_k) without subtracting "
        "the normaliser log p(x_n): the responsibilities do not sum to 1",
        "file": _EM,
        "find": "    return weighted - log_norm, float(np.sum(log_norm))\n",
        "replace": "    return weighted, float(np.sum(log_norm))\n",
        "fails": ["nb03_test_log_resp", "nb03_test_log_e_step_stable"],
    },
    {
        "name": "nb03_log_e_step_no_weights",
        "description": "log_e_step forgets the mixing weights: normalises the log-densities log N(x_n | mu_k, Sigma_k) "
        "without adding log pi_k",
        "file": _EM,
        "find": "    weighted = _weighted_log_densities(X, params, covariance_type)\n    log_norm = logsumexp(",
        "replace": "    weighted = log_component_densities(X, params.means, params.covariances, covariance_type)\n"
        "    log_norm = logsumexp(",
        "fails": ["nb03_test_log_resp", "nb03_test_log_e_step_stable", "nb03_test_log_likelihood"],
    },
    {
        "name": "nb03_log_e_step_literal",
        "description": "log_e_step exponentiates the log-densities, normalises, then takes the log: "
        "right on Old Faithful, NaN (0/0) where every density underflows or overflows",
        "file": _EM,
        "find": "    log_norm = logsumexp(weighted, axis=1, keepdims=True)\n"
        "    return weighted - log_norm, float(np.sum(log_norm))\n",
        "replace": "    dens = np.exp(weighted)\n"
        "    total = dens.sum(axis=1, keepdims=True)\n"
        "    return np.log(dens / total), float(np.sum(np.log(total)))\n",
        "fails": ["nb03_test_log_e_step_stable"],
    },
    {
        "name": "nb03_log_likelihood_mean",
        "description": "log_e_step returns the mean of log p(x_n) instead of the sum as the log-likelihood",
        "file": _EM,
        "find": "    return weighted - log_norm, float(np.sum(log_norm))\n",
        "replace": "    return weighted - log_norm, float(np.mean(log_norm))\n",
        "fails": ["nb03_test_log_likelihood"],
    },
    {
        "name": "nb03_log_likelihood_sums_log_resp",
        "description": "log_e_step returns the sum of the log-responsibilities as the log-likelihood, "
        "instead of the sum of the normalisers log p(x_n)",
        "file": _EM,
        "find": "    return weighted - log_norm, float(np.sum(log_norm))\n",
        "replace": "    return weighted - log_norm, float(np.sum(weighted - log_norm))\n",
        "fails": ["nb03_test_log_likelihood"],
    },
    # --- contract boundaries and side effects (issue 13) --------------------------------------
    {
        "name": "nb03_lse_bare_squeeze",
        "description": "drops the kept axes with np.squeeze(out) and no axis: a length-1 axis of a that was not "
        "reduced disappears too (shape (1, 3) reduced over axis=1 gives () instead of (1,))",
        "file": _LSE,
        "find": "        out = np.squeeze(out, axis=axis) if axis is not None else out.reshape(())\n",
        "replace": "        out = np.squeeze(out)\n",
        "fails": ["nb03_test_lse_axis"],
    },
    {
        "name": "nb03_lse_shift_in_place",
        "description": "subtracts the maximum in place (a -= shift): the result is right, but the caller's "
        "array is changed",
        "file": _LSE,
        "find": "        total = np.sum(np.exp(a - shift), axis=axis, keepdims=True)\n",
        "replace": "        a -= shift\n        total = np.sum(np.exp(a), axis=axis, keepdims=True)\n",
        "fails": ["nb03_test_lse_values"],
    },
    {
        "name": "nb03_log_e_step_log_weights_in_place",
        "description": "log_e_step turns the caller's weights into log-weights in place "
        "(np.log(weights, out=weights)) before adding them to the log-densities",
        "file": _EM,
        "find": "    weighted = _weighted_log_densities(X, params, covariance_type)\n    log_norm = logsumexp(",
        "replace": "    np.log(params.weights, out=params.weights)\n"
        "    weighted = log_component_densities(X, params.means, params.covariances, covariance_type) + params.weights\n"
        "    log_norm = logsumexp(",
        "fails": ["nb03_test_log_resp"],
    },
]
