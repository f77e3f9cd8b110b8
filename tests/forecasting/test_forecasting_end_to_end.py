"""Whole runs: determinism of the pipeline under a seed, and the default report in quick mode."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from casestudies.cli import main
from casestudies.forecasting import STUDY


def _quick_result(seed: int):
    config = STUDY.config.from_options(series=["arma"], quick=True, seed=seed)
    return STUDY.run(config, STUDY.load_data(config))


def test_pipeline_is_deterministic_under_a_seed():
    first, second = _quick_result(0), _quick_result(0)
    assert first.short_answer == second.short_answer
    pd.testing.assert_frame_equal(first.series[0].score_table, second.series[0].score_table)
    np.testing.assert_array_equal(first.series[0].showcase.parameter_paths_width95,
                                  second.series[0].showcase.parameter_paths_width95)
    other = _quick_result(1)
    assert not np.array_equal(first.series[0].values, other.series[0].values)


def test_simulated_series_report_the_true_distribution():
    result = _quick_result(0)
    series = result.series[0]
    keys = [s.key for s in series.scores]
    assert "truth" in keys and series.truth_comparison is not None
    assert series.psi_max_relative_gap < 1e-8
    # The verdict and the short answer place ARIMA's coverage against the band by the numbers.
    coverage = series.score("arima").overall["coverage 95"]
    low, high = series.binomial_low[0.95], series.binomial_high[0.95]
    assert series.verdicts["arima_coverage_within_band"].holds == (low <= coverage <= high)
    assert series.verdicts["arima_coverage_below_band"].holds == (coverage < low)
    where = "within" if low <= coverage <= high else ("below" if coverage < low else "above")
    assert f"{where} the binomial range" in result.short_answer
    # The grey band: the central 95% of Binomial(n, level) / n over the n test origins.
    n = len(series.test_origins)
    for level in result.levels:
        assert series.binomial_low[level] == stats.binom.ppf(0.025, n, level) / n
        assert series.binomial_high[level] == stats.binom.ppf(0.975, n, level) / n


@pytest.mark.slow
def test_default_report_in_quick_mode(tmp_path, capsys):
    out = tmp_path / "reports"
    assert main(["forecasting", "--quick", "--quiet", "--out", str(out)]) == 0
    html = (out / "forecasting.html").read_text()
    payload = json.loads((out / "forecasting.json").read_text())
    assert "ARIMA" in payload["short_answer"] and "LSTM" in payload["short_answer"]
    series = payload["result"]["series"]
    assert [s["key"] for s in series] == ["arma", "co2"]
    for item in series:
        assert item["psi_max_relative_gap"] < 1e-8
        filled = item["interpolated"]
        assert filled["all"] == (59 if item["key"] == "co2" else 0)
        assert filled["training"] + filled["calibration"] + filled["test"] == filled["all"]
        summary = item["score_table"]
        assert "coverage 95" in summary["columns"] and "CRPS" in summary["columns"]
        methods = [row[0] for row in summary["data"]]
        assert "ARIMA analytic (statsmodels)" in methods
        assert "LSTM split conformal (d)" in methods
    for section in ("The question", "The data", "The math", "The evidence", "Pitfalls",
                    "Interview questions", "Use it on your own data", "Reproducibility"):
        assert section in html
    assert html.count("<svg") >= 10 and "<math" in html
    assert "casestudies forecasting --data" in html
