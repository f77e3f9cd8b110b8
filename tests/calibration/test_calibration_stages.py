"""The stages of the calibration pipeline one by one: what each returns, on small data, and the
small helpers that derive the report's picks and counts."""

import numpy as np
import pandas as pd
import pytest

from casestudies.calibration import metrics as cm
from casestudies.calibration import pipeline as pl
from casestudies.calibration import resampling as rs
from casestudies.calibration import robustness
from casestudies.calibration.data import from_frame
from casestudies.rng import stream
from casestudies.stats import bootstrap_intervals


@pytest.fixture(scope="module")
def stages(small_transactions, quick_config):
    """Every stage of run(), in order, on the small transaction file."""
    config = quick_config()
    data = from_frame(small_transactions, "is_fraud", time="timestamp", amount="amount",
                      source="frame")
    blocks = pl.split_blocks(data, config)
    fitted = pl.fit_models(blocks, config)
    selection = pl.calibrate_and_select(fitted, blocks)
    t_star = 5 / 105
    band = (t_star / pl.BAND_FACTOR, pl.BAND_FACTOR * t_star)
    metrics, models = pl.measure_models(fitted, blocks, t_star, band, config)
    boot = rs.ClusterBootstrap(blocks.clusters_test, config.n_bootstrap,
                               stream(config.seed, "cluster bootstrap", "test"),
                               config.confidence, n=len(blocks.y_test))
    focus = pl.measure_focus(selection, fitted, blocks, band, config, boot)
    decisions = pl.decide(selection, blocks, t_star, config, boot)
    robust = pl.check_robustness(selection, blocks, decisions.tuned, config, boot)
    return dict(config=config, data=data, blocks=blocks, fitted=fitted, selection=selection,
                t_star=t_star, metrics=metrics, models=models, focus=focus,
                decisions=decisions, robust=robust, boot=boot)


def test_split_blocks_are_in_time_order_and_disjoint(stages):
    blocks, data = stages["blocks"], stages["data"]
    split = blocks.split
    assert split.train[-1] < split.calibration[0] and split.calibration[-1] < split.test[0]
    assert len(blocks.y_test) == len(split.test) == len(blocks.X_test)
    np.testing.assert_array_equal(blocks.amount_test, data.amount[split.test])
    assert blocks.time_test[0] > data.time[split.calibration[-1]]


def test_fit_models_scores_both_later_blocks(stages):
    fitted, blocks = stages["fitted"], stages["blocks"]
    assert len({f.name for f in fitted}) == len(fitted) == 7
    for f in fitted:
        assert f.calibration_scores.shape == blocks.y_cal.shape
        assert f.test_scores.shape == blocks.y_test.shape
        assert np.all((f.test_scores >= 0) & (f.test_scores <= 1))
    undersampled = next(f for f in fitted if f.name == pl.UNDERSAMPLED_MODEL)
    assert 0 < undersampled.beta < 1


def test_calibrate_and_select_uses_the_calibration_block_only(stages):
    selection, fitted, blocks = stages["selection"], stages["fitted"], stages["blocks"]
    from sklearn.metrics import average_precision_score

    best = max(fitted, key=lambda f: average_precision_score(blocks.y_cal, f.calibration_scores))
    assert selection.focus.name == best.name
    table = selection.table.set_index("calibrator")["holdout_brier"]
    assert selection.chosen == table.idxmin()
    by_log_loss = selection.table.set_index("calibrator")["holdout_log_loss"].idxmin()
    assert selection.chosen_by_log_loss == by_log_loss
    assert set(selection.focus.test_probabilities) >= {pl.RAW, selection.chosen}


def test_measure_models_has_a_row_per_model_and_calibrator(stages):
    metrics, models, fitted = stages["metrics"], stages["models"], stages["fitted"]
    assert len(metrics) == sum(len(f.test_probabilities) for f in fitted)
    assert list(models["model"]) == [f.name for f in fitted]
    zeros = {f.name: bool(np.any(f.test_scores == 0)) for f in fitted}
    assert dict(zip(models["model"], models["has_exact_zeros"], strict=True)) == zeros
    y = stages["blocks"].y_test
    for f, row in zip(fitted, models.to_dict("records"), strict=True):
        assert row["recall_cap"] == pytest.approx(1 - np.mean(f.test_scores[y == 1] == 0))


def test_measure_focus_pairs_the_log_loss_change(stages):
    focus, selection, blocks = stages["focus"], stages["selection"], stages["blocks"]
    p = selection.focus.test_probabilities
    clip = selection.focus.clip or cm.EPS
    change = cm.log_loss(blocks.y_test, p[selection.chosen]) - cm.log_loss(blocks.y_test,
                                                                            p[pl.RAW], clip)
    assert focus.log_loss_change.value == pytest.approx(change)
    assert focus.log_loss_change.low <= change <= focus.log_loss_change.high
    brier = cm.brier_score(blocks.y_test, p[selection.chosen]) - cm.brier_score(blocks.y_test,
                                                                                 p[pl.RAW])
    assert focus.brier_change.value == pytest.approx(brier)
    assert set(focus.intervals["label"]) == set(p)
    noise = focus.noise.set_index("metric")
    assert (noise["chosen_beyond_floor"] == (noise["chosen"] > noise["floor_high"])).all()


