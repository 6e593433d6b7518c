"""Mutants for notebook 5: see gmm_course.mutants for the format."""

NOTEBOOK = "05_kmeans_vs_random_init.ipynb"

_KPP = "nb05_test_kmeans_plus_plus"
_LLOYD = "nb05_test_kmeans_lloyd"
_EDGE = "nb05_test_kmeans_edge_cases"
_WEIGHTS_MEANS = "nb05_test_params_weights_means"
_COVARIANCES = "nb05_test_params_covariances"
_EMPTY = "nb05_test_params_empty_cluster"

# params_from_labels written out by hand (loops over the clusters, every covariance type), as many
# students do instead of reusing m_step; each mutant below puts one classic mistake into it. With the
# defaults it is correct: the valid alternative nb05_alt_params_by_hand uses it as it is.
_PARAMS_FIND = "    return m_step(X, one_hot, reg_covar, covariance_type)\n"
_PARAMS_BY_HAND = """    n, d = X.shape
    weights = np.zeros(n_components)
    means = np.zeros((n_components, d))
    scatter = np.zeros((n_components, d, d))
    for k in range(n_components):
        members = X[labels == k]
        weights[k] = {weight}
        means[k] = members.mean(axis=0)
        centred = members - means[k]
        scatter[k] = {scatter}
    sizes = np.bincount(labels, minlength=n_components)
    if covariance_type == "tied":
        covariances = np.einsum("k,kij->ij", sizes, scatter) / n + {reg} * np.eye(d)
    elif covariance_type == "diag":
        covariances = np.diagonal(scatter, axis1=1, axis2=2) + {reg}
    elif covariance_type == "spherical":
        covariances = np.diagonal(scatter, axis1=1, axis2=2).mean(axis=1) + {reg}
    else:
        covariances = scatter + {reg} * np.eye(d)
    return GMMParams(weights, means, covariances)
"""


def params_by_hand(
    weight="members.shape[0] / n",
    scatter="centred.T @ centred / members.shape[0]",
    reg="reg_covar",
):
    return _PARAMS_BY_HAND.format(weight=weight, scatter=scatter, reg=reg)


# The whole of Lloyd's loop in the reference, for the mistakes that touch two places of it.
KMEANS_BODY = """    labels = np.argmin(squared_distances(X, centroids), axis=1)
    converged = False
    n_iter = 0
    for iteration in range(1, max_iter + 1):
        n_iter = iteration
        counts = np.bincount(labels, minlength=k)
        sums = np.stack([np.bincount(labels, weights=column, minlength=k) for column in X.T], axis=1)
        occupied = counts > 0
        centroids[occupied] = sums[occupied] / counts[occupied, None]
        new_labels = np.argmin(squared_distances(X, centroids), axis=1)
        if np.array_equal(new_labels, labels):
            converged = True
            break
        labels = new_labels
    inertia = float(np.sum(squared_distances(X, centroids)[np.arange(X.shape[0]), labels]))
    return KMeansResult(centroids, labels, inertia, n_iter, converged)
"""

