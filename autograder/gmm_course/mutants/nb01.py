"""Mutants for notebook 1: see gmm_course.mutants for the format."""

NOTEBOOK = "01_em_1d_old_faithful.ipynb"

_E_STEP_LOG_DENS = (
    "give 0/0.\n"
    "    log_dens = -0.5 * (LOG_2PI + np.log(variances) + (x[:, None] - means) ** 2 / variances)\n"
    '    with np.errstate(divide="ignore"):\n'
    "        weighted = log_dens + np.log(weights)\n"
)

_LOG_LIK_WEIGHTED = "        weighted = log_dens + np.log(weights)\n    # log sum_k exp(a_k)"

_E_STEP_SHIFT = "    scaled = np.exp(weighted - weighted.max(axis=1, keepdims=True))\n"
_E_STEP_RETURN = "    return scaled / scaled.sum(axis=1, keepdims=True)"
_E_STEP_BODY = _E_STEP_LOG_DENS.replace("give 0/0.\n", "") + (
    "    # Shift each row so that its largest term is exp(0) = 1: the row sum lies in [1, K].\n"
    + _E_STEP_SHIFT
    + _E_STEP_RETURN
)
_FIT_RETURN = "    return UnivariateFit(weights, means, variances, np.array(history), n_iter, converged)"

