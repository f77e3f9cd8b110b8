"""The calibration analysis: split in time, train the models, calibrate them on a later block,
measure calibration on a still later block, and turn probabilities into blocking decisions.

``run(config, data)`` returns a :class:`CalibrationResult`; nothing here reads or writes files.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import average_precision_score
from threadpoolctl import threadpool_limits

from casestudies import progress
from casestudies.calibration import decisions as dec
from casestudies.calibration import metrics as cm
from casestudies.calibration.calibrators import CALIBRATORS, undersampling_correction
from casestudies.calibration.config import CalibrationConfig
from casestudies.calibration.data import TransactionData
from casestudies.calibration.models import fit_model, model_specs, score
from casestudies.errors import DataError
from casestudies.provenance import StageTimer
from casestudies.stats import Estimate, bootstrap_ci, wilson_interval

RAW = "none (raw score)"
UNDERSAMPLING = "undersampling correction"
MIN_TRAIN_POSITIVES = 10
MIN_TEST_POSITIVES = 10
# Calibration is also measured in the band [t*/BAND_FACTOR, BAND_FACTOR t*], where it decides who
# is blocked.
BAND_FACTOR = 3.0
# Fraud rate at deployment, as multiples of the test block's, for the prior-shift analysis.
PRIOR_SHIFT_FACTORS = (0.5, 1.0, 2.0)
# Two costs per transaction closer than this relative difference are reported as "about the same".
COST_TOLERANCE = 0.05


@dataclass
class Split:
    """Row indices of the time-ordered blocks (``train | gap | calibration | gap | test``)."""

    train: np.ndarray
    calibration: np.ndarray
    test: np.ndarray
    dropped: int


def time_split(n: int, time: np.ndarray | None, train_fraction: float,
               calibration_fraction: float, gap_days: float) -> Split:
    """Cut rows (already in time order) into train, calibration and test blocks by row shares.

    With a time column and ``gap_days > 0`` the rows of the first ``gap_days`` after the end of
    a block are dropped: their labels would not be known yet when that block is used.
    """
    train_end = round(train_fraction * n)
    calibration_end = round((train_fraction + calibration_fraction) * n)
    calibration_start, test_start = train_end, calibration_end
    if time is not None and gap_days > 0 and n > 0:
        gap = np.timedelta64(round(gap_days * 86_400), "s")
        calibration_start = int(np.searchsorted(time, time[train_end - 1] + gap, side="right"))
        test_start = int(np.searchsorted(time, time[calibration_end - 1] + gap, side="right"))
        calibration_start = min(calibration_start, calibration_end)
    rows = np.arange(n)
    return Split(train=rows[:train_end], calibration=rows[calibration_start:calibration_end],
                 test=rows[test_start:],
                 dropped=(calibration_start - train_end) + (test_start - calibration_end))


def _check_split(split: Split, y: np.ndarray, config: CalibrationConfig) -> None:
    positives = {name: int(y[rows].sum()) for name, rows in
                 (("training", split.train), ("calibration", split.calibration),
                  ("test", split.test))}
    if positives["calibration"] < config.min_calibration_positives:
        raise DataError(
            f"the calibration block has {positives['calibration']} fraud(s) but at least "
            f"{config.min_calibration_positives} are needed to fit a calibrator; use more rows "
            "(or a smaller --gap-days)")
    for name, needed in (("training", MIN_TRAIN_POSITIVES), ("test", MIN_TEST_POSITIVES)):
        if positives[name] < needed:
            raise DataError(f"the {name} block has {positives[name]} fraud(s) but at least "
                            f"{needed} are needed; use more rows (or a smaller --gap-days)")
        if positives[name] == len(getattr(split, "train" if name == "training" else name)):
            raise DataError(f"the {name} block holds only frauds; genuine transactions are "
                            "needed too")


@dataclass
class FittedModel:
    """A trained model with its scores on the calibration and test blocks and its calibrators."""

    name: str
    expected: str
    model: Any
    beta: float
    train_seconds: float
    calibration_scores: np.ndarray
    test_scores: np.ndarray
    calibrators: dict[str, Any] = field(default_factory=dict)
    test_probabilities: dict[str, np.ndarray] = field(default_factory=dict)


def _calibrate(fitted: FittedModel, y_cal: np.ndarray) -> None:
    fitted.test_probabilities[RAW] = fitted.test_scores
    for name, calibrator in CALIBRATORS.items():
        model = calibrator().fit(fitted.calibration_scores, y_cal)
        fitted.calibrators[name] = model
        fitted.test_probabilities[name] = model.predict(fitted.test_scores)
    if fitted.beta < 1:
        fitted.test_probabilities[UNDERSAMPLING] = undersampling_correction(
            fitted.test_scores, fitted.beta)


def point_metrics(y: np.ndarray, p: np.ndarray, n_bins: int, band: tuple[float, float]
                  ) -> dict[str, float]:
    """Every calibration metric of the study for one set of probabilities."""
    decomposition = cm.brier_decomposition(y, p, n_bins=n_bins)
    intercept, slope = cm.cox_calibration(y, p)
    z, z_p = cm.spiegelhalter_z(y, p)
    sweep, sweep_bins = cm.ece_sweep(y, p)
    in_band = (p >= band[0]) & (p <= band[1])
    return {
        "log_loss": cm.log_loss(y, p),
        "brier": decomposition["brier"],
        "reliability": decomposition["reliability"],
        "resolution": decomposition["resolution"],
        "uncertainty": decomposition["uncertainty"],
        "brier_within_bins": decomposition["within"],
        "observed_expected": cm.observed_expected(y, p),
        "cox_intercept": intercept,
        "cox_slope": slope,
        "spiegelhalter_z": z,
        "spiegelhalter_p": z_p,
        "ece_width": cm.ece(y, p, n_bins, "width"),
        "ece_mass": cm.ece(y, p, n_bins, "mass"),
        "ece_debiased": cm.debiased_ece(y, p, n_bins),
        "ece_sweep": sweep,
        "ece_sweep_bins": sweep_bins,
        "band_rows": int(in_band.sum()),
        "band_frauds": int(y[in_band].sum()),
        "band_expected": float(p[in_band].sum()),
        "band_observed_expected": (cm.observed_expected(y[in_band], p[in_band])
                                   if in_band.any() else float("nan")),
        "average_precision": float(average_precision_score(y, p)),
        "zero_share": float(np.mean(p == 0)),
    }


def _band_ratio(y: np.ndarray, p: np.ndarray, band: tuple[float, float]) -> float:
    """Observed over expected frauds among the rows scored inside ``band``."""
    inside = (p >= band[0]) & (p <= band[1])
    return cm.observed_expected(y[inside], p[inside]) if inside.any() else float("nan")


def _metric_card(probabilities: dict[str, np.ndarray], y: np.ndarray,
                 config: CalibrationConfig) -> pd.DataFrame:
    """Every calibration metric with a paired bootstrap interval, one column pair per set of
    probabilities. Binned metrics keep the bins of the full test block in every resample
    (fixed bin edges), so that the interval reflects the labels' noise, not re-binning."""
    rows = []
    for label, p in progress.progress(probabilities.items(), desc="metric card"):
        mass = cm.equal_mass_bins(p, config.n_bins)
        width = cm.equal_width_bins(p, config.n_bins)
        statistics = {
            "reliability": lambda y_, p_, m_, w_: cm.brier_decomposition(
                y_, p_, bins=m_)["reliability"],
            "resolution": lambda y_, p_, m_, w_: cm.brier_decomposition(
                y_, p_, bins=m_)["resolution"],
            "cox_intercept": lambda y_, p_, m_, w_: cm.cox_calibration(y_, p_)[0],
            "cox_slope": lambda y_, p_, m_, w_: cm.cox_calibration(y_, p_)[1],
            "spiegelhalter_z": lambda y_, p_, m_, w_: cm.spiegelhalter_z(y_, p_)[0],
            "ece_width": lambda y_, p_, m_, w_: cm.ece(y_, p_, bins=w_),
            "ece_mass": lambda y_, p_, m_, w_: cm.ece(y_, p_, bins=m_),
            "ece_debiased": lambda y_, p_, m_, w_: cm.debiased_ece(y_, p_, bins=m_),
            "ece_sweep": lambda y_, p_, m_, w_: cm.ece_sweep(y_, p_)[0],
        }
        for metric, statistic in statistics.items():
            e = bootstrap_ci(statistic, y, p, mass, width, n_resamples=config.n_bootstrap,
                             confidence=config.confidence,
                             random_state=config.seed, desc=f"{metric}: {label}")
            rows.append({"metric": metric, "probabilities": label, "value": e.value,
                         "low": e.low, "high": e.high})
    return pd.DataFrame(rows)


