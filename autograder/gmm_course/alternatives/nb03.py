"""Valid alternatives for notebook 3: see gmm_course.alternatives for the format."""

NOTEBOOK = "03_log_sum_exp.ipynb"

_LSE_BODY_START = "    a = np.asarray(a, dtype=np.float64)\n    if a.size == 0:"

ALTERNATIVES: list[dict] = [
    {
        "name": "nb03_alt_lse_logaddexp_reduce",
        "description": "logsumexp by np.logaddexp.reduce over the reduced axes moved to the end and flattened "
        "(stable pairwise log-add; handles -inf, +inf and NaN); returns a 0-d array, not a scalar, for a () result",
        "file": "logsumexp.py",
        "find": _LSE_BODY_START,
        "replace": "    a = np.asarray(a, dtype=np.float64)\n"
        "    if a.ndim > 0 and a.size > 0:\n"
        "        axes = tuple(range(a.ndim)) if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)\n"
        "        axes = tuple(sorted(ax % a.ndim for ax in axes))\n"
        "        kept = [ax for ax in range(a.ndim) if ax not in axes]\n"
        "        moved = np.transpose(a, kept + list(axes)).reshape([a.shape[ax] for ax in kept] + [-1])\n"
        "        with np.errstate(over='ignore', invalid='ignore'):\n"
        "            out = np.asarray(np.logaddexp.reduce(moved, axis=-1))\n"
        "        return np.expand_dims(out, axes) if keepdims else out\n"
        "    if a.size == 0:",
    },
    {
        "name": "nb03_alt_lse_0d_array",
        "description": "the reference logsumexp, but it returns a 0-d array instead of a NumPy scalar where the "
        "result has shape () (contract 1 allows both)",
        "file": "logsumexp.py",
        "find": "    return out[()] if out.ndim == 0 else out\n",
        "replace": "    return out\n",
    },
    {
        "name": "nb03_alt_lse_loop_over_slices",
        "description": "logsumexp over one int axis as a per-slice function (its own max shift, 0 for an "
        "infinite max) applied with np.apply_along_axis; other cases as the reference",
        "file": "logsumexp.py",
        "find": _LSE_BODY_START,
        "replace": "    a = np.asarray(a, dtype=np.float64)\n"
        "    if isinstance(axis, int) and a.ndim >= 1 and a.size > 0:\n"
        "        def one(v):\n"
        "            m = v.max()\n"
        "            m = m if np.isfinite(m) else 0.0\n"
        "            with np.errstate(over='ignore', divide='ignore', invalid='ignore'):\n"
        "                return np.log(np.sum(np.exp(v - m))) + m\n"
        "        out = np.apply_along_axis(one, axis, a).astype(np.float64)\n"
        "        return np.expand_dims(out, axis) if keepdims else out\n"
        "    if a.size == 0:",
    },
    {
        "name": "nb03_alt_log_e_step_rows",
        "description": "log_e_step with one logsumexp call per row (a loop over the points) and log weights added "
        "by broadcasting",
        "file": "em.py",
        "find": "    weighted = _weighted_log_densities(X, params, covariance_type)\n"
        "    log_norm = logsumexp(weighted, axis=1, keepdims=True)\n"
        "    return weighted - log_norm, float(np.sum(log_norm))\n",
        "replace": "    with np.errstate(divide='ignore'):\n"
        "        log_weights = np.log(params.weights)\n"
        "    weighted = log_component_densities(X, params.means, params.covariances, covariance_type) + log_weights\n"
        "    log_norm = np.array([float(logsumexp(row)) for row in weighted])\n"
        "    return weighted - log_norm[:, None], float(log_norm.sum())\n",
    },
]
