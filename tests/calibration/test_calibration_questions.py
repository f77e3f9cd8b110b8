"""The fraud team's next questions: the step-up thresholds against a direct comparison of
expected costs, regret at the configured ratio, card precision@k by hand, and the verdicts of
the questions on both sides of their thresholds."""

import numpy as np
import pandas as pd
import pytest

from casestudies.calibration import questions as q
from casestudies.calibration import resampling as rs
from casestudies.calibration.pipeline import _question_verdicts
from casestudies.rng import stream


def test_step_up_thresholds_pick_the_cheapest_action():
    cost_fp, cost_fn, cost_s, catch = 5.0, 100.0, 1.0, 0.9
    low, high = q.step_up_thresholds(cost_fp, cost_fn, cost_s, catch)
    for p in np.linspace(0.001, 0.999, 2000):
        costs = {"approve": p * cost_fn, "step": (1 - p) * cost_s + p * (1 - catch) * cost_fn,
                 "block": (1 - p) * cost_fp}
        best = min(costs, key=costs.get)
        expected = "approve" if p < low else ("step" if p < high else "block")
        assert best == expected or np.isclose(costs[best], costs[expected])


def test_a_step_up_dearer_than_blocking_is_never_used():
    low, high = q.step_up_thresholds(5.0, 100.0, 6.0, 0.9)
    assert low == high == pytest.approx(5 / 105)


