"""Mutants for notebook 5: see gmm_course.mutants for the format."""

NOTEBOOK = "05_kmeans_vs_random_init.ipynb"

_KPP = "nb05_test_kmeans_plus_plus"
_LLOYD = "nb05_test_kmeans_lloyd"
_EDGE = "nb05_test_kmeans_edge_cases"
_WEIGHTS_MEANS = "nb05_test_params_weights_means"
_COVARIANCES = "nb05_test_params_covariances"

# params_from_labels written out by hand (full covariances), as many students do instead of
# reusing m_step; each mutant below puts one classic mistake into it.
_PARAMS_FIND = "    return m_step(X, one_hot, reg_covar, covariance_type)\n"
_PARAMS_BY_HAND = """    n, d = X.shape
    weights = np.zeros(n_components)
    means = np.zeros((n_components, d))
    covariances = np.zeros((n_components, d, d))
    for k in range(n_components):
        members = X[labels == k]
        weights[k] = {weight}
        means[k] = members.mean(axis=0)
        centred = members - means[k]
        covariances[k] = centred.T @ centred / {divisor}{regularisation}
    return GMMParams(weights, means, covariances)
"""


def _params_by_hand(
    weight="members.shape[0] / n", divisor="members.shape[0]", regularisation=" + reg_covar * np.eye(d)"
):
    return _PARAMS_BY_HAND.format(weight=weight, divisor=divisor, regularisation=regularisation)


MUTANTS: list[dict] = [
    # --- kmeans_plus_plus -------------------------------------------------------------------
    {
        "name": "nb05_kpp_uniform",
        "description": "k-means++ picks every further centroid uniformly at random, ignoring the D^2 weights",
        "file": "initialisation.py",
        "find": "        index = int(rng.choice(n, p=nearest / nearest.sum()))\n",
        "replace": "        index = int(rng.choice(n))\n",
        "fails": [_KPP],
    },
    {
        "name": "nb05_kpp_weights_distance",
        "description": "k-means++ weights the candidates by the distance D instead of the squared distance D^2",
        "file": "initialisation.py",
        "find": "        index = int(rng.choice(n, p=nearest / nearest.sum()))\n",
        "replace": "        index = int(rng.choice(n, p=np.sqrt(nearest) / np.sqrt(nearest).sum()))\n",
        "fails": [_KPP],
    },
    {
        "name": "nb05_kpp_farthest_point",
        "description": "k-means++ always takes the farthest point (argmax of D^2) instead of sampling with probability D^2",
        "file": "initialisation.py",
        "find": "        index = int(rng.choice(n, p=nearest / nearest.sum()))\n",
        "replace": "        index = int(np.argmax(nearest))\n",
        "fails": [_KPP],
    },
    {
        "name": "nb05_kpp_distance_to_last_only",
        "description": "k-means++ replaces D^2 by the distance to the newest centroid instead of taking the minimum "
        "over all chosen centroids, so an earlier centroid can be chosen again",
        "file": "initialisation.py",
        "find": "        nearest = np.minimum(nearest, squared_distances(X, X[index : index + 1])[:, 0])\n",
        "replace": "        nearest = squared_distances(X, X[index : index + 1])[:, 0]\n",
        "fails": [_KPP],
    },
    {
        "name": "nb05_kpp_never_updates_distances",
        "description": "k-means++ computes D^2 once, from the first centroid, and never updates it after later picks",
        "file": "initialisation.py",
        "find": "        nearest = np.minimum(nearest, squared_distances(X, X[index : index + 1])[:, 0])\n",
        "replace": "",
        "fails": [_KPP],
    },
    # --- kmeans (Lloyd) ---------------------------------------------------------------------
    {
        "name": "nb05_kmeans_never_updates",
        "description": "Lloyd's loop computes the cluster means into a new variable but never moves the centroids, "
        "so it 'converges' at once to the starting centroids",
        "file": "initialisation.py",
        "find": "        centroids[occupied] = sums[occupied] / counts[occupied, None]\n",
        "replace": "        new_centroids = sums[occupied] / counts[occupied, None]\n",
        "fails": [_LLOYD, _EDGE],
    },
    {
        "name": "nb05_kmeans_argmin_over_points",
        "description": "assignment takes the argmin over the points (axis=0) instead of over the centroids (axis=1)",
        "file": "initialisation.py",
        "find": "    labels = np.argmin(squared_distances(X, centroids), axis=1)\n    converged = False\n",
        "replace": "    labels = np.argmin(squared_distances(X, centroids), axis=0)\n    converged = False\n",
        "fails": [_LLOYD, _EDGE],
    },
    {
        "name": "nb05_kmeans_empty_cluster_nan",
        "description": "every centroid is set to the mean of its points, so an empty cluster's centroid becomes 0/0 = NaN",
        "file": "initialisation.py",
        "find": "        occupied = counts > 0\n        centroids[occupied] = sums[occupied] / counts[occupied, None]\n",
        "replace": "        centroids = sums / counts[:, None]\n",
        "fails": [_EDGE],
    },
    {
        "name": "nb05_kmeans_never_stops_early",
        "description": "Lloyd's loop notes convergence but does not break out of it, so it always runs max_iter rounds "
        "and reports n_iter = max_iter",
        "file": "initialisation.py",
        "find": "            converged = True\n            break\n",
        "replace": "            converged = True\n",
        "fails": [_EDGE],
    },
    # --- params_from_labels -----------------------------------------------------------------
    {
        "name": "nb05_params_weights_are_counts",
        "description": "params_from_labels returns the cluster sizes N_k as weights instead of the fractions N_k / N",
        "file": "initialisation.py",
        "find": _PARAMS_FIND,
        "replace": _params_by_hand(weight="members.shape[0]"),
        "fails": [_WEIGHTS_MEANS],
    },
    {
        "name": "nb05_params_covariance_divided_by_n",
        "description": "params_from_labels divides each cluster's scatter matrix by N (all points) instead of N_k",
        "file": "initialisation.py",
        "find": _PARAMS_FIND,
        "replace": _params_by_hand(divisor="n"),
        "fails": [_COVARIANCES],
    },
    {
        "name": "nb05_params_forgets_reg_covar",
        "description": "params_from_labels does not add reg_covar to the diagonal of the covariances",
        "file": "initialisation.py",
        "find": _PARAMS_FIND,
        "replace": _params_by_hand(regularisation=""),
        "fails": [_COVARIANCES],
    },
    {
        "name": "nb05_params_unbiased_covariance",
        "description": "params_from_labels uses np.cov's default unbiased covariance (divide by N_k - 1) instead of "
        "the maximum-likelihood one (divide by N_k)",
        "file": "initialisation.py",
        "find": _PARAMS_FIND,
        "replace": _params_by_hand(divisor="(members.shape[0] - 1)"),
        "fails": [_COVARIANCES],
    },
    {
        "name": "nb05_kmeans_waits_for_empty_cluster",
        "description": "k-means waits forever for an empty cluster to fill up: an infinite loop on the edge case only",
        "file": "initialisation.py",
        "find": "        occupied = counts > 0\n",
        "replace": "        while np.any(counts == 0):\n            pass\n        occupied = counts > 0\n",
        "fails": ["nb05_test_kmeans_edge_cases"],
    },
]
