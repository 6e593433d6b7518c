"""Valid alternatives for notebook 1: see gmm_course.alternatives for the format."""

NOTEBOOK = "01_em_1d_old_faithful.ipynb"

_E_STEP_BODY = (
    "    log_dens = -0.5 * (LOG_2PI + np.log(variances) + (x[:, None] - means) ** 2 / variances)\n"
    '    with np.errstate(divide="ignore"):\n'
    "        weighted = log_dens + np.log(weights)\n"
    "    # Shift each row so that its largest term is exp(0) = 1: the row sum lies in [1, K].\n"
    "    scaled = np.exp(weighted - weighted.max(axis=1, keepdims=True))\n"
    "    return scaled / scaled.sum(axis=1, keepdims=True)\n"
)

_M_STEP_BODY = (
    "    nk = resp.sum(axis=0) + 10.0 * np.finfo(np.float64).eps\n"
    "    weights = nk / nk.sum()\n"
    "    means = resp.T @ x / nk\n"
    '    variances = np.einsum("nk,nk->k", resp, (x[:, None] - means) ** 2) / nk\n'
    "    return weights, means, np.maximum(variances, var_floor)\n"
)

_FIT_BODY = (
    "    n = x.shape[0]\n"
    "    history = [log_likelihood_1d(x, weights, means, variances)]\n"
    "    converged = False\n"
    "    n_iter = 0\n"
    "    for iteration in range(1, max_iter + 1):\n"
    "        n_iter = iteration\n"
    "        resp = e_step_1d(x, weights, means, variances)\n"
    "        weights, means, variances = m_step_1d(x, resp, var_floor)\n"
    "        history.append(log_likelihood_1d(x, weights, means, variances))\n"
    "        if abs(history[-1] - history[-2]) / n < tol:\n"
    "            converged = True\n"
    "            break\n"
    "    return UnivariateFit(weights, means, variances, np.array(history), n_iter, converged)\n"
)

_LOG_LIK_RETURN = (
    "    top = weighted.max(axis=1)\n"
    "    return float(np.sum(top + np.log(np.sum(np.exp(weighted - top[:, None]), axis=1))))\n"
)

