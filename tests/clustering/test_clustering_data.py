"""The customer simulator and the preprocessing of customer tables."""

import numpy as np
import pandas as pd
import pytest

from casestudies.clustering.config import ClusteringConfig
from casestudies.clustering.data import (
    LIFE_STAGE,
    SEGMENTS,
    distance_budget,
    load_data,
    minimum_rows,
    prepare_features,
    simulate_customers,
)
from casestudies.errors import DataError


@pytest.fixture(scope="module")
def customers():
    return simulate_customers(2000, random_state=0)


def test_simulator_is_deterministic():
    a, ta = simulate_customers(300, random_state=7)
    b, tb = simulate_customers(300, random_state=7)
    pd.testing.assert_frame_equal(a, b)
    np.testing.assert_array_equal(ta, tb)
    c, _ = simulate_customers(300, random_state=8)
    assert not a.equals(c)


def test_segments_differ_in_size_and_spread(customers):
    table, _ = customers
    sizes = table["segment"].value_counts()
    assert sizes.max() >= 2.5 * sizes.min()
    spreads = {s.name: s.spread for s in SEGMENTS}
    assert max(spreads.values()) >= 4 * min(spreads.values())
    assert table["customer_id"].is_unique


def test_spend_is_skewed_and_zero_inflated(customers):
    table, _ = customers
    spend = table.filter(like="spend_")
    assert spend.shape[1] == 10
    assert (spend == 0).mean().mean() > 0.2
    assert (spend.skew() > 1).all()


def test_life_stage_is_kept_only_for_its_segment(customers):
    table, life = customers
    in_segment = (table["segment"] == LIFE_STAGE).to_numpy()
    assert np.isfinite(life[in_segment]).all() and np.isnan(life[~in_segment]).all()
    # Household size rises and falls along the trajectory: a non-linear curve.
    t, household = life[in_segment], table.loc[in_segment, "household_size"]
    middle = household[(t > 0.35) & (t < 0.65)].mean()
    assert middle > household[t < 0.1].mean() + 1 and middle > household[t > 0.9].mean() + 1


def test_noise_columns_carry_no_segment_information(customers):
    table, _ = customers
    for column in table.filter(like="noise_").columns:
        means = table.groupby("segment")[column].mean()
        assert means.abs().max() < 0.25


def test_prepare_logs_skewed_one_hots_categoricals_and_drops_constants():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "spend": rng.lognormal(3, 1.5, 200),
        "age": rng.normal(40, 10, 200),
        "channel": rng.choice(["web", "app", None], 200),
        "constant": 5.0,
        "free_text": [f"note {i}" for i in range(200)],
        "customer": np.arange(200),
    })
    X, unscaled, names, record = prepare_features(frame, exclude=("customer",))
    assert record.logged == ["spend"]
    assert record.one_hot == {"channel": 3} and record.missing_as_level == ["channel"]
    assert record.dropped_constant == ["constant"]
    assert record.dropped_many_levels == ["free_text"]
    assert "customer" not in names and "channel=(missing)" in names
    np.testing.assert_allclose(unscaled[:, names.index("spend")], np.log1p(frame["spend"]))
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    # Equal weighting: numeric columns standardised, each of the 3 indicators of "channel"
    # scaled to 1/sqrt(3) so that the block has the variance of one column.
    expected = [1 / np.sqrt(3) if n.startswith("channel=") else 1.0 for n in names]
    np.testing.assert_allclose(X.std(axis=0), expected)
    plain, _, _, _ = prepare_features(frame, exclude=("customer",), weighting="standardised")
    np.testing.assert_allclose(plain.std(axis=0), 1)


def test_distance_budget_gives_every_column_its_share():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300),
                          "region": rng.choice(list("NSEW"), 300)})
    X, _, _, record = prepare_features(frame)
    budget = distance_budget(X, record).set_index("column")
    np.testing.assert_allclose(budget["share of squared distance"], 1 / 3)
    assert budget.loc["region", "features"] == 4
    assert budget.loc["region", "share if each feature is standardised"] == pytest.approx(4 / 6)
    # The share is the share of the mean squared distance between pairs (hand computation).
    D = ((X[:, None, :] - X[None, :, :]) ** 2)
    per_feature = D.mean(axis=(0, 1))
    region = [j for j, c in enumerate(record.feature_columns) if c == "region"]
    assert per_feature[region].sum() / per_feature.sum() == pytest.approx(1 / 3)
    plain, _, _, plain_record = prepare_features(frame, weighting="standardised")
    assert distance_budget(plain, plain_record).set_index("column").loc[
        "region", "share of squared distance"] == pytest.approx(4 / 6)


def test_prepare_rejects_missing_numbers_and_useless_tables():
    frame = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [1.0, 2.0, 4.0]})
    with pytest.raises(DataError, match="missing value"):
        prepare_features(frame)
    with pytest.raises(DataError, match="usable feature"):
        prepare_features(pd.DataFrame({"a": [1.0, 2.0, 3.0], "c": [7, 7, 7]}))


def test_default_data_is_prepared_like_a_user_table():
    config = ClusteringConfig(n_customers=400, perplexities=(5.0, 30.0))
    data = load_data(config)
    assert data.features.shape[0] == 400 and data.labels is not None
    assert "segment" not in data.feature_names and "customer_id" not in data.feature_names
    assert data.preprocessing.one_hot["region"] == 4
    assert minimum_rows(config) == 92


def test_digits_drop_constant_pixels():
    data = load_data(ClusteringConfig(dataset="digits"))
    assert data.n_rows == 1797 and len(data.preprocessing.dropped_constant) > 0
    assert not data.preprocessing.logged
