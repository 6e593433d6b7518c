"""Mutants for notebook 4: see gmm_course.mutants for the format."""

NOTEBOOK = "04_choosing_k_bic_aic.ipynb"

_N_PARAMS_ALL = [
    "nb04_test_n_parameters_1d",
    "nb04_test_n_parameters_full",
    "nb04_test_n_parameters_constrained",
]

_COVARIANCE_COUNTS = """        "full": k * d * (d + 1) // 2,
        "diag": k * d,
        "spherical": k,
        "tied": d * (d + 1) // 2,"""

MUTANTS: list[dict] = [
    {
        "name": "nb04_weights_forgotten",
        "description": "n_parameters leaves out the K - 1 free mixing weights (means + covariances only).",
        "file": "model_selection.py",
        "find": "return k * d + covariance_params + k - 1",
        "replace": "return k * d + covariance_params",
        "fails": _N_PARAMS_ALL,
    },
    {
        "name": "nb04_k_weights",
        "description": "n_parameters counts K weights instead of K - 1 (ignores that they sum to 1).",
        "file": "model_selection.py",
        "find": "return k * d + covariance_params + k - 1",
        "replace": "return k * d + covariance_params + k",
        "fails": _N_PARAMS_ALL,
    },
    {
        "name": "nb04_all_d_squared_entries",
        "description": "n_parameters counts all d * d entries of a covariance matrix (full and tied), "
        "not the d (d + 1) / 2 free entries of a symmetric matrix; right in 1-D only.",
        "file": "model_selection.py",
        "find": _COVARIANCE_COUNTS,
        "replace": """        "full": k * d * d,
        "diag": k * d,
        "spherical": k,
        "tied": d * d,""",
        "fails": ["nb04_test_n_parameters_full", "nb04_test_n_parameters_constrained"],
    },
    {
        "name": "nb04_tied_k_matrices",
        "description": "n_parameters counts K covariance matrices for 'tied', as if it were 'full'.",
        "file": "model_selection.py",
        "find": '"tied": d * (d + 1) // 2,',
        "replace": '"tied": k * d * (d + 1) // 2,',
        "fails": ["nb04_test_n_parameters_constrained"],
    },
    {
        "name": "nb04_spherical_d_per_component",
        "description": "n_parameters counts d variances per component for 'spherical' (as for 'diag').",
        "file": "model_selection.py",
        "find": '"spherical": k,',
        "replace": '"spherical": k * d,',
        "fails": ["nb04_test_n_parameters_constrained"],
    },
    {
        "name": "nb04_diag_counts_off_diagonal",
        "description": "n_parameters counts d (d + 1) / 2 entries per component for 'diag', "
        "as if the off-diagonal zeros were free.",
        "file": "model_selection.py",
        "find": '"diag": k * d,',
        "replace": '"diag": k * d * (d + 1) // 2,',
        "fails": ["nb04_test_n_parameters_constrained"],
    },
    {
        "name": "nb04_float_count",
        "description": "n_parameters uses true division for d (d + 1) / 2 and returns a float.",
        "file": "model_selection.py",
        "find": '"full": k * d * (d + 1) // 2,',
        "replace": '"full": k * d * (d + 1) / 2,',
        "fails": ["nb04_test_n_parameters_1d", "nb04_test_n_parameters_full"],
    },
    {
        "name": "nb04_bic_n_not_log_n",
        "description": "bic charges p N instead of p log N.",
        "file": "model_selection.py",
        "find": "n_params * np.log(n_samples)",
        "replace": "n_params * n_samples",
        "fails": ["nb04_test_bic"],
    },
    {
        "name": "nb04_bic_sign_flipped",
        "description": "bic uses +2 log L instead of -2 log L.",
        "file": "model_selection.py",
        "find": "return float(-2.0 * log_likelihood_value + n_params * np.log(n_samples))",
        "replace": "return float(2.0 * log_likelihood_value + n_params * np.log(n_samples))",
        "fails": ["nb04_test_bic"],
    },
    {
        "name": "nb04_bic_log10",
        "description": "bic uses the base-10 logarithm of N.",
        "file": "model_selection.py",
        "find": "n_params * np.log(n_samples)",
        "replace": "n_params * np.log10(n_samples)",
        "fails": ["nb04_test_bic"],
    },
    {
        "name": "nb04_bic_missing_factor_two",
        "description": "bic uses -log L + p log N (forgets the factor 2 on the log-likelihood).",
        "file": "model_selection.py",
        "find": "return float(-2.0 * log_likelihood_value + n_params * np.log(n_samples))",
        "replace": "return float(-log_likelihood_value + n_params * np.log(n_samples))",
        "fails": ["nb04_test_bic"],
    },
    {
        "name": "nb04_aic_p_not_2p",
        "description": "aic charges p instead of 2 p.",
        "file": "model_selection.py",
        "find": "return float(-2.0 * log_likelihood_value + 2.0 * n_params)",
        "replace": "return float(-2.0 * log_likelihood_value + n_params)",
        "fails": ["nb04_test_aic"],
    },
    {
        "name": "nb04_aic_sign_flipped",
        "description": "aic uses +2 log L instead of -2 log L.",
        "file": "model_selection.py",
        "find": "return float(-2.0 * log_likelihood_value + 2.0 * n_params)",
        "replace": "return float(2.0 * log_likelihood_value + 2.0 * n_params)",
        "fails": ["nb04_test_aic"],
    },
]

