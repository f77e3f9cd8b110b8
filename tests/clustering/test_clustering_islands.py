"""Island attribution, the same-level check of map neighbours, and the acceptance test of the
column weighting on the simulator."""

import numpy as np
import pandas as pd
import pytest

from casestudies.clustering import islands
from casestudies.clustering.data import prepare_features, simulate_customers
from casestudies.clustering.tsne import opentsne_affinities, opentsne_on_affinities


def test_attribution_names_the_column_that_made_the_islands():
    rng = np.random.default_rng(0)
    colour = np.repeat(["red", "blue", "green"], 100)
    centres = {"red": (0, 0), "blue": (20, 0), "green": (0, 20)}
    Y = np.array([centres[c] for c in colour]) + rng.standard_normal((300, 2))
    found = islands.find_islands(Y)
    assert found.max() + 1 == 3
    table = islands.attribution(found, {"colour": colour, "noise": rng.normal(size=300)},
                                segments=None)
    assert table["column"].iloc[0] == "colour"
    assert table["AMI"].iloc[0] == pytest.approx(1.0)
    assert abs(table.set_index("column").loc["noise", "AMI"]) < 0.05
    assert table.set_index("column").loc["noise", "levels"] == islands.QUANTILE_BINS


def test_same_level_share_and_expectations_by_hand():
    Y = np.array([[0.0], [1.0], [10.0], [11.0]])
    values = np.array(["a", "a", "b", "a"])
    share, chance = islands.same_level_share(Y, values, k=1)
    # nearest neighbours: 0->1 (a,a), 1->0 (a,a), 2->3 (b,a), 3->2 (a,b)
    assert share == pytest.approx(0.5)
    assert chance == pytest.approx(0.75**2 + 0.25**2)
    chance2, within = islands.expected_shares(values, np.array(["s", "s", "t", "t"]))
    assert chance2 == pytest.approx(chance)
    assert within == pytest.approx(0.5 * 1.0 + 0.5 * (0.5**2 + 0.5**2))


def _region_excess(weighting: str) -> float:
    table, _ = simulate_customers(800, random_state=4)
    X, _, _, _ = prepare_features(table, ("customer_id", "segment"), weighting=weighting)
    Y = opentsne_on_affinities(X, opentsne_affinities(X, 30.0), 30.0, 1).coordinates
    share, chance = islands.same_level_share(Y, table["region"].to_numpy())
    return share - chance


@pytest.mark.slow
def test_equal_weighting_removes_the_region_islands():
    # Acceptance: region carries no segment information; with every column given an equal
    # share of the distance, map neighbours share a region within 10 points of chance, and
    # with indicators standardised one by one they do not (the artefact the weighting fixes).
    assert _region_excess("equal") < 0.10
    assert _region_excess("standardised") > 0.10


def test_quantile_bins_keep_few_levels_as_they_are():
    assert np.unique(islands.as_categories(np.array([1, 2, 2, 3] * 10))).size == 3
    binned = islands.as_categories(pd.Series(np.arange(100.0)).to_numpy())
    assert np.bincount(binned).tolist() == [20] * 5
