"""Choosing the number of clusters from three criteria instead of one.

For k = 1 … ``max_k`` in one space: the BIC of a full-covariance Gaussian mixture, the
silhouette of k-means (k >= 2), and the stability of both clusterers, the mean adjusted Rand
index between the labelings of all rows by two fits on independent bootstrap resamples (Ben-Hur,
Elisseeff & Guyon 2002 use the same idea with subsamples): a k that reflects structure is found
again from other samples of the same customers. The mixture's k is the BIC minimum, k-means's the
silhouette maximum; a choice at the edge of the grid is flagged, because the criterion may keep
improving beyond it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture

SILHOUETTE_ROWS = 1000  # silhouette is O(n^2): computed on a random subsample of rows
STABILITY_ROWS = 1000
"""Rows (a random subsample) on which the curves are computed: BIC, the k-means fits of the
silhouette and the bootstrap refits. A thousand rows estimate a handful of clusters well and
keep 8 x 5 mixture fits per space affordable."""
STABILITY_PAIRS = 2  # pairs of bootstrap refits per k and clusterer
REG_COVAR = 1e-5


def _mixture(k: int, seed: int) -> GaussianMixture:
    return GaussianMixture(k, covariance_type="full", random_state=seed, n_init=1,
                           reg_covar=REG_COVAR)


def _kmeans(k: int, seed: int) -> KMeans:
    return KMeans(k, n_init=2, random_state=seed)


def _stability(Z: np.ndarray, make, k: int, rng: np.random.Generator) -> float:
    """Mean ARI between the labelings of ``Z`` by two fits on bootstrap resamples."""
    if k == 1:
        return 1.0
    scores = []
    for _ in range(STABILITY_PAIRS):
        labelings = []
        for _ in range(2):
            rows = rng.integers(Z.shape[0], size=Z.shape[0])
            model = make(k, int(rng.integers(2**31))).fit(Z[rows])
            labelings.append(model.predict(Z))
        scores.append(adjusted_rand_score(*labelings))
    return float(np.mean(scores))


def k_curves(Z: np.ndarray, max_k: int, rng: np.random.Generator) -> pd.DataFrame:
    """BIC, silhouette and bootstrap stability for k = 1 … ``max_k`` in the space ``Z``, on
    :data:`STABILITY_ROWS` randomly drawn rows.

    Returns
    -------
    DataFrame
        ``k``, ``BIC`` (mixture), ``silhouette`` (k-means; NaN at k = 1), ``k-means
        stability`` and ``mixture stability`` (mean ARI between bootstrap refits).
    """
    Z = np.asarray(Z, dtype=float)
    sub = Z
    if Z.shape[0] > STABILITY_ROWS:
        sub = Z[np.sort(rng.choice(Z.shape[0], STABILITY_ROWS, replace=False))]
    sil_rows = sub[:SILHOUETTE_ROWS]
    rows = []
    for k in range(1, max_k + 1):
        seed = int(rng.integers(2**31))
        bic = _mixture(k, seed).fit(sub).bic(sub)
        silhouette = float("nan")
        if k >= 2:
            labels = _kmeans(k, seed).fit(sub).predict(sil_rows)
            if np.unique(labels).size > 1:
                silhouette = float(silhouette_score(sil_rows, labels))
        rows.append({"k": k, "BIC": float(bic), "silhouette": silhouette,
                     "k-means stability": _stability(sub, _kmeans, k, rng),
                     "mixture stability": _stability(sub, _mixture, k, rng)})
    return pd.DataFrame(rows)


def choose(curves: pd.DataFrame) -> dict[str, int | bool]:
    """The mixture's k (BIC minimum over k >= 1) and k-means's k (silhouette maximum over
    k >= 2), and whether each sits at the edge of the grid (the largest k tried, or the
    smallest k the criterion can pick)."""
    largest = int(curves["k"].max())
    mixture_k = int(curves.loc[curves["BIC"].idxmin(), "k"])
    kmeans_k = int(curves.loc[curves["silhouette"].idxmax(), "k"])
    return {"mixture k": mixture_k, "k-means k": kmeans_k,
            "mixture at edge": mixture_k in (1, largest),
            "k-means at edge": kmeans_k in (2, largest)}


def agreement(Z: np.ndarray, labels: np.ndarray | None, mixture_k: int, kmeans_k: int,
              seed: int) -> tuple[float | None, float | None]:
    """ARI with the known segments of the mixture and of k-means with the chosen k's."""
    if labels is None:
        return None, None
    mixture = _mixture(mixture_k, seed).fit(Z).predict(Z)
    kmeans = KMeans(kmeans_k, n_init=4, random_state=seed).fit(Z).labels_
    return (float(adjusted_rand_score(labels, mixture)),
            float(adjusted_rand_score(labels, kmeans)))
