"""Placing held-out points into a fitted map: the neighbour recall the report quotes, by hand."""

import numpy as np
import pytest

from casestudies.clustering.config import ClusteringConfig
from casestudies.clustering.pipeline import STABILITY_K, _placement, _placement_split
from casestudies.clustering.tsne import place_new_points
from casestudies.rng import stream


def _nearest(reference: np.ndarray, query: np.ndarray, k: int, skip_self: bool) -> set:
    distances = np.linalg.norm(reference - query, axis=1)
    order = np.argsort(distances, kind="stable")
    return set(order[int(skip_self):k + int(skip_self)])


def test_placement_recall_by_hand():
    rng = np.random.default_rng(0)
    labels = np.repeat(["a", "b", "c"], 50)
    X = np.array([[0, 0, 0], [6, 0, 0], [0, 6, 0]])[np.arange(150) // 50] + rng.standard_normal(
        (150, 3))
    config = ClusteringConfig(perplexities=(5.0,), main_perplexity=5.0, holdout_fraction=0.2,
                              seed=3)
    split = _placement_split(150, config)
    fitted = place_new_points(X[split[1]], X[split[0]], 5.0, 0)
    placement = _placement(X, labels, config, split, fitted)

    # The split and the reference rows each come from their own named stream.
    order = stream(config.seed, "clustering", "placement", "split").permutation(150)
    new, train = np.sort(order[:30]), np.sort(order[30:])
    reference = stream(config.seed, "clustering", "placement", "reference rows").choice(
        train.size, size=30, replace=False)
    assert (placement.n_new, placement.n_train) == (30, 120)

    k = STABILITY_K
    recall_new = np.mean([
        len(_nearest(X[train], X[i], k, False) & _nearest(placement.train_map, y, k, False)) / k
        for i, y in zip(new, placement.new_map, strict=True)])
    recall_train = np.mean([
        len(_nearest(X[train], X[train][r], k, True)
            & _nearest(placement.train_map, placement.train_map[r], k, True)) / k
        for r in reference])
    assert placement.recall_new == pytest.approx(recall_new)
    assert placement.recall_train == pytest.approx(recall_train)
    assert placement.sklearn_can_transform is False