def _estimate_row(label: str, estimates: dict[str, Estimate]) -> dict[str, Any]:
    row: dict[str, Any] = {"label": label}
    for name, e in estimates.items():
        row[name], row[f"{name}_low"], row[f"{name}_high"] = e.value, e.low, e.high
    return row


@dataclass
class CalibrationResult:
    """Everything the report shows, as plain data (serialised to calibration.json)."""

    short_answer: str
    stage_seconds: dict[str, float]
    source: str
    kind: str
    n_rows: int
    feature_names: list[str]
    dropped_columns: list[str]
    base_rate: float
    n_frauds: int
    has_time: bool
    has_amount: bool
    preview: pd.DataFrame
    scenario_counts: dict[str, int]
    settings: dict[str, Any]
    split: pd.DataFrame
    models: pd.DataFrame
    focus_model: str
    chosen_calibrator: str
    calibrator_selection: pd.DataFrame
    calibrator_parameters: dict[str, float]
    metrics: pd.DataFrame
    focus_intervals: pd.DataFrame
    metric_card: pd.DataFrame
    noise: pd.DataFrame
    reliability: dict[str, dict[str, np.ndarray]]
    model_reliability: dict[str, dict[str, np.ndarray]]
    constant_forecast: dict[str, float]
    sklearn_sigmoid: dict[str, Any]
    decisions_constant: pd.DataFrame
    decisions_amount: pd.DataFrame | None
    cost_curve: dict[str, np.ndarray]
    budgets: pd.DataFrame
    size_sweep: pd.DataFrame
    prior_shift: pd.DataFrame
    decay: pd.DataFrame
    undersampling_check: dict[str, float]
    test_y: np.ndarray = field(metadata={"json": False})
    test_p_chosen: np.ndarray = field(metadata={"json": False})
    test_p_raw: np.ndarray = field(metadata={"json": False})


