"""The calibration analysis: split in time, train the models, calibrate them on a later block,
measure calibration on a still later block, and turn probabilities into blocking decisions.

``run(config, data)`` returns a :class:`CalibrationResult`; nothing here reads or writes files,
and nothing here writes prose: every pick, count and verdict the report states is a field of the
result, and the report words them. The stages of :func:`run`, each a function of this module:

1. :func:`split_blocks`: train | gap | calibration | gap | test, in time order;
2. :func:`fit_models`: every model on the training block, scored on the later blocks;
3. :func:`calibrate_and_select`: every calibrator on the calibration block, the model used for
   decisions and its calibrator chosen without the test block;
4. :func:`measure_models` and :func:`measure_focus`: calibration metrics, intervals, noise floors;
5. :func:`decide`: blocking rules, their costs and paired differences, alert budgets;
6. :func:`check_robustness`: calibration-set size, prior shift, decay (the analyses are in
   :mod:`casestudies.calibration.robustness`);
7. :func:`summarise` and :func:`decide_verdicts`: the picks, counts and verdicts of the report.

Every unit of random work (a model, a bootstrap, a subsample) draws from its own stream of the
seed, keyed by a stable name (:mod:`casestudies.rng`); the bootstraps that share a name resample
the same rows, which is what makes their intervals paired.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import time as _time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import average_precision_score
from threadpoolctl import threadpool_limits

from casestudies import progress
from casestudies.calibration import decisions as dec
from casestudies.calibration import metrics as cm
from casestudies.calibration import questions, robustness
from casestudies.calibration import resampling as rs
from casestudies.calibration import verdicts as rules
from casestudies.calibration.calibrators import (
    CALIBRATORS,
    LOGIT_CLIP,
    undersampling_correction,
)
from casestudies.calibration.config import CalibrationConfig
from casestudies.calibration.data import DataLoading, TransactionData
from casestudies.calibration.models import fit_model, model_specs, raw_score, tree_clip
from casestudies.calibration.verdicts import IMPROVEMENT_THRESHOLD
from casestudies.errors import DataError
from casestudies.provenance import StageTimer
from casestudies.results import StudyResult
from casestudies.rng import stream
from casestudies.stats import Estimate, percentile_interval
from casestudies.verdicts import Verdict, interval_above, interval_below

RAW = "none (raw score)"
UNDERSAMPLING = "undersampling correction"
UNDERSAMPLED_MODEL = "logistic, 1:1 undersample"
MIN_TRAIN_POSITIVES = 10
MIN_TEST_POSITIVES = 10
# Calibration is also measured in the band [t*/BAND_FACTOR, BAND_FACTOR t*], where it decides who
# is blocked.
BAND_FACTOR = 3.0
# A small and a large payment, to show how the amount-dependent threshold moves.
EXAMPLE_AMOUNTS = (10, 1000)
# Statistics the calibrator is chosen by and the "did calibration help" verdict rests on: the
# Brier score, a proper score whose per-row loss is bounded by 1, so the forest's exactly-zero
# frauds (each costs at most 1) cannot decide it the way they decide the log loss.
SELECTION_SCORE = "brier"


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
    clip: float | None = None
    calibration_zero: np.ndarray | None = None
    test_zero: np.ndarray | None = None
    calibrators: dict[str, Any] = field(default_factory=dict)
    test_probabilities: dict[str, np.ndarray] = field(default_factory=dict)


def _calibrate(fitted: FittedModel, y_cal: np.ndarray) -> None:
    fitted.test_probabilities[RAW] = fitted.test_scores
    for name, calibrator in CALIBRATORS.items():
        model = calibrator(clip=fitted.clip).fit(fitted.calibration_scores, y_cal)
        fitted.calibrators[name] = model
        fitted.test_probabilities[name] = model.predict(fitted.test_scores)
    if fitted.beta < 1:
        fitted.test_probabilities[UNDERSAMPLING] = undersampling_correction(
            fitted.test_scores, fitted.beta)


def point_metrics(y: np.ndarray, p: np.ndarray, n_bins: int, band: tuple[float, float],
                  clip: float | None = None) -> dict[str, float]:
    """Every calibration metric of the study for one set of probabilities; ``clip`` (a forest's
    raw score) bounds the probabilities away from 0 and 1 where a logarithm is taken (log loss,
    Cox fit), and nowhere else."""
    clip = clip or cm.EPS
    decomposition = cm.brier_decomposition(y, p, n_bins=n_bins)
    corp = cm.corp_decomposition(y, p)
    intercept, slope = cm.cox_calibration(y, p, max(clip, LOGIT_CLIP))
    z, z_p = cm.spiegelhalter_z(y, p)
    sweep, sweep_bins = cm.ece_sweep(y, p)
    in_band = (p >= band[0]) & (p <= band[1])
    return {
        "log_loss": cm.log_loss(y, p, clip),
        "brier": decomposition["brier"],
        "miscalibration": corp["miscalibration"],
        "discrimination": corp["discrimination"],
        "corp_uncertainty": corp["uncertainty"],
        "corp_remainder": corp["remainder"],
        "reliability": decomposition["reliability"],
        "resolution": decomposition["resolution"],
        "uncertainty": decomposition["uncertainty"],
        "brier_within_bins": decomposition["within"],
        # The binned decomposition is only a rough guide when its remainder outweighs the
        # reliability term it is meant to isolate.
        "within_bins_exceeds_reliability": bool(abs(decomposition["within"])
                                                > decomposition["reliability"]),
        "within_bins_share": float(abs(decomposition["within"]) / decomposition["brier"])
        if decomposition["brier"] > 0 else float("nan"),
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
                 config: CalibrationConfig, boot: rs.ClusterBootstrap,
                 clips: dict[str, float | None]) -> pd.DataFrame:
    """Every calibration metric with an incident-bootstrap interval, one column pair per set of
    probabilities, all on the same resamples (paired). Binned metrics keep the bins of the full
    test block in every resample (fixed bin edges), so that the interval reflects the labels'
    noise, not re-binning."""
    rows = []
    for label, p in probabilities.items():
        mass = cm.equal_mass_bins(p, config.n_bins)
        width = cm.equal_width_bins(p, config.n_bins)
        intercept, slope = rs.cox(y, cm.logit(p, clips.get(label) or LOGIT_CLIP))
        estimates = boot.intervals({
            "cox_intercept": intercept, "cox_slope": slope,
            "spiegelhalter_z": rs.spiegelhalter(y, p),
            "ece_width": rs.binned_ece(y, p, width),
            "ece_mass": rs.binned_ece(y, p, mass),
            "ece_debiased": rs.binned_debiased_ece(y, p, mass),
        })
        for metric, e in estimates.items():
            rows.append({"metric": metric, "probabilities": label, "value": e.value,
                         "low": e.low, "high": e.high})
    return pd.DataFrame(rows)


def _estimate_row(label: str, estimates: dict[str, Estimate]) -> dict[str, Any]:
    row: dict[str, Any] = {"label": label}
    for name, e in estimates.items():
        row[name], row[f"{name}_low"], row[f"{name}_high"] = e.value, e.low, e.high
    return row


def select_calibrator(calibration_scores: np.ndarray, y_cal: np.ndarray, beta: float = 1.0,
                      zero: np.ndarray | None = None, clip: float | None = None
                      ) -> tuple[str, pd.DataFrame]:
    """Choose the calibrator on the calibration block alone: fit each on the block's first half
    and score it on the second half by the Brier score (:data:`SELECTION_SCORE`).

    The log loss is reported beside it, and again without the rows whose raw score is exactly
    zero (``zero``): a fraud scored 0 costs the log loss ``-ln(clip)`` whatever calibrator is
    used, so a handful of them can decide a log-loss ranking; each costs the Brier score at most
    1. ``clip`` is the log-odds floor passed to the calibrators (and to the raw score's log
    loss). The test block is never used.

    Returns
    -------
    chosen : str
        The calibrator (or :data:`RAW`) with the lowest held-out Brier score.
    table : DataFrame
        One row per candidate: ``holdout_brier``, ``holdout_log_loss``,
        ``holdout_log_loss_nonzero``.
    """
    half = len(y_cal) // 2
    first, second = slice(0, half), slice(half, None)
    p_first, p_second = calibration_scores[first], calibration_scores[second]
    y_second = y_cal[second]
    keep = (np.ones(len(y_second), dtype=bool) if zero is None
            else ~np.asarray(zero)[second])
    candidates = {RAW: p_second}
    if y_cal[first].sum() >= 2 and y_second.sum() >= 1:
        for name, calibrator in CALIBRATORS.items():
            candidates[name] = (calibrator(clip=clip).fit(p_first, y_cal[first])
                                .predict(p_second))
    if beta < 1:
        candidates[UNDERSAMPLING] = undersampling_correction(p_second, beta)
    floor = {RAW: clip or cm.EPS}
    table = pd.DataFrame([{
        "calibrator": name, "holdout_brier": cm.brier_score(y_second, q),
        "holdout_log_loss": cm.log_loss(y_second, q, floor.get(name, cm.EPS)),
        "holdout_log_loss_nonzero": cm.log_loss(y_second[keep], q[keep],
                                                floor.get(name, cm.EPS))}
        for name, q in candidates.items()])
    chosen = str(table.loc[table[f"holdout_{SELECTION_SCORE}"].idxmin(), "calibrator"])
    return chosen, table


def _cost_rows(y: np.ndarray, blocked: np.ndarray, cost_fp: float, cost_fn: float | None,
               amount: np.ndarray | None = None) -> np.ndarray:
    """Per-transaction cost of a blocking rule: ``c_FP`` for a blocked genuine payment, ``c_FN``
    (or the amount) for a missed fraud; its mean is the rule's cost."""
    y = np.asarray(y).astype(bool)
    blocked = np.asarray(blocked).astype(bool)
    miss = np.asarray(amount, float) if amount is not None else float(cost_fn)
    return np.where(blocked & ~y, cost_fp, 0.0) + np.where(~blocked & y, miss, 0.0)


