"""Choosing k: three well-separated groups are found by every criterion, and a choice at the
edge of the grid is flagged."""

import numpy as np
import pandas as pd

from casestudies.clustering import choosing_k


def test_three_separated_groups_give_three_by_every_criterion():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0, 0], [12, 0, 0], [0, 12, 0]])
    labels = np.repeat([0, 1, 2], 150)
    Z = centres[labels] + rng.standard_normal((450, 3))
    curves = choosing_k.k_curves(Z, 5, np.random.default_rng(1))
    chosen = choosing_k.choose(curves)
    assert chosen["mixture k"] == 3 and chosen["k-means k"] == 3
    assert not chosen["mixture at edge"] and not chosen["k-means at edge"]
    assert curves.set_index("k").loc[3, "k-means stability"] > 0.95
    gmm_ari, kmeans_ari = choosing_k.agreement(Z, labels, 3, 3, 0)
    assert gmm_ari > 0.95 and kmeans_ari > 0.95


def test_choices_at_the_edge_of_the_grid_are_flagged():
    curves = pd.DataFrame({"k": [1, 2, 3, 4], "BIC": [10.0, 8.0, 6.0, 5.0],
                           "silhouette": [np.nan, 0.6, 0.4, 0.3]})
    chosen = choosing_k.choose(curves)
    assert chosen == {"mixture k": 4, "k-means k": 2, "mixture at edge": True,
                      "k-means at edge": True}
    inside = curves.assign(BIC=[10.0, 8.0, 6.0, 7.0], silhouette=[np.nan, 0.3, 0.6, 0.2])
    assert choosing_k.choose(inside) == {"mixture k": 3, "k-means k": 3,
                                         "mixture at edge": False, "k-means at edge": False}


def test_unstructured_data_is_less_stable_than_separated_groups():
    rng = np.random.default_rng(2)
    noise = rng.standard_normal((400, 2))
    curves = choosing_k.k_curves(noise, 4, np.random.default_rng(3)).set_index("k")
    assert curves.loc[4, "k-means stability"] < 0.95
