"""``--transform`` and seasonal ARIMA through the whole study, in quick mode: a monthly series
with multiplicative seasonality, a series the log cannot take, Mauna Loa CO2 as the additive
control, and the built-in series that keep their raw scale."""

import json

import numpy as np
import pandas as pd
import pytest

from casestudies.cli import main
from casestudies.forecasting.config import ForecastingConfig
from casestudies.forecasting.data import simulate_arma
from casestudies.forecasting.pipeline import series_transform
from casestudies.report.numbers import unexplained_numbers

QUICK = ["--quick", "--quiet"]
# Months of the simulated series: the quick backtest needs 259 (a 48-month LSTM window, the
# training stretch, 19 calibration and 8 test origins 3 months apart, 12-month horizon).
MONTHS = 264


def _write(tmp_path, values):
    path = tmp_path / "passengers.csv"
    months = pd.date_range("1949-01-01", periods=len(values), freq="MS")
    pd.DataFrame({"month": months.strftime("%Y-%m-%d"), "passengers": values}).to_csv(
        path, index=False)
    return path


def _run(tmp_path, path, *extra):
    out = tmp_path / "out"
    code = main(["forecasting", "--data", str(path), "--value", "passengers", "--time",
                 "month", "--out", str(out), *QUICK, *extra])
    return code, out


@pytest.fixture(scope="module")
def airline_run(tmp_path_factory, airline_like):
    tmp_path = tmp_path_factory.mktemp("airline")
    code, out = _run(tmp_path, _write(tmp_path, airline_like(n=MONTHS).round(2)))
    assert code == 0
    return (json.loads((out / "forecasting.json").read_text()),
            (out / "forecasting.html").read_text())


def test_auto_transforms_a_multiplicative_monthly_series_by_default(airline_run):
    payload, _ = airline_run
    series = payload["result"]["series"][0]
    transform = series["transform"]
    assert transform["requested"] == "auto" and transform["name"] in ("log", "boxcox")
    assert 0 <= transform["lam"] <= 0.2 and transform["subseries"] == 12
    amplitude = transform["amplitude"]
    assert amplitude["grows"] and amplitude["growth"] >= amplitude["threshold"]
    # Seasonal ARIMA won on the monthly grid, with the season differenced.
    fit = series["arima"]
    assert fit["seasonal_order"][3] == 12 and fit["seasonal_order"][1] == 1
    assert fit["seasonal_strength"] >= payload["result"]["constants"][
        "seasonal_strength_threshold"]
    verdicts = payload["result"]["verdicts"]
    assert verdicts["user.seasonal_amplitude_grows"]["holds"] is True
    assert verdicts["user.season_differenced"]["holds"] is True


def test_scores_are_on_the_original_scale_and_the_mean_exceeds_the_median(airline_run):
    payload, _ = airline_run
    series = payload["result"]["series"][0]
    median, mean = np.array(series["arima_median_last"]), np.array(series["arima_mean_last"])
    assert np.all(mean > median)
    # Passenger counts are in the hundreds: log-scale widths would be below 1.
    assert series["width_at_horizon"]["arima"] > 10
    last_actual = series["showcase"]["actual"]
    assert np.median(np.abs(median - last_actual) / last_actual) < 0.2


def test_report_states_the_transform_the_median_and_the_model_choice(airline_run):
    payload, html = airline_run
    assert "chose a Box-Cox transform" in html
    assert "is the <strong>median</strong>" in html and "bias adjustment" in html
    assert "STL seasonal strength" in html and "Fourier regression does not difference" in html
    assert unexplained_numbers(html, payload) == []


def test_the_log_of_a_series_with_a_zero_is_refused_in_one_line(tmp_path, capsys,
                                                                 airline_like):
    values = airline_like(n=MONTHS)
    values[30] = 0.0
    code, out = _run(tmp_path, _write(tmp_path, values), "--transform", "log")
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "--transform none" in err and "passengers" in err
    assert not out.exists() or not any(out.iterdir())


def test_co2_under_auto_keeps_the_raw_scale_and_says_why(tmp_path):
    out = tmp_path / "out"
    assert main(["forecasting", "--series", "co2", "--transform", "auto", "--out", str(out),
                 *QUICK]) == 0
    payload = json.loads((out / "forecasting.json").read_text())
    transform = payload["result"]["series"][0]["transform"]
    assert transform["requested"] == "auto" and transform["name"] == "none"
    grows = payload["result"]["verdicts"].get("co2.seasonal_amplitude_grows")
    assert grows is None or grows["holds"] is False
    html = (out / "forecasting.html").read_text()
    assert "<code>--transform auto</code> kept the raw scale" in html
    assert unexplained_numbers(html, payload) == []


def test_simulated_series_keep_their_raw_scale_whatever_is_asked():
    config = ForecastingConfig(quick=True, transform="log")
    chosen = series_transform(simulate_arma(config), config)
    assert chosen.name == "none" and "true distribution" in chosen.fallback
    default = ForecastingConfig(quick=True)
    assert default.transform_for(user_data=False) == "none"
    assert default.transform_for(user_data=True) == "auto"
    assert series_transform(simulate_arma(default), default).requested == "none"
