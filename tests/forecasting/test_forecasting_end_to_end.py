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
from casestudies.report.numbers import answer_box_numbers, unexplained_numbers


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
    # ARIMA's coverage is compared with the truth's on the same origins, paired.
    rows = series.comparison.set_index("key")
    diff = rows.loc["arima", "coverage"] - rows.loc["truth", "coverage"]
    assert rows.loc["arima", "coverage minus true"] == pytest.approx(diff)
    verdict = series.verdicts["arima_below_truth"]
    assert verdict.estimate == pytest.approx(diff)
    assert verdict.holds == (True if verdict.high < 0 else (False if verdict.low >= 0 else None))
    # The binomial band (kept for comparison): central 95% of Binomial(n, level) / n.
    n = len(series.test_origins)
    for level in result.levels:
        assert series.binomial_low[level] == stats.binom.ppf(0.025, n, level) / n
        assert series.binomial_high[level] == stats.binom.ppf(0.975, n, level) / n


def test_recommendation_is_the_lowest_interval_score_with_a_paired_interval(arma_result):
    series = arma_result.series[0]
    lstm = [s for s in series.scores if s.family == "LSTM" and s.coverage]
    ranked = sorted(lstm, key=lambda s: s.overall["MSIS 95"])
    assert series.recommended_lstm_method == ranked[0].key
    assert series.runner_up_lstm_method == ranked[1].key
    rows = series.comparison.set_index("key")
    excess = rows.loc[ranked[1].key]
    assert excess["MSIS excess"] == pytest.approx(
        ranked[1].overall["MSIS 95"] / ranked[0].overall["MSIS 95"] - 1)
    assert excess["MSIS excess low"] <= excess["MSIS excess"] <= excess["MSIS excess high"]
    verdict = series.verdicts["recommended_beats_runner_up"]
    assert verdict.unit and verdict.low == excess["MSIS excess low"]
    width = series.verdicts["recommended_width_near_truth"]
    assert width.estimate == pytest.approx(rows.loc[ranked[0].key, "width ÷ true"])


def test_result_tables_and_verdicts_name_their_series(arma_result):
    tables = arma_result.tables()
    assert {"arma.score_table", "arma.coverage_by_horizon", "arma.truth_comparison",
            "verdicts"} <= set(tables)
    for name, verdict in arma_result.verdicts.items():
        assert verdict.name == name
    assert arma_result.verdicts["arma.dropout_below_nominal"].holds == \
        arma_result.series[0].verdicts["dropout_below_nominal"].holds
    assert "arma.dropout_below_nominal" in arma_result.summary()
    assert {"arma.comparison", "arma.coverage_bands"} <= set(tables)


def _with_verdict(result, **states):
    """A copy of ``result`` whose first series' verdicts ``name=holds`` are replaced."""
    series = result.series[0]
    verdicts = {**series.verdicts, **{name: dataclasses.replace(series.verdicts[name],
                                                                holds=holds)
                                      for name, holds in states.items()}}
    changed = dataclasses.replace(series, verdicts=verdicts)
    return dataclasses.replace(result, series=[changed, *result.series[1:]])


def test_short_answer_explains_prediction_versus_confidence_interval(arma_result):
    answer = arma_result.short_answer
    assert "prediction interval" in answer and "confidence interval for the mean" in answer
    assert "noise model" in answer and "nnetar" in answer
    best = arma_result.series[0].recommended_lstm_method
    label = {s.key: s.label for s in arma_result.series[0].scores}[best]
    assert label.replace("LSTM ", "") in answer and " had the lowest interval score" in answer


@pytest.mark.parametrize(("approach", "words"), [
    ("simulation", "ARIMA's own recipe"), ("calibration", "calibrated on held-out errors")])
def test_short_answer_names_how_the_recommended_method_gets_its_spread(arma_result, approach,
                                                                        words):
    series = dataclasses.replace(arma_result.series[0], recommended_approach=approach)
    changed = dataclasses.replace(arma_result, series=[series, *arma_result.series[1:]])
    assert words in short_answer(changed)


@pytest.mark.parametrize(("states", "words"), [
    (dict(recommended_beats_runner_up=True), "ahead of"),
    (dict(recommended_beats_runner_up=None), "cannot separate it from"),
    (dict(arima_interval_is_unconditional=True), "just its unconditional band"),
])
def test_short_answer_words_follow_the_verdicts(arma_result, states, words):
    assert words in short_answer(_with_verdict(arma_result, **states))


def test_short_answer_omits_the_unconditional_band_for_an_integrated_fit(arma_result):
    changed = _with_verdict(arma_result, arima_interval_is_unconditional=False)
    assert "unconditional band" not in short_answer(changed)


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
def test_answer_box_holds_at_most_eight_numbers(quick_report):
    html, _ = quick_report
    numbers = answer_box_numbers(html)
    assert 0 < len(numbers) <= 8, numbers


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
        assert "LSTM MC dropout + noise (c')" in methods and "LSTM deep ensemble (f)" in methods
        comparison = item["comparison"]
        assert "joint coverage" in comparison["columns"]
        joint = item["joint_coverage"]
        assert {"ARIMA sup-t band (whole path)", "ARIMA Bonferroni band (whole path)"} <= \
            {row[joint["columns"].index("method")] for row in joint["data"]}
        # The ladder, on the stationary simulated series only, by horizon band.
        if item["key"] == "arma":
            ladder = item["ladder"]
            assert len(ladder["data"]) == 7 and "h 1–10" in ladder["columns"]
            assert "h 11–12 minus true" in ladder["columns"]
        else:
            assert item["ladder"] is None
    for section in ("The question", "The data", "The math", "The evidence", "Pitfalls",
                    "Interview questions", "Use it on your own data", "Reproducibility"):
        assert section in html
    assert html.count("<svg") >= 10 and "<math" in html
    assert "casestudies forecasting --data" in html


def test_one_colour_per_method_and_the_psi_curve_in_a_colour_no_method_uses(arma_result):
    from casestudies.forecasting.report import COLOURS, PSI_COLOUR

    plotted = {s.key for s in arma_result.series[0].scores if s.key != "arima_psi"}
    assert plotted <= set(COLOURS)
    colours = [COLOURS[key] for key in plotted]
    assert len(set(colours)) == len(colours)
    assert PSI_COLOUR not in COLOURS.values()
    # Grey is for references only: no method is drawn in a grey.
    assert not any(c.lower() in {"#7f7f7f", "#808080", "#999999", "#bbbbbb"} for c in colours)
