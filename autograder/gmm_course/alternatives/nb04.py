"""Valid alternatives for notebook 4: see gmm_course.alternatives for the format."""

NOTEBOOK = "04_choosing_k_bic_aic.ipynb"

ALTERNATIVES: list[dict] = [
    {
        "name": "nb04_alt_tied_einsum_over_points",
        "description": "m_step('tied') builds the shared matrix in one einsum over components and points, "
        "sum_k sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T / N, instead of weighting the per-component matrices.",
        "file": "em.py",
        "find": 'cov = np.einsum("k,kij->ij", nk, cov) / nk.sum()',
        "replace": "centred = X[None, :, :] - means[:, None, :]\n"
        '        cov = np.einsum("kn,kni,knj->ij", resp_by_component, centred, centred) / X.shape[0]',
    },
    {
        "name": "nb04_alt_diag_double_loop",
        "description": "m_step('diag'/'spherical') computes every variance in plain Python loops over k and j.",
        "file": "em.py",
        "find": """        for k in range(n_components):
            diff = X - means[k]
            variances[k] = resp_by_component[k] @ (diff * diff) / nk[k]""",
        "replace": """        for k in range(n_components):
            for j in range(d):
                total = 0.0
                for n in range(X.shape[0]):
                    total += resp_by_component[k, n] * (X[n, j] - means[k, j]) ** 2
                variances[k, j] = total / nk[k]""",
    },
    {
        "name": "nb04_alt_spherical_trace_over_d",
        "description": "m_step('spherical') takes np.trace of each full scatter matrix divided by d.",
        "file": "em.py",
        "find": "variances = variances.mean(axis=1)",
        "replace": "variances = np.array([np.trace(np.diag(v)) / d for v in variances])",
    },
    {
        "name": "nb04_alt_spherical_squared_distances",
        "description": "m_step('spherical') from squared distances: sum_n r_nk |x_n - mu_k|^2 / (d N_k), "
        "without the per-feature variances.",
        "file": "em.py",
        "find": "variances = variances.mean(axis=1)",
        "replace": 'variances = np.einsum("kn,kn->k", resp_by_component, '
        "((X[None, :, :] - means[:, None, :]) ** 2).sum(axis=2)) / (d * nk)",
    },
    {
        "name": "nb04_alt_e_step_full_matrices_scipy",
        "description": "e_step expands any covariance type to full matrices (to_full_covariances) and uses "
        "scipy.stats.multivariate_normal with an exp-normalise per row.",
        "file": "em.py",
        "find": "return _expectation(X, params, covariance_type)[0].T",
        "replace": """from scipy import stats

    full = gaussian.to_full_covariances(params.covariances, covariance_type, params.weights.size, X.shape[1])
    log_joint = np.log(params.weights) + np.stack(
        [stats.multivariate_normal(m, c).logpdf(X).reshape(-1) for m, c in zip(params.means, full)], axis=1
    )
    log_joint -= log_joint.max(axis=1, keepdims=True)
    joint = np.exp(log_joint)
    return joint / joint.sum(axis=1, keepdims=True)""",
    },
    {
        "name": "nb04_alt_aic_factored",
        "description": "aic written as 2 (p - log L).",
        "file": "model_selection.py",
        "find": "return float(-2.0 * log_likelihood_value + 2.0 * n_params)",
        "replace": "return 2.0 * (n_params - float(log_likelihood_value))",
    },
    {
        "name": "nb04_alt_bic_math_log",
        "description": "bic with math.log and the penalty first: p log N - 2 log L.",
        "file": "model_selection.py",
        "find": "return float(-2.0 * log_likelihood_value + n_params * np.log(n_samples))",
        "replace": "import math\n\n    return n_params * math.log(n_samples) - 2 * float(log_likelihood_value)",
    },
    {
        "name": "nb04_alt_n_parameters_if_chain",
        "description": "n_parameters with an if/elif chain and the weights counted first.",
        "file": "model_selection.py",
        "find": "    return k * d + covariance_params + k - 1",
        "replace": """    if covariance_type == "full":
        per_covariance = k * (d * (d + 1) // 2)
    elif covariance_type == "tied":
        per_covariance = (d * d + d) // 2
    elif covariance_type == "diag":
        per_covariance = d * k
    else:
        per_covariance = k
    assert per_covariance == covariance_params
    return (k - 1) + d * k + per_covariance""",
    },
]
