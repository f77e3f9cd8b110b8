"""Fixtures of the calibration tests: a small labelled transaction file and a quick run."""

import pytest

from casestudies import cli
from casestudies.calibration.config import CalibrationConfig
from casestudies.calibration.data import add_features, feature_columns, simulate_transactions


@pytest.fixture
def calibration_only(monkeypatch):
    """Build the command line with this study alone, whatever state other studies are in."""
    monkeypatch.setattr(cli, "available_studies", lambda: ("calibration",))


@pytest.fixture(scope="session")
def small_transactions():
    """About 20,000 simulated transactions with their features, as a user would export them."""
    frame = add_features(simulate_transactions(n_customers=450, n_terminals=350, n_days=60,
                                               random_state=5))
    columns = ["timestamp", "amount", "is_fraud", *feature_columns()[1:]]
    return frame[columns].copy()


@pytest.fixture(scope="session")
def small_csv(tmp_path_factory, small_transactions):
    path = tmp_path_factory.mktemp("data") / "transactions.csv"
    small_transactions.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def quick_config():
    """Factory of configurations small enough for unit tests."""
    def make(**overrides) -> CalibrationConfig:
        values = dict(quick=True, n_bootstrap=20, n_noise_floor=20, n_customers=450,
                      n_terminals=350, n_days=60, seed=5)
        values.update(overrides)
        return CalibrationConfig(**values)
    return make
