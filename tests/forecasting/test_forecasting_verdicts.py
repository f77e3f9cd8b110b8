"""Every verdict rule of the forecasting study on constructed inputs on both sides of its
threshold, and the pick of the recommended LSTM interval method."""

import numpy as np
import pytest

from casestudies.forecasting import verdicts as rules
from casestudies.forecasting.metrics import MethodScores
from casestudies.forecasting.pipeline import series_verdicts
from casestudies.verdicts import Verdict

BAND = (0.70, 1.0)  # a binomial band of a 95% interval over a handful of origins


@pytest.mark.parametrize(("coverage", "holds"), [(0.69, False), (0.70, True), (0.95, True),
                                                 (1.0, True)])
def test_coverage_within_band_on_both_sides_of_its_lower_end(coverage, holds):
    verdict = rules.coverage_within_band("v", coverage, *BAND, level=0.95)
    assert verdict.holds is holds
    assert verdict.estimate == coverage and verdict.threshold == 0.95


def test_coverage_within_band_fails_above_the_upper_end():
    assert rules.coverage_within_band("v", 0.99, 0.80, 0.98, level=0.95).holds is False


@pytest.mark.parametrize(("coverage", "holds"), [(0.10, True), (0.699, True), (0.70, False),
                                                 (0.97, False)])
def test_coverage_below_band(coverage, holds):
    verdict = rules.coverage_below_band("v", coverage, BAND[0], level=0.95)
    assert verdict.holds is holds
    assert verdict.threshold == BAND[0]


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


def test_series_verdicts_follow_the_constructed_scores():
    scores = [_scores("arima", "ARIMA", 0.93, 2.0, mae=1.0),
              _scores("truth", "truth", 0.60, 2.0, mae=1.0),
              _scores("lstm_recursive", "LSTM", 0.0, 0.0, mae=2.0),
              _scores("lstm_direct", "LSTM", 0.0, 0.0, mae=1.5),
              _scores("dropout", "LSTM", 0.10, 40.0),
              _scores("conformal", "LSTM", 0.97, 3.0)]
    verdicts = series_verdicts(scores, {0.95: BAND[0]}, {0.95: BAND[1]}, "conformal", 1.2,
                               (1, 0, 1), (2, 0, 1))
    assert verdicts["arima_coverage_within_band"].holds is True
    assert verdicts["arima_coverage_below_band"].holds is False
    assert verdicts["truth_coverage_within_band"].holds is False
    assert verdicts["dropout_below_band"].holds is True
    assert verdicts["recommended_lstm_within_band"].holds is True
    assert verdicts["parameter_draws_widen"].holds is True
    assert verdicts["parameter_draws_narrow"].holds is False
    assert verdicts["direct_lower_mae_than_recursive"].holds is True
    assert verdicts["direct_lower_mae_than_arima"].holds is False
    assert verdicts["aic_found_true_order"].holds is False
    assert all(name == v.name for name, v in verdicts.items())
