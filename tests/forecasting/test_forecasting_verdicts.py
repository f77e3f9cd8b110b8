"""Every verdict rule of the forecasting study on constructed inputs on both sides of its
threshold, and the pick of the recommended LSTM interval method."""

import numpy as np
import pandas as pd
import pytest

from casestudies.forecasting import verdicts as rules
from casestudies.forecasting.metrics import MethodScores
from casestudies.forecasting.pipeline import series_verdicts
from casestudies.stats import Estimate
from casestudies.verdicts import Verdict


def _est(value, low, high):
    return Estimate(value, low, high)


@pytest.mark.parametrize(("low", "high", "holds"), [(0.01, 0.2, True), (-0.01, 0.2, None),
                                                   (-0.3, 0.0, False)])
def test_lower_score_needs_the_whole_paired_interval_above_zero(low, high, holds):
    verdict = rules.lower_score("v", _est((low + high) / 2, low, high), "other")
    assert verdict.holds is holds and verdict.unit == rules.ORIGIN_UNIT


@pytest.mark.parametrize(("low", "high", "holds"), [
    (1 - rules.WIDTH_TOLERANCE + 0.01, 1 + rules.WIDTH_TOLERANCE - 0.01, True),
    (1 - rules.WIDTH_TOLERANCE - 0.01, 1.0, None),
    (1.0, 1 + rules.WIDTH_TOLERANCE + 0.01, None),
    (1 + rules.WIDTH_TOLERANCE + 0.01, 1.5, False),
    (0.5, 1 - rules.WIDTH_TOLERANCE - 0.01, False),
])
def test_width_near_truth_on_both_sides_of_the_tolerance(low, high, holds):
    assert rules.width_near_truth("v", _est((low + high) / 2, low, high)).holds is holds


@pytest.mark.parametrize(("low", "high", "below", "above"), [
    (0.80, 0.94, True, False), (0.90, 0.97, None, None), (0.951, 0.99, False, True)])
def test_coverage_below_and_above_a_reference(low, high, below, above):
    estimate = _est((low + high) / 2, low, high)
    assert rules.coverage_below("b", estimate, 0.95, "nominal").holds is below
    assert rules.coverage_above("a", estimate, 0.95, "nominal").holds is above


@pytest.mark.parametrize(("share", "d", "holds"), [
    (rules.UNCONDITIONAL_SHARE + 0.001, 0, True), (rules.UNCONDITIONAL_SHARE - 0.001, 0, False),
    (None, 1, False)])
def test_unconditional_band_only_for_a_stationary_fit_near_its_limit(share, d, holds):
    assert rules.unconditional_band("v", share, d).holds is holds


@pytest.mark.parametrize(("ratio", "widen", "narrow"), [
    (1 + rules.PARAMETER_EFFECT + 0.01, True, False),
    (1 + rules.PARAMETER_EFFECT - 0.01, False, False),
    (1.0, False, False),
    (1 - rules.PARAMETER_EFFECT + 0.01, False, False),
    (1 - rules.PARAMETER_EFFECT - 0.01, False, True),
])
def test_parameter_draw_verdicts_on_both_sides_of_the_effect(ratio, widen, narrow):
    assert rules.parameter_draws_widen("w", ratio).holds is widen
    assert rules.parameter_draws_narrow("n", ratio).holds is narrow


@pytest.mark.parametrize(("mae", "holds"), [
    (1.0 * (1 - rules.MAE_MARGIN) - 0.01, True),    # lower by more than the margin
    (1.0 * (1 - rules.MAE_MARGIN) + 0.01, None),    # lower, but within the margin
    (1.0, None),
    (1.0 * (1 + rules.MAE_MARGIN) - 0.01, None),    # higher, within the margin
    (1.0 * (1 + rules.MAE_MARGIN) + 0.01, False),   # higher by more than the margin
])
def test_lower_mae_is_three_way_around_the_margin(mae, holds):
    verdict = rules.lower_mae("v", mae, 1.0, "the other")
    assert verdict.holds is holds
    assert verdict.estimate == pytest.approx(1.0 - mae)


def test_same_order():
    assert rules.same_order("v", (2, 0, 1), (2, 0, 1)).holds is True
    assert rules.same_order("v", (1, 0, 1), (2, 0, 1)).holds is False