MUTANTS: list[dict] = [
    # --- normal_pdf ---------------------------------------------------------------------
    {
        "name": "nb01_pdf_sigma_squared_in_normaliser",
        "description": "normal_pdf divides by sqrt(2 pi) * sigma^2 instead of sqrt(2 pi sigma^2) "
        "(treats the variance as a standard deviation in the normalising constant)",
        "file": "univariate.py",
        "find": "return np.exp(-0.5 * diff**2 / variances) / np.sqrt(2.0 * np.pi * variances)",
        "replace": "return np.exp(-0.5 * diff**2 / variances) / (np.sqrt(2.0 * np.pi) * variances)",
        "fails": ["nb01_normal_pdf"],
    },
    {
        "name": "nb01_pdf_missing_half",
        "description": "normal_pdf forgets the 1/2 in the exponent: exp(-(x - mu)^2 / sigma^2)",
        "file": "univariate.py",
        "find": "np.exp(-0.5 * diff**2 / variances)",
        "replace": "np.exp(-diff**2 / variances)",
        "fails": ["nb01_normal_pdf"],
    },
    # --- e_step_1d ----------------------------------------------------------------------
    {
        "name": "nb01_resp_unnormalised",
        "description": "E-step returns pi_k N(x_n | mu_k, sigma_k^2) without dividing by the sum over components",
        "file": "univariate.py",
        "find": _E_STEP_RETURN,
        "replace": "    return scaled",
        "fails": ["nb01_e_step"],
    },
    {
        "name": "nb01_resp_normalised_over_points",
        "description": "E-step normalises each column (over the data points, axis 0) instead of each row",
        "file": "univariate.py",
        "find": _E_STEP_RETURN,
        "replace": "    return scaled / scaled.sum(axis=0, keepdims=True)",
        "fails": ["nb01_e_step"],
    },
    {
        "name": "nb01_e_step_no_weights",
        "description": "E-step forgets the mixing weights: r_nk proportional to N(x_n | mu_k, sigma_k^2) only",
        "file": "univariate.py",
        "find": _E_STEP_LOG_DENS,
        "replace": _E_STEP_LOG_DENS.replace("log_dens + np.log(weights)", "log_dens"),
        "fails": ["nb01_e_step"],
    },
    {
        "name": "nb01_e_step_exp_without_shift",
        "description": "E-step exponentiates log(pi_k) + log N(x_n | mu_k, sigma_k^2) without subtracting each row's "
        "maximum: 0/0 = nan for points far from every component",
        "file": "univariate.py",
        "find": _E_STEP_SHIFT,
        "replace": "    scaled = np.exp(weighted)\n",
        "fails": ["nb01_e_step"],
    },
    {
        "name": "nb01_e_step_direct_densities",
        "description": "E-step divides pi_k N(x_n | mu_k, sigma_k^2) by its row sum, computed from the student's "
        "normal_pdf: right in the middle of the data, nan where every density underflows",
        "file": "univariate.py",
        "find": _E_STEP_BODY,
        "replace": "    joint = weights * normal_pdf(x, means, variances)\n"
        "    return joint / joint.sum(axis=1, keepdims=True)",
        "fails": ["nb01_e_step"],
    },
    # --- m_step_1d ----------------------------------------------------------------------
    {
        "name": "nb01_weights_not_normalised",
        "description": "M-step returns the weights as N_k instead of N_k / N",
        "file": "univariate.py",
        "find": "    weights = nk / nk.sum()",
        "replace": "    weights = nk",
        "fails": ["nb01_m_step"],
    },
    {
        "name": "nb01_means_divided_by_n",
        "description": "M-step divides the weighted sum of the data by N instead of N_k for the means",
        "file": "univariate.py",
        "find": "    means = resp.T @ x / nk",
        "replace": "    means = resp.T @ x / x.shape[0]",
        "fails": ["nb01_m_step"],
    },
    {
        "name": "nb01_variances_unweighted",
        "description": "M-step variances ignore the responsibilities: plain mean of (x_n - mu_k)^2 over all points",
        "file": "univariate.py",
        "find": '    variances = np.einsum("nk,nk->k", resp, (x[:, None] - means) ** 2) / nk',
        "replace": "    variances = np.mean((x[:, None] - means) ** 2, axis=0)",
        "fails": ["nb01_m_step"],
    },
    {
        "name": "nb01_variances_around_overall_mean",
        "description": "M-step variances are measured around the overall data mean instead of each component's new mean",
        "file": "univariate.py",
        "find": '    variances = np.einsum("nk,nk->k", resp, (x[:, None] - means) ** 2) / nk',
        "replace": '    variances = np.einsum("nk,nk->k", resp, (x[:, None] - x.mean()) ** 2) / nk',
        "fails": ["nb01_m_step"],
    },
    {
        "name": "nb01_no_variance_floor",
        "description": "M-step forgets the variance floor: a component on identical values gets variance 0",
        "file": "univariate.py",
        "find": "    return weights, means, np.maximum(variances, var_floor)",
        "replace": "    return weights, means, variances",
        "fails": ["nb01_var_floor"],
    },
    {
        "name": "nb01_m_step_scales_resp_in_place",
        "description": "M-step divides the caller's responsibilities by N_k in place (resp /= nk) to reuse them "
        "as averaging weights: right answers, but the caller's resp is changed",
        "file": "univariate.py",
        "find": "    means = resp.T @ x / nk\n"
        '    variances = np.einsum("nk,nk->k", resp, (x[:, None] - means) ** 2) / nk\n',
        "replace": "    resp /= nk\n"
        "    means = resp.T @ x\n"
        '    variances = np.einsum("nk,nk->k", resp, (x[:, None] - means) ** 2)\n',
        "fails": ["nb01_m_step"],
    },
    # --- log_likelihood_1d --------------------------------------------------------------
    {
        "name": "nb01_loglik_no_weights",
        "description": "log-likelihood adds the component densities without the mixing weights",
        "file": "univariate.py",
        "find": _LOG_LIK_WEIGHTED,
        "replace": _LOG_LIK_WEIGHTED.replace("log_dens + np.log(weights)", "log_dens"),
        "fails": ["nb01_log_likelihood"],
    },
    {
        "name": "nb01_loglik_sum_of_component_logs",
        "description": "log-likelihood sums log(pi_k N(x_n | mu_k, sigma_k^2)) over n and k "
        "(sum of logs instead of the log of the sum over components)",
        "file": "univariate.py",
        "find": "    top = weighted.max(axis=1)\n"
        "    return float(np.sum(top + np.log(np.sum(np.exp(weighted - top[:, None]), axis=1))))",
        "replace": "    return float(np.sum(weighted))",
        "fails": ["nb01_log_likelihood"],
    },
    # --- fit_gmm_1d ---------------------------------------------------------------------
    {
        "name": "nb01_fit_no_update",
        "description": "EM loop calls the M-step but never replaces the parameters with its result",
        "file": "univariate.py",
        "find": "        weights, means, variances = m_step_1d(x, resp, var_floor)",
        "replace": "        new_parameters = m_step_1d(x, resp, var_floor)",
        "fails": ["nb01_fit"],
    },
    {
        "name": "nb01_fit_total_not_per_point",
        "description": "EM loop compares the rise of the total log-likelihood with tol instead of the rise per point",
        "file": "univariate.py",
        "find": "        if abs(history[-1] - history[-2]) / n < tol:",
        "replace": "        if abs(history[-1] - history[-2]) < tol:",
        "fails": ["nb01_fit"],
    },
    {
        "name": "nb01_fit_max_iter_off_by_one",
        "description": "EM loop runs at most max_iter - 1 iterations (range(1, max_iter))",
        "file": "univariate.py",
        "find": "    for iteration in range(1, max_iter + 1):",
        "replace": "    for iteration in range(1, max_iter):",
        "fails": ["nb01_fit"],
    },
    {
        "name": "nb01_fit_signed_rise",
        "description": "EM loop stops when the signed rise (l_t - l_(t-1)) / N is below tol, so any fall of the "
        "log-likelihood, however large, counts as convergence",
        "file": "univariate.py",
        "find": "        if abs(history[-1] - history[-2]) / n < tol:",
        "replace": "        if (history[-1] - history[-2]) / n < tol:",
        "fails": ["nb01_fit"],
    },
    {
        "name": "nb01_fit_converged_only_before_max_iter",
        "description": "EM loop sets converged = n_iter < max_iter after the loop: False when the stopping rule is "
        "met exactly at iteration max_iter",
        "file": "univariate.py",
        "find": "            converged = True\n            break\n" + _FIT_RETURN,
        "replace": "            break\n    converged = n_iter < max_iter\n" + _FIT_RETURN,
        "fails": ["nb01_fit"],
    },
    {
        "name": "nb01_fit_loop_variable_after_loop",
        "description": "EM loop counts with its loop variable (for n_iter in range(1, max_iter + 1)), which is "
        "never bound when max_iter=0",
        "file": "univariate.py",
        "find": "    n_iter = 0\n    for iteration in range(1, max_iter + 1):\n        n_iter = iteration\n",
        "replace": "    for n_iter in range(1, max_iter + 1):\n",
        "fails": ["nb01_fit"],
    },
    {
        "name": "nb01_fit_updates_init_in_place",
        "description": "EM loop writes each M-step's result into the arrays passed as init (weights[:] = ...), "
        "changing the caller's starting parameters",
        "file": "univariate.py",
        "find": "        weights, means, variances = m_step_1d(x, resp, var_floor)",
        "replace": "        weights[:], means[:], variances[:] = m_step_1d(x, resp, var_floor)",
        "fails": ["nb01_fit"],
    },
    {
        "name": "nb01_m_step_raises",
        "description": "M-step raises an exception (a student's unfinished code): costs the M-step cells only",
        "file": "univariate.py",
        "find": "    # A tiny constant keeps an empty component from dividing 0 by 0.\n",
        "replace": "    raise ZeroDivisionError('the weights of an empty component')\n",
        "fails": ["nb01_m_step", "nb01_var_floor"],
    },
]