def _data(n=20_000, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.beta(0.4, 30, n)
    y = (rng.random(n) < p).astype(int)
    return y, p


def test_regret_is_zero_at_the_configured_ratio_and_never_negative_in_expectation():
    y, p = _data()
    boot = rs.ClusterBootstrap(None, 50, stream(0, "q"), n=y.size)
    frame = q.cost_ratio_sensitivity(y, p, p, 5.0, 100.0, boot)
    at_config = frame[np.isclose(frame["factor"], 1.0)].iloc[0]
    assert at_config["regret"] == 0 and at_config["t_star"] == pytest.approx(5 / 105)
    # On probabilities that are the truth, the right threshold is cheaper on average.
    assert (frame["regret"] > -0.01).all()


def test_three_actions_cost_by_hand():
    y = np.array([0, 0, 1, 1, 0, 1])
    p = np.array([0.001, 0.05, 0.05, 0.5, 0.5, 0.001])
    boot = rs.ClusterBootstrap(None, 20, stream(0, "a"), n=y.size)
    a = q.three_actions(y, p, 5.0, 100.0, 1.0, 0.9, boot)
    # step-up from 1/91, block from 4/14: rows 1, 2 stepped up, 3, 4 blocked, 0, 5 approved.
    hand = (1.0 + 0.1 * 100 + 0 + 5.0 + 100) / 6
    assert a["cost_three"] == pytest.approx(hand)
    assert a["share_step_up"] == pytest.approx(2 / 6)


def test_daily_card_precision_by_hand():
    day = np.array([0, 0, 0, 0, 1, 1])
    card = np.array([1, 1, 2, 3, 1, 2])
    score = np.array([0.9, 0.1, 0.8, 0.2, 0.3, 0.7])
    y = np.array([0, 1, 0, 1, 0, 1])
    daily = q._daily_card_precision(day, card, score, y, k=2)
    # Day 0: cards 1 (max 0.9, has a fraud) and 2 (0.8, none) -> 1/2; day 1: cards 2, 1 -> 1/2.
    assert list(daily["precision"]) == [0.5, 0.5]


def _asked(regrets, step, change):
    ratio = pd.DataFrame([{"factor": f, "relative_regret": v, "relative_regret_low": lo,
                           "relative_regret_high": hi}
                          for f, (v, lo, hi) in zip((0.5, 1.0, 2.0), regrets, strict=True)])
    three = dict(zip(("difference", "difference_low", "difference_high"), step, strict=True))
    return {"cost_ratio": ratio, "three_actions": three,
            "prequential_summary": {
                "brier_change": dict(zip(("value", "low", "high"), change, strict=True)),
                "brier_change_raw": dict(zip(("value", "low", "high"), change, strict=True))}}


@pytest.mark.parametrize(("regrets", "step", "change", "states"), [
    (((0.02, 0.0, 0.05), (0, 0, 0), (0.03, 0.01, 0.06)), (-0.04, -0.06, -0.01),
     (-1e-5, -2e-5, -1e-6), ("yes", "yes", "yes")),
    (((0.02, 0.0, 0.05), (0, 0, 0), (0.2, 0.12, 0.3)), (0.01, 0.005, 0.02),
     (1e-5, 1e-6, 2e-5), ("no", "no", "no")),
    (((0.02, 0.0, 0.05), (0, 0, 0), (0.08, 0.03, 0.15)), (-0.01, -0.02, 0.01),
     (-1e-5, -2e-5, 1e-6), ("undecided", "undecided", "undecided")),
])
def test_question_verdicts_on_both_sides(regrets, step, change, states):
    verdicts = {}
    _question_verdicts(_asked(regrets, step, change), "incidents", 0.95,
                       lambda v: verdicts.__setitem__(v.name, v))
    assert (verdicts["threshold_robust_to_cost_ratio"].state,
            verdicts["step_up_lowers_cost"].state,
            verdicts["weekly_recalibration_helps"].state) == states
    assert verdicts["weekly_recalibration_beats_raw"].state == states[2]


def test_censoring_hides_the_frauds_the_rule_caught_and_a_hold_out_restores_them():
    """Frauds concentrate where x is large (a step the linear model can only approximate) and
    the rule blocks there: retrained without the blocked rows, the model never sees that region
    labelled and under-forecasts it (O/E far above 1 on complete test labels); a reweighted
    random hold-out of the blocked rows brings it back near the reference. (With a correctly
    specified model, selection on the features alone would not bias it: the control below.)"""
    rng = np.random.default_rng(11)
    n = 40_000
    x_cal, x_test = rng.normal(size=(n, 2)), rng.normal(size=(n, 2))
    logit = lambda x: -6.0 + 6.0 * (x[:, 0] > 1.8)  # noqa: E731
    y_cal = (rng.random(n) < 1 / (1 + np.exp(-logit(x_cal)))).astype(int)
    y_test = (rng.random(n) < 1 / (1 + np.exp(-logit(x_test)))).astype(int)
    blocked = x_cal[:, 0] > 2.0
    boot = rs.ClusterBootstrap(None, 100, stream(0, "censor"), n=n)
    table, summary = q.censored_retraining(x_cal, y_cal, blocked, x_test, y_test, 5 / 105, 5.0,
                                           100.0, boot, stream(0, "hold-out"))
    rows = table.set_index("training")
    assert rows.loc["blocked left unlabelled", "relative_to_reference_low"] > 1.25
    holdout = rows.loc["random hold-out, reweighted"]
    assert 0.8 < holdout["relative_to_reference_low"] <= holdout["relative_to_reference_high"] \
        < 1.25
    assert summary["holdout"] == pytest.approx(q.HOLDOUT_SHARE * blocked.sum(), rel=0.3)


def test_censoring_on_the_features_does_not_bias_a_correct_model():
    """The control: the log-odds are linear in x, as the model assumes; dropping the blocked
    rows (selection on x alone) leaves its test O/E where the reference's is."""
    rng = np.random.default_rng(12)
    n = 40_000
    x_cal, x_test = rng.normal(size=(n, 2)), rng.normal(size=(n, 2))
    logit = lambda x: -5.0 + 2.0 * x[:, 0]  # noqa: E731
    y_cal = (rng.random(n) < 1 / (1 + np.exp(-logit(x_cal)))).astype(int)
    y_test = (rng.random(n) < 1 / (1 + np.exp(-logit(x_test)))).astype(int)
    boot = rs.ClusterBootstrap(None, 100, stream(0, "control"), n=n)
    table, _ = q.censored_retraining(x_cal, y_cal, x_cal[:, 0] > 2.0, x_test, y_test, 5 / 105,
                                     5.0, 100.0, boot, stream(0, "hold-out"))
    row = table.set_index("training").loc["blocked left unlabelled"]
    assert 0.8 < row["relative_to_reference_low"] <= row["relative_to_reference_high"] < 1.25