@pytest.mark.parametrize(("states", "holds"), [((True, True), True), ((True, False), False),
                                               ((True, None), None), ((None, False), False)])
def test_all_hold(states, holds):
    items = [Verdict(f"v{i}", state) for i, state in enumerate(states)]
    assert rules.all_hold("all", items, rule="r").holds is holds


def _scores(key: str, family: str, coverage: float, msis: float, mae: float = 1.0
            ) -> MethodScores:
    horizon = np.ones(3)
    return MethodScores(key=key, label=key, family=family, coverage={0.95: coverage * horizon},
                        width={0.95: horizon}, interval_score={0.95: msis * horizon}, crps=None,
                        abs_error=mae * horizon,
                        overall={"coverage 95": coverage, "MSIS 95": msis, "MAE": mae})


def test_recommendation_is_the_lowest_interval_score_not_the_closest_coverage():
    scores = [
        _scores("arima", "ARIMA", 0.95, 1.0),              # not an LSTM: never picked
        _scores("nominal_but_wide", "LSTM", 0.95, 9.0),    # exactly nominal, very wide
        _scores("sharp", "LSTM", 0.90, 4.0),               # covers a little less, far sharper
        _scores("narrow", "LSTM", 0.20, 30.0),
    ]
    assert rules.recommend_interval_method(scores) == "sharp"
    assert rules.rank_interval_methods(scores) == ["sharp", "nominal_but_wide", "narrow"]
    scores[1] = _scores("nominal_but_wide", "LSTM", 0.95, 3.9)
    assert rules.recommend_interval_method(scores) == "nominal_but_wide"


def test_recommendation_ignores_point_forecasters_and_needs_a_candidate():
    point_only = MethodScores(key="lstm_direct", label="d", family="LSTM", coverage={},
                              width={}, interval_score={}, crps=None, abs_error=np.ones(3),
                              overall={"MAE": 0.1})
    assert rules.recommend_interval_method(
        [point_only, _scores("conformal", "LSTM", 0.9, 5.0)]) == "conformal"
    with pytest.raises(ValueError):
        rules.recommend_interval_method([point_only])


def _row(key, coverage, msis_excess, diff=0.0, width=1.0, spread=0.01):
    row = {"key": key, "method": key}
    for name, value in (("coverage", coverage), ("MSIS excess", msis_excess),
                        ("coverage minus true", diff), ("width ÷ true", width)):
        row |= {name: value, f"{name} low": value - spread, f"{name} high": value + spread}
    return row


def test_series_verdicts_follow_the_constructed_comparison():
    comparison = pd.DataFrame([
        _row("arima", 0.93, 0.5, diff=-0.05), _row("truth", 0.98, 0.6),
        _row("dropout", 0.10, 9.0), _row("dropout_noise", 0.94, 0.2, spread=0.05),
        _row("conformal", 0.97, 0.0, width=1.3), _row("bootstrap", 0.95, 0.08)])
    pairs = {("dropout_noise", "dropout"): _est(3.0, 2.0, 4.0)}
    mae = {"lstm_direct": 1.5, "lstm_recursive": 2.0, "arima": 1.0}
    verdicts = series_verdicts(comparison, 0.95, "conformal", "bootstrap", 1.2, (1, 0, 1),
                               (2, 0, 1), 0.995, pairs, mae)
    assert verdicts["recommended_beats_runner_up"].holds is True
    assert verdicts["recommended_width_near_truth"].holds is False
    assert verdicts["arima_below_truth"].holds is True
    assert verdicts["arima_above_truth"].holds is False
    assert verdicts["arima_below_nominal"].holds is True
    assert verdicts["dropout_below_nominal"].holds is True
    assert verdicts["dropout_noise_below_nominal"].holds is None
    assert verdicts["dropout_noise_beats_dropout"].holds is True
    assert verdicts["arima_interval_is_unconditional"].holds is True
    assert verdicts["parameter_draws_widen"].holds is True
    assert verdicts["parameter_draws_narrow"].holds is False
    assert verdicts["direct_lower_mae_than_recursive"].holds is True
    assert verdicts["direct_lower_mae_than_arima"].holds is False
    assert verdicts["aic_found_true_order"].holds is False
    assert all(name == v.name for name, v in verdicts.items())
