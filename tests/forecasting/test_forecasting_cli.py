"""The command line on users' files: bad input exits 2 with one line and writes nothing; a good
file works end to end in quick mode."""

import json

import numpy as np
import pandas as pd
import pytest

from casestudies.cli import main
from casestudies.forecasting.config import ForecastingConfig
from casestudies.forecasting.data import load_data, period_of_offset

QUICK = ["--quick", "--quiet"]


def _series(n=260, seed=0):
    rng = np.random.default_rng(seed)
    values = 20 + np.cumsum(rng.normal(0, 0.3, n)) * 0.2 + rng.normal(0, 1, n)
    time = pd.date_range("2020-01-01", periods=n, freq="D")
    return pd.DataFrame({"date": time.strftime("%Y-%m-%d"), "y": values})


def _fails(tmp_path, capsys, frame, *extra, expect):
    path = tmp_path / "series.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    code = main(["forecasting", "--data", str(path), "--out", str(out), *QUICK, *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert expect in err, err
    assert not out.exists() or not any(out.iterdir())


def test_too_short_series_says_how_long(tmp_path, capsys):
    # Quick sizes shrunk to their floors (horizon 2, 19 + 8 origins one step apart, 40 training
    # windows after a 48-step window) need 119 observations.
    _fails(tmp_path, capsys, _series(n=118), "--value", "y", expect="needs at least 119")


def test_missing_values_beyond_tolerance(tmp_path, capsys):
    frame = _series()
    frame.loc[10:40, "y"] = np.nan
    _fails(tmp_path, capsys, frame, "--value", "y", expect="--max-missing")


def test_text_values(tmp_path, capsys):
    frame = _series()
    frame["y"] = frame["y"].astype(object)
    frame.loc[5, "y"] = "n/a?"
    _fails(tmp_path, capsys, frame, "--value", "y", expect="must be numeric")


def test_infinite_values(tmp_path, capsys):
    frame = _series()
    frame.loc[3, "y"] = np.inf
    _fails(tmp_path, capsys, frame, "--value", "y", expect="infinite values")


def test_timestamps_off_the_frequency_grid(tmp_path, capsys):
    _fails(tmp_path, capsys, _series(), "--value", "y", "--time", "date", "--freq", "W",
           expect="do not fall on the --freq 'W' grid")


def test_constant_series(tmp_path, capsys):
    frame = _series()
    frame["y"] = 3.0
    _fails(tmp_path, capsys, frame, "--value", "y", expect="constant")


def test_unparseable_timestamps(tmp_path, capsys):
    frame = _series()
    frame.loc[7, "date"] = "not a date"
    _fails(tmp_path, capsys, frame, "--value", "y", "--time", "date", expect="do not parse")


def test_duplicated_timestamps(tmp_path, capsys):
    frame = _series()
    frame.loc[8, "date"] = frame.loc[9, "date"]
    _fails(tmp_path, capsys, frame, "--value", "y", "--time", "date", expect="duplicated")


def test_missing_column(tmp_path, capsys):
    _fails(tmp_path, capsys, _series(), "--value", "sales", expect="'sales' not found")


def test_value_option_required_with_data(tmp_path, capsys):
    _fails(tmp_path, capsys, _series(), expect="--value")


@pytest.mark.parametrize("horizon", ["0", "-3"])
def test_horizon_below_one(tmp_path, capsys, horizon):
    _fails(tmp_path, capsys, _series(), "--value", "y", "--horizon", horizon,
           expect="--horizon must be at least 1")


def test_bad_frequency(tmp_path, capsys):
    _fails(tmp_path, capsys, _series(), "--value", "y", "--time", "date", "--freq", "fortnightly",
           expect="--freq")


def test_user_file_is_sorted_and_gaps_interpolated(tmp_path):
    frame = _series().sample(frac=1.0, random_state=0)
    frame = frame[frame["date"] != "2020-02-01"]
    path = tmp_path / "shuffled.csv"
    frame.to_csv(path, index=False)
    config = ForecastingConfig(data=str(path), value="y", time="date", freq="D", horizon=5,
                               origins=2, calibration_origins=19, origin_step=2)
    series = load_data(config).series[0]
    assert series.n == 260 and np.all(np.isfinite(series.values))
    assert series.period == 7.0
    assert any("sorted" in note for note in series.notes)
    assert any("inserted" in note for note in series.notes)
    assert series.interpolated.sum() == 1 and not np.isnan(series.values).any()


def test_period_of_frequency():
    assert period_of_offset(pd.tseries.frequencies.to_offset("MS")) == 12.0
    assert period_of_offset(pd.tseries.frequencies.to_offset("W-SUN")) == pytest.approx(52.18,
                                                                                        abs=0.01)
    assert period_of_offset(None) is None


def test_user_file_end_to_end(tmp_path, capsys):
    path = tmp_path / "series.csv"
    frame = _series()
    frame.loc[len(frame) - 3, "y"] = np.nan  # a missing value among the test targets
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    code = main(["forecasting", "--data", str(path), "--value", "y", "--time", "date",
                 "--out", str(out), *QUICK])
    assert code == 0, capsys.readouterr().err
    payload = json.loads((out / "forecasting.json").read_text())
    series = payload["result"]["series"][0]
    assert series["name"] == "y (series.csv)" and series["period"] == 7.0
    assert series["interpolated"] == {"all": 1, "training": 0, "calibration": 0, "test": 1}
    html = (out / "forecasting.html").read_text()
    assert html.count("<svg") >= 5 and "Interpolated test targets" in html


def test_built_in_series_load_complete_and_seeded():
    # Given explicitly, 20 origins 4 steps apart fit El Niño's 732 months without shrinking.
    config = ForecastingConfig(series=("arma", "arima", "co2", "elnino"), origins=20,
                               origin_step=4)
    series = {s.key: s for s in load_data(config).series}
    assert series["co2"].n == 2284 and np.all(np.isfinite(series["co2"].values))
    assert any("59 missing weeks" in note for note in series["co2"].notes)
    assert series["co2"].interpolated.sum() == 59 and series["arma"].interpolated is None
    assert series["elnino"].n == 732 and series["elnino"].period == 12.0
    assert series["arma"].truth is not None and series["arima"].truth.order == (1, 1, 1)
    again = load_data(config).series[0]
    np.testing.assert_array_equal(again.values, series["arma"].values)
    other = load_data(ForecastingConfig(series=("arma",), seed=5)).series[0]
    assert not np.array_equal(other.values, series["arma"].values)


def test_simulated_arma_has_the_stated_mean_and_autocorrelation():
    config = ForecastingConfig(series=("arma",))
    values = load_data(config).series[0].values
    # ARMA(2,1) lag-1 autocorrelation from its psi-weights: sum psi_j psi_{j+1} / sum psi_j^2.
    from casestudies.forecasting.arima import psi_weights

    psi = psi_weights((1.2, -0.4), (0.3,), 500)
    rho1 = np.sum(psi[:-1] * psi[1:]) / np.sum(psi**2)
    sample = np.corrcoef(values[:-1], values[1:])[0, 1]
    assert abs(values.mean() - 10.0) < 0.6
    assert sample == pytest.approx(rho1, abs=0.05)


def test_horizon_beyond_the_built_in_series_is_a_config_error(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["forecasting", "--series", "arma", "--horizon", "100000", "--out", str(out),
                 "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "at most 1000" in err
    assert not out.exists()
