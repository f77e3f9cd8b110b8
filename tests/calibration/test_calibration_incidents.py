"""The incident bootstrap, the forest's clip, the CORP decomposition and the "did calibration
help" verdict on constructed data where the answer is known."""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.isotonic import IsotonicRegression

from casestudies.calibration import metrics as cm
from casestudies.calibration import resampling as rs
from casestudies.calibration.data import feature_columns, incidents
from casestudies.calibration.models import raw_score, tree_clip
from casestudies.calibration.pipeline import (
    calibrate_later_block,
    calibration_helps,
    select_calibrator,
)
from casestudies.rng import stream
from casestudies.stats import bootstrap_ci


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_weighted_statistics_match_the_plain_ones_at_unit_weights():
    rng = np.random.default_rng(1)
    p = rng.beta(0.5, 30, 2000)
    y = (rng.random(p.size) < p).astype(float)
    ones = np.ones((1, p.size))
    assert rs.ratio(y, p)(ones)[0] == pytest.approx(cm.observed_expected(y, p))
    assert rs.spiegelhalter(y, p)(ones)[0] == pytest.approx(cm.spiegelhalter_z(y, p)[0])
    bins = cm.equal_mass_bins(p, 10)
    assert rs.binned_ece(y, p, bins)(ones)[0] == pytest.approx(cm.ece(y, p, 10, "mass"))
    assert rs.binned_debiased_ece(y, p, bins)(ones)[0] == pytest.approx(cm.debiased_ece(y, p, 10))
    intercept, slope = rs.cox(y, cm.logit(p))
    a, b = cm.cox_calibration(y, p)
    assert intercept(ones)[0] == pytest.approx(a, rel=1e-6)
    assert slope(ones)[0] == pytest.approx(b, rel=1e-6)


def test_weights_are_resampled_rows():
    """A weight row is a resample: the weighted statistic equals the statistic on the rows
    repeated as often as their weight says (here with a weighted Cox fit)."""
    rng = np.random.default_rng(2)
    p = rng.beta(0.5, 10, 600)
    y = (rng.random(p.size) < p).astype(float)
    boot = rs.ClusterBootstrap(rng.integers(0, 150, p.size), 3, stream(0, "t"))
    w = next(boot.weights())
    _, slope = rs.cox(y, cm.logit(p))
    for r in range(3):
        rows = np.repeat(np.arange(p.size), w[r].astype(int))
        assert slope(w)[r] == pytest.approx(cm.cox_calibration(y[rows], p[rows])[1], rel=1e-5)
        assert rs.ratio(y, p)(w)[r] == pytest.approx(cm.observed_expected(y[rows], p[rows]))


def test_single_row_clusters_give_the_transaction_bootstrap_width():
    rng = np.random.default_rng(3)
    p = rng.beta(0.5, 30, 5000)
    y = (rng.random(p.size) < p).astype(float)
    boot = rs.ClusterBootstrap(None, 400, stream(0, "rows"), n=p.size)
    ours = boot.intervals({"oe": rs.ratio(y, p)})["oe"]
    reference = bootstrap_ci(cm.observed_expected, y, p, n_resamples=400,
                             random_state=stream(0, "reference"))
    width = reference.high - reference.low
    assert ours.high - ours.low == pytest.approx(width, rel=0.25)


