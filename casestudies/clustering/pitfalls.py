"""Small synthetic data sets on which t-SNE's well-known distortions are measured: clusters in
pure noise, equal-looking clusters of unequal spread, and lost between-cluster distances
(Wattenberg, Viégas & Johnson 2016, "How to use t-SNE effectively")."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from casestudies.clustering.metrics import choose_k_by_bic
from casestudies.clustering.tsne import opentsne_embedding

DIMENSIONS = 10


@dataclass
class NoisePitfall:
    """t-SNE of isotropic Gaussian noise: the Gaussian-mixture BIC choice of k in the data and
    on maps at a low and a usual perplexity."""

    n: int
    perplexities: list[float]
    k_data: int
    k_maps: list[int]
    maps: list[np.ndarray] = field(metadata={"json": False})


@dataclass
class SpreadPitfall:
    """Two clusters whose spreads differ: ratio of their RMS radii in the data, in PCA and in
    the t-SNE map."""

    n: int
    ratio_data: float
    ratio_pca: float
    ratio_tsne: float
    perplexity: float
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
    labels: np.ndarray = field(metadata={"json": False})
    pca_map: np.ndarray = field(metadata={"json": False})
    tsne_map: np.ndarray = field(metadata={"json": False})


def _rms_radius(Z: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.sum((Z - Z.mean(axis=0)) ** 2, axis=1))))


def _pca_2d(X: np.ndarray) -> np.ndarray:
    centred = X - X.mean(axis=0)
    _, _, Vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ Vt[:2].T


def _centroid_ratio(Z: np.ndarray, labels: np.ndarray) -> float:
    a, b, c = (Z[labels == g].mean(axis=0) for g in range(3))
    return float(np.linalg.norm(c - a) / np.linalg.norm(b - a))


def noise_pitfall(n: int, perplexities: tuple[float, float], max_k: int, random_state: int,
                  n_jobs: int = 1) -> NoisePitfall:
    """Embed n points of 10-D standard Gaussian noise at each perplexity and count clusters."""
    X = np.random.default_rng(random_state).standard_normal((n, DIMENSIONS))
    k_data, _ = choose_k_by_bic(X, max_k, random_state)
    maps = [opentsne_embedding(X, p, random_state, n_jobs).coordinates for p in perplexities]
    return NoisePitfall(n=n, perplexities=list(perplexities), k_data=k_data,
                        k_maps=[choose_k_by_bic(m, max_k, random_state)[0] for m in maps],
                        maps=maps)


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
                         perplexity=perplexity, labels=labels, pca_map=pca, tsne_map=tsne)


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
                           labels=labels, pca_map=pca, tsne_map=tsne)
