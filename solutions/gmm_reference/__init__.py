"""Gaussian mixture models fitted by EM: the course library.

Modules, in the order the notebooks use them:

- ``univariate``: 1-D densities, E-step, M-step, log-likelihood and EM (notebook 1)
- ``gaussian``: multivariate Gaussian log-densities via Cholesky (notebook 2)
- ``em``: d-dimensional E-step, M-step, log-likelihood and the EM loop (notebooks 2, 3)
- ``logsumexp``: the log-sum-exp trick (notebook 3)
- ``model_selection``: parameter counts, BIC, AIC (notebook 4)
- ``initialisation``: k-means++, Lloyd's k-means, random starts (notebook 5)
- ``fitting``, ``mixture``: fit with restarts; a GaussianMixture estimator
- ``data``, ``matching``, ``checks``: data loading, label switching, friendly checks
"""

from .data import load_old_faithful
from .em import GMMFit, GMMParams, e_step, log_e_step, log_likelihood, m_step, run_em
from .fitting import all_restarts, fit_gmm
from .gaussian import log_component_densities, multivariate_normal_logpdf, to_full_covariances
from .initialisation import (
    KMeansResult,
    kmeans,
    kmeans_init,
    kmeans_plus_plus,
    params_from_labels,
    random_init,
)
from .logsumexp import logsumexp, naive_logsumexp
from .matching import match_components, permute_components
from .mixture import GaussianMixture, sample_mixture
from .model_selection import aic, bic, held_out_log_likelihood, n_parameters, select_model
from .univariate import (
    UnivariateFit,
    e_step_1d,
    fit_gmm_1d,
    initial_parameters_1d,
    log_likelihood_1d,
    m_step_1d,
    normal_pdf,
)

__all__ = [
    "GMMFit",
    "GMMParams",
    "GaussianMixture",
    "KMeansResult",
    "UnivariateFit",
    "aic",
    "all_restarts",
    "bic",
    "e_step",
    "e_step_1d",
    "fit_gmm",
    "fit_gmm_1d",
    "held_out_log_likelihood",
    "initial_parameters_1d",
    "kmeans",
    "kmeans_init",
    "kmeans_plus_plus",
    "load_old_faithful",
    "log_component_densities",
    "log_e_step",
    "log_likelihood",
    "log_likelihood_1d",
    "logsumexp",
    "m_step",
    "m_step_1d",
    "match_components",
    "multivariate_normal_logpdf",
    "n_parameters",
    "naive_logsumexp",
    "normal_pdf",
    "params_from_labels",
    "permute_components",
    "random_init",
    "run_em",
    "sample_mixture",
    "select_model",
    "to_full_covariances",
]