def test_incidents_widen_the_interval_and_the_control_does_not():
    """Frauds in 30 incidents of 20 payments each: resampling incidents widens O/E's interval
    against resampling transactions; the same data with frauds spread one per incident (the
    control) gets the transaction width back."""
    rng = np.random.default_rng(4)
    n = 60_000
    p = np.full(n, 0.01)
    y = np.zeros(n)
    y[:600] = 1
    clustered = np.where(np.arange(n) < 600, np.arange(n) // 20, 10_000 + np.arange(n))
    widths = {}
    for name, clusters in (("incidents", clustered), ("rows", None),
                           ("control", np.arange(n))):
        boot = rs.ClusterBootstrap(clusters, 300, stream(0, "w", name), n=n)
        e = boot.intervals({"oe": rs.ratio(y, p)})["oe"]
        widths[name] = e.high - e.low
    assert widths["incidents"] > 3 * widths["rows"]
    assert widths["control"] == pytest.approx(widths["rows"], rel=0.3)
    del rng


def test_simulated_incidents_group_terminals_and_cards():
    scenario = np.array([0, 1, 2, 2, 3, 3, 2])
    terminal = np.array([5, 5, 5, 5, 1, 2, 7])
    customer = np.array([0, 0, 1, 2, 3, 3, 4])
    label = incidents(scenario, terminal, customer)
    assert label[2] == label[3] != label[6]          # one compromised terminal, another
    assert label[4] == label[5]                      # one leaked card
    assert len({label[0], label[1], label[2], label[4]}) == 4
    assert label[0] != label[1]                      # genuine and large payments on their own


def test_corp_decomposition_is_exact_against_sklearn_isotonic():
    rng = np.random.default_rng(5)
    p = np.round(rng.beta(0.4, 20, 4000), 3)  # ties, as a forest's scores have
    y = (rng.random(p.size) < np.clip(1.4 * p, 0, 1)).astype(float)
    corp = cm.corp_decomposition(y, p)
    recalibrated = IsotonicRegression().fit(p, y).predict(p)
    assert corp["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert corp["miscalibration"] == pytest.approx(np.mean((p - y) ** 2)
                                                   - np.mean((recalibrated - y) ** 2))
    assert corp["uncertainty"] == pytest.approx(y.mean() * (1 - y.mean()))
    assert corp["brier"] == pytest.approx(corp["miscalibration"] - corp["discrimination"]
                                          + corp["uncertainty"], abs=1e-15)
    assert corp["miscalibration"] >= 0 and corp["discrimination"] >= 0
    # A calibrated forecast (its own recalibration) has no miscalibration.
    assert cm.corp_decomposition(y, recalibrated)["miscalibration"] == pytest.approx(0, abs=1e-15)


def _blocks(cal_shift: float, score_shift: float, seed: int):
    rng = np.random.default_rng(seed)
    n = 40_000
    x_cal, x_test = rng.normal(size=n), rng.normal(size=n)
    logit_true = lambda x: -5.0 + 1.3 * x  # noqa: E731
    y_cal = (rng.random(n) < _sigmoid(logit_true(x_cal) + cal_shift)).astype(float)
    y_test = (rng.random(n) < _sigmoid(logit_true(x_test))).astype(float)
    return (_sigmoid(logit_true(x_cal) + score_shift), y_cal,
            _sigmoid(logit_true(x_test) + score_shift), y_test)


@pytest.mark.parametrize(("cal_shift", "score_shift", "state"), [
    # The model learnt a lower fraud rate than deployment has (trained on older data): the
    # calibration block shows the same shift as the test block, so calibration helps.
    (0.0, -1.2, "yes"),
    # The score is right for the test block, but the calibration block had three times the
    # frauds: the calibrator learns a correction the test block does not need, so it hurts.
    (1.1, 0.0, "no"),
])
def test_the_calibration_verdict_flips_with_the_drift(cal_shift, score_shift, state):
    s_cal, y_cal, s_test, y_test = _blocks(cal_shift, score_shift, seed=6)
    boot = rs.ClusterBootstrap(None, 200, stream(0, "flip"), n=len(y_test))
    _, _, changes = calibrate_later_block(s_cal, y_cal, s_test, y_test, boot)
    verdict = calibration_helps(changes["brier"])
    assert verdict.state == state
    if state == "no":
        assert verdict.estimate > 0  # it hurt, not merely failed to help


@pytest.fixture(scope="module")
def forest_scores(small_transactions):
    """A forest's raw scores on a calibration block, with their exact zeros."""
    frame = small_transactions
    X = frame[feature_columns()].to_numpy(dtype=float)
    y = frame["is_fraud"].to_numpy()
    half = len(y) // 2
    forest = RandomForestClassifier(n_estimators=50, max_samples=0.2, random_state=0,
                                    n_jobs=1).fit(X[:half], y[:half])
    return forest, raw_score(forest, X[half:]), y[half:]


def test_forest_clip_is_half_a_tree(forest_scores):
    forest, scores, _ = forest_scores
    assert tree_clip(forest) == pytest.approx(1 / 100)
    assert np.any(scores == 0)


def test_calibrator_choice_does_not_depend_on_the_clip(forest_scores):
    forest, scores, y = forest_scores
    zero = scores == 0
    choices = {clip: select_calibrator(scores, y, zero=zero, clip=clip)[0]
               for clip in (tree_clip(forest), 1e-6)}
    assert len(set(choices.values())) == 1, choices


def test_chunked_resamples_give_the_same_intervals(monkeypatch):
    """A large block is resampled chunk by chunk: the same draws and the same intervals as in
    one piece, including the statistics that share a step between calls (Cox, queues)."""
    rng = np.random.default_rng(7)
    p = rng.beta(0.5, 20, 3000)
    y = (rng.random(p.size) < p).astype(float)
    clusters = rng.integers(0, 1000, p.size)
    order = np.argsort(-p, kind="stable")

    def estimates():
        boot = rs.ClusterBootstrap(clusters, 60, stream(0, "chunks"))
        intercept, slope = rs.cox(y, cm.logit(p))
        queue = rs.top_share(order, 0.02)
        return boot.intervals({"slope": slope, "intercept": intercept,
                               "found": lambda w: ((w * queue(w)) @ y) / ((w * queue(w)) @ p)})

    whole = estimates()
    monkeypatch.setattr(rs, "CHUNK_CELLS", 3000 * 7)
    chunked = estimates()
    for name, e in whole.items():
        assert (e.value, e.low, e.high) == pytest.approx(
            (chunked[name].value, chunked[name].low, chunked[name].high)), name