def _select_calibrator(fitted: FittedModel, y_cal: np.ndarray) -> pd.DataFrame:
    """Fit each calibrator on the first half of the calibration block and score its log loss on
    the second half: the test block is never used to choose."""
    half = len(y_cal) // 2
    first, second = slice(0, half), slice(half, None)
    p_first, p_second = fitted.calibration_scores[first], fitted.calibration_scores[second]
    rows = [{"calibrator": RAW, "holdout_log_loss": cm.log_loss(y_cal[second], p_second)}]
    if y_cal[first].sum() >= 2 and y_cal[second].sum() >= 1:
        for name, calibrator in CALIBRATORS.items():
            model = calibrator().fit(p_first, y_cal[first])
            rows.append({"calibrator": name,
                         "holdout_log_loss": cm.log_loss(y_cal[second], model.predict(p_second))})
    if fitted.beta < 1:
        rows.append({"calibrator": UNDERSAMPLING, "holdout_log_loss": cm.log_loss(
            y_cal[second], undersampling_correction(p_second, fitted.beta))})
    return pd.DataFrame(rows)


def _decision_rows(rules: dict[str, np.ndarray], y: np.ndarray, amount: np.ndarray | None,
                   cost, config: CalibrationConfig, thresholds: dict[str, float]
                   ) -> pd.DataFrame:
    """Cost, block rate, share of frauds and (with amounts) of fraud amount caught for each rule,
    with paired bootstrap intervals over the test transactions."""
    rows = []
    weight = amount if amount is not None else np.ones_like(y, dtype=np.float64)
    statistics = {
        "cost": cost,
        "block_rate": lambda y_, b_, w_: b_.mean(),
        "recall": lambda y_, b_, w_: (y_ * b_).sum() / y_.sum(),
    }
    if amount is not None:
        statistics["amount_caught"] = lambda y_, b_, w_: (y_ * b_ * w_).sum() / (y_ * w_).sum()
    for label, blocked in progress.progress(rules.items(), desc="decision intervals"):
        b = blocked.astype(np.float64)
        row = _estimate_row(label, {
            name: bootstrap_ci(statistic, y, b, weight, n_resamples=config.n_bootstrap,
                               confidence=config.confidence,
                               random_state=config.seed, desc=f"{name}: {label}")
            for name, statistic in statistics.items()})
        row["threshold"] = thresholds.get(label, float("nan"))
        rows.append(row)
    return pd.DataFrame(rows)


