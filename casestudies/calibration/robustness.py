"""Robustness checks of a calibration: how many frauds a calibrator needs, what a change of fraud
rate does (and whether Saerens EM repairs it), and how calibration decays over time.

Each analysis draws from its own named random stream of the seed (:mod:`casestudies.rng`), so
that adding a size, a shift or a window leaves the others' numbers as they were.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from casestudies import progress
from casestudies.calibration import decisions as dec
from casestudies.calibration import metrics as cm
from casestudies.calibration import resampling as rs
from casestudies.calibration import verdicts as rules
from casestudies.calibration.calibrators import CALIBRATORS, undersampling_correction
from casestudies.calibration.config import CalibrationConfig
from casestudies.rng import stream

# Fraud rate at deployment, as multiples of the test block's, for the prior-shift analysis.
PRIOR_SHIFT_FACTORS = (0.5, 1.0, 2.0)
# Calibration-set sizes (frauds) of the size sweep; the block's own count is added.
SWEEP_SIZES = (10, 20, 40, 80, 160, 320)
SWEEP_CALIBRATORS = ("Platt (logit)", "isotonic (clipped)", "beta")
# Consecutive windows of the test block in the decay analysis.
DECAY_WINDOWS = 4
# The prior-shift intervals resample the incidents (clusters) of each shifted sample.
SHIFT_UNIT = "resampling units of the shifted sample"


def size_sweep(calibration_scores: np.ndarray, test_scores: np.ndarray, y_cal: np.ndarray,
               y_test: np.ndarray, seed: int, repeats: int, n_bins: int,
               clip: float | None = None) -> pd.DataFrame:
    """Test Brier score and log loss of Platt, isotonic and beta fitted on calibration subsamples
    holding a given number of frauds (genuine rows kept in the block's proportion); each size
    draws its subsamples from its own stream. The log-odds calibrators take the model's
    ``clip`` (half a tree's vote for a forest) as the pipeline does, so the sweep compares
    calibrators, not clip values."""
    positives = np.flatnonzero(y_cal == 1)
    negatives = np.flatnonzero(y_cal == 0)
    ratio = len(negatives) / len(positives)
    sizes = [s for s in SWEEP_SIZES if s < len(positives)] + [len(positives)]
    rows = []
    for n_pos in progress.progress(sizes, desc="calibration-size sweep"):
        rng = stream(seed, "size sweep", str(n_pos))
        for repeat in range(repeats if n_pos < len(positives) else 1):
            pos = rng.choice(positives, n_pos, replace=False)
            neg = rng.choice(negatives, min(len(negatives), round(n_pos * ratio)),
                             replace=False)
            rows_ = np.concatenate([pos, neg])
            for name in SWEEP_CALIBRATORS:
                model = CALIBRATORS[name](clip=clip).fit(calibration_scores[rows_],
                                                         y_cal[rows_])
                p = model.predict(test_scores)
                rows.append({"frauds": n_pos, "rows": len(rows_), "repeat": repeat,
                             "calibrator": name, "log_loss": cm.log_loss(y_test, p),
                             "brier": cm.brier_score(y_test, p),
                             "ece_mass": cm.ece(y_test, p, n_bins, "mass")})
    raw = cm.log_loss(y_test, test_scores, clip or cm.EPS)
    frame = pd.DataFrame(rows)
    summary = (frame.groupby(["frauds", "calibrator"], sort=True)
               .agg(rows=("rows", "mean"), log_loss=("log_loss", "mean"),
                    log_loss_sd=("log_loss", "std"), brier=("brier", "mean"),
                    brier_sd=("brier", "std"), ece_mass=("ece_mass", "mean"))
               .reset_index())
    summary["raw_log_loss"] = raw
    summary["raw_brier"] = cm.brier_score(y_test, test_scores)
    return summary


# A shift that would push the fraud rate past this leaves too few genuine transactions to measure
# anything (at a rate of 1 there are none): such a factor is left out for that table.
MAX_SHIFTED_RATE = 0.9


def feasible_shift_factors(rate: float) -> list[float]:
    """The factors of :data:`PRIOR_SHIFT_FACTORS` that a test block with fraud rate ``rate`` can
    be resampled to (all of them on the usual rare-fraud data; fewer on a balanced table)."""
    return [f for f in PRIOR_SHIFT_FACTORS if f * rate <= MAX_SHIFTED_RATE]


def shifted_sample(y: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
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


def log_ratio_distance(y: np.ndarray, p: np.ndarray) -> float:
    """``|ln(O/E)|``: how far calibration in the large is from 1, x0.5 as far as x2."""
    return abs(float(np.log(cm.observed_expected(y, p))))


def prior_shift(y: np.ndarray, p: np.ndarray, calibration_rate: float,
                config: CalibrationConfig, p_raw: np.ndarray, tuned: float,
                boot: rs.ClusterBootstrap) -> pd.DataFrame:
    """The test block resampled to other fraud rates: calibration in the large before and after
    Saerens EM, and the cost of blocking at t* on the probabilities as they are, adjusted by EM,
    adjusted with the true rate, against the raw-score threshold tuned before the shift.

    Each shift also gets paired intervals from ``boot`` restricted to the shifted sample's rows
    (whole incidents resampled, the EM-adjusted probabilities held as computed) of what EM
    changed: ``em_gain`` is ``|ln O/E|`` after EM minus before (below 0: closer to 1),
    ``em_cost_change`` the cost at t* after EM minus before.
    """
    t_star = dec.bayes_threshold(config.cost_fp, config.cost_fn)
    rows = []
    for factor in feasible_shift_factors(float(np.mean(y))):
        index = shifted_sample(y, factor, stream(config.seed, "prior shift", f"{factor:g}"))
        ys, ps = y[index], p[index]
        estimate, adjusted = dec.saerens_em(ps, calibration_rate)
        rate = ys.mean()
        # Bayes' rule with the true new rate: what a perfect rate estimate would give.
        oracle = dec.adjust_to_prior(ps, calibration_rate, rate)

        def cost(y_, p_):
            return dec.constant_cost(y_, p_ >= t_star, config.cost_fp, config.cost_fn)

        def cost_rows(p_, ys=ys):
            return (np.where((p_ >= t_star) & (ys == 0), config.cost_fp, 0.0)
                    + np.where((p_ < t_star) & (ys == 1), config.cost_fn, 0.0))

        before, after = rs.ratio(ys, ps), rs.ratio(ys, adjusted)
        changes = boot.intervals({
            "em_gain": lambda w, b=before, a=after: (np.abs(np.log(a(w)))
                                                     - np.abs(np.log(b(w)))),
            "em_cost_change": rs.mean(cost_rows(adjusted) - cost_rows(ps))}, rows=index)
        gain = rules.lowers(f"em_helps_x{factor:g}", changes["em_gain"],
                            rule="EM brings O/E closer to 1")
        cost_change = rules.lowers(f"em_lowers_cost_x{factor:g}", changes["em_cost_change"],
                                   rule="EM lowers the cost at t*")
        rows.append({
            "factor": factor, "shifted": factor != 1.0, "rows": len(index), "true_rate": rate,
            "mean_predicted": float(ps.mean()), "em_rate": estimate,
            "observed_expected": cm.observed_expected(ys, ps),
            "observed_expected_em": cm.observed_expected(ys, adjusted),
            "cost_before": cost(ys, ps), "cost_em": cost(ys, adjusted),
            "cost_true_rate": cost(ys, oracle),
            "cost_tuned_raw": dec.constant_cost(ys, p_raw[index] >= tuned, config.cost_fp,
                                                config.cost_fn),
            **{f"{name}{suffix}": value for name, e in changes.items()
               for suffix, value in (("", e.value), ("_low", e.low), ("_high", e.high))},
            "em_closer": gain.state, "em_cost_lower": cost_change.state,
        })
    return pd.DataFrame(rows)


def decay(y: np.ndarray, p: np.ndarray, time: np.ndarray | None, config: CalibrationConfig,
          boot: rs.ClusterBootstrap, n_windows: int = DECAY_WINDOWS) -> pd.DataFrame:
    """O/E, log loss and average precision in consecutive windows of the test block, with an
    interval of O/E per window (the test block's incident resamples restricted to the window)
    and whether it excludes 1."""
    rows = []
    for w, index in enumerate(np.array_split(np.arange(len(y)), n_windows)):
        ys, ps = y[index], p[index]
        oe = boot.intervals({"oe": rs.ratio(ys, ps)}, rows=index)["oe"]
        rows.append({
            "window": w + 1,
            "start": pd.Timestamp(time[index[0]]) if time is not None else None,
            "end": pd.Timestamp(time[index[-1]]) if time is not None else None,
            "rows": len(index), "frauds": int(ys.sum()), "rate": float(ys.mean()),
            "mean_predicted": float(ps.mean()), "observed_expected": oe.value,
            "observed_expected_low": oe.low, "observed_expected_high": oe.high,
            "excludes_one": bool(oe.low > 1 or oe.high < 1),
            "log_loss": cm.log_loss(ys, ps),
            "average_precision": (float(average_precision_score(ys, ps)) if ys.any()
                                  else float("nan")),
        })
    return pd.DataFrame(rows)


def undersampling_check(seed: int, n: int = 200_000, beta: float = 0.02) -> dict[str, float]:
    """Simulate a known posterior, undersample the negatives with rate ``beta``, and check that
    the analytic correction recovers the posterior from the biased one."""
    rng = stream(seed, "undersampling check")
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


def isotonic_crossings(sweep: pd.DataFrame, metric: str = "brier") -> dict[str, Any]:
    """Where isotonic catches up with the parametric calibrators in the size sweep.

    Returns the smallest and largest sizes tried, each calibrator's mean ``metric`` (the
    selection score, Brier by default) at the
    smallest size, whether isotonic beat Platt there, and for Platt and beta the smallest number
    of frauds from which isotonic's log loss stays at or below theirs at every larger size
    (``None`` if it never does) with a word for the template: ``"always"`` (from the smallest
    size), ``"from"`` (from a larger size) or ``"never"``.
    """
    pivot = sweep.pivot(index="frauds", columns="calibrator", values=metric)
    smallest = pivot.iloc[0]
    isotonic_from: dict[str, int | None] = {}
    pattern: dict[str, str] = {}
    for rival in ("Platt (logit)", "beta"):
        wins = (pivot["isotonic (clipped)"] <= pivot[rival]).to_numpy()
        stays = np.flatnonzero(np.logical_and.accumulate(wins[::-1])[::-1])
        start = int(pivot.index[stays[0]]) if stays.size else None
        isotonic_from[rival] = start
        pattern[rival] = ("never" if start is None else
                          "always" if start == int(pivot.index[0]) else "from")
    return {
        "smallest_frauds": int(pivot.index[0]), "largest_frauds": int(pivot.index[-1]),
        "smallest": {str(k): float(v) for k, v in smallest.items()},
        "isotonic_beats_platt_at_smallest": bool(smallest["isotonic (clipped)"]
                                                 < smallest["Platt (logit)"]),
        "isotonic_from": isotonic_from, "isotonic_pattern": pattern, "metric": metric,
    }