# Covariance types other than "full" (issue 13, class 1): m_step and the E-step given each type.
_M_STEP_TYPE_CELLS = ["nb04_test_m_step_diag", "nb04_test_m_step_spherical", "nb04_test_m_step_tied"]

MUTANTS += [
    {
        "name": "nb04_tied_unweighted_average",
        "description": "m_step('tied') averages the K per-component covariances without the N_k weights.",
        "file": "em.py",
        "find": 'cov = np.einsum("k,kij->ij", nk, cov) / nk.sum()',
        "replace": "cov = cov.mean(axis=0)",
        "fails": ["nb04_test_m_step_tied"],
    },
    {
        "name": "nb04_tied_divided_by_k",
        "description": "m_step('tied') sums N_k Sigma_k but divides by K instead of N.",
        "file": "em.py",
        "find": 'cov = np.einsum("k,kij->ij", nk, cov) / nk.sum()',
        "replace": 'cov = np.einsum("k,kij->ij", nk, cov) / n_components',
        "fails": ["nb04_test_m_step_tied"],
    },
    {
        "name": "nb04_tied_returned_per_component",
        "description": "m_step('tied') returns the shared matrix repeated K times, shape (K, d, d), not (d, d).",
        "file": "em.py",
        "find": 'cov = np.einsum("k,kij->ij", nk, cov) / nk.sum()',
        "replace": 'cov = np.repeat((np.einsum("k,kij->ij", nk, cov) / nk.sum())[None], n_components, axis=0)',
        "fails": ["nb04_test_m_step_tied"],
    },
    {
        "name": "nb04_spherical_trace",
        "description": "m_step('spherical') takes the trace (sum of the d variances) instead of their mean.",
        "file": "em.py",
        "find": "variances = variances.mean(axis=1)",
        "replace": "variances = variances.sum(axis=1)",
        "fails": ["nb04_test_m_step_spherical"],
    },
    {
        "name": "nb04_diag_spherical_as_full",
        "description": "m_step always returns full (K, d, d) matrices for 'diag' and 'spherical'.",
        "file": "em.py",
        "find": 'if covariance_type in ("diag", "spherical"):',
        "replace": "if False:",
        "fails": ["nb04_test_m_step_diag", "nb04_test_m_step_spherical"],
    },
    {
        "name": "nb04_diag_not_centred",
        "description": "m_step('diag' and 'spherical') takes second moments about 0, not about mu_k.",
        "file": "em.py",
        "find": """            diff = X - means[k]
            variances[k]""",
        "replace": """            diff = X
            variances[k]""",
        "fails": ["nb04_test_m_step_diag", "nb04_test_m_step_spherical"],
    },
    {
        "name": "nb04_e_step_ignores_covariance_type",
        "description": "e_step drops covariance_type and always computes full-covariance densities.",
        "file": "em.py",
        "find": "return _expectation(X, params, covariance_type)[0].T",
        "replace": 'return _expectation(X, params, "full")[0].T',
        "fails": ["nb04_test_e_step_types"],
    },
]