def _size_sweep(fitted: FittedModel, y_cal: np.ndarray, y_test: np.ndarray, seed: int,
                repeats: int, n_bins: int) -> pd.DataFrame:
    """Test log loss of Platt, isotonic and beta fitted on calibration subsamples holding a given
    number of frauds (genuine rows kept in the block's proportion)."""
    rng = np.random.default_rng(seed)
    positives = np.flatnonzero(y_cal == 1)
    negatives = np.flatnonzero(y_cal == 0)
    ratio = len(negatives) / len(positives)
    sizes = [s for s in (10, 20, 40, 80, 160, 320) if s < len(positives)] + [len(positives)]
    rows = []
    names = ["Platt (logit)", "isotonic (clipped)", "beta"]
    for n_pos in progress.progress(sizes, desc="calibration-size sweep"):
        for repeat in range(repeats if n_pos < len(positives) else 1):
            pos = rng.choice(positives, n_pos, replace=False)
            neg = rng.choice(negatives, min(len(negatives), round(n_pos * ratio)),
                             replace=False)
            rows_ = np.concatenate([pos, neg])
            for name in names:
                model = CALIBRATORS[name]().fit(fitted.calibration_scores[rows_], y_cal[rows_])
                p = model.predict(fitted.test_scores)
                rows.append({"frauds": n_pos, "rows": len(rows_), "repeat": repeat,
                             "calibrator": name, "log_loss": cm.log_loss(y_test, p),
                             "ece_mass": cm.ece(y_test, p, n_bins, "mass")})
    raw = cm.log_loss(y_test, fitted.test_scores)
    frame = pd.DataFrame(rows)
    summary = (frame.groupby(["frauds", "calibrator"], sort=True)
               .agg(rows=("rows", "mean"), log_loss=("log_loss", "mean"),
                    log_loss_sd=("log_loss", "std"), ece_mass=("ece_mass", "mean"))
               .reset_index())
    summary["raw_log_loss"] = raw
    return summary


