"""The questions a fraud team asks once the threshold is set, answered on the test block:

* :func:`cost_ratio_sensitivity`: the costs are never known exactly; how do t* and the cost move
  with the ratio ``c_FN / c_FP``, and what does a mis-set ratio cost (regret)?
* :func:`three_actions`: approve, step-up check or block, with two thresholds from three costs;
* :func:`prequential`: consecutive windows of the test block instead of one block: the
  calibrator fixed once against one re-fitted on the labels available at each window's start,
  and the daily card precision@k investigators see;
* :func:`censored_retraining`: blocked payments never get a label, so the next model learns
  from censored data; one retraining cycle with and without a small random hold-out.

Every interval comes from the test block's cluster bootstrap
(:class:`~casestudies.calibration.resampling.ClusterBootstrap`), restricted to the rows a
statistic uses, so that comparisons are paired.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from casestudies.calibration import resampling as rs
from casestudies.calibration.calibrators import CALIBRATORS
from casestudies.stats import Estimate, percentile_interval

# The cost ratios c_FN / c_FP tried: the configured ratio times these factors.
RATIO_FACTORS = tuple(float(2 ** (k / 2)) for k in range(-6, 7))
# A ratio "mis-set by a factor of two" either way: the sensitivity verdict looks at these.
MISSET_FACTORS = (0.5, 2.0)
REGRET_TOLERANCE = 0.10
"""Relative regret (extra cost of the configured t* over the right one, as a share of the right
one's cost) a team can live with when it got the cost ratio wrong by a factor of two. Ten per cent
is a convention: smaller than the cost's own sampling interval on a few weeks of fraud, large
enough that a rule inside it needs no re-tuning when the cost estimate is revised."""

# Days of one prequential window, and investigators' daily capacity in cards.
WINDOW_DAYS = 7
CARDS_PER_DAY = 20


def _cost_rows(y: np.ndarray, blocked: np.ndarray, cost_fp: float, cost_fn: float
               ) -> np.ndarray:
    return np.where(blocked & (y == 0), cost_fp, 0.0) + np.where(~blocked & (y == 1), cost_fn,
                                                                 0.0)


def cost_ratio_sensitivity(y: np.ndarray, p_calibrated: np.ndarray, p_raw: np.ndarray,
                           cost_fp: float, cost_fn: float, boot: rs.ClusterBootstrap
                           ) -> pd.DataFrame:
    """Cost per transaction at each true cost ratio ``r = c_FN / c_FP`` (``c_FP`` fixed): with
    the threshold set for ``r`` (``t*(r) = 1 / (1 + r)``) and with the configured ``t*``, on the
    calibrated probabilities, and the regret of the configured one (its extra cost, paired).

    Returns one row per ratio: ``ratio``, ``factor`` (over the configured ratio), ``t_star``,
    ``cost_right`` and ``cost_configured`` (calibrated), ``cost_raw`` (raw score at ``t*(r)``),
    ``regret`` and ``relative_regret`` with intervals.
    """
    y = np.asarray(y)
    base = cost_fn / cost_fp
    configured = p_calibrated >= cost_fp / (cost_fp + cost_fn)
    rows = []
    for factor in RATIO_FACTORS:
        ratio = base * factor
        t = 1 / (1 + ratio)
        right = _cost_rows(y, p_calibrated >= t, cost_fp, cost_fp * ratio)
        used = _cost_rows(y, configured, cost_fp, cost_fp * ratio)
        raw = _cost_rows(y, p_raw >= t, cost_fp, cost_fp * ratio)
        e = boot.intervals({"regret": rs.mean(used - right),
                            "relative_regret": rs.ratio(used - right, right)})
        rows.append({"ratio": ratio, "factor": factor, "t_star": t,
                     "cost_right": float(right.mean()), "cost_configured": float(used.mean()),
                     "cost_raw": float(raw.mean()),
                     **{f"{k}{s}": v for k, est in e.items()
                        for s, v in (("", est.value), ("_low", est.low), ("_high", est.high))}})
    return pd.DataFrame(rows)


def step_up_thresholds(cost_fp: float, cost_fn: float, cost_step_up: float,
                       catch: float) -> tuple[float, float]:
    """The two thresholds of approve / step-up / block for a calibrated probability ``p``.

    Expected costs: approve ``p c_FN``; step-up ``(1-p) c_S + p (1-k) c_FN`` (the check costs a
    genuine customer ``c_S`` and stops a fraud with probability ``k``); block ``(1-p) c_FP``.
    Step up rather than approve when ``p > c_S / (c_S + k c_FN)``; block rather than step up
    when ``p > (c_FP - c_S) / (c_FP - c_S + (1-k) c_FN)``. When the first is not below the
    second the check is never worth it and both equal the two-action ``t*``.
    """
    low = cost_step_up / (cost_step_up + catch * cost_fn)
    spare = cost_fp - cost_step_up
    high = spare / (spare + (1 - catch) * cost_fn) if spare > 0 else 0.0
    if not low < high:
        t = cost_fp / (cost_fp + cost_fn)
        return t, t
    return low, high


def three_actions(y: np.ndarray, p: np.ndarray, cost_fp: float, cost_fn: float,
                  cost_step_up: float, catch: float, boot: rs.ClusterBootstrap
                  ) -> dict[str, Any]:
    """Approve / step-up / block on calibrated probabilities against block-or-approve at t*:
    the thresholds, the share of payments in each action, each policy's cost per transaction
    and the paired interval of their difference (three actions minus two)."""
    y = np.asarray(y)
    low, high = step_up_thresholds(cost_fp, cost_fn, cost_step_up, catch)
    step = (p >= low) & (p < high)
    block = p >= high
    fraud, genuine = y == 1, y == 0
    three = (np.where(block & genuine, cost_fp, 0.0)
             + np.where(step & genuine, cost_step_up, 0.0)
             + np.where(step & fraud, (1 - catch) * cost_fn, 0.0)
             + np.where(~step & ~block & fraud, cost_fn, 0.0))
    two = _cost_rows(y, p >= cost_fp / (cost_fp + cost_fn), cost_fp, cost_fn)
    e = boot.intervals({"difference": rs.mean(three - two), "cost_three": rs.mean(three),
                        "cost_two": rs.mean(two)})
    return {"threshold_step_up": low, "threshold_block": high,
            "step_up_used": bool(low < high), "cost_step_up": cost_step_up, "catch": catch,
            "share_approve": float(np.mean(~step & ~block)), "share_step_up": float(step.mean()),
            "share_block": float(block.mean()),
            "frauds_stepped_up": int((step & fraud).sum()),
            "frauds_blocked": int((block & fraud).sum()),
            **{f"{k}{s}": v for k, est in e.items()
               for s, v in (("", est.value), ("_low", est.low), ("_high", est.high))}}


def _daily_card_precision(day: np.ndarray, card: np.ndarray, score: np.ndarray,
                          y: np.ndarray, k: int) -> pd.DataFrame:
    """Per day: the ``k`` cards with the highest score that day, and the share of them with at
    least one fraud that day (card precision@k, Le Borgne et al. 2022)."""
    frame = pd.DataFrame({"day": day, "card": card, "score": score, "fraud": y})
    cards = frame.groupby(["day", "card"], sort=False).agg(score=("score", "max"),
                                                           fraud=("fraud", "max")).reset_index()
    top = (cards.sort_values(["day", "score"], ascending=[True, False], kind="stable")
           .groupby("day", sort=True).head(k))
    out = top.groupby("day", sort=True).agg(cards=("card", "size"),
                                            fraud_cards=("fraud", "sum")).reset_index()
    out["precision"] = out["fraud_cards"] / out["cards"]
    return out


def prequential(y_cal: np.ndarray, s_cal: np.ndarray, time_cal: np.ndarray,
                y_test: np.ndarray, s_test: np.ndarray, p_fixed: np.ndarray,
                time_test: np.ndarray, card: np.ndarray | None, calibrator: str,
                clip: float | None, label_delay_days: float, boot: rs.ClusterBootstrap,
                rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Consecutive weekly windows of the test block, evaluated as they would be in production.

    For each window the calibrator chosen on the calibration block is (a) kept as fitted once,
    and (b) re-fitted at the window's start on every label known by then: the calibration
    block and the test payments older than the label delay. Each window reports O/E of both,
    the paired change in Brier score (re-fitted minus fixed), and the mean daily card
    precision@k of the score (the ranking does not depend on the calibrator).

    Returns the window table and a summary with the paired Brier change pooled over every
    window after the first (the windows where re-fitting has new labels to use).
    """
    y_test = np.asarray(y_test)
    start = time_test[0]
    days = ((time_test - start) / np.timedelta64(1, "D")).astype(np.int64)
    window = days // WINDOW_DAYS
    refit = np.empty_like(np.asarray(p_fixed, dtype=np.float64))
    rows = []
    delay = np.timedelta64(int(label_delay_days * 86_400), "s")
    for w in np.unique(window):
        index = np.flatnonzero(window == w)
        known = time_test < time_test[index[0]] - delay
        ys = np.r_[y_cal, y_test[known]]
        ss = np.r_[s_cal, s_test[known]]
        if calibrator in CALIBRATORS:
            model = CALIBRATORS[calibrator](clip=clip).fit(ss, ys)
            refit[index] = model.predict(s_test[index])
        else:
            refit[index] = s_test[index]
        yw = y_test[index].astype(np.float64)
        e = boot.intervals({
            "fixed": rs.ratio(yw, p_fixed[index]), "refit": rs.ratio(yw, refit[index]),
            "brier_change": rs.mean((refit[index] - yw) ** 2 - (p_fixed[index] - yw) ** 2)},
            rows=index)
        row = {"window": int(w) + 1, "start": pd.Timestamp(time_test[index[0]]),
               "end": pd.Timestamp(time_test[index[-1]]), "rows": int(index.size),
               "frauds": int(yw.sum()), "new_labels": int(known.sum()),
               **{f"{k}{s}": v for k, est in e.items()
                  for s, v in (("", est.value), ("_low", est.low), ("_high", est.high))}}
        if card is not None:
            daily = _daily_card_precision(days[index], card[index], s_test[index],
                                          y_test[index], CARDS_PER_DAY)
            row["days"] = len(daily)
            row["card_precision"] = float(daily["precision"].mean())
        rows.append(row)
    table = pd.DataFrame(rows)
    later = np.flatnonzero(window > window.min())
    summary: dict[str, Any] = {"window_days": WINDOW_DAYS, "cards_per_day": CARDS_PER_DAY,
                               "windows": len(table)}
    if later.size:
        yl = y_test[later].astype(np.float64)
        changes = boot.intervals({
            "brier_change": rs.mean((refit[later] - yl) ** 2 - (p_fixed[later] - yl) ** 2),
            "brier_change_raw": rs.mean((refit[later] - yl) ** 2 - (s_test[later] - yl) ** 2)},
            rows=later)
        summary["brier_change"] = _as_dict(changes["brier_change"])
        summary["brier_change_raw"] = _as_dict(changes["brier_change_raw"])
    if card is not None:
        daily = _daily_card_precision(days, card, s_test, y_test, CARDS_PER_DAY)
        # Days are the unit here: investigators' workload is daily, and fraud incidents last
        # days to weeks, so neighbouring days are dependent; the interval resamples whole
        # windows of days (moving blocks of WINDOW_DAYS).
        summary["card_precision"] = _as_dict(_block_mean_interval(
            daily["precision"].to_numpy(), WINDOW_DAYS, boot.n_resamples, boot.confidence,
            rng))
        summary["days"] = len(daily)
    return table, summary


def _block_mean_interval(values: np.ndarray, block: int, n_resamples: int,
                         confidence: float, rng: np.random.Generator) -> Estimate:
    """Mean of daily values with a moving-block bootstrap interval (blocks of ``block`` days)."""
    n = len(values)
    block = max(1, min(block, n))
    starts = np.arange(n - block + 1)
    count = int(np.ceil(n / block))
    draws = rng.choice(starts, size=(n_resamples, count))
    index = (draws[:, :, None] + np.arange(block)).reshape(n_resamples, -1)[:, :n]
    return percentile_interval(float(values.mean()), values[index].mean(axis=1), confidence)


def _as_dict(e: Estimate) -> dict[str, float]:
    return {"value": e.value, "low": e.low, "high": e.high, "confidence": e.confidence}



HOLDOUT_SHARE = 0.05
"""Share of the payments the rule would block that a random hold-out lets through instead, so
that they get a label: small enough to cost little fraud, large enough to leave a few dozen
labelled blocked-type frauds per retraining block at this fraud rate."""


def _retrain(X: np.ndarray, y: np.ndarray, weight: np.ndarray):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return model.fit(X, y, logisticregression__sample_weight=weight)


def censored_retraining(X_cal: np.ndarray, y_cal: np.ndarray, blocked: np.ndarray,
                        X_test: np.ndarray, y_test: np.ndarray, t_star: float,
                        cost_fp: float, cost_fn: float, boot: rs.ClusterBootstrap,
                        rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One retraining cycle on censored labels.

    The blocking rule was live during the calibration block (``blocked``), so its blocked
    payments have no label. A logistic regression (well calibrated when its labels are
    complete; a second of work) is retrained on that block three ways: with every label (what
    nobody has, the reference), on the unblocked payments only (what a team has), and on the
    unblocked payments plus a random hold-out: a share :data:`HOLDOUT_SHARE` of the would-be
    blocked payments let through and labelled, weighted by ``1 / HOLDOUT_SHARE`` (inverse
    probability of being observed). Each model is scored on the test block: O/E, recall and
    cost at t*, and its O/E over the reference's (paired), with intervals from ``boot``.
    """
    y_cal = np.asarray(y_cal)
    holdout = blocked & (rng.random(len(y_cal)) < HOLDOUT_SHARE)
    designs = {
        "every label (reference)": (np.ones(len(y_cal), bool), np.ones(len(y_cal))),
        "blocked left unlabelled": (~blocked, np.ones(len(y_cal))),
        "random hold-out, reweighted": (~blocked | holdout,
                                        np.where(holdout, 1 / HOLDOUT_SHARE, 1.0)),
    }
    y = np.asarray(y_test).astype(np.float64)
    probabilities, rows = {}, []
    for name, (rows_, weight) in designs.items():
        if y_cal[rows_].min() == y_cal[rows_].max():
            continue
        model = _retrain(X_cal[rows_], y_cal[rows_], weight[rows_])
        probabilities[name] = model.predict_proba(X_test)[:, 1]
    reference = probabilities.get("every label (reference)")
    for name, p in probabilities.items():
        blocks = p >= t_star
        cost = _cost_rows(y.astype(int), blocks, cost_fp, cost_fn)
        statistics = {"observed_expected": rs.ratio(y, p), "recall": rs.ratio(y * blocks, y),
                      "cost": rs.mean(cost)}
        if reference is not None:
            statistics["relative_to_reference"] = (
                lambda w, p=p: rs.ratio(y, p)(w) / rs.ratio(y, reference)(w))
        e = boot.intervals(statistics)
        train_rows = designs[name][0]
        rows.append({"training": name, "rows": int(train_rows.sum()),
                     "frauds": int(y_cal[train_rows].sum()),
                     **{f"{k}{s}": v for k, est in e.items()
                        for s, v in (("", est.value), ("_low", est.low), ("_high", est.high))}})
    summary = {"holdout_share": HOLDOUT_SHARE, "holdout_weight": 1 / HOLDOUT_SHARE,
               "blocked": int(blocked.sum()),
               "blocked_frauds": int((blocked & (y_cal == 1)).sum()),
               "frauds": int(y_cal.sum()), "holdout": int(holdout.sum()),
               "holdout_frauds": int((holdout & (y_cal == 1)).sum()),
               "blocked_fraud_share": float((blocked & (y_cal == 1)).sum()
                                            / max(y_cal.sum(), 1))}
    return pd.DataFrame(rows), summary
