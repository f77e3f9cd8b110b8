"""Concept drift, P(y | x), kept apart from covariate and prior shift."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.metrics import log_loss, mean_squared_error
from threadpoolctl import threadpool_limits

from casestudies.iid_checks import verdicts as rules
from casestudies.iid_checks.concept import (
    MATERIAL_LOSS_INCREASE,
    calibration_slope,
    concept_drift,
    drift_layout,
    intercept_offset,
    row_losses,
    simulate_drift,
)
from casestudies.iid_checks.config import IIDConfig
from casestudies.iid_checks.data import prepare_table
from casestudies.stats import Estimate

CONFIG = IIDConfig(quick=True)
ROWS = 3000


def _measure(kind: str, task: str, seed: int = 0, rows: int = ROWS):
    frame = simulate_drift(kind, rows, seed, task)
    table = prepare_table(frame, name=kind, target="y", time="t")
    with threadpool_limits(1):
        return concept_drift(table, CONFIG, seed)


def test_layout_leaves_the_gap_around_each_scored_slice():
    times = np.arange(200, dtype=float)
    is_late = times >= 100
    parts, gap = drift_layout(times, is_late, gap_time=5.0, scored_share=0.3)
    # Scored: the last 30 rows of each side; the early fit ends 5 before the early slice, the
    # late fit starts more than 5 after it and ends 5 before the late slice.
    assert parts["early scored"].tolist() == list(range(70, 100))
    assert parts["late scored"].tolist() == list(range(170, 200))
    assert gap == 5.0
    assert parts["early fit"].tolist() == list(range(0, 65))
    assert parts["late fit"].tolist() == list(range(105, 165))


def test_layout_caps_a_gap_the_span_cannot_hold():
    times = np.arange(200, dtype=float)
    parts, gap = drift_layout(times, times >= 100, gap_time=1000.0, scored_share=0.3)
    # The late training region spans 70 rows before its slice: a quarter of it at each end.
    assert gap == pytest.approx(70 * 0.25)
    assert len(parts["late fit"]) > 0 and len(parts["early fit"]) > 0


def test_row_losses_match_scikit_learn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    p = rng.uniform(0.01, 0.99, 400)
    assert row_losses(y, p, "classification").mean() == pytest.approx(log_loss(y, p))
    values = rng.normal(size=400)
    assert row_losses(values, values + 0.3, "regression").mean() == pytest.approx(
        mean_squared_error(values, values + 0.3))


def test_calibration_slope_and_offset_match_statsmodels():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-(0.3 + 0.6 * logits)))).astype(float)
    p = 1 / (1 + np.exp(-logits))
    reference = sm.Logit(y, sm.add_constant(logits)).fit(disp=0).params
    assert calibration_slope(y, p) == pytest.approx(reference[1], rel=1e-6)
    offset = sm.GLM(y, np.ones((2000, 1)), family=sm.families.Binomial(),
                    offset=logits).fit().params[0]
    assert intercept_offset(y, logits) == pytest.approx(offset, rel=1e-6)
    assert np.isnan(calibration_slope(np.zeros(10), np.full(10, 0.5)))


def test_calibration_slope_of_overconfident_rare_event_predictions_matches_statsmodels():
    # Boosted trees on a rare target: many predictions near 0, too extreme by half. Newton
    # started at the calibrated (0, 1) breaks down on such predictions (a singular Hessian);
    # the fit must still find the maximum.
    rng = np.random.default_rng(2)
    logits = np.concatenate([rng.normal(-9, 4, 3000), rng.normal(2, 3, 60)])
    y = (rng.random(len(logits)) < 1 / (1 + np.exp(-(0.5 * logits)))).astype(float)
    p = 1 / (1 + np.exp(-logits))
    reference = sm.Logit(y, sm.add_constant(logits)).fit(disp=0).params
    assert calibration_slope(y, p) == pytest.approx(reference[1], rel=1e-5)


@pytest.mark.parametrize(("value", "low", "high", "state"), [
    (0.3, 0.1, 0.5, "yes"),  # material and the interval above zero
    (0.01, -0.02, 0.04, "no"),  # the whole interval below the material increase
    (0.06, -0.01, 0.15, "undecided"),  # material estimate, interval includes zero
    (0.03, 0.01, 0.06, "undecided"),  # distinguishable but not material
])
def test_concept_drift_verdict_on_both_sides_of_the_material_increase(value, low, high, state):
    assert MATERIAL_LOSS_INCREASE == 0.05  # the cases above straddle this value
    verdict = rules.concept_drift_verdict(Estimate(value, low, high), "blocks")
    assert verdict.state == state


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_coefficients_that_change_half_way_are_concept_drift(task):
    result = _measure("concept", task)
    verdict = rules.concept_drift_verdict(result.loss_increase, result.clusters)
    assert verdict.state == "yes"
    assert result.degradation.low > 0  # the early model is worse later, too


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_a_shift_of_p_x_alone_is_not_concept_drift(task):
    # The control: the later rows move into harder regions of x, so the early model's loss
    # rises, but P(y | x) is the same and the paired comparison must not flag it.
    result = _measure("covariate", task)
    verdict = rules.concept_drift_verdict(result.loss_increase, result.clusters)
    assert verdict.state == "no"
    if task == "regression":  # the noise grows with |x1|: the later rows are harder
        assert result.degradation.low > 0


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_iid_rows_show_no_concept_drift(task):
    result = _measure("iid", task)
    assert rules.concept_drift_verdict(result.loss_increase, result.clusters).state == "no"


def test_a_change_of_the_base_rate_is_absorbed_by_the_offsets():
    result = _measure("prior", "classification")
    assert rules.concept_drift_verdict(result.loss_increase, result.clusters).state == "no"
    early, late = result.offsets
    assert late - early > 0.5  # the later base rate is higher on the log-odds scale


def test_no_measurement_without_target_or_with_a_split_column():
    frame = simulate_drift("iid", 400, 0)
    assert concept_drift(prepare_table(frame, name="x", time="t"), CONFIG, 0) is None
    frame["split"] = np.where(np.arange(400) % 3 == 0, "test", "train")
    table = prepare_table(frame, name="x", target="y", time="t", split="split")
    assert concept_drift(table, CONFIG, 0) is None


def test_paired_interval_resamples_the_groups():
    frame = simulate_drift("iid", 1200, 3)
    frame["customer"] = np.arange(len(frame)) % 40
    table = prepare_table(frame, name="x", target="y", time="t", group="customer")
    with threadpool_limits(1):
        result = concept_drift(table, CONFIG, 3)
    assert result.clusters == "groups of 'customer'"
    assert result.loss_increase.low <= result.loss_increase.value <= result.loss_increase.high
    assert isinstance(pd.Series(result.offsets), pd.Series)