def _decision_rows(decision_rules: dict[str, np.ndarray], y: np.ndarray,
                   amount: np.ndarray | None, cost_rows, boot: rs.ClusterBootstrap,
                   thresholds: dict[str, float]) -> pd.DataFrame:
    """Cost, block rate, share of frauds and (with amounts) of fraud amount caught for each rule,
    with incident-bootstrap intervals; every rule sees the same resamples."""
    rows = []
    for label, blocked in decision_rules.items():
        b = blocked.astype(np.float64)
        statistics = {"cost": rs.mean(cost_rows(blocked)), "block_rate": rs.mean(b),
                      "recall": rs.ratio(y * b, y)}
        if amount is not None:
            statistics["amount_caught"] = rs.ratio(y * b * amount, y * amount)
        row = _estimate_row(label, boot.intervals(statistics))
        row["threshold"] = thresholds.get(label, float("nan"))
        rows.append(row)
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
    zero_share = float(np.mean(chosen.test_zero))
    log_loss_sklearn, log_loss_logit = cm.log_loss(y_test, p_sklearn), cm.log_loss(y_test,
                                                                                   p_logit)
    clip = chosen.clip or LOGIT_CLIP
    return {"model": chosen.name, "zero_share": zero_share, "clip": clip,
            "logit_floor": float(cm.logit(np.array([0.0]), clip)[0]),
            "has_exact_zeros": bool(zero_share > 0),
            "log_loss_sklearn": log_loss_sklearn, "log_loss_logit": log_loss_logit,
            "probability_scale_wins": bool(log_loss_logit > log_loss_sklearn),
            "observed_expected_sklearn": cm.observed_expected(y_test, p_sklearn),
            "observed_expected_logit": cm.observed_expected(y_test, p_logit),
            "cox_slope_sklearn": cm.cox_calibration(y_test, p_sklearn)[1],
            "cox_slope_logit": cm.cox_calibration(y_test, p_logit)[1]}


def misforecast(ratio: float) -> dict[str, Any]:
    """How far observed over expected frauds is from 1, as a factor, and in which direction.

    ``factor`` is ``max(r, 1/r)`` (x0.5 is as far off as x2); ``overpredicts`` is true when the
    score expects more frauds than occur (``r < 1``).
    """
    return {"observed_expected": float(ratio), "factor": float(max(ratio, 1 / ratio)),
            "overpredicts": bool(ratio < 1)}


@dataclass
class CalibrationResult(StudyResult):
    """Everything the report shows, as plain data (serialised to calibration.json).

    Besides the tables of the analysis it holds every pick (``focus_model``, ``worst_raw``),
    count (``decay_windows_excluding_one``) and verdict (``verdicts``) the report states; the
    short answer is worded from them by :func:`casestudies.calibration.report.short_answer`.
    ``loading`` records what the loader did to a user's table (how the file was read, the label
    mapping, the missing values, the features); it is ``None`` for the simulated data.
    """

    study: ClassVar[str] = "calibration"

    stage_seconds: dict[str, float]
    source: str
    kind: str
    n_rows: int
    feature_names: list[str]
    loading: DataLoading | None
    base_rate: float
    n_frauds: int
    has_time: bool
    has_amount: bool
    preview: pd.DataFrame
    scenario_counts: dict[str, int]
    settings: dict[str, Any]
    constants: dict[str, Any]
    split: pd.DataFrame
    models: pd.DataFrame
    focus_model: str
    chosen_calibrator: str
    calibrator_selection: pd.DataFrame
    chosen_by_log_loss: str
    log_loss_picks_same: bool
    resampling: dict[str, Any]
    drift: pd.DataFrame
    drift_ratios: dict[str, dict[str, float]]
    groups: pd.DataFrame
    cost_ratio: pd.DataFrame
    three_actions: dict[str, Any]
    prequential: pd.DataFrame
    prequential_summary: dict[str, Any]
    censoring: pd.DataFrame
    censoring_summary: dict[str, Any]
    calibrator_parameters: dict[str, float]
    metrics: pd.DataFrame
    focus_intervals: pd.DataFrame
    metric_card: pd.DataFrame
    noise: pd.DataFrame
    noise_summary: dict[str, Any]
    reliability: dict[str, dict[str, np.ndarray]]
    model_reliability: dict[str, dict[str, np.ndarray]]
    constant_forecast: dict[str, Any]
    sklearn_sigmoid: dict[str, Any]
    decisions_constant: pd.DataFrame
    decisions_amount: pd.DataFrame | None
    paired_differences: pd.DataFrame
    cost_curve: dict[str, Any]
    budgets: pd.DataFrame
    size_sweep: pd.DataFrame
    size_sweep_summary: dict[str, Any]
    prior_shift: pd.DataFrame
    decay: pd.DataFrame
    decay_windows_excluding_one: int
    decay_farthest: dict[str, Any]
    undersampling_check: dict[str, float]
    worst_raw: dict[str, Any]
    undersampled_raw: dict[str, Any] | None
    calibrator_effect: dict[str, Any]
    verdicts: dict[str, Verdict]
    deciding_rows: dict[str, float]
    test_y: np.ndarray = field(metadata={"json": False})
    test_p_chosen: np.ndarray = field(metadata={"json": False})
    test_p_raw: np.ndarray = field(metadata={"json": False})


# Labels of the decision rules, shared with the report's tables.
CONSTANT_RULES = {
    "calibrated": "t* on calibrated probability",
    "raw": "t* on raw score",
    "tuned": "threshold tuned on calibration block",
    "oracle": "oracle threshold on test (lower bound)",
}
AMOUNT_RULES = {
    "calibrated": "amount rule on calibrated probability",
    "raw": "amount rule on raw score",
    "tuned": "one threshold tuned on calibration block",
    "oracle": "oracle single threshold on test (bound)",
}
# The paired differences of the study (new minus old), by name: what the verdicts rest on.
DIFFERENCES = {
    "brier_calibrated_minus_raw": "Brier score, calibrated minus raw",
    "log_loss_calibrated_minus_raw": "log loss, calibrated minus raw",
    "cost_calibrated_minus_raw": "cost at t*, calibrated minus raw",
    "cost_tuned_minus_calibrated": "cost, tuned raw threshold minus t* on calibrated",
    "amount_cost_rule_minus_tuned": "amount cost, per-transaction rule minus one tuned threshold",
    "amount_cost_rule_minus_oracle": "amount cost, per-transaction rule minus oracle threshold",
    "amount_cost_calibrated_minus_raw": "amount cost, rule on calibrated minus rule on raw",
}


@dataclass
class Blocks:
    """The time-ordered blocks as arrays: features, labels, and (when given) amounts and times."""

    split: Split
    X_train: np.ndarray
    X_cal: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_cal: np.ndarray
    y_test: np.ndarray
    amount_cal: np.ndarray | None
    amount_test: np.ndarray | None
    time_test: np.ndarray | None
    clusters_cal: np.ndarray | None = None
    clusters_test: np.ndarray | None = None
    scenario_cal: np.ndarray | None = None
    scenario_test: np.ndarray | None = None
    time_cal: np.ndarray | None = None


def split_blocks(data: TransactionData, config: CalibrationConfig) -> Blocks:
    """Stage 1: cut the rows into train, calibration and test blocks in time order, with the
    label-delay gap, and check that each block holds enough frauds (:class:`DataError` if
    not)."""
    X = data.features.to_numpy(dtype=np.float64)
    y = data.y
    split = time_split(len(y), data.time, config.train_fraction, config.calibration_fraction,
                       config.gap_days)
    _check_split(split, y, config)

    def part(values, rows):
        return values[rows] if values is not None else None

    return Blocks(split=split, X_train=X[split.train], X_cal=X[split.calibration],
                  X_test=X[split.test], y_train=y[split.train], y_cal=y[split.calibration],
                  y_test=y[split.test], amount_cal=part(data.amount, split.calibration),
                  amount_test=part(data.amount, split.test),
                  time_test=part(data.time, split.test),
                  clusters_cal=part(data.clusters, split.calibration),
                  clusters_test=part(data.clusters, split.test),
                  scenario_cal=part(data.scenario, split.calibration),
                  scenario_test=part(data.scenario, split.test),
                  time_cal=part(data.time, split.calibration))