ALTERNATIVES: list[dict] = [
    {
        "name": "nb01_alt_pdf_scipy_stats",
        "description": "normal_pdf from scipy.stats.norm.pdf with scale = sqrt(variance), broadcast to (N, K).",
        "file": "univariate.py",
        "find": "    diff = x[:, None] - means[None, :]\n"
        "    return np.exp(-0.5 * diff**2 / variances) / np.sqrt(2.0 * np.pi * variances)\n",
        "replace": "    from scipy import stats\n\n"
        "    return stats.norm.pdf(x[:, None], loc=means[None, :], scale=np.sqrt(variances)[None, :])\n",
    },
    {
        "name": "nb01_alt_e_step_scipy_softmax",
        "description": "e_step_1d as scipy.special.softmax over the components of log(pi_k) + scipy.stats.norm.logpdf "
        "(softmax subtracts the row maximum itself, so far points are safe).",
        "file": "univariate.py",
        "find": _E_STEP_BODY,
        "replace": "    from scipy import special, stats\n\n"
        "    log_dens = stats.norm.logpdf(x[:, None], loc=means, scale=np.sqrt(variances))\n"
        '    with np.errstate(divide="ignore"):\n'
        "        log_weights = np.log(weights)\n"
        "    return special.softmax(log_weights + log_dens, axis=1)\n",
    },
    {
        "name": "nb01_alt_e_step_component_loop",
        "description": "e_step_1d fills the log-terms column by column in a Python loop over components, then "
        "exp-normalises each row after subtracting its maximum, in place on its own array.",
        "file": "univariate.py",
        "find": _E_STEP_BODY,
        "replace": "    log_terms = np.empty((x.shape[0], weights.shape[0]))\n"
        "    for k in range(weights.shape[0]):\n"
        '        with np.errstate(divide="ignore"):\n'
        "            log_weight = np.log(weights[k])\n"
        "        log_terms[:, k] = log_weight - 0.5 * np.log(2.0 * np.pi * variances[k])\n"
        "        log_terms[:, k] -= (x - means[k]) ** 2 / (2.0 * variances[k])\n"
        "    log_terms -= np.max(log_terms, axis=1, keepdims=True)\n"
        "    resp = np.exp(log_terms)\n"
        "    resp /= np.sum(resp, axis=1, keepdims=True)\n"
        "    return resp\n",
    },
    {
        "name": "nb01_alt_e_step_log_normaliser",
        "description": "e_step_1d subtracts each row's log-normaliser (row maximum plus the log of the shifted sum) "
        "and exponentiates once: r_nk = exp(a_nk - log sum_j exp(a_nj)).",
        "file": "univariate.py",
        "find": _E_STEP_BODY,
        "replace": "    weighted = np.log(weights) - 0.5 * np.log(2.0 * np.pi * variances)\n"
        "    weighted = weighted - (x[:, None] - means) ** 2 / (2.0 * variances)\n"
        "    top = np.max(weighted, axis=1, keepdims=True)\n"
        "    log_norm = top + np.log(np.sum(np.exp(weighted - top), axis=1, keepdims=True))\n"
        "    return np.exp(weighted - log_norm)\n",
    },
    {
        "name": "nb01_alt_m_step_component_loop",
        "description": "m_step_1d loops over components with np.average (weights resp[:, k]) for the mean and the "
        "variance, N_k / N for the weight, and no guard constant on N_k.",
        "file": "univariate.py",
        "find": _M_STEP_BODY,
        "replace": "    n_points, n_components = resp.shape\n"
        "    weights = np.empty(n_components)\n"
        "    means = np.empty(n_components)\n"
        "    variances = np.empty(n_components)\n"
        "    for k in range(n_components):\n"
        "        weights[k] = resp[:, k].sum() / n_points\n"
        "        means[k] = np.average(x, weights=resp[:, k])\n"
        "        variances[k] = max(np.average((x - means[k]) ** 2, weights=resp[:, k]), var_floor)\n"
        "    return weights, means, variances\n",
    },
    {
        "name": "nb01_alt_loglik_via_normal_pdf",
        "description": "log_likelihood_1d by the direct formula, sum_n log(normal_pdf(x) @ weights), through the "
        "student's own normal_pdf (accurate for data within a few dozen sd of a component).",
        "file": "univariate.py",
        "find": _LOG_LIK_RETURN,
        "replace": "    return float(np.sum(np.log(normal_pdf(x, means, variances) @ weights)))\n",
    },
    {
        "name": "nb01_alt_loglik_logaddexp",
        "description": "log_likelihood_1d with np.logaddexp.reduce over the components, then a sum over points "
        "in the other order (np.add.reduce of a sorted copy).",
        "file": "univariate.py",
        "find": _LOG_LIK_RETURN,
        "replace": "    return float(np.add.reduce(np.sort(np.logaddexp.reduce(weighted, axis=1))))\n",
    },
    {
        "name": "nb01_alt_fit_while_loop",
        "description": "fit_gmm_1d as a while loop that tests |l_t - l_(t-1)| < tol * N (multiplied out) and keeps "
        "the previous log-likelihood in a variable.",
        "file": "univariate.py",
        "find": _FIT_BODY,
        "replace": "    n = x.shape[0]\n"
        "    previous = log_likelihood_1d(x, weights, means, variances)\n"
        "    history = [previous]\n"
        "    n_iter, converged = 0, False\n"
        "    while n_iter < max_iter and not converged:\n"
        "        resp = e_step_1d(x, weights, means, variances)\n"
        "        weights, means, variances = m_step_1d(x, resp, var_floor)\n"
        "        current = log_likelihood_1d(x, weights, means, variances)\n"
        "        history.append(current)\n"
        "        n_iter += 1\n"
        "        converged = abs(current - previous) < tol * n\n"
        "        previous = current\n"
        "    return UnivariateFit(weights, means, variances, np.asarray(history, dtype=float), n_iter, converged)\n",
    },
]
