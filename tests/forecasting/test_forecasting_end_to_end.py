"""Whole runs: determinism of the pipeline under a seed, independent streams per series, the
report's wording chosen from verdicts, and the default report in quick mode with every number it
shows in its JSON."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from casestudies.forecasting import STUDY
from casestudies.forecasting.report import short_answer
from casestudies.report.numbers import unexplained_numbers


def _quick_result(seed: int, series: tuple[str, ...] = ("arma",)):
    config = STUDY.config.from_options(series=list(series), quick=True, seed=seed)
    return STUDY.run(config, STUDY.load_data(config))


@pytest.fixture(scope="module")
def arma_result():
    return _quick_result(0)


def test_pipeline_is_deterministic_under_a_seed():
    first, second = _quick_result(0), _quick_result(0)
    assert first.short_answer == second.short_answer
    pd.testing.assert_frame_equal(first.series[0].score_table, second.series[0].score_table)
    np.testing.assert_array_equal(first.series[0].showcase.parameter_paths_width95,
                                  second.series[0].showcase.parameter_paths_width95)
    other = _quick_result(1)
    assert not np.array_equal(first.series[0].values, other.series[0].values)


def test_simulated_series_report_the_true_distribution(arma_result):
    result = arma_result
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


def test_result_tables_and_verdicts_name_their_series(arma_result):
    tables = arma_result.tables()
    assert {"arma.score_table", "arma.coverage_by_horizon", "arma.truth_comparison",
            "verdicts"} <= set(tables)
    for name, verdict in arma_result.verdicts.items():
        assert verdict.name == name
    assert arma_result.verdicts["arma.dropout_below_band"].holds == \
        arma_result.series[0].verdicts["dropout_below_band"].holds
    assert "arma.dropout_below_band" in arma_result.summary()


def _with_verdict(result, **states):
    """A copy of ``result`` whose first series' verdicts ``name=holds`` are replaced."""
    series = result.series[0]
    verdicts = {**series.verdicts, **{name: dataclasses.replace(series.verdicts[name],
                                                                holds=holds)
                                      for name, holds in states.items()}}
    changed = dataclasses.replace(series, verdicts=verdicts)
    return dataclasses.replace(result, series=[changed, *result.series[1:]])


@pytest.mark.parametrize(("states", "words"), [
    (dict(arima_coverage_within_band=True, arima_coverage_below_band=False),
     "within the binomial range"),
    (dict(arima_coverage_within_band=False, arima_coverage_below_band=True),
     "below the binomial range"),
    (dict(arima_coverage_within_band=False, arima_coverage_below_band=False),
     "above the binomial range"),
    (dict(recommended_lstm_within_band=True), "(within that range)"),
    (dict(recommended_lstm_within_band=False), "(outside that range)"),
])
def test_short_answer_words_follow_the_verdicts(arma_result, states, words):
    assert words in short_answer(_with_verdict(arma_result, **states))


def test_short_answer_names_mc_dropout_only_when_it_under_covers(arma_result):
    assert "MC dropout" in short_answer(_with_verdict(arma_result, dropout_below_band=True))
    assert "MC dropout" not in short_answer(_with_verdict(arma_result, dropout_below_band=False))


def test_short_answer_names_the_method_with_the_lowest_interval_score(arma_result):
    series = arma_result.series[0]
    lstm = [s for s in series.scores if s.family == "LSTM" and s.coverage]
    best = min(lstm, key=lambda s: s.overall["MSIS 95"])
    assert series.recommended_lstm_method == best.key
    assert best.label.replace("LSTM ", "") + " had the lowest interval score" in \
        arma_result.short_answer


@pytest.mark.slow
def test_adding_a_series_leaves_the_numbers_of_the_others_unchanged(arma_result):
    together = _quick_result(0, ("arma", "elnino"))
    alone, joined = arma_result.series[0], together.series[0]
    assert joined.key == "arma"
    pd.testing.assert_frame_equal(alone.score_table, joined.score_table)
    for a, b in zip(alone.scores, joined.scores, strict=True):
        assert a.key == b.key
        np.testing.assert_equal(a.overall, b.overall)       # NaN CRPS compares equal
        for level in a.coverage:
            np.testing.assert_array_equal(a.coverage[level], b.coverage[level])
            np.testing.assert_array_equal(a.width[level], b.width[level])
    np.testing.assert_array_equal(alone.showcase.parameter_paths_width95,
                                  joined.showcase.parameter_paths_width95)


@pytest.fixture(scope="module")
def quick_report(render_report):
    return render_report("forecasting", "--quick")


@pytest.mark.slow
def test_every_number_the_report_shows_is_in_its_json(quick_report):
    html, payload = quick_report
    assert unexplained_numbers(html, payload) == []


@pytest.mark.slow
def test_default_report_in_quick_mode(quick_report):
    html, payload = quick_report
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
