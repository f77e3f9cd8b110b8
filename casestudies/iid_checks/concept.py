"""Concept drift, a change of ``P(y | x)``, measured apart from covariate shift (``P(x)``) and
prior shift (``P(y)``).

A model fitted on early rows usually scores worse on later rows than on held-out early rows.
That degradation alone does not show concept drift: later rows may sit in harder regions of
``x`` (covariate shift), or the base rate may have moved (prior shift). Refitting on the later
rows and comparing does not separate them either: under covariate shift alone a flexible model
trained where the later rows are still beats one trained elsewhere, because it has seen more
rows there (its estimation error, not the conditional, differs).

The separation used here is a predictive test of ``y independent of the period given x``,
which is the definition of "no concept drift" (Gama et al. 2014). Two models of the same kind
are fitted on the **same** training rows, an early and a late part, so they see the same
``P(x)``:

- *period-blind*: the features only, then one intercept per period on the link scale (a
  log-odds offset for a 0/1 target, fitted by maximum likelihood on that period's training
  rows). The offsets absorb a change of the base rate: under prior shift (``P(x | y)`` fixed)
  the true log-odds change by exactly a constant (Saerens, Latinne & Decaestecker 2002), so a
  prior shift is not counted as concept drift. For a numeric target no offset is fitted: a
  level change of ``y`` at the same ``x`` is concept drift.
- *period-aware*: the features plus an indicator of the later period, free to interact with
  them.

Both are scored on held-out rows of both periods, after a gap. If ``P(y | x)`` is the same in
both periods, the indicator carries nothing about ``y`` given ``x`` and the two losses agree;
if it changed, the period-aware model is better. The deciding quantity is the relative loss
increase ``L_blind / L_aware - 1`` on the same scored rows (paired), with an interval from a
cluster bootstrap of those rows (groups, or blocks of consecutive rows). Covariate shift moves
both losses alike and cancels. Without overlap of ``x`` between the periods the indicator is a
function of ``x`` and concept drift cannot be identified; the test then has no power rather
than a false alarm.

Beside it, the model fitted on the early training rows alone is scored on the held-out early
slice and on the later scored rows (proper score and calibration on both): the degradation a
practitioner sees, which mixes the three kinds of drift.

Layout in time order (each scored slice is the last :data:`SCORED_SHARE` of its side; the gap
is the feature window plus the label delay, as in the validation comparison)::

    early fit | gap | early scored || gap | late fit | gap | late scored
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from casestudies.iid_checks.audit import model_matrix
from casestudies.iid_checks.data import AuditTable
from casestudies.iid_checks.resampling import bootstrap_clusters
from casestudies.iid_checks.validation import (
    EMBARGO_MAX_SHARE,
    _make_model,
    _predict,
    model_rows,
)
from casestudies.rng import stream, stream_seed
from casestudies.stats import Estimate, cluster_bootstrap, percentile_interval

SCORED_SHARE = 0.3
"""Share of each side's latest rows held out and scored, as the validation's hold-out share:
enough rows for a calibration slope while most rows still train."""

MATERIAL_LOSS_INCREASE = 0.05
"""Ignoring the period is material when it makes the proper score at least 5 % worse: smaller
relative differences are the size that routine modelling choices (a hyper-parameter, a
feature) move a loss by, so they do not justify a retraining on their own."""

LATE_FIT_GAP_SHARE = EMBARGO_MAX_SHARE / 2
"""The late training part loses the gap at both ends (after the early scored slice and before
the late one), so each end takes at most a quarter of its span: half remains, as for the
early part, whose single gap is capped at :data:`EMBARGO_MAX_SHARE`."""

PROBABILITY_FLOOR = 1e-15  # log loss clips probabilities as scikit-learn's log_loss does
NEWTON_STEPS = 50  # iterations of the one- and two-parameter logistic fits
NEWTON_TOLERANCE = 1e-8  # far below the digits shown and the bootstrap's spread
MIN_SCORED_ROWS = 30  # fewest scored rows per slice for the comparison to run


@dataclass
class SliceScore:
    """Proper score and calibration of the early model on one scored slice.

    ``calibration`` is observed / expected positives (calibration in the large) for a 0/1
    target, the mean residual ``y - prediction`` for a numeric one; ``slope`` is the
    calibration slope (logistic regression of ``y`` on the logit of the prediction; 1 is
    calibrated, below 1 too extreme), ``None`` for a numeric target, as is ``brier``.
    """

    rows: int
    loss: Estimate
    calibration: Estimate
    brier: Estimate | None = None
    slope: Estimate | None = None


@dataclass
class ConceptDrift:
    """The early model on early and later rows, and the paired test of ``P(y | x)``.

    Attributes
    ----------
    loss_name, calibration_name : str
        The proper score (log loss or squared error) and the calibration-in-the-large measure.
    early, late : SliceScore
        The model fitted on the early training rows, on the held-out early slice and on the
        later scored rows.
    degradation : Estimate
        ``late loss / early loss - 1`` of that model (different rows; the same resamples):
        covariate, prior and concept drift together.
    blind_loss, aware_loss : Estimate
        Losses of the period-blind (with per-period offsets) and period-aware models on all
        scored rows.
    loss_increase : Estimate
        ``blind_loss / aware_loss - 1`` paired on the same rows: the deciding quantity.
    offsets : list of float
        Log-odds offset of each period (early, late) of the period-blind model; empty for a
        numeric target.
    fit_rows, scored_rows : dict
        Training and scored rows per period (``"early"``, ``"late"``).
    gap, required_gap : float
        Gap used around the scored slices and the feature window plus label delay, in
        ``time_unit``; ``gap`` is smaller when capped (see :data:`LATE_FIT_GAP_SHARE`).
    clusters : str
        What the bootstrap resampled.
    """

    task: str
    loss_name: str
    calibration_name: str
    model: str
    early: SliceScore
    late: SliceScore
    degradation: Estimate
    blind_loss: Estimate
    aware_loss: Estimate
    loss_increase: Estimate
    offsets: list[float]
    fit_rows: dict[str, int]
    scored_rows: dict[str, int]
    gap: float
    required_gap: float
    time_unit: str
    clusters: str
    subsampled: bool
    scored_share: float
    material: float


# ------------------------------------------------------------------------------ layout


def drift_layout(times: np.ndarray, is_late: np.ndarray, gap_time: float,
                 scored_share: float = SCORED_SHARE) -> tuple[dict[str, np.ndarray], float]:
    """Positions of the four parts (``early fit``, ``early scored``, ``late fit``,
    ``late scored``) of rows in time order, and the gap used.

    Each side's latest ``scored_share`` of rows is scored. Training rows closer in time than
    the gap to a scored slice are left out on both sides of it (purge before, embargo after).
    The gap is ``gap_time`` (feature window plus label delay) capped so that each training part
    keeps half its span (:data:`EMBARGO_MAX_SHARE`, :data:`LATE_FIT_GAP_SHARE`).
    """
    times = np.asarray(times, dtype=float)
    early, late = np.flatnonzero(~is_late), np.flatnonzero(is_late)
    parts = {}
    starts = {}
    for name, side in (("early", early), ("late", late)):
        scored = side[len(side) - max(1, round(scored_share * len(side))):]
        parts[f"{name} scored"] = scored
        starts[name] = times[scored[0]]
    early_span = starts["early"] - times[early[0]]
    late_span = starts["late"] - times[late[0]]
    gap = float(max(0.0, min(gap_time, EMBARGO_MAX_SHARE * early_span,
                             LATE_FIT_GAP_SHARE * late_span)))
    early_end = times[parts["early scored"][-1]]
    before_early = early[times[early] < starts["early"]]
    parts["early fit"] = before_early[times[before_early] < starts["early"] - gap] \
        if gap > 0 else before_early
    before_late = late[times[late] < starts["late"]]
    keep = ((times[before_late] < starts["late"] - gap) & (times[before_late] > early_end + gap)
            if gap > 0 else np.ones(len(before_late), dtype=bool))
    parts["late fit"] = before_late[keep]
    return parts, gap


# ------------------------------------------------------------------------------ scores


def _clip(p: np.ndarray) -> np.ndarray:
    return np.clip(p, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)


def _logit(p: np.ndarray) -> np.ndarray:
    p = _clip(p)
    return np.log(p) - np.log1p(-p)


def _expit(z: np.ndarray) -> np.ndarray:
    return expit(z)  # scipy's: no overflow for large |z|


def row_losses(y: np.ndarray, prediction: np.ndarray, task: str) -> np.ndarray:
    """Per-row proper score: log loss of a probability for a 0/1 target, squared error for a
    numeric one (their means are scikit-learn's ``log_loss`` and ``mean_squared_error``)."""
    if task == "classification":
        p = _clip(prediction)
        return -(y * np.log(p) + (1 - y) * np.log1p(-p))
    return (y - prediction) ** 2


def intercept_offset(y: np.ndarray, logits: np.ndarray) -> float:
    """Maximum-likelihood constant ``d`` of ``y ~ Bernoulli(expit(logits + d))``: the
    calibration-in-the-large correction on the log-odds scale (Newton's method; ``nan`` when
    ``y`` has one class only)."""
    if len(y) == 0 or y.min() == y.max():
        return np.nan
    d = 0.0
    for _ in range(NEWTON_STEPS):
        p = _expit(logits + d)
        step = np.sum(y - p) / max(np.sum(p * (1 - p)), 1e-300)
        d += step
        if abs(step) < NEWTON_TOLERANCE:
            break
    return float(d)


def _log_likelihood(y: np.ndarray, z: np.ndarray) -> float:
    """Bernoulli log-likelihood of ``y`` at log-odds ``z`` (stable for large ``|z|``)."""
    return float(np.sum(y * z - np.logaddexp(0.0, z)))


def calibration_slope(y: np.ndarray, p: np.ndarray, logits: np.ndarray | None = None
                      ) -> float:
    """Slope ``b`` of the logistic regression ``logit P(y = 1) = a + b logit(p)`` (Cox 1958):
    1 for calibrated predictions, below 1 when they are too extreme. Newton-Raphson on the two
    parameters from zero, halving a step that lowers the likelihood (plain Newton diverges
    from a poor start when some predictions are near 0 or 1); ``logits`` is ``logit(p)`` when
    already computed. ``nan`` with one class or a singular fit."""
    if len(y) < 3 or y.min() == y.max():
        return np.nan
    x = _logit(p) if logits is None else logits
    design = np.column_stack([np.ones_like(x), x])
    beta = np.zeros(2)
    current = _log_likelihood(y, design @ beta)
    for _ in range(NEWTON_STEPS):
        mu = _expit(design @ beta)
        hessian = design.T @ (design * (mu * (1 - mu))[:, None])
        try:
            step = np.linalg.solve(hessian, design.T @ (y - mu))
        except np.linalg.LinAlgError:
            return np.nan
        for _ in range(NEWTON_STEPS):
            trial = _log_likelihood(y, design @ (beta + step))
            if trial >= current - NEWTON_TOLERANCE:
                break
            step = step / 2
        beta, current = beta + step, trial
        if not np.all(np.isfinite(beta)):
            return np.nan
        if np.max(np.abs(step)) < NEWTON_TOLERANCE:
            break
    return float(beta[1])


def _slice_statistics(y: np.ndarray, prediction: np.ndarray, task: str,
                      logits: np.ndarray | None = None) -> dict[str, float]:
    """Loss and calibration of one slice (``nan`` when empty); ``logits`` of the predictions
    may be given to save their computation in every resample."""
    if len(y) == 0:
        return {"loss": np.nan, "calibration": np.nan, "brier": np.nan, "slope": np.nan}
    out = {"loss": float(row_losses(y, prediction, task).mean())}
    if task == "classification":
        expected = prediction.sum()
        out["calibration"] = float(y.sum() / expected) if expected > 0 else np.nan
        out["brier"] = float(np.mean((y - prediction) ** 2))
        out["slope"] = calibration_slope(y, prediction, logits)
    else:
        out["calibration"] = float(np.mean(y - prediction))
    return out


# ------------------------------------------------------------------------------ models


def _period_column(features: pd.DataFrame) -> str:
    """A column name for the period indicator that no feature already has."""
    name = "later_period"
    while name in features.columns:
        name += "_"
    return name


def _fit_predict(task: str, seed: int, train: pd.DataFrame, y: np.ndarray,
                 scored: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, object]:
    """Fit the study's model and predict on the training and the scored rows."""
    model = _make_model(task, seed).fit(train, y)
    return _predict(model, train), _predict(model, scored), model


def concept_drift(table: AuditTable, config, seed: int, time_gap: float = 0.0,
                  part: str = "data") -> ConceptDrift | None:
    """Measure concept drift between the early and the later rows of ``table``.

    The rows (a subsample of ``config.max_rows`` in time order when longer, from its own
    stream) are laid out by :func:`drift_layout`. Three models of the validation comparison's
    kind are fitted, each with its own seed: the early model (early training rows), and the
    period-blind and period-aware models (early and late training rows). The bootstrap
    resamples whole clusters of the scored rows (:func:`bootstrap_clusters`: groups, or blocks
    of consecutive rows), so every statistic is computed on the same resamples and the
    blind-aware comparison is paired row by row.

    Returns ``None`` without a target, with a split column (the sides are not an early and a
    later period), or when a part has too few rows (or one class only) to fit or score.
    """
    if table.target is None or table.split_by_column:
        return None
    task = table.task
    rows, times, subsampled = model_rows(table, config.max_rows, seed, part, "concept drift")
    is_late = table.is_test[rows]
    parts, gap = drift_layout(times, is_late, time_gap)
    y_all = table.frame[table.target].to_numpy(dtype=float)[rows]
    for name, positions in parts.items():
        labels = y_all[positions]
        if len(positions) < MIN_SCORED_ROWS or (task == "classification"
                                                and "fit" in name and labels.min() == labels.max()):
            return None
    features = model_matrix(table, rows).reset_index(drop=True)
    period = _period_column(features)
    fit = np.concatenate([parts["early fit"], parts["late fit"]])
    scored = np.concatenate([parts["early scored"], parts["late scored"]])
    late_fit, late_scored = is_late[fit].astype(float), is_late[scored].astype(float)

    def unit_seed(unit: str) -> int:
        return stream_seed(seed, "iid_checks", part, "concept drift", unit)

    # The early model, as the validation comparison fits it, on the early training rows only.
    _, early_prediction, model = _fit_predict(
        task, unit_seed("early model"), features.iloc[parts["early fit"]],
        y_all[parts["early fit"]], features.iloc[scored])
    # Period-blind and period-aware models on the same training rows of both periods.
    blind_train, blind_scored, _ = _fit_predict(
        task, unit_seed("period-blind model"), features.iloc[fit], y_all[fit],
        features.iloc[scored])
    _, aware_scored, _ = _fit_predict(
        task, unit_seed("period-aware model"), features.iloc[fit].assign(**{period: late_fit}),
        y_all[fit], features.iloc[scored].assign(**{period: late_scored}))
    offsets: list[float] = []
    if task == "classification":
        train_logits, scored_logits = _logit(blind_train), _logit(blind_scored)
        for flag in (0.0, 1.0):
            offsets.append(intercept_offset(y_all[fit][late_fit == flag],
                                            train_logits[late_fit == flag]))
        blind_scored = _expit(scored_logits + np.where(late_scored == 1.0, offsets[1],
                                                       offsets[0]))

    y = y_all[scored]
    late = late_scored == 1.0
    blind_losses = row_losses(y, blind_scored, task)
    aware_losses = row_losses(y, aware_scored, task)
    early_logits = _logit(early_prediction) if task == "classification" else None

    def statistics(index: np.ndarray) -> dict[str, float]:
        out = {}
        for name, mask in (("early", ~late[index]), ("late", late[index])):
            chosen = index[mask]
            logits = None if early_logits is None else early_logits[chosen]
            for key, value in _slice_statistics(y[chosen], early_prediction[chosen], task,
                                                logits).items():
                out[f"{name} {key}"] = value
        out["degradation"] = _ratio(out["late loss"], out["early loss"])
        out["blind"] = float(blind_losses[index].mean())
        out["aware"] = float(aware_losses[index].mean())
        out["increase"] = _ratio(out["blind"], out["aware"])
        return out

    point = statistics(np.arange(len(scored)))
    clusters, cluster_name = bootstrap_clusters(table, rows[scored])
    last: list = [None, None]  # the latest resample and its statistics

    def scorer(key: str):
        # Every statistic of one resample is computed once and shared by the scorers: the
        # resample is recognised by identity (the reference kept makes it unambiguous).
        def compute(index: np.ndarray) -> float:
            if last[0] is not index:
                last[:] = [index, statistics(index)]
            return last[1][key]
        return compute

    replicates = cluster_bootstrap({key: scorer(key) for key in point}, clusters,
                                   config.bootstrap,
                                   stream(seed, "iid_checks", part, "concept drift",
                                          "bootstrap"), desc="concept drift bootstrap")

    def estimate(key: str) -> Estimate:
        return percentile_interval(point[key], replicates[key])

    def slice_score(name: str) -> SliceScore:
        classification = task == "classification"
        return SliceScore(
            rows=int(np.sum(late == (name == "late"))), loss=estimate(f"{name} loss"),
            calibration=estimate(f"{name} calibration"),
            brier=estimate(f"{name} brier") if classification else None,
            slope=estimate(f"{name} slope") if classification else None)

    classification = task == "classification"
    return ConceptDrift(
        task=task, loss_name="log loss" if classification else "squared error",
        calibration_name=("ratio of observed to expected positives" if classification
                          else "mean residual"),
        model=type(model).__name__,
        early=slice_score("early"), late=slice_score("late"),
        degradation=estimate("degradation"), blind_loss=estimate("blind"),
        aware_loss=estimate("aware"), loss_increase=estimate("increase"),
        offsets=[float(o) for o in offsets],
        fit_rows={"early": len(parts["early fit"]), "late": len(parts["late fit"])},
        scored_rows={"early": len(parts["early scored"]), "late": len(parts["late scored"])},
        gap=gap, required_gap=float(time_gap), time_unit=table.time_unit,
        clusters=cluster_name, subsampled=subsampled, scored_share=SCORED_SHARE,
        material=MATERIAL_LOSS_INCREASE)


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator - 1`` (``nan`` when the denominator is not positive)."""
    return numerator / denominator - 1 if denominator > 0 else np.nan


# ------------------------------------------------------------------------------ simulation

DRIFT_KINDS = ("iid", "covariate", "concept", "prior")
DRIFT_COEFFICIENTS = np.array([1.0, -0.5, 0.5])  # of x1..x3 in the early period
DRIFT_COVARIATE_SHIFT = 1.0  # later mean of x1 and x2, in SDs
DRIFT_PRIOR_OFFSET = 1.0  # later log-odds offset of the prior-shift scenario
HARD_REGION_NOISE = 0.5  # noise SD grows by this per unit of |x1|: shifted rows are harder


def simulate_drift(kind: str, n: int, seed: int, task: str = "regression") -> pd.DataFrame:
    """Rows in time order whose later half has one kind of drift, for the tests and the
    control.

    Three standard-normal features; ``y = x b + noise`` (regression; the noise SD grows with
    ``|x1|`` so that some regions are harder) or ``y ~ Bernoulli(expit(x b - 1))``
    (classification). In the later half: ``"covariate"`` shifts the means of x1 and x2 by
    :data:`DRIFT_COVARIATE_SHIFT` (``P(y | x)`` unchanged); ``"concept"`` reverses the sign of
    the coefficients (``P(x)`` unchanged); ``"prior"`` adds :data:`DRIFT_PRIOR_OFFSET` to the
    log-odds (classification; a change of the base rate); ``"iid"`` changes nothing.
    """
    if kind not in DRIFT_KINDS:
        raise ValueError(f"unknown drift {kind!r}; choose one of {DRIFT_KINDS}")
    rng = stream(seed, "iid_checks", "concept drift simulation", kind, task)
    x = rng.normal(size=(n, len(DRIFT_COEFFICIENTS)))
    late = np.arange(n) >= n // 2
    if kind == "covariate":
        x[late, :2] += DRIFT_COVARIATE_SHIFT
    signal = x @ DRIFT_COEFFICIENTS
    if kind == "concept":
        signal = np.where(late, -signal, signal)
    if task == "classification":
        offset = np.where(late, DRIFT_PRIOR_OFFSET, 0.0) if kind == "prior" else 0.0
        y = (rng.random(n) < _expit(signal - 1.0 + offset)).astype(int)
    else:
        y = signal + (1 + HARD_REGION_NOISE * np.abs(x[:, 0])) * rng.normal(size=n)
    frame = pd.DataFrame(x, columns=[f"x{j + 1}" for j in range(x.shape[1])])
    frame.insert(0, "t", np.arange(n))
    frame["y"] = y
    return frame