def fit_models(blocks: Blocks, config: CalibrationConfig) -> list[FittedModel]:
    """Stage 2: train every model of :func:`~casestudies.calibration.models.model_specs` on the
    training block and score the calibration and test blocks. Each model has its own random
    stream."""
    fitted = []
    # One thread: at this data size OpenMP/BLAS threads gain little, and on a busy machine
    # oversubscribed threads make gradient boosting tens of times slower.
    with threadpool_limits(1):
        for spec in progress.progress(model_specs(config.seed, config.quick), desc="models"):
            start = _time.perf_counter()
            model, beta = fit_model(spec, blocks.X_train, blocks.y_train, config.seed)
            seconds = _time.perf_counter() - start
            raw_cal, raw_test = raw_score(model, blocks.X_cal), raw_score(model, blocks.X_test)
            clip = tree_clip(model)
            fitted.append(FittedModel(
                name=spec.name, expected=spec.expected, model=model, beta=beta,
                train_seconds=seconds,
                calibration_scores=raw_cal, test_scores=raw_test, clip=clip,
                calibration_zero=raw_cal == 0, test_zero=raw_test == 0))
    return fitted


@dataclass
class Selection:
    """The model used for decisions, its calibrator, and how they were chosen."""

    focus: FittedModel
    chosen: str
    table: pd.DataFrame
    parameters: dict[str, float]
    sklearn_sigmoid: dict[str, Any]
    chosen_by_log_loss: str = ""


def calibrate_and_select(fitted: list[FittedModel], blocks: Blocks) -> Selection:
    """Stage 3: fit every calibrator of every model on the calibration block; choose the model
    that ranks best there (average precision) and the calibrator with the lowest Brier score on
    the second half of that block when fitted on its first half (:func:`select_calibrator`).
    The test block is not used."""
    for f in fitted:
        _calibrate(f, blocks.y_cal)
    focus = max(fitted, key=lambda f: average_precision_score(blocks.y_cal,
                                                              f.calibration_scores))
    chosen, table = select_calibrator(focus.calibration_scores, blocks.y_cal, focus.beta,
                                      focus.calibration_zero, focus.clip)
    parameters = {
        "platt_slope": focus.calibrators["Platt (logit)"].slope_,
        "platt_intercept": focus.calibrators["Platt (logit)"].intercept_,
        "beta_a": focus.calibrators["beta"].a_, "beta_b": focus.calibrators["beta"].b_,
        "beta_c": focus.calibrators["beta"].c_,
        "temperature": focus.calibrators["temperature"].temperature_,
        "isotonic_steps": focus.calibrators["isotonic (clipped)"].n_steps_,
        "isotonic_eps": focus.calibrators["isotonic (clipped)"].eps_,
    }
    sklearn_sigmoid = _sklearn_sigmoid(fitted, blocks.X_cal, blocks.y_cal, blocks.X_test,
                                       blocks.y_test)
    by_log_loss = str(table.loc[table["holdout_log_loss"].idxmin(), "calibrator"])
    return Selection(focus=focus, chosen=chosen, table=table, parameters=parameters,
                     sklearn_sigmoid=sklearn_sigmoid, chosen_by_log_loss=by_log_loss)


