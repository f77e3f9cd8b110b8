"""Blocking decisions from fraud probabilities: costs, the Bayes-optimal threshold, thresholds
tuned on data, alert budgets, and re-estimating the fraud rate after a prior shift.
"""

from __future__ import annotations

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import make_scorer
from sklearn.model_selection import TunedThresholdClassifierCV


def bayes_threshold(cost_fp: float, cost_fn: float) -> float:
    """``t* = c_FP / (c_FP + c_FN)`` (Elkan 2001): block when ``p >= t*``.

    Blocking costs ``(1 - p) c_FP`` in expectation, letting through costs ``p c_FN``; blocking is
    cheaper exactly when ``p c_FN > (1 - p) c_FP``, i.e. ``p > t*``.
    """
    return cost_fp / (cost_fp + cost_fn)


def amount_thresholds(amount: np.ndarray, cost_fp: float) -> np.ndarray:
    """Per-transaction thresholds ``c_FP / (c_FP + amount)`` when a missed fraud costs its
    amount: the larger the payment, the lower the probability that justifies blocking it."""
    return cost_fp / (cost_fp + np.asarray(amount, dtype=np.float64))


def constant_cost(y: np.ndarray, blocked: np.ndarray, cost_fp: float, cost_fn: float) -> float:
    """Mean cost per transaction: ``c_FP`` per blocked genuine, ``c_FN`` per missed fraud."""
    y = np.asarray(y).astype(bool)
    blocked = np.asarray(blocked).astype(bool)
    return float((cost_fp * np.sum(blocked & ~y) + cost_fn * np.sum(~blocked & y)) / y.size)


def amount_cost(y: np.ndarray, blocked: np.ndarray, amount: np.ndarray, cost_fp: float) -> float:
    """Mean cost per transaction when a missed fraud costs its amount."""
    y = np.asarray(y).astype(bool)
    blocked = np.asarray(blocked).astype(bool)
    return float((cost_fp * np.sum(blocked & ~y) + np.sum(amount[~blocked & y])) / y.size)


def threshold_grid(scores: np.ndarray, n: int = 2000) -> np.ndarray:
    """A fine grid of candidate thresholds: quantiles of ``scores`` spaced geometrically in
    the upper tail (where a fraud threshold lies at a low base rate)."""
    levels = 1 - np.geomspace(1, 1e-5, n)
    return np.unique(np.quantile(np.asarray(scores, dtype=np.float64), levels))


def cost_by_threshold(y: np.ndarray, scores: np.ndarray, thresholds: np.ndarray,
                      cost_fp: float, cost_fn: float | None = None,
                      amount: np.ndarray | None = None) -> np.ndarray:
    """Mean cost of ``block iff score >= t`` (scikit-learn's convention) for every ``t`` in
    ``thresholds``, with constant costs (``cost_fn``) or amount-dependent ones (``amount``), by
    cumulative sums over sorted scores."""
    y = np.asarray(y).astype(bool)
    order = np.argsort(scores)
    sorted_scores = np.asarray(scores)[order]
    loss = (np.full(y.size, float(cost_fn)) if amount is None
            else np.asarray(amount, dtype=np.float64))[order] * y[order]
    # Rows below t pass (missed frauds); rows at or above are blocked (false alarms).
    passed = np.searchsorted(sorted_scores, thresholds, side="left")
    missed = np.concatenate([[0.0], np.cumsum(loss)])[passed]
    genuine_above = np.concatenate([[0], np.cumsum((~y[order])[::-1])])[y.size - passed]
    return (missed + cost_fp * genuine_above) / y.size


def best_threshold(y: np.ndarray, scores: np.ndarray, thresholds: np.ndarray, cost_fp: float,
                   cost_fn: float | None = None, amount: np.ndarray | None = None) -> float:
    """The threshold of ``thresholds`` with the lowest mean cost on ``(y, scores)``."""
    costs = cost_by_threshold(y, scores, thresholds, cost_fp, cost_fn, amount)
    return float(thresholds[int(np.argmin(costs))])


def tune_threshold(model, X: np.ndarray, y: np.ndarray, thresholds: np.ndarray,
                   cost_fp: float, cost_fn: float) -> float:
    """Cost-minimising threshold on ``model``'s ``predict_proba``, found by scikit-learn's
    :class:`~sklearn.model_selection.TunedThresholdClassifierCV` on ``(X, y)`` with the model
    frozen (``cv="prefit", refit=False``) over the explicit grid ``thresholds``."""
    def negative_cost(y_true, y_pred):
        return -constant_cost(y_true, y_pred, cost_fp, cost_fn)

    tuner = TunedThresholdClassifierCV(
        FrozenEstimator(model), scoring=make_scorer(negative_cost), thresholds=thresholds,
        cv="prefit", refit=False, response_method="predict_proba")
    return float(tuner.fit(X, y).best_threshold_)


def top_k(scores: np.ndarray, fraction: float) -> np.ndarray:
    """Boolean mask of the ``ceil(fraction n)`` highest scores (ties broken by position)."""
    k = int(np.ceil(fraction * len(scores)))
    mask = np.zeros(len(scores), dtype=bool)
    mask[np.argsort(-np.asarray(scores), kind="stable")[:k]] = True
    return mask


def adjust_to_prior(p: np.ndarray, train_prior: float, new_prior: float) -> np.ndarray:
    """Probabilities calibrated at base rate ``pi`` moved to base rate ``pi'`` by Bayes' rule
    (label shift: the class-conditional score distributions stay the same),
    ``p' = (pi'/pi) p / ((pi'/pi) p + ((1 - pi')/(1 - pi)) (1 - p))``."""
    p = np.asarray(p, dtype=np.float64)
    up = new_prior / train_prior * p
    down = (1 - new_prior) / (1 - train_prior) * (1 - p)
    return up / (up + down)


def saerens_em(p: np.ndarray, train_prior: float, max_iter: int = 200, tol: float = 1e-8
               ) -> tuple[float, np.ndarray]:
    """Re-estimate the fraud rate of new, unlabelled data (Saerens, Latinne & Decaestecker 2002).

    Starting from the training prior ``pi``, iterate: adjust every probability to the current
    rate estimate ``pi'`` by Bayes' rule (:func:`adjust_to_prior`), then set ``pi'`` to the mean
    of the ``p'``. Returns the estimated rate and the adjusted probabilities.
    """
    p = np.asarray(p, dtype=np.float64)
    rate = train_prior
    adjusted = p
    for _ in range(max_iter):
        adjusted = adjust_to_prior(p, train_prior, rate)
        new_rate = float(adjusted.mean())
        if abs(new_rate - rate) < tol:
            rate = new_rate
            break
        rate = new_rate
    return rate, adjusted
