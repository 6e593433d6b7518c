"""Valid alternatives for notebook 2: see gmm_course.alternatives for the format."""

NOTEBOOK = "02_em_2d_full_covariance.ipynb"

_SOLVE = "    z = solve_triangular(chol, (X - mean).T, lower=True)  # (d, N)\n"
_LOGDET = "    log_det = 2.0 * np.sum(np.log(np.diag(chol)))\n"
_RETURN = "    return -0.5 * (X.shape[1] * LOG_2PI + log_det + np.sum(z**2, axis=0))\n"

ALTERNATIVES: list[dict] = [
    {
        "name": "nb02_alt_logpdf_scipy_stats",
        "description": "multivariate_normal_logpdf through scipy.stats.multivariate_normal (an eigen-decomposition, "
        "no Cholesky factor), reshaped to (N,)",
        "file": "gaussian.py",
        "find": _SOLVE + _LOGDET + _RETURN,
        "replace": "    from scipy import stats\n\n"
        "    return np.reshape(stats.multivariate_normal(mean, cov).logpdf(X), -1)\n",
    },
    {
        "name": "nb02_alt_logpdf_solve_slogdet",
        "description": "a general np.linalg.solve instead of solve_triangular, and log det from np.linalg.slogdet "
        "of the Cholesky factor (times 2)",
        "file": "gaussian.py",
        "find": _SOLVE + _LOGDET,
        "replace": "    z = np.linalg.solve(chol, (X - mean).T)\n    log_det = 2.0 * np.linalg.slogdet(chol)[1]\n",
    },
    {
        "name": "nb02_alt_logpdf_einsum_rows",
        "description": "the Mahalanobis term as an einsum('nd,nd->n') over the whitened points laid out as rows, "
        "log det from np.diagonal, and the constant written as log(2 pi)",
        "file": "gaussian.py",
        "find": _SOLVE + _LOGDET + _RETURN,
        "replace": "    rows = solve_triangular(chol, (X - mean).T, lower=True).T  # (N, d)\n"
        "    maha = np.einsum('nd,nd->n', rows, rows)\n"
        "    log_det = np.sum(2.0 * np.log(np.diagonal(chol)))\n"
        "    return -0.5 * maha - 0.5 * log_det - 0.5 * X.shape[1] * np.log(2.0 * np.pi)\n",
    },
    {
        "name": "nb02_alt_e_step_loop_over_components",
        "description": "E-step with a loop over the components (each column from multivariate_normal_logpdf of the "
        "full covariance), then an exp-normalise shifted by each row's maximum",
        "file": "em.py",
        "find": "    return _expectation(X, params, covariance_type)[0].T\n",
        "replace": "    n_components = params.weights.shape[0]\n"
        "    full = gaussian.to_full_covariances(params.covariances, covariance_type, n_components, X.shape[1])\n"
        "    log_joint = np.empty((X.shape[0], n_components))\n"
        "    for k in range(n_components):\n"
        "        log_joint[:, k] = np.log(params.weights[k]) + gaussian.multivariate_normal_logpdf(\n"
        "            X, params.means[k], full[k])\n"
        "    log_joint = log_joint - log_joint.max(axis=1, keepdims=True)\n"
        "    resp = np.exp(log_joint)\n"
        "    return resp / resp.sum(axis=1, keepdims=True)\n",
    },
    {
        "name": "nb02_alt_log_likelihood_logaddexp",
        "description": "log-likelihood with np.logaddexp.reduce over the components (pairwise stable log-add)",
        "file": "em.py",
        "find": "    shift = weighted.max(axis=1, keepdims=True)\n"
        "    return float(np.sum(np.log(np.sum(np.exp(weighted - shift), axis=1))) + np.sum(shift))\n",
        "replace": "    return float(np.logaddexp.reduce(weighted, axis=1).sum())\n",
    },
    {
        "name": "nb02_alt_run_em_public_steps",
        "description": "EM loop written as a while loop over the public e_step, m_step and log_likelihood, with "
        "the stopping test as a boolean assignment",
        "file": "em.py",
        "find": "    n = X.shape[0]\n    resp, current = _expectation(X, params, covariance_type)\n",
        "replace": "    history = [log_likelihood(X, *params, covariance_type)]\n"
        "    snapshots = [(0, params)] if snapshot_every else []\n"
        "    converged, n_iter = False, 0\n"
        "    while n_iter < max_iter and not converged:\n"
        "        resp_nk = e_step(X, *params, covariance_type)\n"
        "        params = m_step(X, resp_nk, reg_covar, covariance_type)\n"
        "        n_iter += 1\n"
        "        history.append(log_likelihood(X, *params, covariance_type))\n"
        "        if snapshot_every and n_iter % snapshot_every == 0:\n"
        "            snapshots.append((n_iter, params))\n"
        "        converged = abs(history[-1] - history[-2]) / X.shape[0] < tol\n"
        "    if snapshot_every and snapshots[-1][0] != n_iter:\n"
        "        snapshots.append((n_iter, params))\n"
        "    return GMMFit(*params, covariance_type, np.array(history), n_iter, converged, snapshots)\n"
        "    n = X.shape[0]\n    resp, current = _expectation(X, params, covariance_type)\n",
    },
]
