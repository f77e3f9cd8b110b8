"""Small synthetic data sets on which t-SNE's well-known distortions are measured: clusters in
pure noise, equal-looking clusters of unequal spread, and lost between-cluster distances
(Wattenberg, Viégas & Johnson 2016, "How to use t-SNE effectively"), and a curved trajectory
that a linear projection folds onto itself."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.cluster import HDBSCAN
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neighbors import KNeighborsRegressor

from casestudies.clustering.tsne import opentsne_embedding

DIMENSIONS = 10  # of every synthetic pitfall data set
POSITION_K = 10  # neighbours of the k-NN regression that reads the position along a trajectory
POSITION_FOLDS = 5


@dataclass
class NoisePitfall:
    """t-SNE of isotropic Gaussian noise: how many clusters a density-based clustering (HDBSCAN)
    finds in the data and on maps at a low and a usual perplexity.

    Attributes
    ----------
    clusters_data : int
        Clusters HDBSCAN finds in the 10-D noise itself.
    clusters_maps : list of int
        Clusters it finds on each map.
    clustered_share : list of float
        Share of the points it assigns to a cluster (the rest it calls noise) on each map.
    clusters_pca, share_pca : int, float
        The same on the 2-D PCA map of the same noise (the same tool on a linear map).
    clusters_control, share_control : int, float
        The same on n draws of 2-D standard Gaussian noise (an unstructured 2-D control: what
        the clusterer finds in any 2-D cloud of this size).
    """

    n: int
    perplexities: list[float]
    min_cluster_size: int
    clusters_data: int
    clusters_maps: list[int]
    clustered_share: list[float]
    clusters_pca: int
    share_pca: float
    clusters_control: int
    share_control: float
    maps: list[np.ndarray] = field(metadata={"json": False})
    pca_map: np.ndarray = field(metadata={"json": False})
    control: np.ndarray = field(metadata={"json": False})


@dataclass
class SpreadPitfall:
    """Two clusters whose spreads differ: ratio of their RMS radii in the data, in PCA and in
    the t-SNE map."""

    n: int
    ratio_data: float
    ratio_pca: float
    ratio_tsne: float
    perplexity: float
    spread_ratio: float  # the simulated ratio of the two standard deviations
    labels: np.ndarray = field(metadata={"json": False})
    pca_map: np.ndarray = field(metadata={"json": False})
    tsne_map: np.ndarray = field(metadata={"json": False})


@dataclass
class DistancePitfall:
    """Three clusters A, B, C on a line with d(A, C) much larger than d(A, B): the ratio
    d(A, C) / d(A, B) of centroid distances in the data, in PCA and in the t-SNE map."""

    n: int
    ratio_data: float
    ratio_pca: float
    ratio_tsne: float
    perplexity: float
    offset_ratio: float  # the simulated d(A, C) / d(A, B) of the cluster centres
    labels: np.ndarray = field(metadata={"json": False})
    pca_map: np.ndarray = field(metadata={"json": False})
    tsne_map: np.ndarray = field(metadata={"json": False})


@dataclass
class TrajectoryPitfall:
    """A one-dimensional trajectory (a helix of two turns in 10-D): how well the position t
    along it can be read off the data, the 2-D PCA map and the t-SNE map (cross-validated R^2
    of a 10-nearest-neighbour regression of t on the coordinates)."""

    n: int
    turns: float
    r2_data: float
    r2_pca: float
    r2_tsne: float
    perplexity: float
    position: np.ndarray = field(metadata={"json": False})
    pca_map: np.ndarray = field(metadata={"json": False})
    tsne_map: np.ndarray = field(metadata={"json": False})


def position_r2(Z: np.ndarray, position: np.ndarray, random_state: int, k: int = POSITION_K
                ) -> float:
    """Cross-validated (``POSITION_FOLDS``-fold) R^2 of a k-nearest-neighbour regression of
    ``position`` on ``Z``: how well the order along a trajectory can be read off a space."""
    folds = KFold(POSITION_FOLDS, shuffle=True, random_state=random_state)
    return float(np.mean(cross_val_score(KNeighborsRegressor(k), Z, position, cv=folds,
                                         scoring="r2")))


def trajectory_pitfall(n: int, perplexity: float, random_state: int, n_jobs: int = 1,
                       turns: float = 2.0, radius: float = 5.0, height: float = 6.0
                       ) -> TrajectoryPitfall:
    """A helix whose turns are wider than its height: its top two principal components span
    the circle, so the 2-D PCA map lays the turns on top of each other."""
    rng = np.random.default_rng(random_state)
    t = np.sort(rng.uniform(0, 1, n))
    angle = 2 * np.pi * turns * t
    X = 0.2 * rng.standard_normal((n, DIMENSIONS))
    X[:, 0] += radius * np.cos(angle)
    X[:, 1] += radius * np.sin(angle)
    X[:, 2] += height * t
    tsne = opentsne_embedding(X, perplexity, random_state, n_jobs).coordinates
    pca = _pca_2d(X)
    return TrajectoryPitfall(n=n, turns=turns, r2_data=position_r2(X, t, random_state),
                             r2_pca=position_r2(pca, t, random_state),
                             r2_tsne=position_r2(tsne, t, random_state), perplexity=perplexity,
                             position=t, pca_map=pca, tsne_map=tsne)


def _rms_radius(Z: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.sum((Z - Z.mean(axis=0)) ** 2, axis=1))))


def _pca_2d(X: np.ndarray) -> np.ndarray:
    centred = X - X.mean(axis=0)
    _, _, Vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ Vt[:2].T


def _centroid_ratio(Z: np.ndarray, labels: np.ndarray) -> float:
    a, b, c = (Z[labels == g].mean(axis=0) for g in range(3))
    return float(np.linalg.norm(c - a) / np.linalg.norm(b - a))


def _hdbscan_clusters(Z: np.ndarray, min_cluster_size: int) -> tuple[int, float]:
    labels = HDBSCAN(min_cluster_size=min_cluster_size, copy=True).fit(Z).labels_
    return int(np.unique(labels[labels >= 0]).size), float(np.mean(labels >= 0))


def noise_pitfall(n: int, perplexities: tuple[float, float], random_state: int,
                  n_jobs: int = 1, min_cluster_size: int = 10) -> NoisePitfall:
    """Embed n points of 10-D standard Gaussian noise at each perplexity and count the clusters
    HDBSCAN finds in the data, on each map, on the 2-D PCA map of the same noise and on an
    unstructured 2-D Gaussian cloud of n points (the controls)."""
    rng = np.random.default_rng(random_state)
    X = rng.standard_normal((n, DIMENSIONS))
    control = rng.standard_normal((n, 2))
    clusters_data, _ = _hdbscan_clusters(X, min_cluster_size)
    maps = [opentsne_embedding(X, p, random_state, n_jobs).coordinates for p in perplexities]
    found = [_hdbscan_clusters(m, min_cluster_size) for m in maps]
    pca = _pca_2d(X)
    clusters_pca, share_pca = _hdbscan_clusters(pca, min_cluster_size)
    clusters_control, share_control = _hdbscan_clusters(control, min_cluster_size)
    return NoisePitfall(n=n, perplexities=list(perplexities), min_cluster_size=min_cluster_size,
                        clusters_data=clusters_data, clusters_maps=[f[0] for f in found],
                        clustered_share=[f[1] for f in found], clusters_pca=clusters_pca,
                        share_pca=share_pca, clusters_control=clusters_control,
                        share_control=share_control, maps=maps, pca_map=pca, control=control)


def spread_pitfall(n: int, perplexity: float, random_state: int, n_jobs: int = 1,
                   spreads: tuple[float, float] = (1.0, 6.0), separation: float = 60.0
                   ) -> SpreadPitfall:
    """Two equal-sized Gaussian clusters with standard deviations ``spreads``."""
    rng = np.random.default_rng(random_state)
    half = n // 2
    labels = np.repeat([0, 1], [half, n - half])
    X = rng.standard_normal((n, DIMENSIONS)) * np.where(labels == 0, *spreads)[:, None]
    X[labels == 1, 0] += separation
    tsne = opentsne_embedding(X, perplexity, random_state, n_jobs).coordinates
    pca = _pca_2d(X)

    def ratio(Z: np.ndarray) -> float:
        return _rms_radius(Z[labels == 1]) / _rms_radius(Z[labels == 0])

    return SpreadPitfall(n=n, ratio_data=ratio(X), ratio_pca=ratio(pca), ratio_tsne=ratio(tsne),
                         perplexity=perplexity, spread_ratio=spreads[1] / spreads[0],
                         labels=labels, pca_map=pca, tsne_map=tsne)


def distance_pitfall(n: int, perplexity: float, random_state: int, n_jobs: int = 1,
                     offsets: tuple[float, float] = (10.0, 50.0)) -> DistancePitfall:
    """Clusters A at 0, B at ``offsets[0]`` and C at ``offsets[1]`` along one axis (sd 1)."""
    rng = np.random.default_rng(random_state)
    labels = np.arange(n) % 3
    X = rng.standard_normal((n, DIMENSIONS))
    X[:, 0] += np.array([0.0, *offsets])[labels]
    tsne = opentsne_embedding(X, perplexity, random_state, n_jobs).coordinates
    pca = _pca_2d(X)
    return DistancePitfall(n=n, ratio_data=_centroid_ratio(X, labels),
                           ratio_pca=_centroid_ratio(pca, labels),
                           ratio_tsne=_centroid_ratio(tsne, labels), perplexity=perplexity,
                           offset_ratio=offsets[1] / offsets[0], labels=labels, pca_map=pca,
                           tsne_map=tsne)
