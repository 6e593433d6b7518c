"""Mutants for notebook 2: see gmm_course.mutants for the format."""

NOTEBOOK = "02_em_2d_full_covariance.ipynb"

MUTANTS: list[dict] = [
    {
        "name": "nb02_logdet_missing_factor_2",
        "description": "log det Sigma taken as sum(log diag L), forgetting that det Sigma = det(L)^2",
        "file": "gaussian.py",
        "find": "    log_det = 2.0 * np.sum(np.log(np.diag(chol)))\n",
        "replace": "    log_det = np.sum(np.log(np.diag(chol)))\n",
        "fails": ["nb02_test_logpdf"],
    },
    {
        "name": "nb02_mahalanobis_uses_sigma",
        "description": "Mahalanobis term computed as (x - mu)^T Sigma (x - mu) instead of (x - mu)^T Sigma^{-1} (x - mu)",
        "file": "gaussian.py",
        "find": "z = solve_triangular(chol, (X - mean).T, lower=True)",
        "replace": "z = chol.T @ (X - mean).T",
        "fails": ["nb02_test_logpdf"],
    },
    {
        "name": "nb02_e_step_ignores_weights",
        "description": "E-step normalises the densities N(x_n | mu_k, Sigma_k) without multiplying them by the weights pi_k",
        "file": "em.py",
        "find": "        weighted += np.log(params.weights)[:, None]\n",
        "replace": "        pass\n",
        "fails": ["nb02_test_e_step"],
    },
    {
        "name": "nb02_e_step_unnormalised",
        "description": "E-step returns pi_k N(x_n | mu_k, Sigma_k) (up to a per-row factor) without dividing each row by its sum",
        "file": "em.py",
        "find": "    weighted /= total\n",
        "replace": "",
        "fails": ["nb02_test_e_step"],
    },
    {
        "name": "nb02_m_step_cov_divided_by_n",
        "description": "M-step divides the weighted scatter of component k by N instead of N_k",
        "file": "em.py",
        "find": "        cov[k] = (diff * resp_by_component[k][:, None]).T @ diff / nk[k]\n",
        "replace": "        cov[k] = (diff * resp_by_component[k][:, None]).T @ diff / X.shape[0]\n",
        "fails": ["nb02_test_m_step"],
        "also_fails": ["nb04_test_m_step_tied"],  # the tied covariance averages these scatters
    },
    {
        "name": "nb02_m_step_cov_not_centred",
        "description": "M-step covariance uses the raw outer products x_n x_n^T, not (x_n - mu_k)(x_n - mu_k)^T",
        "file": "em.py",
        "find": "        diff = X - means[k]\n        cov[k]",
        "replace": "        diff = X\n        cov[k]",
        "fails": ["nb02_test_m_step"],
    },
    {
        "name": "nb02_m_step_no_reg_covar",
        "description": "M-step forgets to add reg_covar to the diagonal of the covariances",
        "file": "em.py",
        "find": "    cov[..., np.arange(d), np.arange(d)] += reg_covar\n",
        "replace": "",
        "fails": ["nb02_test_m_step"],
    },
    {
        "name": "nb02_m_step_weights_are_nk",
        "description": "M-step returns the weights N_k instead of N_k / N",
        "file": "em.py",
        "find": "    weights = nk / nk.sum()\n",
        "replace": "    weights = nk\n",
        "fails": ["nb02_test_m_step"],
    },
    {
        "name": "nb02_log_likelihood_sums_components",
        "description": "log-likelihood sums log(pi_k N(x_n | mu_k, Sigma_k)) over n and k instead of taking the log of the mixture",
        "file": "em.py",
        "find": "    return float(np.sum(np.log(np.sum(np.exp(weighted - shift), axis=1))) + np.sum(shift))\n",
        "replace": "    return float(np.sum(weighted))\n",
        "fails": ["nb02_test_log_likelihood"],
    },
    {
        "name": "nb02_run_em_never_updates",
        "description": "EM loop computes the M-step but never assigns its result, so the parameters never change",
        "file": "em.py",
        "find": "        params = _maximisation(X, resp, reg_covar, covariance_type)\n",
        "replace": "        _maximisation(X, resp, reg_covar, covariance_type)\n",
        "fails": ["nb02_test_run_em", "nb02_test_run_em_snapshots"],
    },
    {
        "name": "nb02_run_em_history_misses_start",
        "description": "EM loop records the log-likelihood after each iteration only, not that of the initial parameters",
        "file": "em.py",
        "find": "return GMMFit(*params, covariance_type, np.array(history), n_iter, converged, snapshots)",
        "replace": "return GMMFit(*params, covariance_type, np.array(history[1:]), n_iter, converged, snapshots)",
        "fails": ["nb02_test_run_em"],
    },
    {
        "name": "nb02_run_em_tol_not_per_point",
        "description": "EM loop compares the change of the total log-likelihood with tol, instead of the change per point",
        "file": "em.py",
        "find": "if abs(history[-1] - history[-2]) / n < tol:",
        "replace": "if abs(history[-1] - history[-2]) < tol:",
        "fails": ["nb02_test_run_em"],
    },
    {
        "name": "nb02_run_em_ignores_reg_covar",
        "description": "EM loop calls the M-step with its default reg_covar instead of passing reg_covar on",
        "file": "em.py",
        "find": "        params = _maximisation(X, resp, reg_covar, covariance_type)\n",
        "replace": "        params = _maximisation(X, resp, 1e-6, covariance_type)\n",
        "fails": ["nb02_test_run_em"],
    },
    {
        "name": "nb02_run_em_no_final_snapshot",
        "description": "EM loop takes snapshots every snapshot_every iterations but forgets the one at the last iteration",
        "file": "em.py",
        "find": "    if snapshot_every and snapshots[-1][0] != n_iter:\n        snapshots.append((n_iter, params))\n",
        "replace": "",
        "fails": ["nb02_test_run_em_snapshots"],
    },
    # --- numerical range, boundary cases of the contracts, side effects (issue 13) -------------
    {
        "name": "nb02_logdet_log_of_product",
        "description": "log det Sigma computed as 2 log(prod_i L_ii): right for small d, but the product "
        "overflows to inf (or underflows to 0) once d is in the hundreds",
        "file": "gaussian.py",
        "find": "    log_det = 2.0 * np.sum(np.log(np.diag(chol)))\n",
        "replace": "    log_det = 2.0 * np.log(np.prod(np.diag(chol)))\n",
        "fails": ["nb02_test_logpdf"],
    },
    {
        "name": "nb02_logpdf_centres_in_place",
        "description": "multivariate_normal_logpdf centres the caller's X in place (X -= mean) before the solve",
        "file": "gaussian.py",
        "find": "    z = solve_triangular(chol, (X - mean).T, lower=True)  # (d, N)\n",
        "replace": "    X -= mean\n    z = solve_triangular(chol, X.T, lower=True)  # (d, N)\n",
        "fails": ["nb02_test_logpdf"],
    },
    {
        "name": "nb02_e_step_no_max_shift",
        "description": "E-step exponentiates log pi_k + log N(x_n | mu_k, Sigma_k) without subtracting each row's "
        "maximum: 0 / 0 = NaN for a point far from every component",
        "file": "em.py",
        "find": "    shift = weighted.max(axis=0)\n    weighted -= shift\n",
        "replace": "    shift = np.zeros(weighted.shape[1])\n",
        "fails": ["nb02_test_e_step"],
    },
    {
        "name": "nb02_log_likelihood_no_max_shift",
        "description": "log-likelihood computed literally as sum_n log sum_k exp(a_nk): log 0 = -inf for a point "
        "far from every component",
        "file": "em.py",
        "find": "    shift = weighted.max(axis=1, keepdims=True)\n",
        "replace": "    shift = np.zeros((weighted.shape[0], 1))\n",
        "fails": ["nb02_test_log_likelihood"],
    },
    {
        "name": "nb02_m_step_centres_x_in_place",
        "description": "M-step centres the caller's X in place for stability (X -= X.mean(axis=0)) and adds the "
        "centre back to the means: the right parameters, but the caller's data are changed",
        "file": "em.py",
        "find": "    return _maximisation(X, resp.T, reg_covar, covariance_type)\n",
        "replace": "    centre = X.mean(axis=0)\n    X -= centre\n"
        "    params = _maximisation(X, resp.T, reg_covar, covariance_type)\n"
        "    return GMMParams(params.weights, params.means + centre, params.covariances)\n",
        "fails": ["nb02_test_m_step"],
        # notebook 4 tests the same m_step with the other covariance types: the inputs change there too
        "also_fails": ["nb04_test_m_step_diag", "nb04_test_m_step_spherical", "nb04_test_m_step_tied"],
    },
    {
        "name": "nb02_run_em_not_converged_at_max_iter",
        "description": "EM loop reports converged=False when the stopping rule holds at iteration max_iter "
        "(it treats reaching max_iter as not converging)",
        "file": "em.py",
        "find": "        if abs(history[-1] - history[-2]) / n < tol:\n",
        "replace": "        if abs(history[-1] - history[-2]) / n < tol and n_iter < max_iter:\n",
        "fails": ["nb02_test_run_em"],
    },
    {
        "name": "nb02_run_em_updates_init_in_place",
        "description": "EM loop writes each M-step's result into the arrays of init (old[...] = new): the caller's "
        "starting parameters change, and every snapshot is the same final array",
        "file": "em.py",
        "find": "        params = _maximisation(X, resp, reg_covar, covariance_type)\n",
        "replace": "        for old, new in zip(params, _maximisation(X, resp, reg_covar, covariance_type), strict=True):\n"
        "            old[...] = new\n",
        "fails": ["nb02_test_run_em", "nb02_test_run_em_snapshots"],
    },
]