def _shifted_sample(y: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    """Rows of a subsample whose fraud rate is ``factor`` times that of ``y``: frauds thinned
    (factor < 1) or genuine rows thinned (factor > 1)."""
    rate = y.mean()
    positives, negatives = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    target = factor * rate
    if factor < 1:
        keep = target * (1 - rate) / (rate * (1 - target))
        positives = rng.choice(positives, round(keep * len(positives)), replace=False)
    elif factor > 1:
        keep = rate * (1 - target) / (target * (1 - rate))
        negatives = rng.choice(negatives, round(keep * len(negatives)), replace=False)
    return np.sort(np.concatenate([positives, negatives]))


def _prior_shift(y: np.ndarray, p: np.ndarray, calibration_rate: float,
                 config: CalibrationConfig, p_raw: np.ndarray, tuned: float) -> pd.DataFrame:
    """The test block resampled to other fraud rates: calibration in the large before and after
    Saerens EM, and the cost of blocking at t* on the probabilities as they are, adjusted by EM,
    adjusted with the true rate, against the raw-score threshold tuned before the shift."""
    rng = np.random.default_rng(config.seed)
    t_star = dec.bayes_threshold(config.cost_fp, config.cost_fn)
    rows = []
    for factor in PRIOR_SHIFT_FACTORS:
        index = _shifted_sample(y, factor, rng)
        ys, ps = y[index], p[index]
        estimate, adjusted = dec.saerens_em(ps, calibration_rate)
        rate = ys.mean()
        # Bayes' rule with the true new rate: what a perfect rate estimate would give.
        oracle = dec.adjust_to_prior(ps, calibration_rate, rate)
        rows.append({
            "factor": factor, "rows": len(index), "true_rate": rate,
            "mean_predicted": float(ps.mean()), "em_rate": estimate,
            "observed_expected": cm.observed_expected(ys, ps),
            "observed_expected_em": cm.observed_expected(ys, adjusted),
            "cost_before": dec.constant_cost(ys, ps >= t_star, config.cost_fp,
                                             config.cost_fn),
            "cost_em": dec.constant_cost(ys, adjusted >= t_star, config.cost_fp,
                                         config.cost_fn),
            "cost_true_rate": dec.constant_cost(ys, oracle >= t_star, config.cost_fp,
                                                config.cost_fn),
            "cost_tuned_raw": dec.constant_cost(ys, p_raw[index] >= tuned, config.cost_fp,
                                                config.cost_fn),
        })
    return pd.DataFrame(rows)


def _decay(y: np.ndarray, p: np.ndarray, time: np.ndarray | None, config: CalibrationConfig,
           n_windows: int = 4) -> pd.DataFrame:
    rows = []
    for w, index in enumerate(np.array_split(np.arange(len(y)), n_windows)):
        ys, ps = y[index], p[index]
        oe = bootstrap_ci(cm.observed_expected, ys, ps, n_resamples=config.n_bootstrap,
                          confidence=config.confidence,
                          random_state=config.seed + w, desc=f"decay window {w + 1}")
        rows.append({
            "window": w + 1,
            "start": pd.Timestamp(time[index[0]]) if time is not None else None,
            "end": pd.Timestamp(time[index[-1]]) if time is not None else None,
            "rows": len(index), "frauds": int(ys.sum()), "rate": float(ys.mean()),
            "mean_predicted": float(ps.mean()), "observed_expected": oe.value,
            "observed_expected_low": oe.low, "observed_expected_high": oe.high,
            "log_loss": cm.log_loss(ys, ps),
            "average_precision": (float(average_precision_score(ys, ps)) if ys.any()
                                  else float("nan")),
        })
    return pd.DataFrame(rows)


def _sklearn_sigmoid(fitted: list[FittedModel], X_cal: np.ndarray, y_cal: np.ndarray,
                     X_test: np.ndarray, y_test: np.ndarray) -> dict[str, Any]:
    """scikit-learn's ``CalibratedClassifierCV(method="sigmoid")`` on a frozen model that has no
    ``decision_function`` (so the sigmoid is fitted on ``predict_proba``), against Platt on the
    log-odds, for the best-ranking such model."""
    candidates = [f for f in fitted if not hasattr(f.model, "decision_function")]
    if not candidates:
        return {}
    chosen = max(candidates, key=lambda f: average_precision_score(y_cal, f.calibration_scores))
    calibrated = CalibratedClassifierCV(FrozenEstimator(chosen.model), method="sigmoid")
    p_sklearn = calibrated.fit(X_cal, y_cal).predict_proba(X_test)[:, 1]
    p_logit = chosen.test_probabilities["Platt (logit)"]
    return {"model": chosen.name, "zero_share": float(np.mean(chosen.test_scores == 0)),
            "log_loss_sklearn": cm.log_loss(y_test, p_sklearn),
            "log_loss_logit": cm.log_loss(y_test, p_logit),
            "observed_expected_sklearn": cm.observed_expected(y_test, p_sklearn),
            "observed_expected_logit": cm.observed_expected(y_test, p_logit),
            "cox_slope_sklearn": cm.cox_calibration(y_test, p_sklearn)[1],
            "cox_slope_logit": cm.cox_calibration(y_test, p_logit)[1]}


def _undersampling_check(seed: int, n: int = 200_000, beta: float = 0.02) -> dict[str, float]:
    """Simulate a known posterior, undersample the negatives with rate ``beta``, and check that
    the analytic correction recovers the posterior from the biased one."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p_true = 1 / (1 + np.exp(-(-4.5 + 1.5 * x)))
    y = rng.random(n) < p_true
    kept = y | (rng.random(n) < beta)
    # The posterior the undersampled data implies, estimated by logistic regression on it.
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(x[kept, None], y[kept])
    p_s = model.predict_proba(x[:, None])[:, 1]
    corrected = undersampling_correction(p_s, beta)
    return {"beta": beta, "rows": n, "mean_abs_error_biased": float(np.mean(np.abs(p_s - p_true))),
            "mean_abs_error_corrected": float(np.mean(np.abs(corrected - p_true))),
            "true_rate": float(y.mean()), "mean_corrected": float(corrected.mean())}


def run(config: CalibrationConfig, data: TransactionData) -> CalibrationResult:
    """Run the whole analysis on ``data``; see the module docstring."""
    timer = StageTimer()
    X = data.features.to_numpy(dtype=np.float64)
    y = data.y
    with timer.stage("split"):
        split = time_split(len(y), data.time, config.train_fraction,
                           config.calibration_fraction, config.gap_days)
        _check_split(split, y, config)
    y_train, y_cal, y_test = y[split.train], y[split.calibration], y[split.test]
    amount_test = data.amount[split.test] if data.amount is not None else None

    fitted: list[FittedModel] = []
    # One thread: at this data size OpenMP/BLAS threads gain little, and on a busy machine
    # oversubscribed threads make gradient boosting tens of times slower.
    with timer.stage("train models"), threadpool_limits(1):
        for spec in progress.progress(model_specs(config.seed, config.quick), desc="models"):
            start = _time.perf_counter()
            model, beta = fit_model(spec, X[split.train], y_train, config.seed)
            seconds = _time.perf_counter() - start
            fitted.append(FittedModel(
                name=spec.name, expected=spec.expected, model=model, beta=beta,
                train_seconds=seconds, calibration_scores=score(model, X[split.calibration]),
                test_scores=score(model, X[split.test])))
    with timer.stage("calibrate"):
        for f in fitted:
            _calibrate(f, y_cal)
        focus = max(fitted, key=lambda f: average_precision_score(y_cal, f.calibration_scores))
        sklearn_sigmoid = _sklearn_sigmoid(fitted, X[split.calibration], y_cal,
                                           X[split.test], y_test)
        selection = _select_calibrator(focus, y_cal)
        chosen = str(selection.loc[selection["holdout_log_loss"].idxmin(), "calibrator"])
    t_star = dec.bayes_threshold(config.cost_fp, config.cost_fn)
    band = (t_star / BAND_FACTOR, min(BAND_FACTOR * t_star, 1.0))
    with timer.stage("metrics"):
        rows = []
        for f in progress.progress(fitted, desc="calibration metrics"):
            for name, p in f.test_probabilities.items():
                rows.append({"model": f.name, "calibrator": name,
                             **point_metrics(y_test, p, config.n_bins, band),
                             "block_rate_at_t_star": float(np.mean(p >= t_star)),
                             "cost_at_t_star": dec.constant_cost(y_test, p >= t_star,
                                                                 config.cost_fp, config.cost_fn)})
        metrics = pd.DataFrame(rows)
        models = pd.DataFrame([{
            "model": f.name, "expected": f.expected, "train_seconds": f.train_seconds,
            "beta": f.beta,
            "calibration_average_precision": float(average_precision_score(
                y_cal, f.calibration_scores)),
        } for f in fitted])

    p_raw = focus.test_probabilities[RAW]
    p_chosen = focus.test_probabilities[chosen]
    with timer.stage("bootstrap intervals"):
        interval_rows = []
        for name, p in progress.progress(focus.test_probabilities.items(),
                                         desc="metric intervals"):
            def ci(statistic, p=p, name=name):
                return bootstrap_ci(statistic, y_test, p, n_resamples=config.n_bootstrap,
                                    confidence=config.confidence,
                                    random_state=config.seed, desc=f"bootstrap {name}")
            interval_rows.append(_estimate_row(name, {
                "log_loss": ci(cm.log_loss),
                "brier": ci(cm.brier_score),
                "observed_expected": ci(cm.observed_expected),
                "band_observed_expected": ci(lambda y_, p_: _band_ratio(y_, p_, band)),
            }))
        focus_intervals = pd.DataFrame(interval_rows)
        card = _metric_card({RAW: p_raw, chosen: p_chosen}, y_test, config)
    with timer.stage("noise floor"):
        noise_rows = []
        estimators = {
            "ece_width": lambda y_, p_: cm.ece(y_, p_, config.n_bins, "width"),
            "ece_mass": lambda y_, p_: cm.ece(y_, p_, config.n_bins, "mass"),
            "ece_debiased": lambda y_, p_: cm.debiased_ece(y_, p_, config.n_bins),
            "ece_sweep": lambda y_, p_: cm.ece_sweep(y_, p_)[0],
            "spiegelhalter_z": lambda y_, p_: cm.spiegelhalter_z(y_, p_)[0],
        }
        tail = (1 - config.confidence) / 2
        for name, estimator in progress.progress(estimators.items(), desc="noise floor"):
            floor = cm.noise_floor(estimator, p_chosen, config.n_noise_floor, config.seed)
            noise_rows.append({
                "metric": name,
                "chosen": float(estimator(y_test, p_chosen)),
                "raw": float(estimator(y_test, p_raw)),
                "floor_mean": float(np.mean(floor)),
                "floor_low": float(np.quantile(floor, tail)),
                "floor_high": float(np.quantile(floor, 1 - tail)),
            })
        noise = pd.DataFrame(noise_rows)
        reliability = {
            RAW: cm.reliability_table(y_test, p_raw, confidence=config.confidence,
                                      random_state=config.seed),
            chosen: cm.reliability_table(y_test, p_chosen, confidence=config.confidence,
                                         random_state=config.seed),
        }
        model_reliability = {
            f.name: cm.reliability_table(y_test, f.test_scores, n_consistency=200,
                                         confidence=config.confidence,
                                         random_state=config.seed) for f in fitted}
        # A forecast that knows nothing but the calibration block's fraud rate: calibrated in
        # the large, useless for ranking; the yardstick that shows what global ECE rewards.
        constant = np.full(y_test.size, y_cal.mean())
        constant_forecast = {
            "rate": float(y_cal.mean()),
            "ece_width": cm.ece(y_test, constant, config.n_bins, "width"),
            "log_loss": cm.log_loss(y_test, constant),
            "brier": cm.brier_score(y_test, constant),
            "observed_expected": cm.observed_expected(y_test, constant),
        }

    with timer.stage("decisions"):
        grid = dec.threshold_grid(focus.calibration_scores)
        tuned = dec.tune_threshold(focus.model, X[split.calibration], y_cal, grid,
                                   config.cost_fp, config.cost_fn)
        oracle = dec.best_threshold(y_test, p_raw, dec.threshold_grid(p_raw), config.cost_fp,
                                    config.cost_fn)
        rules = {
            "t* on calibrated probability": p_chosen >= t_star,
            "t* on raw score": p_raw >= t_star,
            "threshold tuned on calibration block": p_raw >= tuned,
            "oracle threshold on test (lower bound)": p_raw >= oracle,
        }
        thresholds = {"t* on calibrated probability": t_star, "t* on raw score": t_star,
                      "threshold tuned on calibration block": tuned,
                      "oracle threshold on test (lower bound)": oracle}

        def cost_constant(y_, b_, w_):
            return dec.constant_cost(y_, b_, config.cost_fp, config.cost_fn)

        decisions_constant = _decision_rows(rules, y_test, amount_test, cost_constant, config,
                                            thresholds)
        curve_thresholds = np.geomspace(1e-4, 0.99, 200)
        cost_curve = {
            "thresholds": curve_thresholds,
            "chosen": dec.cost_by_threshold(y_test, p_chosen, curve_thresholds, config.cost_fp,
                                            config.cost_fn),
            "raw": dec.cost_by_threshold(y_test, p_raw, curve_thresholds, config.cost_fp,
                                         config.cost_fn),
            "tuned": tuned, "oracle": oracle, "t_star": t_star,
        }
        decisions_amount = None
        if amount_test is not None:
            amount_cal = data.amount[split.calibration]
            limits = dec.amount_thresholds(amount_test, config.cost_fp)
            tuned_amount = dec.best_threshold(y_cal, focus.calibration_scores, grid,
                                              config.cost_fp, amount=amount_cal)
            oracle_amount = dec.best_threshold(y_test, p_raw, dec.threshold_grid(p_raw),
                                               config.cost_fp, amount=amount_test)
            amount_rules = {
                "amount rule on calibrated probability": p_chosen >= limits,
                "amount rule on raw score": p_raw >= limits,
                "one threshold tuned on calibration block": p_raw >= tuned_amount,
                "oracle single threshold on test (bound)": p_raw >= oracle_amount,
            }

            def cost_amount(y_, b_, w_):
                return dec.amount_cost(y_, b_, w_, config.cost_fp)

            decisions_amount = _decision_rows(
                amount_rules, y_test, amount_test, cost_amount, config,
                {"one threshold tuned on calibration block": tuned_amount,
                 "oracle single threshold on test (bound)": oracle_amount})
        budget_rows = []
        for fraction in config.budgets:
            queue = dec.top_k(p_chosen, fraction)
            realised = int(y_test[queue].sum())
            low, high = wilson_interval(realised, int(queue.sum()), config.confidence)
            recall = bootstrap_ci(
                lambda y_, p_, k=fraction: (y_ * dec.top_k(p_, k)).sum() / y_.sum(),
                y_test, p_chosen,
                n_resamples=config.n_bootstrap, confidence=config.confidence,
                random_state=config.seed,
                desc=f"budget {fraction:.2%}")
            budget_rows.append({
                "budget": fraction, "queue": int(queue.sum()), "realised_frauds": realised,
                "predicted_frauds": float(p_chosen[queue].sum()),
                "predicted_frauds_raw": float(p_raw[queue].sum()),
                "precision": realised / int(queue.sum()), "precision_low": low,
                "precision_high": high, "recall": recall.value, "recall_low": recall.low,
                "recall_high": recall.high,
            })
        budgets = pd.DataFrame(budget_rows)

    with timer.stage("robustness"):
        size_sweep = _size_sweep(focus, y_cal, y_test, config.seed, 3 if config.quick else 5,
                                 config.n_bins)
        prior_shift = _prior_shift(y_test, p_chosen, float(y_cal.mean()), config, p_raw, tuned)
        decay = _decay(y_test, p_chosen,
                       data.time[split.test] if data.time is not None else None, config)
        undersampling_check = _undersampling_check(config.seed)

    parameters = {
        "platt_slope": focus.calibrators["Platt (logit)"].slope_,
        "platt_intercept": focus.calibrators["Platt (logit)"].intercept_,
        "beta_a": focus.calibrators["beta"].a_, "beta_b": focus.calibrators["beta"].b_,
        "beta_c": focus.calibrators["beta"].c_,
        "temperature": focus.calibrators["temperature"].temperature_,
        "isotonic_steps": focus.calibrators["isotonic (clipped)"].n_steps_,
        "isotonic_eps": focus.calibrators["isotonic (clipped)"].eps_,
    }
    split_frame = pd.DataFrame([
        {"block": name, "rows": len(rows_), "frauds": int(y[rows_].sum()),
         "fraud_rate": float(y[rows_].mean()),
         "start": pd.Timestamp(data.time[rows_[0]]) if data.time is not None else None,
         "end": pd.Timestamp(data.time[rows_[-1]]) if data.time is not None else None}
        for name, rows_ in (("train", split.train), ("calibration", split.calibration),
                            ("test", split.test))])
    scenario_counts = ({str(k): int(v) for k, v in
                        zip(*np.unique(data.scenario, return_counts=True), strict=True)}
                       if data.scenario is not None else {})
    settings = {
        "cost_fp": config.cost_fp, "cost_fn": config.cost_fn, "t_star": t_star, "band": band,
        "band_factor": BAND_FACTOR, "prior_shift_factors": list(PRIOR_SHIFT_FACTORS),
        "cost_tolerance": COST_TOLERANCE,
        "gap_days": config.gap_days, "gap_rows_dropped": split.dropped,
        "n_bootstrap": config.n_bootstrap, "n_noise_floor": config.n_noise_floor,
        "confidence": config.confidence,
        "n_bins": config.n_bins, "seed": config.seed, "quick": config.quick,
        "budgets": list(config.budgets), "train_fraction": config.train_fraction,
        "calibration_fraction": config.calibration_fraction,
        "n_customers": config.n_customers, "n_terminals": config.n_terminals,
        "n_days": config.n_days, "label_delay_days": config.label_delay_days,
        "min_calibration_positives": config.min_calibration_positives,
    }
    cost = decisions_constant.set_index("label")["cost"]
    raw_ratios = metrics.loc[metrics["calibrator"] == RAW].set_index("model")["observed_expected"]
    worst = raw_ratios.index[int(np.argmax(np.abs(np.log(raw_ratios.to_numpy()))))]
    factor = max(raw_ratios[worst], 1 / raw_ratios[worst])
    calibrated_cost = cost["t* on calibrated probability"]
    tuned_cost = cost["threshold tuned on calibration block"]
    if abs(tuned_cost - calibrated_cost) <= COST_TOLERANCE * calibrated_cost:
        relation = "about the same as"
    else:
        relation = "less than" if calibrated_cost < tuned_cost else "more than"
    answer = (
        f"Block when the calibrated fraud probability exceeds t* = c_FP/(c_FP+c_FN) = "
        f"{t_star:.3g}. On the test block, {focus.name} + {chosen} calibration costs "
        f"{calibrated_cost:.3g} per transaction at t*, {relation} the "
        f"{tuned_cost:.3g} of a threshold tuned on raw scores (hindsight optimum "
        f"{cost['oracle threshold on test (lower bound)']:.3g}); raw scores can be off by "
        f"{factor:.3g}x ({worst}, observed/expected "
        f"{raw_ratios[worst]:.2g}), so t* is only safe on calibrated probabilities.")
    return CalibrationResult(
        short_answer=answer, stage_seconds=timer.seconds, source=data.source, kind=data.kind,
        n_rows=len(y), feature_names=list(data.features.columns),
        dropped_columns=list(data.dropped_columns), base_rate=float(y.mean()),
        n_frauds=int(y.sum()), has_time=data.time is not None,
        has_amount=data.amount is not None, preview=data.preview,
        scenario_counts=scenario_counts, settings=settings, split=split_frame, models=models,
        focus_model=focus.name, chosen_calibrator=chosen, calibrator_selection=selection,
        calibrator_parameters=parameters, metrics=metrics, focus_intervals=focus_intervals,
        metric_card=card,
        noise=noise, reliability=reliability, model_reliability=model_reliability,
        constant_forecast=constant_forecast, sklearn_sigmoid=sklearn_sigmoid,
        decisions_constant=decisions_constant,
        decisions_amount=decisions_amount, cost_curve=cost_curve, budgets=budgets,
        size_sweep=size_sweep, prior_shift=prior_shift, decay=decay,
        undersampling_check=undersampling_check, test_y=y_test, test_p_chosen=p_chosen,
        test_p_raw=p_raw,
    )