def measure_models(fitted: list[FittedModel], blocks: Blocks, t_star: float,
                   band: tuple[float, float], config: CalibrationConfig
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stage 4a: point metrics of every model with every calibrator on the test block (the
    ``metrics`` table), and one row per model (``models``: what the literature expects of it,
    its ranking on the calibration block, and whether its raw scores hold exact zeros)."""
    rows = []
    for f in progress.progress(fitted, desc="calibration metrics"):
        for name, p in f.test_probabilities.items():
            rows.append({"model": f.name, "calibrator": name,
                         **point_metrics(blocks.y_test, p, config.n_bins, band,
                                         f.clip if name == RAW else None),
                         "block_rate_at_t_star": float(np.mean(p >= t_star)),
                         "cost_at_t_star": dec.constant_cost(blocks.y_test, p >= t_star,
                                                             config.cost_fp, config.cost_fn)})
    metrics = pd.DataFrame(rows)
    models = pd.DataFrame([{
        "model": f.name, "expected": f.expected, "train_seconds": f.train_seconds,
        "beta": f.beta,
        "calibration_average_precision": float(average_precision_score(
            blocks.y_cal, f.calibration_scores)),
        "has_exact_zeros": bool(np.any(f.test_zero)),
        "clip": f.clip if f.clip is not None else float("nan"),
        "zero_share": float(np.mean(f.test_zero)),
        "fraud_zero_share": float(np.mean(f.test_zero[blocks.y_test == 1])),
        # A fraud scored exactly 0 ties with every genuine payment scored 0: no threshold
        # above 0 (and no increasing calibrator) can block it without blocking all of them.
        "recall_cap": 1 - float(np.mean(f.test_zero[blocks.y_test == 1])),
    } for f in fitted])
    return metrics, models


@dataclass
class FocusEvidence:
    """Intervals, metric card, noise floors and reliability tables of the model used for
    decisions (raw and calibrated)."""

    intervals: pd.DataFrame
    card: pd.DataFrame
    noise: pd.DataFrame
    noise_summary: dict[str, Any]
    reliability: dict[str, dict[str, np.ndarray]]
    model_reliability: dict[str, dict[str, np.ndarray]]
    constant_forecast: dict[str, Any]
    log_loss_change: Estimate
    brier_change: Estimate
    oe_distance_change: Estimate


def _noise_table(y: np.ndarray, p_chosen: np.ndarray, p_raw: np.ndarray,
                 config: CalibrationConfig) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Each calibration estimator on the real labels (raw and calibrated) against its noise
    floor, the estimator on labels drawn from the calibrated probabilities themselves."""
    estimators = {
        "ece_width": lambda y_, p_: cm.ece(y_, p_, config.n_bins, "width"),
        "ece_mass": lambda y_, p_: cm.ece(y_, p_, config.n_bins, "mass"),
        "ece_debiased": lambda y_, p_: cm.debiased_ece(y_, p_, config.n_bins),
        "ece_sweep": lambda y_, p_: cm.ece_sweep(y_, p_)[0],
        "spiegelhalter_z": lambda y_, p_: cm.spiegelhalter_z(y_, p_)[0],
    }
    # The binned estimators and Z are linear in the labels for fixed forecasts: their floors are
    # computed on all label draws at once (the same draws, in the same order, as noise_floor).
    vectorised = {
        "ece_width": lambda ys: _binned_floor(ys, p_chosen,
                                              cm.equal_width_bins(p_chosen, config.n_bins)),
        "ece_mass": lambda ys: _binned_floor(ys, p_chosen,
                                             cm.equal_mass_bins(p_chosen, config.n_bins)),
        "ece_debiased": lambda ys: _binned_floor(ys, p_chosen,
                                                 cm.equal_mass_bins(p_chosen, config.n_bins),
                                                 debiased=True),
        "spiegelhalter_z": lambda ys: (((ys - p_chosen) @ (1 - 2 * p_chosen))
                                       / np.sqrt(max(np.sum((1 - 2 * p_chosen) ** 2 * p_chosen
                                                            * (1 - p_chosen)), cm.EPS))),
    }
    tail = (1 - config.confidence) / 2
    rows = []
    for name, estimator in progress.progress(estimators.items(), desc="noise floor"):
        rng = stream(config.seed, "noise floor", name)
        if name in vectorised:
            draws = rng.random((config.n_noise_floor, p_chosen.size)) < p_chosen
            floor = vectorised[name](draws.astype(np.float64))
        else:
            floor = cm.noise_floor(estimator, p_chosen, config.n_noise_floor, rng)
        chosen, raw = float(estimator(y, p_chosen)), float(estimator(y, p_raw))
        high = float(np.quantile(floor, 1 - tail))
        rows.append({
            "metric": name, "chosen": chosen, "raw": raw,
            "floor_mean": float(np.mean(floor)), "floor_low": float(np.quantile(floor, tail)),
            "floor_high": high,
            "chosen_beyond_floor": rules.beyond_noise_floor(chosen, high),
            "raw_beyond_floor": rules.beyond_noise_floor(raw, high),
        })
    noise = pd.DataFrame(rows)
    means = noise.set_index("metric")["floor_mean"]
    # The plug-in l2 error is at least the l1 one on the same bins; debiasing "works" at this
    # sample size when its floor nevertheless sits below the equal-mass ECE's.
    summary = {"tail": tail, "upper_tail": 1 - tail,
               "debiasing_lowers_floor": bool(means["ece_debiased"] < means["ece_mass"])}
    return noise, summary


def _binned_floor(ys: np.ndarray, p: np.ndarray, bins: np.ndarray,
                  debiased: bool = False) -> np.ndarray:
    """ECE (or Kumar et al.'s debiased l2 error) over fixed ``bins`` for every row of label
    draws ``ys`` at once."""
    k = int(bins.max()) + 1
    onehot = np.zeros((p.size, k))
    onehot[np.arange(p.size), bins] = 1.0
    n = onehot.sum(axis=0)
    observed, expected = ys @ onehot, p @ onehot
    if not debiased:
        return np.abs(observed - expected).sum(axis=1) / p.size
    keep = n > 0
    o, f, n = observed[:, keep] / n[keep], expected[keep] / n[keep], n[keep]
    noise = np.where(n > 1, o * (1 - o) / np.maximum(n - 1, 1), 0.0)
    return np.sqrt(np.maximum((n * ((o - f) ** 2 - noise)).sum(axis=1) / p.size, 0.0))


def measure_focus(selection: Selection, fitted: list[FittedModel], blocks: Blocks,
                  band: tuple[float, float], config: CalibrationConfig,
                  boot: rs.ClusterBootstrap) -> FocusEvidence:
    """Stage 4b: the model used for decisions, raw and with each calibrator: incident-bootstrap
    intervals (every calibrator on the same resamples), the metric card, noise floors,
    reliability tables, the constant-forecast yardstick, and the paired intervals of the change
    in Brier score and log loss that calibration brings."""
    focus, chosen, y = selection.focus, selection.chosen, blocks.y_test
    p_raw, p_chosen = focus.test_probabilities[RAW], focus.test_probabilities[chosen]
    interval_rows = []
    for name, p in focus.test_probabilities.items():
        inside = (p >= band[0]) & (p <= band[1])
        interval_rows.append(_estimate_row(name, boot.intervals({
            "log_loss": rs.mean(_log_loss_rows(y, p, focus.clip if name == RAW else None)),
            "brier": rs.mean((p - y) ** 2),
            "observed_expected": rs.ratio(y, p),
            "band_observed_expected": rs.ratio(y * inside, p * inside),
        })))
    changes = score_changes(y, p_raw, p_chosen, boot, focus.clip)
    card = _metric_card({RAW: p_raw, chosen: p_chosen}, y, config, boot, {RAW: focus.clip})
    noise, noise_summary = _noise_table(y, p_chosen, p_raw, config)
    reliability = {
        label: cm.reliability_table(y, p, confidence=config.confidence,
                                    random_state=stream(config.seed, "reliability", label))
        for label, p in ((RAW, p_raw), (chosen, p_chosen))}
    model_reliability = {
        f.name: cm.reliability_table(y, f.test_scores, n_consistency=200,
                                     confidence=config.confidence,
                                     random_state=stream(config.seed, "reliability", f.name))
        for f in fitted}
    # A forecast that knows nothing but the calibration block's fraud rate: calibrated in the
    # large, useless for ranking; the yardstick that shows what global ECE rewards.
    rate = float(blocks.y_cal.mean())
    constant = np.full(y.size, rate)
    t_star = dec.bayes_threshold(config.cost_fp, config.cost_fn)
    ece_width = cm.ece(y, constant, config.n_bins, "width")
    constant_forecast = {
        "rate": rate, "ece_width": ece_width,
        "log_loss": cm.log_loss(y, constant), "brier": cm.brier_score(y, constant),
        "observed_expected": cm.observed_expected(y, constant),
        "ece_below_focus_raw": bool(ece_width < cm.ece(y, p_raw, config.n_bins, "width")),
        "blocks_every_payment": bool(rate >= t_star),
    }
    return FocusEvidence(intervals=pd.DataFrame(interval_rows), card=card, noise=noise,
                         noise_summary=noise_summary, reliability=reliability,
                         model_reliability=model_reliability,
                         constant_forecast=constant_forecast, log_loss_change=changes["log_loss"],
                         brier_change=changes["brier"],
                         oe_distance_change=changes["observed_expected"])


def score_changes(y: np.ndarray, p_raw: np.ndarray, p_calibrated: np.ndarray,
                  boot: rs.ClusterBootstrap, clip: float | None = None) -> dict[str, Estimate]:
    """Paired intervals of what calibration changed on the test block, calibrated minus raw:
    ``brier`` and ``log_loss`` (the raw score's log loss with its ``clip``), and
    ``observed_expected``, the change in ``|ln O/E|`` (below 0: closer to calibrated in the
    large)."""
    y = np.asarray(y, dtype=np.float64)
    return boot.intervals({
        "brier": rs.mean((p_calibrated - y) ** 2 - (p_raw - y) ** 2),
        "log_loss": rs.mean(_log_loss_rows(y, p_calibrated) - _log_loss_rows(y, p_raw, clip)),
        "observed_expected": lambda w: (np.abs(np.log(rs.ratio(y, p_calibrated)(w)))
                                        - np.abs(np.log(rs.ratio(y, p_raw)(w)))),
    })


def calibration_helps(change: Estimate, unit: str = "transactions") -> Verdict:
    """"Did calibration help on later data?": the paired interval of calibrated minus raw
    Brier score on the test block (:data:`SELECTION_SCORE`, the score the calibrator was chosen
    by) lies below 0. ``no`` means the whole interval is at or above 0: calibration did not help
    (it hurt when the estimate is above 0)."""
    return rules.lowers("calibration_helps_on_test", change,
                        rule="calibrated minus raw Brier score on the later test block (the "
                             "proper score the calibrator was chosen by) below 0; no: at or "
                             "above 0, calibration did not help (it hurt when the estimate is "
                             "above 0)", unit=unit)


def calibration_hurts(change: Estimate, unit: str = "transactions") -> Verdict:
    """"Did calibration make later data worse?": the paired interval of calibrated minus raw
    Brier score on the test block lies wholly above 0."""
    return interval_above("calibration_hurts_on_test", change, IMPROVEMENT_THRESHOLD,
                          rule="calibrated minus raw Brier score on the later test block above "
                               "0: calibration made the probabilities worse beyond noise",
                          unit=unit)


def calibrate_later_block(s_cal: np.ndarray, y_cal: np.ndarray, s_test: np.ndarray,
                          y_test: np.ndarray, boot: rs.ClusterBootstrap,
                          clip: float | None = None) -> tuple[str, np.ndarray, dict[str, Estimate]]:
    """Choose a calibrator on a calibration block (:func:`select_calibrator`), fit it on the
    whole block, apply it to a later block and measure what it changed there
    (:func:`score_changes`): the steps of the pipeline for one model, as a function of the
    scores, for checking the "did calibration help" verdict on constructed data.

    Returns the chosen calibrator, its probabilities on the later block, and the changes.
    """
    chosen, _ = select_calibrator(s_cal, y_cal, clip=clip)
    if chosen in CALIBRATORS:
        p = CALIBRATORS[chosen](clip=clip).fit(s_cal, y_cal).predict(s_test)
    else:
        p = np.asarray(s_test, dtype=np.float64)
    return chosen, p, score_changes(y_test, s_test, p, boot, clip)


def _log_loss_rows(y: np.ndarray, p: np.ndarray, clip: float | None = None) -> np.ndarray:
    """Per-transaction log loss (its mean is :func:`~casestudies.calibration.metrics.log_loss`)."""
    clip = clip or cm.EPS
    p = np.clip(np.asarray(p, dtype=np.float64), clip, 1 - clip)
    return -(y * np.log(p) + (1 - y) * np.log1p(-p))


@dataclass
class DecisionEvidence:
    """Blocking rules on the test block, their paired differences, the cost curve and the alert
    budgets."""

    constant: pd.DataFrame
    amount: pd.DataFrame | None
    differences: dict[str, Estimate]
    cost_curve: dict[str, Any]
    budgets: pd.DataFrame
    tuned: float


def _budget_rows(y: np.ndarray, p_chosen: np.ndarray, p_raw: np.ndarray,
                 config: CalibrationConfig, boot: rs.ClusterBootstrap) -> pd.DataFrame:
    """Each alert budget (top k % by calibrated probability): precision and recall, and the
    workload forecast (sum of the probabilities in the queue) against the frauds found, as
    observed over expected; intervals from the incident bootstrap with the queue re-drawn in
    every resample (the top k % of the resampled transactions), and whether the ratio lies in
    the calibrated band."""
    rows = []
    order = np.argsort(-np.asarray(p_chosen), kind="stable")
    for fraction in config.budgets:
        queue = dec.top_k(p_chosen, fraction)
        realised = int(y[queue].sum())
        in_queue = rs.top_share(order, fraction)
        e = boot.intervals({
            "precision": lambda w, q=in_queue: ((w * q(w)) @ y) / (w * q(w)).sum(axis=1),
            "recall": lambda w, q=in_queue: ((w * q(w)) @ y) / (w @ y),
            "forecast": lambda w, q=in_queue: ((w * q(w)) @ y) / ((w * q(w)) @ p_chosen),
            "forecast_raw": lambda w, q=in_queue: ((w * q(w)) @ y) / ((w * q(w)) @ p_raw),
        })
        holds = rules.ratio_in_band(f"forecast_{fraction:g}", e["forecast"])
        holds_raw = rules.ratio_in_band(f"forecast_raw_{fraction:g}", e["forecast_raw"])
        rows.append({
            "budget": fraction, "queue": int(queue.sum()), "realised_frauds": realised,
            "predicted_frauds": float(p_chosen[queue].sum()),
            "predicted_frauds_raw": float(p_raw[queue].sum()),
            **{f"{name}{suffix}": value for name, est in (
                ("precision", e["precision"]), ("recall", e["recall"]),
                ("forecast_observed_expected", e["forecast"]),
                ("forecast_raw_observed_expected", e["forecast_raw"]))
               for suffix, value in (("", est.value), ("_low", est.low), ("_high", est.high))},
            "forecast_holds": holds.state, "forecast_raw_holds": holds_raw.state,
        })
    return pd.DataFrame(rows)


def decide(selection: Selection, blocks: Blocks, t_star: float, config: CalibrationConfig,
           boot: rs.ClusterBootstrap) -> DecisionEvidence:
    """Stage 5: the blocking rules on the test block (t* on calibrated and raw scores, a
    threshold tuned on the calibration block, the hindsight oracle; with amounts, the
    per-transaction rule against single thresholds), the paired intervals of their cost
    differences, the cost curve, and the alert budgets."""
    focus, y = selection.focus, blocks.y_test
    p_raw = focus.test_probabilities[RAW]
    p_chosen = focus.test_probabilities[selection.chosen]
    grid = dec.threshold_grid(focus.calibration_scores)
    tuned = dec.tune_threshold(focus.model, blocks.X_cal, blocks.y_cal, grid, config.cost_fp,
                               config.cost_fn)
    oracle = dec.best_threshold(y, p_raw, dec.threshold_grid(p_raw), config.cost_fp,
                                config.cost_fn)
    blocked = {"calibrated": p_chosen >= t_star, "raw": p_raw >= t_star, "tuned": p_raw >= tuned,
               "oracle": p_raw >= oracle}
    thresholds = {"calibrated": t_star, "raw": t_star, "tuned": tuned, "oracle": oracle}

    def cost_constant(b_):
        return _cost_rows(y, b_, config.cost_fp, config.cost_fn)

    constant = _decision_rows({CONSTANT_RULES[k]: b for k, b in blocked.items()}, y,
                              blocks.amount_test, cost_constant, boot,
                              {CONSTANT_RULES[k]: t for k, t in thresholds.items()})
    differences = boot.intervals({
        "cost_calibrated_minus_raw": rs.mean(cost_constant(blocked["calibrated"])
                                             - cost_constant(blocked["raw"])),
        "cost_tuned_minus_calibrated": rs.mean(cost_constant(blocked["tuned"])
                                               - cost_constant(blocked["calibrated"]))})
    curve_thresholds = np.geomspace(1e-4, 0.99, 200)
    cost_curve: dict[str, Any] = {
        "thresholds": curve_thresholds,
        "chosen": dec.cost_by_threshold(y, p_chosen, curve_thresholds, config.cost_fp,
                                        config.cost_fn),
        "raw": dec.cost_by_threshold(y, p_raw, curve_thresholds, config.cost_fp,
                                     config.cost_fn),
        "tuned": tuned, "oracle": oracle, "t_star": t_star,
    }
    # Where each curve is lowest, and the lowest cost of either (the figure zooms on it).
    cost_curve["minimum_chosen"] = float(curve_thresholds[int(np.nanargmin(
        cost_curve["chosen"]))])
    cost_curve["minimum_raw"] = float(curve_thresholds[int(np.nanargmin(cost_curve["raw"]))])
    cost_curve["lowest_cost"] = float(np.nanmin(np.r_[cost_curve["chosen"],
                                                      cost_curve["raw"]]))
    amount = None
    if blocks.amount_test is not None:
        amount_test = blocks.amount_test
        limits = dec.amount_thresholds(amount_test, config.cost_fp)
        tuned_amount = dec.best_threshold(blocks.y_cal, focus.calibration_scores, grid,
                                          config.cost_fp, amount=blocks.amount_cal)
        oracle_amount = dec.best_threshold(y, p_raw, dec.threshold_grid(p_raw), config.cost_fp,
                                           amount=amount_test)
        by_amount = {"calibrated": p_chosen >= limits, "raw": p_raw >= limits,
                     "tuned": p_raw >= tuned_amount, "oracle": p_raw >= oracle_amount}

        def cost_amount(b_):
            return _cost_rows(y, b_, config.cost_fp, None, amount_test)

        amount = _decision_rows(
            {AMOUNT_RULES[k]: b for k, b in by_amount.items()}, y, amount_test, cost_amount,
            boot, {AMOUNT_RULES["tuned"]: tuned_amount, AMOUNT_RULES["oracle"]: oracle_amount})
        rule_cost = cost_amount(by_amount["calibrated"])
        differences.update(boot.intervals({
            "amount_cost_rule_minus_tuned": rs.mean(rule_cost
                                                    - cost_amount(by_amount["tuned"])),
            "amount_cost_rule_minus_oracle": rs.mean(rule_cost
                                                     - cost_amount(by_amount["oracle"])),
            "amount_cost_calibrated_minus_raw": rs.mean(rule_cost
                                                        - cost_amount(by_amount["raw"]))}))
    budgets = _budget_rows(y, p_chosen, p_raw, config, boot)
    return DecisionEvidence(constant=constant, amount=amount, differences=differences,
                            cost_curve=cost_curve, budgets=budgets, tuned=tuned)


def check_robustness(selection: Selection, blocks: Blocks, tuned: float,
                     config: CalibrationConfig, boot: rs.ClusterBootstrap) -> dict[str, Any]:
    """Stage 6: the calibration-set size sweep, the prior-shift analysis with Saerens EM, the
    decay of calibration over windows of the test block, and the simulated check of the
    undersampling correction."""
    focus = selection.focus
    p_raw = focus.test_probabilities[RAW]
    p_chosen = focus.test_probabilities[selection.chosen]
    return {
        "size_sweep": robustness.size_sweep(focus.calibration_scores, focus.test_scores,
                                            blocks.y_cal, blocks.y_test, config.seed,
                                            3 if config.quick else 5, config.n_bins,
                                            focus.clip),
        "prior_shift": robustness.prior_shift(blocks.y_test, p_chosen,
                                              float(blocks.y_cal.mean()), config, p_raw, tuned,
                                              boot),
        "decay": robustness.decay(blocks.y_test, p_chosen, blocks.time_test, config, boot),
        "undersampling_check": robustness.undersampling_check(config.seed),
    }


SCENARIO_NAMES = {1: "large payment", 2: "compromised terminal", 3: "leaked card"}
# Amount bands of the calibration-by-amount check: cut at these quantiles of the test block's
# amounts, so that the top bands (where the amount rule blocks at the lowest probabilities)
# are separated from the bulk of small payments.
AMOUNT_BAND_QUANTILES = (0.5, 0.8, 0.95)


def measure_groups(blocks: Blocks, segment_test: np.ndarray | None, p_raw: np.ndarray,
                   p_chosen: np.ndarray, boot: rs.ClusterBootstrap) -> pd.DataFrame:
    """Calibration where decisions are made: O/E of the raw and the calibrated probabilities
    in amount bands (the amount rule needs ``P(fraud | p, amount) = p``, so calibration must
    hold within each band, not just overall) and in customer segments, with intervals from the
    test block's resamples (restricted to each group's rows)."""
    y = blocks.y_test.astype(np.float64)
    groups: list[tuple[str, str, float, float, np.ndarray]] = []
    if blocks.amount_test is not None:
        amount = blocks.amount_test
        edges = np.unique(np.r_[0.0, np.quantile(amount, AMOUNT_BAND_QUANTILES),
                                np.inf])
        for low, high in itertools.pairwise(edges):
            groups.append(("amount", "amount band", float(low), float(high),
                           (amount >= low) & (amount < high)))
    if segment_test is not None:
        groups.append(("segment", "little history", float("nan"), float("nan"),
                       np.asarray(segment_test, bool)))
        groups.append(("segment", "established", float("nan"), float("nan"),
                       ~np.asarray(segment_test, bool)))
    rows = []
    for kind, label, low, high, mask in groups:
        index = np.flatnonzero(mask)
        if not index.size:
            continue
        ys = y[index]
        e = boot.intervals({"raw": rs.ratio(ys, p_raw[index]),
                            "calibrated": rs.ratio(ys, p_chosen[index])}, rows=index)
        rows.append({"kind": kind, "group": label, "amount_from": low, "amount_to": high,
                     "rows": int(index.size), "frauds": int(ys.sum()),
                     **{f"{name}_observed_expected{suffix}": value for name, est in e.items()
                        for suffix, value in (("", est.value), ("_low", est.low),
                                              ("_high", est.high))}})
    return pd.DataFrame(rows)




def measure_drift(blocks: Blocks, focus: FittedModel, boot_cal: rs.ClusterBootstrap,
                  boot_test: rs.ClusterBootstrap) -> tuple[pd.DataFrame, dict[str, Estimate]]:
    """What changed between the calibration block and the test block: fraud rate, the raw
    score's O/E, the number of incidents and (simulated data) the mix of fraud scenarios.

    Each block is resampled by its own bootstrap; a ratio test over calibration takes the
    replicates of the two blocks in pairs (independent blocks), so its interval carries the
    noise of both.

    Returns
    -------
    table : DataFrame
        One row per block with its counts, rates, O/E and scenario shares (with intervals).
    ratios : dict of str to Estimate
        ``fraud_rate`` and ``raw_observed_expected``, test over calibration.
    """
    confidence = boot_test.confidence
    rows, replicates = [], {}
    for name, boot, y, p, clusters, scenario in (
            ("calibration", boot_cal, blocks.y_cal, focus.calibration_scores,
             blocks.clusters_cal, blocks.scenario_cal),
            ("test", boot_test, blocks.y_test, focus.test_scores, blocks.clusters_test,
             blocks.scenario_test)):
        statistics = {"fraud_rate": rs.mean(y), "raw_observed_expected": rs.ratio(y, p)}
        if scenario is not None:
            for code in SCENARIO_NAMES:
                statistics[f"share_{code}"] = rs.ratio(y * (scenario == code), y)
        estimates = boot.intervals(statistics)
        replicates[name] = {k: boot.replicates(f) for k, f in statistics.items()
                            if k in ("fraud_rate", "raw_observed_expected")}
        frauds = y == 1
        row = _estimate_row(name, estimates)
        row.update(rows_=len(y), frauds=int(frauds.sum()),
                   fraud_clusters=(int(np.unique(clusters[frauds]).size) if clusters is not None
                                   else int(frauds.sum())))
        if scenario is not None:
            for code in SCENARIO_NAMES:
                in_scenario = frauds & (scenario == code)
                row[f"clusters_{code}"] = (int(np.unique(clusters[in_scenario]).size)
                                           if clusters is not None else int(in_scenario.sum()))
        rows.append(row)
    table = pd.DataFrame(rows).rename(columns={"label": "block", "rows_": "rows"})
    ratios = {}
    for key in ("fraud_rate", "raw_observed_expected"):
        values = table.set_index("block")[key]
        with np.errstate(divide="ignore", invalid="ignore"):
            reps = replicates["test"][key] / replicates["calibration"][key]
        ratios[key] = percentile_interval(float(values["test"] / values["calibration"]), reps,
                                          confidence)
    return table, ratios


def farthest_window(decay: pd.DataFrame) -> dict[str, Any]:
    """The decay window whose O/E is farthest from 1 (largest ``|ln O/E|``), as a record: the
    window an answer about drift quotes, whatever its position."""
    distance = np.abs(np.log(decay["observed_expected"].to_numpy(dtype=float)))
    if not np.isfinite(distance).any():
        return {}
    return decay.iloc[int(np.nanargmax(distance))].to_dict()


def worst_raw_score(metrics: pd.DataFrame) -> dict[str, Any]:
    """The model whose raw score is farthest from calibrated in the large (largest
    ``|ln O/E|``), with :func:`misforecast` of its ratio."""
    raw = metrics[metrics["calibrator"] == RAW].set_index("model")["observed_expected"]
    worst = str(raw.index[int(np.argmax(np.abs(np.log(raw.to_numpy()))))])
    return {"model": worst, **misforecast(float(raw[worst]))}


def calibrator_effect(metrics: pd.DataFrame) -> dict[str, Any]:
    """How much calibrators move ranking and scores within a model: the largest range of
    average precision across one model's calibrators, and the largest ratio of its worst to
    best log loss, with the models where they occur."""
    by_model = metrics.groupby("model", sort=False)
    ap_range = by_model["average_precision"].agg(lambda v: v.max() - v.min())
    log_loss_factor = by_model["log_loss"].agg(lambda v: v.max() / v.min())
    return {"ap_shift": float(ap_range.max()), "ap_shift_model": str(ap_range.idxmax()),
            "log_loss_factor": float(log_loss_factor.max()),
            "log_loss_factor_model": str(log_loss_factor.idxmax())}


def _interval(frame: pd.DataFrame, label: str, name: str, confidence: float) -> Estimate:
    row = frame.set_index("label").loc[label]
    return Estimate(float(row[name]), float(row[f"{name}_low"]), float(row[f"{name}_high"]),
                    confidence)


def decide_verdicts(intervals: pd.DataFrame, chosen: str, changes: dict[str, Estimate],
                    differences: dict[str, Estimate], budgets: pd.DataFrame,
                    prior_shift: pd.DataFrame, spiegelhalter_p: float, confidence: float,
                    unit: str = "transactions", drift: dict[str, Estimate] | None = None,
                    groups: pd.DataFrame | None = None,
                    asked: dict[str, Any] | None = None) -> dict[str, Verdict]:
    """Stage 7: every conclusion of the report as a verdict (rules in
    :mod:`casestudies.calibration.verdicts`).

    Parameters
    ----------
    intervals : DataFrame
        ``focus_intervals``: O/E overall and near t* with bootstrap intervals, by calibrator.
    chosen : str
        The calibrator used for decisions.
    changes : dict of str to Estimate
        Paired intervals of calibrated minus raw test scores: ``"brier"`` (the selection
        score) and ``"log_loss"``.
    differences : dict of str to Estimate
        Paired intervals of cost differences (see :data:`DIFFERENCES`).
    budgets, prior_shift : DataFrame
        Workload forecasts per budget; EM's effect per shift.
    spiegelhalter_p : float
        p-value of Spiegelhalter's test on the calibrated probabilities.
    confidence : float
        Level of the intervals.
    unit : str
        What the bootstrap resampled (incidents, a user's clusters, transactions).
    drift : dict of str to Estimate, optional
        Ratios test block over calibration block: ``"raw_observed_expected"`` and
        ``"fraud_rate"``.
    groups : DataFrame, optional
        O/E by amount band and customer segment (:func:`measure_groups`).
    asked : dict, optional
        The fraud team's next questions (:func:`ask_next_questions`).
    """
    verdicts: dict[str, Verdict] = {}

    def add(verdict: Verdict) -> None:
        verdicts[verdict.name] = verdict

    for key, label in (("raw", RAW), ("calibrated", chosen)):
        add(rules.ratio_in_band(f"{key}_score_calibrated",
                                _interval(intervals, label, "observed_expected", confidence),
                                unit=unit))
        add(rules.ratio_in_band(f"{key}_score_calibrated_near_t_star",
                                _interval(intervals, label, "band_observed_expected",
                                          confidence),
                                rule="observed over expected frauds among transactions scored "
                                     "in the band around t*: holds when its whole interval "
                                     "lies inside the calibrated band", unit=unit))
    add(calibration_helps(changes["brier"], unit))
    add(calibration_hurts(changes["brier"], unit))
    add(rules.lowers("calibration_lowers_log_loss", changes["log_loss"],
                     rule="calibrated minus raw test log loss (a proper score) below 0",
                     unit=unit))
    add(rules.lowers("calibration_lowers_cost_at_t_star",
                     differences["cost_calibrated_minus_raw"],
                     rule="cost per transaction of t* on calibrated probabilities minus on raw "
                          "probabilities below 0", unit=unit))
    add(rules.costs_more("tuned_threshold_costs_more",
                         differences["cost_tuned_minus_calibrated"],
                         rule="cost of the raw threshold tuned on the calibration block minus "
                              "that of t* on calibrated probabilities above 0 (no: below 0, the "
                              "tuned threshold is cheaper; undecided: the same within noise)",
                         unit=unit))
    if "amount_cost_rule_minus_tuned" in differences:
        add(rules.lowers("amount_rule_beats_single_threshold",
                         differences["amount_cost_rule_minus_tuned"],
                         rule="amount cost of the per-transaction rule on calibrated "
                              "probabilities minus that of one threshold tuned on the "
                              "calibration block below 0", unit=unit))
        add(rules.lowers("amount_rule_beats_oracle_threshold",
                         differences["amount_cost_rule_minus_oracle"],
                         rule="amount cost of the per-transaction rule minus that of the best "
                              "single threshold in hindsight below 0", unit=unit))
        add(rules.lowers("calibration_lowers_amount_cost",
                         differences["amount_cost_calibrated_minus_raw"],
                         rule="amount cost of the per-transaction rule on calibrated minus on "
                              "raw probabilities below 0", unit=unit))
    shifted = prior_shift[prior_shift["shifted"]]
    add(rules.every("em_correction_helps", [
        rules.lowers(f"em_helps_x{row['factor']:g}",
                     Estimate(row["em_gain"], row["em_gain_low"], row["em_gain_high"],
                              confidence), rule="", unit=f"{unit} of the shifted sample")
        for row in shifted.to_dict("records")],
        rule="at every shifted fraud rate, |ln O/E| after Saerens EM minus before has its "
             "whole interval below 0 (EM-adjusted probabilities held fixed in resamples)"))
    add(rules.every("em_lowers_cost_at_t_star", [
        rules.lowers(f"em_lowers_cost_x{row['factor']:g}",
                     Estimate(row["em_cost_change"], row["em_cost_change_low"],
                              row["em_cost_change_high"], confidence), rule="",
                     unit=f"{unit} of the shifted sample")
        for row in shifted.to_dict("records")],
        rule="at every shifted fraud rate, the cost at t* after Saerens EM minus before has its "
             "whole interval below 0"))
    add(rules.every("workload_forecast_holds", [
        rules.ratio_in_band(f"forecast_{row['budget']:g}",
                            Estimate(row["forecast_observed_expected"],
                                     row["forecast_observed_expected_low"],
                                     row["forecast_observed_expected_high"], confidence),
                            unit=f"{unit} (queue re-drawn in each resample)")
        for row in budgets.to_dict("records")],
        rule="in every alert budget, frauds found over frauds forecast (the sum of the "
             "calibrated probabilities in the queue) lies inside the calibrated band"))
    if "forecast_raw_observed_expected" in budgets:
        add(rules.every("raw_workload_forecast_holds", [
            rules.ratio_in_band(f"forecast_raw_{row['budget']:g}",
                                Estimate(row["forecast_raw_observed_expected"],
                                         row["forecast_raw_observed_expected_low"],
                                         row["forecast_raw_observed_expected_high"],
                                         confidence),
                                unit=f"{unit} (queue re-drawn in each resample)")
            for row in budgets.to_dict("records")],
            rule="in every alert budget, frauds found over the sum of the raw scores in the "
                 "queue lies inside the calibrated band"))
    if drift:
        add(rules.moved("raw_calibration_moved", drift["raw_observed_expected"],
                        rule="the raw score's O/E on the test block over its O/E on the "
                             "calibration block: holds when the interval excludes 1 (what the "
                             "calibrator learnt no longer applies), fails when it lies inside "
                             "the calibrated band", unit=f"{unit} of both blocks"))
        add(rules.moved("fraud_rate_moved", drift["fraud_rate"],
                        rule="the test block's fraud rate over the calibration block's: holds "
                             "when the interval excludes 1, fails when it lies inside the "
                             "calibrated band", unit=f"{unit} of both blocks"))
    for kind, name, what in (("amount", "calibrated_given_amount", "amount band"),
                             ("segment", "calibrated_by_segment", "customer segment")):
        if groups is None or groups.empty or kind not in set(groups["kind"]):
            continue
        for key, prefix in (("calibrated", ""), ("raw", "raw_")):
            add(rules.every(f"{prefix}{name}", [
                rules.ratio_in_band(f"{prefix}{name}_{i}", Estimate(
                    row[f"{key}_observed_expected"], row[f"{key}_observed_expected_low"],
                    row[f"{key}_observed_expected_high"], confidence), unit=unit)
                for i, row in enumerate(groups[groups["kind"] == kind].to_dict("records"))],
                rule=f"in every {what}, observed over expected frauds of the "
                     f"{'calibrated' if key == 'calibrated' else 'raw'} probabilities lies "
                     "inside the calibrated band (the whole interval); fails when one band's "
                     "interval lies wholly outside"))
    if asked:
        _question_verdicts(asked, unit, confidence, add)
    add(rules.spiegelhalter_rejects("spiegelhalter_rejects_calibrated", spiegelhalter_p))
    return verdicts


def _question_verdicts(asked: dict[str, Any], unit: str, confidence: float, add) -> None:
    """Verdicts of the fraud team's next questions (cost ratio, step-up, recalibration)."""
    ratio = asked["cost_ratio"]
    misset = ratio[np.isclose(ratio["factor"].to_numpy()[:, None],
                              np.array(questions.MISSET_FACTORS)).any(axis=1)]
    add(rules.every("threshold_robust_to_cost_ratio", [
        interval_below(f"regret_x{row['factor']:g}",
                       Estimate(row["relative_regret"], row["relative_regret_low"],
                                row["relative_regret_high"], confidence),
                       questions.REGRET_TOLERANCE, rule="", unit=unit)
        for row in misset.to_dict("records")],
        rule="when the true cost ratio c_FN/c_FP is half or twice the configured one, the extra "
             "cost of the configured t* over the right threshold, as a share of the right "
             "one's cost, has its whole interval below the tolerance"))
    three = asked["three_actions"]
    add(rules.lowers("step_up_lowers_cost", Estimate(three["difference"],
                                                     three["difference_low"],
                                                     three["difference_high"], confidence),
                     rule="cost per transaction of approve / step-up / block minus that of "
                          "block-or-approve at t* below 0 (with the configured step-up cost "
                          "and catch rate, which are assumptions)", unit=unit))
    censoring = asked.get("censoring")
    if censoring is not None and not censoring.empty:
        by_design = censoring.set_index("training")
        for design, name, rule in (
                ("blocked left unlabelled", "censoring_biases_retraining",
                 "test O/E of the model retrained without the blocked payments over that of the "
                 "model retrained with every label: holds when the interval excludes 1"),
                ("random hold-out, reweighted", "holdout_bias_remains",
                 "the same ratio for the model retrained with a random hold-out of would-be "
                 "blocked payments (reweighted): holds when the interval excludes 1")):
            if design in by_design.index:
                row = by_design.loc[design]
                add(rules.moved(name, Estimate(row["relative_to_reference"],
                                               row["relative_to_reference_low"],
                                               row["relative_to_reference_high"], confidence),
                                rule=rule, unit=unit))
    change = asked["prequential_summary"].get("brier_change")
    if change:
        add(rules.lowers("weekly_recalibration_helps", Estimate(
            change["value"], change["low"], change["high"], confidence),
            rule="Brier score with the calibrator re-fitted at each weekly window's start on "
                 "every label known by then, minus with the calibrator fitted once, pooled over "
                 "the windows after the first, below 0", unit=unit))
    change = asked["prequential_summary"].get("brier_change_raw")
    if change:
        add(rules.lowers("weekly_recalibration_beats_raw", Estimate(
            change["value"], change["low"], change["high"], confidence),
            rule="Brier score with the calibrator re-fitted weekly minus that of the raw score, "
                 "pooled over the windows after the first, below 0", unit=unit))


def ask_next_questions(selection: Selection, blocks: Blocks, data: TransactionData,
                       config: CalibrationConfig, boot: rs.ClusterBootstrap) -> dict[str, Any]:
    """Stage 6b: the questions a fraud team asks next (:mod:`casestudies.calibration.questions`):
    cost-ratio sensitivity, the three-action policy, and (with times) the prequential windows
    with daily card precision@k."""
    focus = selection.focus
    p_raw, p_chosen = focus.test_probabilities[RAW], focus.test_probabilities[selection.chosen]
    y = blocks.y_test
    asked: dict[str, Any] = {
        "cost_ratio": questions.cost_ratio_sensitivity(y, p_chosen, p_raw, config.cost_fp,
                                                       config.cost_fn, boot),
        "three_actions": questions.three_actions(y, p_chosen, config.cost_fp, config.cost_fn,
                                                 config.cost_step_up, config.step_up_catch,
                                                 boot),
        "prequential": pd.DataFrame(), "prequential_summary": {},
    }
    # The rule as if it had been live during the calibration block: its blocked payments get
    # no label, and the next model is retrained on what is left.
    t_star = dec.bayes_threshold(config.cost_fp, config.cost_fn)
    deployed = focus.calibrators.get(selection.chosen)
    p_cal = (deployed.predict(focus.calibration_scores) if deployed is not None
             else focus.calibration_scores)
    asked["censoring"], asked["censoring_summary"] = questions.censored_retraining(
        blocks.X_cal, blocks.y_cal, p_cal >= t_star, blocks.X_test, y, t_star, config.cost_fp,
        config.cost_fn, boot, stream(config.seed, "censoring", "hold-out"))
    if blocks.time_test is not None and blocks.time_cal is not None:
        card = data.card[blocks.split.test] if data.card is not None else None
        table, summary = questions.prequential(
            blocks.y_cal, focus.calibration_scores, blocks.time_cal, y, focus.test_scores,
            p_chosen, blocks.time_test, card, selection.chosen, focus.clip,
            config.label_delay_days, boot, stream(config.seed, "prequential", "days"))
        asked.update(prequential=table, prequential_summary=summary)
    return asked


def _deciding_row(frame: pd.DataFrame, name: str) -> int:
    """Position in ``frame`` of the row the :func:`~casestudies.calibration.verdicts.every`
    verdict ``name`` rests on (-1 when the frame is empty)."""
    columns = {"workload_forecast_holds": "forecast_holds", "em_correction_helps": "em_closer",
               "em_lowers_cost_at_t_star": "em_cost_lower"}
    return rules.deciding_index(frame[columns[name]].tolist())


def resampling_summary(unit: str, boot: rs.ClusterBootstrap, boot_cal: rs.ClusterBootstrap,
                       clustered: bool) -> dict[str, Any]:
    """What every interval resampled, for the report and the JSON."""
    short = ("incidents" if unit.startswith("incidents") else
             "groups of the --cluster column" if clustered else "transactions")
    return {"unit": unit, "unit_short": short, "clustered": bool(clustered),
            "replicates": boot.n_resamples,
            "test_units": boot.n_clusters, "test_rows": boot.n_rows,
            "calibration_units": boot_cal.n_clusters, "calibration_rows": boot_cal.n_rows,
            "confidence": boot.confidence}


def _settings(config: CalibrationConfig, t_star: float, band: tuple[float, float],
              split: Split, test_rate: float) -> dict[str, Any]:
    return {
        "cost_fp": config.cost_fp, "cost_fn": config.cost_fn, "t_star": t_star, "band": band,
        "band_factor": BAND_FACTOR,
        "prior_shift_factors": robustness.feasible_shift_factors(test_rate),
        "shifted_factors": [f for f in robustness.feasible_shift_factors(test_rate)
                            if f != 1.0],
        "gap_days": config.gap_days, "gap_rows_dropped": split.dropped,
        "has_gap": bool(config.gap_days > 0),
        "n_bootstrap": config.n_bootstrap, "n_noise_floor": config.n_noise_floor,
        "confidence": config.confidence,
        "n_bins": config.n_bins, "seed": config.seed, "quick": config.quick,
        "budgets": list(config.budgets), "train_fraction": config.train_fraction,
        "calibration_fraction": config.calibration_fraction,
        "n_customers": config.n_customers, "n_terminals": config.n_terminals,
        "n_days": config.n_days, "label_delay_days": config.label_delay_days,
        "min_calibration_positives": config.min_calibration_positives,
    }


def _constants(config: CalibrationConfig) -> dict[str, Any]:
    """Constants the report quotes: thresholds of the verdicts, the logit clip, the example
    amounts and their thresholds, the default costs and the simulator's parameters."""
    from casestudies.calibration.data import GRID_SIZE, WINDOWS_DAYS, simulate_transactions

    simulator = {name: parameter.default for name, parameter in
                 inspect.signature(simulate_transactions).parameters.items()
                 if parameter.default is not inspect.Parameter.empty}
    simulator.update(grid_size=GRID_SIZE, windows_days=list(WINDOWS_DAYS))
    if "time_of_day_sd" in simulator:
        simulator["time_of_day_sd_hours"] = simulator["time_of_day_sd"] / 3600
    defaults = {f.name: f.default for f in dataclasses.fields(CalibrationConfig)}
    from casestudies.calibration.data import LITTLE_HISTORY

    return {
        "little_history": LITTLE_HISTORY, "regret_tolerance": questions.REGRET_TOLERANCE,
        "misset_factors": list(questions.MISSET_FACTORS),
        "calibrated_band": list(rules.CALIBRATED_BAND),
        "improvement_threshold": rules.IMPROVEMENT_THRESHOLD,
        "spiegelhalter_level": rules.SPIEGELHALTER_LEVEL,
        "logit_clip": LOGIT_CLIP,
        "logit_floor": float(cm.logit(np.array([0.0]), LOGIT_CLIP)[0]),
        "example_amounts": [{"amount": a, "threshold": float(
            dec.amount_thresholds([a], config.cost_fp)[0])} for a in EXAMPLE_AMOUNTS],
        "default_cost_fp": defaults.get("cost_fp"), "default_cost_fn": defaults.get("cost_fn"),
        "uses_default_costs": bool(config.cost_fp == defaults.get("cost_fp")
                                   and config.cost_fn == defaults.get("cost_fn")),
        "simulator": simulator,
    }


def run(config: CalibrationConfig, data: TransactionData) -> CalibrationResult:
    """Run the whole analysis on ``data``; see the module docstring for the stages."""
    timer = StageTimer()
    with timer.stage("split"):
        blocks = split_blocks(data, config)
    with timer.stage("train models"):
        fitted = fit_models(blocks, config)
    with timer.stage("calibrate"):
        selection = calibrate_and_select(fitted, blocks)
    t_star = dec.bayes_threshold(config.cost_fp, config.cost_fn)
    band = (t_star / BAND_FACTOR, min(BAND_FACTOR * t_star, 1.0))
    unit = data.cluster_unit
    # One set of resamples per block, drawn once: every interval on the test block (every
    # metric, rule, budget, window and shift) is computed on these same resamples.
    boot = rs.ClusterBootstrap(blocks.clusters_test, config.n_bootstrap,
                               stream(config.seed, "cluster bootstrap", "test"),
                               config.confidence, n=len(blocks.y_test))
    boot_cal = rs.ClusterBootstrap(blocks.clusters_cal, config.n_bootstrap,
                                   stream(config.seed, "cluster bootstrap", "calibration"),
                                   config.confidence, n=len(blocks.y_cal))
    with timer.stage("metrics"):
        metrics, models = measure_models(fitted, blocks, t_star, band, config)
    with timer.stage("bootstrap intervals"):
        evidence = measure_focus(selection, fitted, blocks, band, config, boot)
        drift, drift_ratios = measure_drift(blocks, selection.focus, boot_cal, boot)
        groups = measure_groups(
            blocks, data.segment[blocks.split.test] if data.segment is not None else None,
            selection.focus.test_probabilities[RAW],
            selection.focus.test_probabilities[selection.chosen], boot)
    with timer.stage("decisions"):
        decisions = decide(selection, blocks, t_star, config, boot)
    with timer.stage("robustness"):
        robust = check_robustness(selection, blocks, decisions.tuned, config, boot)
    with timer.stage("next questions"):
        asked = ask_next_questions(selection, blocks, data, config, boot)

    focus, chosen = selection.focus, selection.chosen
    differences = {"brier_calibrated_minus_raw": evidence.brier_change,
                   "log_loss_calibrated_minus_raw": evidence.log_loss_change,
                   **decisions.differences}
    paired = pd.DataFrame([{"name": name, "comparison": DIFFERENCES[name], "value": e.value,
                            "low": e.low, "high": e.high, "unit": unit}
                           for name, e in differences.items()])
    chosen_row = metrics.set_index(["model", "calibrator"]).loc[(focus.name, chosen)]
    verdicts = decide_verdicts(evidence.intervals, chosen,
                               {"brier": evidence.brier_change,
                                "log_loss": evidence.log_loss_change},
                               decisions.differences, decisions.budgets,
                               robust["prior_shift"], float(chosen_row["spiegelhalter_p"]),
                               config.confidence, unit, drift_ratios, groups, asked)
    shifted = robust["prior_shift"][robust["prior_shift"]["shifted"]]
    deciding_rows = {
        name: float(frame.iloc[index][key]) for name, frame, key in (
            ("workload_forecast_holds", decisions.budgets, "budget"),
            ("em_correction_helps", shifted, "factor"),
            ("em_lowers_cost_at_t_star", shifted, "factor"))
        if (index := _deciding_row(frame, name)) >= 0}
    raw_metrics = metrics[metrics["calibrator"] == RAW].set_index("model")["observed_expected"]
    y = data.y
    split = blocks.split
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
    return CalibrationResult(
        stage_seconds=timer.seconds, source=data.source, kind=data.kind,
        n_rows=len(y), feature_names=list(data.features.columns),
        loading=data.loading, base_rate=float(y.mean()),
        n_frauds=int(y.sum()), has_time=data.time is not None,
        has_amount=data.amount is not None, preview=data.preview,
        scenario_counts=scenario_counts, settings=_settings(config, t_star, band, split,
                                                                 float(blocks.y_test.mean())),
        constants=_constants(config), split=split_frame, models=models,
        focus_model=focus.name, chosen_calibrator=chosen, calibrator_selection=selection.table,
        chosen_by_log_loss=selection.chosen_by_log_loss,
        log_loss_picks_same=selection.chosen_by_log_loss == chosen, resampling=resampling_summary(
            unit, boot, boot_cal, data.clusters is not None),
        drift=drift, drift_ratios={k: dataclasses.asdict(e) for k, e in drift_ratios.items()},
        groups=groups, cost_ratio=asked["cost_ratio"], three_actions=asked["three_actions"],
        prequential=asked["prequential"], prequential_summary=asked["prequential_summary"],
        censoring=asked["censoring"], censoring_summary=asked["censoring_summary"],
        calibrator_parameters=selection.parameters, metrics=metrics,
        focus_intervals=evidence.intervals, metric_card=evidence.card, noise=evidence.noise,
        noise_summary=evidence.noise_summary, reliability=evidence.reliability,
        model_reliability=evidence.model_reliability,
        constant_forecast=evidence.constant_forecast, sklearn_sigmoid=selection.sklearn_sigmoid,
        decisions_constant=decisions.constant, decisions_amount=decisions.amount,
        paired_differences=paired, cost_curve=decisions.cost_curve, budgets=decisions.budgets,
        size_sweep=robust["size_sweep"],
        size_sweep_summary=robustness.isotonic_crossings(robust["size_sweep"],
                                                         SELECTION_SCORE),
        prior_shift=robust["prior_shift"], decay=robust["decay"],
        decay_windows_excluding_one=int(robust["decay"]["excludes_one"].sum()),
        decay_farthest=farthest_window(robust["decay"]),
        undersampling_check=robust["undersampling_check"],
        worst_raw=worst_raw_score(metrics),
        undersampled_raw=(misforecast(float(raw_metrics[UNDERSAMPLED_MODEL]))
                          if UNDERSAMPLED_MODEL in raw_metrics.index else None),
        calibrator_effect=calibrator_effect(metrics), verdicts=verdicts,
        deciding_rows=deciding_rows,
        test_y=blocks.y_test, test_p_chosen=focus.test_probabilities[chosen],
        test_p_raw=focus.test_probabilities[RAW],
    )