def test_decide_returns_rules_differences_and_budgets(stages):
    decisions, blocks = stages["decisions"], stages["blocks"]
    costs = decisions.constant.set_index("label")["cost"]
    difference = decisions.differences["cost_calibrated_minus_raw"]
    assert difference.value == pytest.approx(costs[pl.CONSTANT_RULES["calibrated"]]
                                             - costs[pl.CONSTANT_RULES["raw"]])
    assert set(decisions.differences) == set(pl.DIFFERENCES) - {"log_loss_calibrated_minus_raw",
                                                                 "brier_calibrated_minus_raw"}
    curve = decisions.cost_curve
    assert curve["minimum_chosen"] == curve["thresholds"][int(np.nanargmin(curve["chosen"]))]
    budgets = decisions.budgets
    np.testing.assert_allclose(budgets["forecast_observed_expected"],
                               budgets["realised_frauds"] / budgets["predicted_frauds"])
    assert set(budgets["forecast_holds"]) <= {"yes", "no", "undecided"}
    assert decisions.amount is not None and blocks.amount_test is not None


def test_check_robustness_returns_the_four_analyses(stages):
    robust, config = stages["robust"], stages["config"]
    assert list(robust["prior_shift"]["factor"]) == list(robustness.PRIOR_SHIFT_FACTORS)
    shift = robust["prior_shift"]
    assert ((shift["em_gain_low"] <= shift["em_gain"] + 1e-12)
            & (shift["em_gain"] <= shift["em_gain_high"] + 1e-12)).all()
    decay = robust["decay"]
    assert len(decay) == robustness.DECAY_WINDOWS
    assert (decay["excludes_one"] == ((decay["observed_expected_low"] > 1)
                                      | (decay["observed_expected_high"] < 1))).all()
    assert set(robust["size_sweep"]["calibrator"]) == set(robustness.SWEEP_CALIBRATORS)
    assert robust["undersampling_check"]["mean_abs_error_corrected"] < \
        robust["undersampling_check"]["mean_abs_error_biased"]
    assert config.quick


def test_paired_bootstrap_keeps_the_pairing():
    rng = np.random.default_rng(0)
    a = rng.normal(size=500)
    b = a + 0.1
    estimates = bootstrap_intervals(
        {"difference": lambda a_, b_: b_.mean() - a_.mean(), "a": lambda a_, b_: a_.mean()},
        a, b, n_resamples=200, confidence=0.95, random_state=stream(0, "test"))
    # Resampled together, the difference of shifted copies never moves; each mean does.
    assert estimates["difference"].low == pytest.approx(0.1)
    assert estimates["difference"].high == pytest.approx(0.1)
    assert estimates["a"].high - estimates["a"].low > 0.1


def test_isotonic_crossings_patterns():
    sweep = pd.DataFrame([
        {"frauds": n, "calibrator": name, "brier": loss} for n, losses in
        ((10, {"Platt (logit)": 0.05, "beta": 0.04, "isotonic (clipped)": 0.06}),
         (20, {"Platt (logit)": 0.05, "beta": 0.04, "isotonic (clipped)": 0.045}),
         (40, {"Platt (logit)": 0.05, "beta": 0.04, "isotonic (clipped)": 0.044}))
        for name, loss in losses.items()])
    summary = robustness.isotonic_crossings(sweep)
    assert summary["isotonic_from"] == {"Platt (logit)": 20, "beta": None}
    assert summary["isotonic_pattern"] == {"Platt (logit)": "from", "beta": "never"}
    assert not summary["isotonic_beats_platt_at_smallest"]
    assert summary["smallest_frauds"] == 10 and summary["largest_frauds"] == 40


def test_worst_raw_score_and_misforecast():
    metrics = pd.DataFrame([
        {"model": "a", "calibrator": pl.RAW, "observed_expected": 0.5},
        {"model": "b", "calibrator": pl.RAW, "observed_expected": 1.9},
        {"model": "b", "calibrator": "beta", "observed_expected": 100.0}])
    # x0.5 is as far from 1 as x2: 1.9 is nearer than 0.5 on the ratio scale.
    assert pl.worst_raw_score(metrics) == {"model": "a", "observed_expected": 0.5,
                                           "factor": 2.0, "overpredicts": True}
    assert pl.misforecast(1.9)["overpredicts"] is False


def test_calibrator_effect_picks_the_model_of_each_extreme():
    metrics = pd.DataFrame([
        {"model": "a", "average_precision": 0.50, "log_loss": 0.1},
        {"model": "a", "average_precision": 0.52, "log_loss": 0.4},
        {"model": "b", "average_precision": 0.40, "log_loss": 0.2},
        {"model": "b", "average_precision": 0.45, "log_loss": 0.3}])
    effect = pl.calibrator_effect(metrics)
    assert effect["ap_shift_model"] == "b" and effect["ap_shift"] == pytest.approx(0.05)
    assert effect["log_loss_factor_model"] == "a" and effect["log_loss_factor"] == pytest.approx(4)


def test_adding_a_budget_leaves_the_other_budgets_unchanged(stages):
    """Independent streams: a budget's intervals do not depend on which other budgets run."""
    config, blocks, selection = stages["config"], stages["blocks"], stages["selection"]
    p = selection.focus.test_probabilities
    args = (blocks.y_test, p[selection.chosen], p[pl.RAW])
    boot = stages["boot"]
    one = pl._budget_rows(*args, dataclasses_replace(config, budgets=(0.01,)), boot)
    two = pl._budget_rows(*args, dataclasses_replace(config, budgets=(0.005, 0.01)), boot)
    pd.testing.assert_series_equal(one.iloc[0], two.iloc[1], check_names=False)


def dataclasses_replace(config, **changes):
    import dataclasses

    return dataclasses.replace(config, **changes)
