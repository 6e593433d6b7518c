"""Valid alternatives for notebook 5: see gmm_course.alternatives for the format."""

from ..mutants.nb05 import _PARAMS_FIND, EMPTY_CHECK, KMEANS_BODY, params_by_hand

NOTEBOOK = "05_kmeans_vs_random_init.ipynb"

_KPP_BODY = """    n = X.shape[0]
    chosen = [int(rng.integers(n))]
    nearest = squared_distances(X, X[chosen])[:, 0]
    for _ in range(1, k):
        index = int(rng.choice(n, p=nearest / nearest.sum()))
        chosen.append(index)
        nearest = np.minimum(nearest, squared_distances(X, X[index : index + 1])[:, 0])
    return X[chosen].copy()
"""

ALTERNATIVES: list[dict] = [
    {
        "name": "nb05_alt_kpp_cumsum_searchsorted",
        "description": "k-means++ draws each further centroid by inverting the cumulative distribution: one "
        "rng.random() searched in the normalised cumulative sums of D^2 / sum(D^2) (what rng.choice with p does)",
        "file": "initialisation.py",
        "find": "        index = int(rng.choice(n, p=nearest / nearest.sum()))\n",
        "replace": "        cdf = np.cumsum(nearest / nearest.sum())\n"
        "        cdf /= cdf[-1]\n"
        '        index = int(np.searchsorted(cdf, rng.random(), side="right"))\n',
    },
    {
        "name": "nb05_alt_kpp_direct_differences_loop",
        "description": "k-means++ keeps D^2 from direct differences ((X - c)**2).sum(axis=1) instead of the given "
        "squared_distances, updates it in a Python loop over the points, and stacks the picked rows",
        "file": "initialisation.py",
        "find": _KPP_BODY,
        "replace": """    n = X.shape[0]
    picked = [int(rng.integers(n))]
    d2 = ((X - X[picked[0]]) ** 2).sum(axis=1)
    while len(picked) < k:
        new = int(rng.choice(n, p=d2 / d2.sum()))
        picked.append(new)
        for i in range(n):
            candidate = float(((X[i] - X[new]) ** 2).sum())
            if candidate < d2[i]:
                d2[i] = candidate
    return np.stack([X[i] for i in picked])
""",
    },
    {
        "name": "nb05_alt_kmeans_loops",
        "description": "Lloyd's update step in a Python loop over the clusters (X[labels == j].mean(axis=0)), "
        "skipping empty ones, instead of bincount sums",
        "file": "initialisation.py",
        "find": """        counts = np.bincount(labels, minlength=k)
        sums = np.stack([np.bincount(labels, weights=column, minlength=k) for column in X.T], axis=1)
        occupied = counts > 0
        centroids[occupied] = sums[occupied] / counts[occupied, None]
""",
        "replace": """        for j in range(k):
            members = X[labels == j]
            if members.shape[0] > 0:
                centroids[j] = members.mean(axis=0)
""",
    },
    {
        "name": "nb05_alt_kmeans_einsum_while",
        "description": "Lloyd's k-means as a while loop, squared distances from an einsum over explicit differences, "
        "centroids from a one-hot matrix product, convergence tracked by a flag",
        "file": "initialisation.py",
        "find": KMEANS_BODY,
        "replace": """    def nearest_centroid(points, centres):
        diff = points[:, None, :] - centres[None, :, :]
        return np.einsum("nkd,nkd->nk", diff, diff)

    labels = nearest_centroid(X, centroids).argmin(axis=1)
    n_iter, converged = 0, False
    while n_iter < max_iter and not converged:
        n_iter += 1
        one_hot = np.eye(k)[labels]
        sizes = one_hot.sum(axis=0)
        totals = one_hot.T @ X
        for j in np.flatnonzero(sizes):
            centroids[j] = totals[j] / sizes[j]
        updated = nearest_centroid(X, centroids).argmin(axis=1)
        converged = bool(np.all(updated == labels))
        labels = updated
    inertia = float(nearest_centroid(X, centroids)[np.arange(X.shape[0]), labels].sum())
    return KMeansResult(centroids, labels, inertia, n_iter, converged)
""",
    },
    {
        "name": "nb05_alt_kmeans_cdist",
        "description": "Lloyd's assignment steps with scipy.spatial.distance.cdist(X, centroids, 'sqeuclidean')",
        "file": "initialisation.py",
        "find": "        new_labels = np.argmin(squared_distances(X, centroids), axis=1)\n",
        "replace": "        from scipy.spatial.distance import cdist\n\n"
        '        new_labels = np.argmin(cdist(X, centroids, "sqeuclidean"), axis=1)\n',
    },
    {
        "name": "nb05_alt_params_by_hand",
        "description": "params_from_labels written out by hand: a loop over the clusters for weights, means and "
        "scatter matrices, every covariance type derived from them, without calling m_step",
        "file": "initialisation.py",
        "find": _PARAMS_FIND,
        "replace": params_by_hand(),
    },
    {
        "name": "nb05_alt_params_unique_check_eye_one_hot",
        "description": "params_from_labels checks for empty clusters with np.unique and its own message wording, "
        "then builds the one-hot matrix with np.eye and calls m_step through the em module",
        "file": "initialisation.py",
        "find": EMPTY_CHECK
        + """    one_hot = np.zeros((X.shape[0], n_components))
    one_hot[np.arange(X.shape[0]), labels] = 1.0
"""
        + _PARAMS_FIND,
        "replace": """    missing = sorted(set(range(n_components)) - set(np.unique(labels).tolist()))
    if missing:
        raise ValueError(f"no point is labelled {missing}: cannot estimate a component without points")
    from . import em

    return em.m_step(X, np.eye(n_components)[labels], reg_covar, covariance_type)
""",
    },
]