EMPTY_CHECK = """    counts = np.bincount(labels, minlength=n_components)
    if np.any(counts == 0):
        empty = ", ".join(str(k) for k in np.flatnonzero(counts == 0))
        raise ValueError(
            f"empty cluster(s) {empty}: no point has that label, and every component needs at least one point "
            "for its mean and covariance"
        )
"""

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
    {
        "name": "nb05_kpp_unclipped_expansion",
        "description": "k-means++ computes D^2 itself as |x|^2 - 2 x.c + |c|^2 without clipping at 0: round-off "
        "leaves a chosen point's D^2 slightly negative (numerical range; about a third of seeded runs on 120 points), "
        "and rng.choice refuses negative probabilities",
        "file": "initialisation.py",
        "find": "        nearest = np.minimum(nearest, squared_distances(X, X[index : index + 1])[:, 0])\n",
        "replace": "        new = X[index]\n"
        "        nearest = np.minimum(nearest, np.sum(X**2, axis=1) - 2.0 * X @ new + new @ new)\n",
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
    {
        "name": "nb05_kmeans_not_converged_at_max_iter",
        "description": "k-means reports converged = (n_iter < max_iter), so labels that stop changing exactly at the "
        "last allowed round are reported as not converged (a boundary case of the contract)",
        "file": "initialisation.py",
        "find": "            converged = True\n            break\n",
        "replace": "            converged = iteration < max_iter\n            break\n",
        "fails": [_EDGE],
    },
    {
        "name": "nb05_kmeans_centres_X_in_place",
        "description": "k-means centres the data in place (X -= X.mean(axis=0), 'for stability') and shifts the "
        "centroids back at the end: right answers, but the caller's X is changed (a side effect)",
        "file": "initialisation.py",
        "find": KMEANS_BODY,
        "replace": "    shift = X.mean(axis=0)\n    X -= shift\n    centroids -= shift\n"
        + KMEANS_BODY.replace("KMeansResult(centroids, ", "KMeansResult(centroids + shift, "),
        "fails": [_LLOYD, _EDGE],
    },
    {
        "name": "nb05_kmeans_waits_for_empty_cluster",
        "description": "k-means waits forever for an empty cluster to fill up: an infinite loop on the edge case only",
        "file": "initialisation.py",
        "find": "        occupied = counts > 0\n",
        "replace": "        while np.any(counts == 0):\n            pass\n        occupied = counts > 0\n",
        "fails": [_EDGE],
    },
    # --- params_from_labels -----------------------------------------------------------------
    {
        "name": "nb05_params_weights_are_counts",
        "description": "params_from_labels returns the cluster sizes N_k as weights instead of the fractions N_k / N",
        "file": "initialisation.py",
        "find": _PARAMS_FIND,
        "replace": params_by_hand(weight="members.shape[0]"),
        "fails": [_WEIGHTS_MEANS],
    },
    {
        "name": "nb05_params_covariance_divided_by_n",
        "description": "params_from_labels divides each cluster's scatter matrix by N (all points) instead of N_k",
        "file": "initialisation.py",
        "find": _PARAMS_FIND,
        "replace": params_by_hand(scatter="centred.T @ centred / n"),
        "fails": [_COVARIANCES],
    },
    {
        "name": "nb05_params_forgets_reg_covar",
        "description": "params_from_labels does not add reg_covar to the diagonal of the covariances",
        "file": "initialisation.py",
        "find": _PARAMS_FIND,
        "replace": params_by_hand(reg="0.0"),
        "fails": [_COVARIANCES],
    },
    {
        "name": "nb05_params_unbiased_covariance",
        "description": "params_from_labels uses np.cov's default unbiased covariance (divide by N_k - 1) instead of "
        "the maximum-likelihood one (divide by N_k)",
        "file": "initialisation.py",
        "find": _PARAMS_FIND,
        "replace": params_by_hand(scatter="centred.T @ centred / (members.shape[0] - 1)"),
        "fails": [_COVARIANCES],
    },
    {
        "name": "nb05_params_uncentred_second_moments",
        "description": "params_from_labels computes each covariance as E[x x^T] - mu mu^T about the origin, which "
        "loses most digits for a tight cluster far from the origin (numerical range)",
        "file": "initialisation.py",
        "find": _PARAMS_FIND,
        "replace": params_by_hand(scatter="members.T @ members / members.shape[0] - np.outer(means[k], means[k])"),
        "fails": [_COVARIANCES],
    },
    {
        "name": "nb05_params_ignores_covariance_type",
        "description": "params_from_labels always asks m_step for full covariances, whatever covariance_type says",
        "file": "initialisation.py",
        "find": _PARAMS_FIND,
        "replace": '    return m_step(X, one_hot, reg_covar, "full")\n',
        "fails": [_COVARIANCES],
    },
    {
        "name": "nb05_params_no_empty_check",
        "description": "params_from_labels does not check for empty clusters: a label nobody carries gets a "
        "made-up component (weight 0, mean at the origin) instead of a ValueError (a boundary case)",
        "file": "initialisation.py",
        "find": EMPTY_CHECK,
        "replace": "",
        "fails": [_EMPTY],
    },
    {
        "name": "nb05_params_empty_message_vague",
        "description": "params_from_labels raises ValueError for an empty cluster but does not say which one",
        "file": "initialisation.py",
        "find": '        empty = ", ".join(str(k) for k in np.flatnonzero(counts == 0))\n',
        "replace": '        empty = "(some)"\n',
        "fails": [_EMPTY],
    },
    {
        "name": "nb05_params_centres_X_in_place",
        "description": "params_from_labels centres the caller's X in place before the M-step and adds the centre back "
        "to the means: right parameters, but the caller's data change (a side effect)",
        "file": "initialisation.py",
        "find": _PARAMS_FIND,
        "replace": "    centre = X.mean(axis=0)\n    X -= centre\n    params = m_step(X, one_hot, reg_covar, covariance_type)\n"
        "    return GMMParams(params.weights, params.means + centre, params.covariances)\n",
        "fails": [_WEIGHTS_MEANS, _COVARIANCES, _EMPTY],
    },
    # --- one mistake, one place: notebook 2's m_step is wrong; notebook 5 must not charge it -----
    {
        "name": "nb05_isolated_from_m_step_weights_are_counts",
        "description": "notebook 2's m_step returns N_k instead of N_k / N as weights: params_from_labels' checks "
        "swap in a trusted M-step, so notebook 5 costs nothing",
        "file": "em.py",
        "find": "    weights = nk / nk.sum()\n",
        "replace": "    weights = nk\n",
        "fails": [],
    },
    {
        "name": "nb05_isolated_from_m_step_forgets_reg_covar",
        "description": "notebook 2's m_step never adds reg_covar: notebook 5 costs nothing",
        "file": "em.py",
        "find": "    cov[..., np.arange(d), np.arange(d)] += reg_covar\n",
        "replace": "",
        "fails": [],
    },
    {
        "name": "nb05_kpp_extra_random_draw",
        "description": "k-means++ makes one random draw more than the docstring's, so every later pick moves: the "
        "k-means checks swap in a trusted k-means++ (init=None), so only the k-means++ cell loses points",
        "file": "initialisation.py",
        "find": "    chosen = [int(rng.integers(n))]\n",
        "replace": "    chosen = [int(rng.integers(n))]\n    rng.random()  # an extra draw: every later pick moves\n",
        "fails": [_KPP],
    },
]
