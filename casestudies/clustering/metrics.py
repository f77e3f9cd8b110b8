"""How faithful a 2-D map is to the data: neighbourhoods, distances, segments and clusters.

Trustworthiness and continuity follow Venna & Kaski (2001); kNN recall is the share of each
point's k nearest neighbours in the data that are also among its k nearest in the map; the
global score is Spearman's correlation between all pairwise distances in the data and in the map.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.spatial.distance import pdist, squareform
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier


def neighbour_ranks(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean neighbour order and ranks of every point.

    Returns
    -------
    order : ndarray of shape (n, n-1)
        ``order[i]`` lists the other points from nearest to farthest.
    ranks : ndarray of shape (n, n)
        ``ranks[i, j]`` is the position (1 = nearest) of j among i's neighbours; 0 on the
        diagonal.
    """
    D = squareform(pdist(np.asarray(X, dtype=float)))
    np.fill_diagonal(D, np.inf)
    order = np.argsort(D, axis=1, kind="stable")[:, :-1]
    n = D.shape[0]
    ranks = np.zeros((n, n), dtype=np.int64)
    ranks[np.arange(n)[:, None], order] = np.arange(1, n)
    return order, ranks


def _rank_penalty_points(ranks_reference: np.ndarray, order_other: np.ndarray, k: int
                         ) -> np.ndarray:
    """Each point's share of :func:`_rank_penalty`: ``1 - 2 e_i / (k(2n - 3k - 1))`` with
    ``e_i`` the sum of (rank in the reference - k) over the point's k nearest neighbours in the
    other space that are not among its k nearest in the reference. Their mean is the score."""
    n = ranks_reference.shape[0]
    excess = ranks_reference[np.arange(n)[:, None], order_other[:, :k]] - k
    per_point = np.where(excess > 0, excess, 0).sum(axis=1)
    return 1.0 - 2.0 * per_point / (k * (2.0 * n - 3.0 * k - 1.0))


def _rank_penalty(ranks_reference: np.ndarray, order_other: np.ndarray, k: int) -> float:
    """1 - normalised sum of (rank in the reference - k) over the other space's k nearest
    neighbours that are not among the reference's k nearest."""
    return float(np.mean(_rank_penalty_points(ranks_reference, order_other, k)))


def trustworthiness(X: np.ndarray, Y: np.ndarray, k: int) -> float:
    """Trustworthiness of map ``Y`` of data ``X`` at neighbourhood size ``k``.

    .. math:: T(k) = 1 - \\frac{2}{nk(2n-3k-1)}\\sum_i \\sum_{j\\in U_i^k} (r_{ij} - k)

    where :math:`U_i^k` are the map's k nearest neighbours of i that are not among its k
    nearest in the data and :math:`r_{ij}` is j's rank among i's neighbours in the data. It
    penalises false neighbours: points brought close in the map that are far in the data.
    """
    _, ranks_x = neighbour_ranks(X)
    order_y, _ = neighbour_ranks(Y)
    return _rank_penalty(ranks_x, order_y, k)


def continuity(X: np.ndarray, Y: np.ndarray, k: int) -> float:
    """Continuity: trustworthiness with the roles of data and map swapped; it penalises true
    neighbours torn apart by the map."""
    order_x, _ = neighbour_ranks(X)
    _, ranks_y = neighbour_ranks(Y)
    return _rank_penalty(ranks_y, order_x, k)


def knn_recall(X: np.ndarray, Y: np.ndarray, k: int) -> float:
    """Mean share of each point's k nearest neighbours in ``X`` that are also among its k
    nearest in ``Y``."""
    order_x, _ = neighbour_ranks(X)
    order_y, _ = neighbour_ranks(Y)
    return neighbour_overlap(order_x, order_y, k)


def neighbour_overlap(order_x: np.ndarray, order_y: np.ndarray, k: int) -> float:
    """Mean share of the first k entries of each row of ``order_x`` found among the first k of
    the same row of ``order_y`` (neighbour lists from :func:`neighbour_ranks` or a kNN search)."""
    nx, ny = order_x[:, :k], order_y[:, :k]
    shared = [np.intersect1d(a, b, assume_unique=True).size for a, b in zip(nx, ny, strict=True)]
    return float(np.mean(shared) / k)


def distance_correlation(X: np.ndarray, Y: np.ndarray) -> float:
    """Spearman correlation between all pairwise Euclidean distances in ``X`` and in ``Y``."""
    return float(stats.spearmanr(pdist(np.asarray(X, float)), pdist(np.asarray(Y, float)))[0])


