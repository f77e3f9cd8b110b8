"""The transaction simulator and its features."""

import numpy as np
import pandas as pd
import pytest

from casestudies.calibration.data import (
    SECONDS_PER_DAY,
    add_features,
    feature_columns,
    simulate_transactions,
)


@pytest.fixture(scope="module")
def small():
    return simulate_transactions(n_customers=150, n_terminals=120, n_days=40, random_state=3)


def test_columns_types_and_order(small):
    for column in ("transaction_id", "timestamp", "customer_id", "terminal_id", "amount",
                   "is_fraud", "fraud_scenario"):
        assert column in small.columns
    assert pd.api.types.is_datetime64_any_dtype(small["timestamp"])
    assert small["timestamp"].is_monotonic_increasing
    assert (small["amount"] > 0).all()
    assert set(small["is_fraud"].unique()) <= {0, 1}
    assert ((small["fraud_scenario"] > 0) == (small["is_fraud"] == 1)).all()
    np.testing.assert_array_equal(small["transaction_id"], np.arange(len(small)))


def test_deterministic_under_seed(small):
    again = simulate_transactions(n_customers=150, n_terminals=120, n_days=40, random_state=3)
    pd.testing.assert_frame_equal(small, again)
    other = simulate_transactions(n_customers=150, n_terminals=120, n_days=40, random_state=4)
    assert not small["amount"].equals(other["amount"])


def test_default_fraud_rate_is_realistic():
    frame = simulate_transactions(random_state=0)
    assert 0.005 <= frame["is_fraud"].mean() <= 0.02
    assert set(frame["fraud_scenario"].unique()) == {0, 1, 2, 3}
    # Scenario 1 is defined by the amount; scenario 3 inflates the amounts.
    assert (frame.loc[frame["fraud_scenario"] == 0, "amount"] <= 220).all()
    assert (frame.loc[frame["fraud_scenario"] == 1, "amount"] > 220).all()


def test_window_features_match_brute_force(small):
    features = add_features(small, label_delay_days=7)
    assert list(features.index) == list(small.index)
    assert set(feature_columns()) <= set(features.columns)
    t = (small["timestamp"] - small["timestamp"].min()).dt.total_seconds().to_numpy()
    rng = np.random.default_rng(0)
    for row in rng.choice(len(small), 40, replace=False):
        now = t[row]
        same_customer = small["customer_id"].to_numpy() == small["customer_id"].iloc[row]
        in_7d = same_customer & (t > now - 7 * SECONDS_PER_DAY) & (t <= now)
        assert features["customer_nb_tx_7d"].iloc[row] == in_7d.sum()
        assert features["customer_mean_amount_7d"].iloc[row] == pytest.approx(
            small["amount"].to_numpy()[in_7d].mean())
        same_terminal = small["terminal_id"].to_numpy() == small["terminal_id"].iloc[row]
        delayed = (same_terminal & (t > now - 37 * SECONDS_PER_DAY)
                   & (t <= now - 7 * SECONDS_PER_DAY))
        assert features["terminal_nb_tx_30d"].iloc[row] == delayed.sum()
        expected = small["is_fraud"].to_numpy()[delayed].mean() if delayed.any() else 0.0
        assert features["terminal_risk_30d"].iloc[row] == pytest.approx(expected)


def test_night_and_weekend_flags(small):
    features = add_features(small)
    assert (features["is_night"] == (small["timestamp"].dt.hour < 6)).all()
    assert (features["is_weekend"] == (small["timestamp"].dt.day_of_week >= 5)).all()


def test_numeric_time_is_read_as_seconds():
    from casestudies.calibration.data import from_frame

    rng = np.random.default_rng(0)
    seconds = np.array([30.0, 0.0, 86_400.0 * 3, 86_400.0 * 10, 5.5])
    frame = pd.DataFrame({"Time": seconds, "x": rng.normal(size=5), "y": [0, 1, 0, 1, 0]})
    data = from_frame(frame, "y", time="Time", source="frame")
    elapsed = (data.time - data.time[0]) / np.timedelta64(1, "s")
    np.testing.assert_allclose(elapsed, np.sort(seconds) - seconds.min())
    np.testing.assert_array_equal(data.y, [1, 0, 0, 0, 1])


def test_a_cluster_column_groups_rows_and_is_not_a_feature():
    from casestudies.calibration.data import from_frame

    frame = pd.DataFrame({"y": [0, 1, 0, 1, 0, 0], "x": np.arange(6.0),
                          "card": ["a", "b", "a", "c", "b", "c"]})
    data = from_frame(frame, "y", cluster="card", source="frame")
    assert list(data.features.columns) == ["x"]
    assert data.clusters[0] == data.clusters[2] != data.clusters[1]
    assert data.cluster_unit == "values of the column 'card'"
    plain = from_frame(frame.drop(columns="card"), "y", source="frame")
    assert plain.clusters is None and plain.cluster_unit == "transactions"


def test_a_cluster_column_with_missing_values_is_one_line_error():
    from casestudies.calibration.data import from_frame
    from casestudies.errors import DataError

    frame = pd.DataFrame({"y": [0, 1, 0], "x": [1.0, 2.0, 3.0], "card": ["a", None, "b"]})
    with pytest.raises(DataError, match=r"'card' \(1 of 3\).*only --missing drop") as info:
        from_frame(frame, "y", cluster="card", source="frame")
    assert "\n" not in str(info.value)


def test_cluster_needs_a_data_file():
    from casestudies.calibration.config import CalibrationConfig
    from casestudies.errors import ConfigError

    with pytest.raises(ConfigError, match="--cluster names a column of --data"):
        CalibrationConfig(cluster="card")