def neighbourhood_scores(X: np.ndarray, Y: np.ndarray, ks: tuple[int, ...]) -> dict[str, list]:
    """Trustworthiness, continuity and kNN recall of map ``Y`` at every k of ``ks``, sharing
    one neighbour ranking of each space."""
    order_x, ranks_x = neighbour_ranks(X)
    order_y, ranks_y = neighbour_ranks(Y)
    return {
        "trustworthiness": [_rank_penalty(ranks_x, order_y, k) for k in ks],
        "continuity": [_rank_penalty(ranks_y, order_x, k) for k in ks],
        "knn_recall": [neighbour_overlap(order_x, order_y, k) for k in ks],
    }


def neighbourhood_point_scores(X: np.ndarray, Y: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Each point's contribution to trustworthiness and continuity at ``k``: arrays of length
    n whose means are :func:`trustworthiness` and :func:`continuity`. A paired bootstrap of
    two maps resamples these per-point values (the neighbour ranks themselves held fixed)."""
    order_x, ranks_x = neighbour_ranks(X)
    order_y, ranks_y = neighbour_ranks(Y)
    return {"trustworthiness": _rank_penalty_points(ranks_x, order_y, k),
            "continuity": _rank_penalty_points(ranks_y, order_x, k)}


def accuracy_folds(labels: np.ndarray, folds: int) -> int:
    """Folds of the stratified cross-validation in :func:`knn_accuracy`: ``folds``, fewer when
    the smallest segment has fewer rows (every fold must hold each segment), and at least 2."""
    smallest = int(np.unique(np.asarray(labels), return_counts=True)[1].min())
    return max(2, min(folds, smallest))


def knn_correct(Y: np.ndarray, labels: np.ndarray, k: int = 10, folds: int = 5,
                random_state: int = 0, groups: np.ndarray | None = None) -> np.ndarray:
    """Whether each point's segment is predicted right by a k-nearest-neighbour classifier
    trained on the other folds (:func:`accuracy_folds` stratified folds): one boolean per
    point, so that two maps scored with the same ``random_state`` are paired point by point.

    With ``groups`` (e.g. customers sharing a postcode's attributes), every group sits in one
    fold, so a point is never classified by members of its own group."""
    labels = np.asarray(labels)
    n_splits = accuracy_folds(labels, folds)
    if groups is None:
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
        split = splitter.split(Y, labels)
    else:
        n_splits = max(2, min(n_splits, np.unique(groups).size))
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True,
                                        random_state=random_state)
        split = splitter.split(Y, labels, groups)
    predicted = cross_val_predict(KNeighborsClassifier(n_neighbors=k), Y, labels,
                                  cv=list(split))
    return predicted == labels


def knn_accuracy(Y: np.ndarray, labels: np.ndarray, k: int = 10, folds: int = 5,
                 random_state: int = 0) -> float:
    """Cross-validated accuracy of a k-nearest-neighbour classifier of ``labels`` on ``Y``: how
    well the known segments can be read off the map. The share of points predicted right by
    :func:`knn_correct` (pooled over the folds)."""
    return float(np.mean(knn_correct(Y, labels, k, folds, random_state)))


def choose_k_by_bic(Z: np.ndarray, max_k: int, random_state: int = 0
                    ) -> tuple[int, np.ndarray]:
    """Number of Gaussian-mixture components (full covariances) with the lowest BIC,
    :math:`\\mathrm{BIC} = -2\\log L + m\\log n` for m free parameters, over k = 1..max_k."""
    bic = np.array([
        GaussianMixture(k, covariance_type="full", random_state=random_state, n_init=1,
                        reg_covar=1e-5).fit(Z).bic(Z)
        for k in range(1, max_k + 1)])
    return int(np.argmin(bic)) + 1, bic


def cluster_agreement(Z: np.ndarray, labels: np.ndarray | None, max_k: int,
                      true_k: int | None, random_state: int = 0,
                      kmeans_random_state: int | None = None) -> dict[str, float | int | None]:
    """Cluster ``Z`` with a BIC-chosen Gaussian mixture and with k-means, and compare with the
    known segments by the adjusted Rand index (None when there are no labels).

    k-means uses the true number of segments when it is known (the most favourable case for
    it) and the BIC choice otherwise. ``random_state`` seeds the mixtures and
    ``kmeans_random_state`` (default: the same) the k-means starts.
    """
    if kmeans_random_state is None:
        kmeans_random_state = random_state
    k_bic, _ = choose_k_by_bic(Z, max_k, random_state)
    gmm = GaussianMixture(k_bic, covariance_type="full", random_state=random_state,
                          reg_covar=1e-5).fit(Z)
    k_means_k = true_k or k_bic
    kmeans = KMeans(k_means_k, n_init=4, random_state=kmeans_random_state).fit(Z)
    has_labels = labels is not None
    return {
        "gmm_k": k_bic,
        "gmm_ari": float(adjusted_rand_score(labels, gmm.predict(Z))) if has_labels else None,
        "kmeans_k": int(k_means_k),
        "kmeans_ari": float(adjusted_rand_score(labels, kmeans.labels_)) if has_labels else None,
    }
