"""The consequence of a violation: how much a validation scheme that assumes IID rows overstates
a model's score, measured against a genuine hold-out on the same data with the same model.

Schemes: random K-fold (shuffled), TimeSeriesSplit with a gap, GroupKFold (when there are
groups), and the hold-out (the latest rows, or the test side of a split column). Confidence
intervals come from a cluster bootstrap: whole groups, or blocks of consecutive rows, are
resampled, because resampling single rows would assume the very independence under audit.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import GroupKFold, KFold, TimeSeriesSplit

from casestudies.errors import DataError
from casestudies.iid_checks.audit import EFFECTS, excess_p_value, model_matrix, near_copies
from casestudies.iid_checks.data import AuditTable
from casestudies.iid_checks.resampling import bootstrap_clusters
from casestudies.progress import progress
from casestudies.rng import stream, stream_seed
from casestudies.stats import Estimate, cluster_bootstrap, percentile_interval

MODEL_ITERATIONS = 100  # boosting iterations of the validated model


@dataclass
class SchemeScore:
    """One validation scheme's score and its optimism over the reference hold-out.

    ``closer_than_kfold`` is ``|optimism| - |optimism of random K-fold|`` with its interval from
    the same cluster-bootstrap resamples (paired): below zero, this scheme is closer to the
    hold-out than random K-fold. ``None`` for random K-fold itself.
    """

    scheme: str
    score: Estimate
    optimism: Estimate
    rows_scored: int
    closer_than_kfold: Estimate | None = None


@dataclass
class ValidationResult:
    """Cross-validated scores against the hold-out, with cluster-bootstrap intervals."""

    metric: str
    model: str
    reference: str
    holdout: Estimate
    holdout_width: float  # width of the hold-out score's interval
    schemes: list[SchemeScore]
    gap: int  # rows between training and validation rows in the time-ordered schemes
    gap_time: float  # the same gap in time units (time spanned by those rows)
    required_gap: float  # feature window + label delay, in time units
    embargo_rows: int  # development rows left out before the hold-out
    closest: str  # scheme whose optimism is smallest in absolute value
    runner_up: str | None
    # |optimism of the closest| - |optimism of the runner-up|, paired over the same resamples:
    # an interval below zero says the closest is distinguishably closer.
    closest_margin: Estimate | None
    folds: int
    development_rows: int
    holdout_rows: int
    removed_copies: int
    clusters: str
    subsampled: bool
    iterations: int  # boosting iterations of the model
    min_leaf: int  # fewest training rows in a leaf of its trees
    # Out-of-fold residuals (target minus random K-fold prediction) of the development rows in
    # time order, and their groups: the series whose dependence biases K-fold.
    residuals: np.ndarray | None = field(default=None, metadata={"json": False})
    residual_groups: np.ndarray | None = field(default=None, metadata={"json": False})

    def scheme(self, name: str) -> SchemeScore | None:
        return next((s for s in self.schemes if s.scheme == name), None)


def model_seed(seed: int, part: str, unit: str) -> int:
    """Seed of one model (and its folds) of the comparison: ``unit`` is a scheme's name or
    ``"hold-out"``, ``part`` the dataset, so that each scheme has its own stream."""
    return stream_seed(seed, "iid_checks", part, "validation", unit)


def model_rows(table: AuditTable, max_rows: int, seed: int, part: str, stage: str
               ) -> tuple[np.ndarray, np.ndarray, bool]:
    """Rows the models of ``stage`` use, in time order: all of them, or ``max_rows`` drawn
    from the stream ``(part, stage, "subsample")``; their times (positions without a time
    column); and whether they were subsampled."""
    rows = np.arange(len(table.frame))
    subsampled = len(rows) > max_rows
    if subsampled:
        subsample = stream(seed, "iid_checks", part, stage, "subsample")
        rows = np.sort(subsample.choice(rows, max_rows, replace=False))
    times = (table.times[rows] if table.times is not None
             else np.arange(len(rows), dtype=float))
    return rows, times, subsampled


def _make_model(task: str, seed: int):
    params = dict(max_iter=MODEL_ITERATIONS, random_state=seed,
                  categorical_features="from_dtype")
    if task == "classification":
        return HistGradientBoostingClassifier(**params)
    return HistGradientBoostingRegressor(**params)


def _predict(model, features) -> np.ndarray:
    if hasattr(model, "predict_proba"):
        return model.predict_proba(features)[:, 1]
    return model.predict(features)


def _out_of_fold(task: str, seed: int, features, y: np.ndarray, splits) -> np.ndarray:
    """Predictions for every row that is validated once (NaN for rows never validated)."""
    predictions = np.full(len(y), np.nan)
    for train, valid in splits:
        model = _make_model(task, seed).fit(features.iloc[train], y[train])
        predictions[valid] = _predict(model, features.iloc[valid])
    return predictions


def _copies(table: AuditTable, development: np.ndarray, holdout: np.ndarray, alpha: float
            ) -> np.ndarray:
    """Hold-out rows that are exact or near copies of a development row (numeric features).

    Near copies count only when there are materially and significantly (at ``alpha``) more of
    them than independent rows would give by chance
    (:func:`~casestudies.iid_checks.audit.near_copies`); otherwise only rows identical on every
    numeric feature are copies.
    """
    if len(table.numeric) < 2:
        return np.zeros(len(holdout), dtype=bool)
    values = table.frame[table.numeric].to_numpy(dtype=float)
    scale = values.std(axis=0)
    values = (values - values.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    near, chance, distance = near_copies(values[development], values[holdout])
    material = near.sum() - chance.sum() >= EFFECTS["near duplicates"][1] * len(holdout)
    if material and excess_p_value(near, chance) < alpha:
        return near
    return distance == 0


def _check_classes(target: str, development: np.ndarray, holdout: np.ndarray, folds: int
                   ) -> None:
    """Every fold needs both classes to train, and the hold-out both to compute an AUC."""
    for name, labels, needed in (("development", development, folds), ("hold-out", holdout, 1)):
        fewest = int(min(np.sum(labels == 0), np.sum(labels == 1)))
        if fewest < needed:
            raise DataError(f"target {target!r} has {fewest} row(s) of its rarer class among the "
                            f"{name} rows; the validation comparison needs at least {needed} "
                            f"(lower --folds or change --holdout)")


EMBARGO_MAX_SHARE = 0.5
"""The embargo before the hold-out takes at most half of the time before it: a longer one
would leave the development rows too few to cross-validate."""

CV_GAP_MAX_FOLD_SHARE = 0.5
"""The gap of the time-ordered schemes is at most half a fold, so that the first training
window of TimeSeriesSplit keeps at least half a fold of rows."""


def cv_gap(dev_times: np.ndarray, time_gap: float, folds: int, rows_gap: int | None
           ) -> tuple[int, float]:
    """Rows between training and validation in the time-ordered schemes, and the time they
    span: ``--gap`` when given, else the rows spanning ``time_gap`` (feature window plus label
    delay) at the development rows' density, else 1 % of the rows; capped at
    :data:`CV_GAP_MAX_FOLD_SHARE` of a fold (the cap is stated beside the rule)."""
    n = len(dev_times)
    if rows_gap is not None:
        gap = rows_gap
    elif time_gap > 0:
        span = dev_times[-1] - dev_times[0]
        gap = int(np.ceil(n * time_gap / span)) if span > 0 else 0
        gap = min(gap, int(CV_GAP_MAX_FOLD_SHARE * n / (folds + 1)))
    else:
        gap = max(1, n // 100)
    gap = max(0, min(gap, largest_gap(n, folds)))
    spanned = float(dev_times[min(gap, n - 1)] - dev_times[0]) if gap > 0 else 0.0
    return gap, spanned


def blocked_kfold(n: int, folds: int, gap: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """K contiguous folds in time order; training rows within ``gap`` rows of the validation
    fold on either side are purged (before) and embargoed (after)."""
    edges = np.linspace(0, n, folds + 1).astype(int)
    index = np.arange(n)
    splits = []
    for low, high in itertools.pairwise(edges):
        train = index[(index < low - gap) | (index >= high + gap)]
        if len(train):
            splits.append((train, index[low:high]))
    return splits


GROUP_TIME_TRAIN_SHARE = 0.6
"""The group-time split trains on the first 60 % of the development rows and validates on
later rows of groups it has never seen."""
GROUP_TIME_MIN_ROWS = 30  # fewest validation rows for the group-time split to be scored


def group_time_split(groups: np.ndarray, gap: int) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """One split that is both later in time and new in groups: train on the first
    :data:`GROUP_TIME_TRAIN_SHARE` of the rows, validate on rows after a ``gap`` whose group
    has no training row (``None`` when fewer than :data:`GROUP_TIME_MIN_ROWS` remain)."""
    n = len(groups)
    cut = int(GROUP_TIME_TRAIN_SHARE * n)
    train = np.arange(cut)
    later = np.arange(min(cut + gap, n), n)
    valid = later[~np.isin(groups[later], groups[train])]
    return [(train, valid)] if len(valid) >= GROUP_TIME_MIN_ROWS else None


def closest_scheme(optimism: dict[str, tuple[float, np.ndarray]]
                   ) -> tuple[str, str | None, Estimate | None]:
    """The scheme with the smallest absolute optimism, the runner-up, and the paired interval
    of the difference of their absolute optimisms (the same cluster-bootstrap resamples)."""
    ranked = sorted(optimism, key=lambda name: abs(optimism[name][0]))
    if len(ranked) < 2:
        return ranked[0], None, None
    (best_value, best_reps), (second_value, second_reps) = (optimism[ranked[0]],
                                                            optimism[ranked[1]])
    margin = percentile_interval(abs(best_value) - abs(second_value),
                                 np.abs(best_reps) - np.abs(second_reps))
    return ranked[0], ranked[1], margin


def largest_gap(development_rows: int, folds: int) -> int:
    """The largest TimeSeriesSplit gap ``development_rows`` rows allow with ``folds`` splits:
    each split's training part must keep at least one row before the gap and the test folds."""
    test_size = development_rows // (folds + 1)
    return max(development_rows - folds * test_size - 1, 0)


def check_gap(table: AuditTable, config) -> None:
    """Raise DataError, before any work, when ``--gap`` leaves no training rows."""
    if config.gap is None or table.target is None or table.split_by_column:
        return
    rows = min(len(table.frame), config.max_rows)
    development = rows - round(rows * config.holdout)
    most = largest_gap(development, config.folds)
    if config.gap > most:
        raise DataError(f"--gap {config.gap} leaves no training rows for TimeSeriesSplit: "
                        f"{development:,} development rows in {config.folds} folds allow a gap "
                        f"of at most {most:,}")


def compare_validation(table: AuditTable, config, seed: int, part: str = "data",
                       time_gap: float = 0.0) -> ValidationResult:
    """Score the same gradient-boosting model under each validation scheme and the hold-out.

    The development rows (all but the latest ``config.holdout`` share, less an embargo of
    ``time_gap``, the feature window plus the label delay, or the train side of a split
    column) are cross-validated by each scheme: random K-fold, TimeSeriesSplit and blocked
    K-fold with a gap (:func:`cv_gap`), GroupKFold and a group-time split when there are
    groups; the model refitted on all of them is scored on the hold-out. When hold-out rows
    copy development rows, the reference is the hold-out without them. Optimism is
    ``scheme score - reference score``.

    Each scheme's model and folds use the seed :func:`model_seed` of its own name; the row
    subsample and the bootstrap have their own streams. The bootstrap is one stream for every
    scheme on purpose: the schemes are scored on the same resamples, which pairs them.

    Raises
    ------
    DataError
        GroupKFold needs at least ``folds`` groups among the development rows; a 0/1 target
        needs ``folds`` rows of each class among them and one of each in the hold-out.
    """
    if table.target is None:
        raise ValueError("the validation comparison needs a target")
    rows, times, subsampled = model_rows(table, config.max_rows, seed, part, "validation")
    embargo = 0
    if table.split_by_column:
        is_holdout = table.is_test[rows]
        reference_name = "test side of the split column"
        used_rows = np.ones(len(rows), dtype=bool)
    else:
        is_holdout = np.arange(len(rows)) >= round(len(rows) * (1 - config.holdout))
        reference_name = "latest rows"
        # Embargo: development rows closer to the hold-out than the gap are left out, so that
        # no training label or feature window reaches into the hold-out's period.
        start = times[is_holdout][0]
        before = ~is_holdout
        embargo_time = min(time_gap, EMBARGO_MAX_SHARE * (start - times[0]))
        close = before & (times >= start - embargo_time) if embargo_time > 0 else before & False
        embargo = int(close.sum())
        used_rows = ~close
    rows, is_holdout, times = rows[used_rows], is_holdout[used_rows], times[used_rows]
    development, holdout = rows[~is_holdout], rows[is_holdout]
    features = model_matrix(table, rows)
    features.index = np.arange(len(rows))
    y_all = table.frame[table.target].to_numpy(dtype=float)[rows]
    if table.task == "classification":
        y_all = y_all.astype(int)
    dev_pos, hold_pos = np.flatnonzero(~is_holdout), np.flatnonzero(is_holdout)
    if table.task == "classification":
        _check_classes(table.target, y_all[dev_pos], y_all[hold_pos], config.folds)
    dev_features, y_dev = features.iloc[dev_pos].reset_index(drop=True), y_all[dev_pos]
    dev_times = times[dev_pos]
    gap, gap_time = cv_gap(dev_times, time_gap, config.folds,
                           config.gap if part == "data" else None)
    splitters = {
        "random K-fold": KFold(config.folds, shuffle=True,
                               random_state=model_seed(seed, part, "random K-fold")
                               ).split(dev_features),
    }
    if not table.split_by_column:
        splitters["TimeSeriesSplit"] = TimeSeriesSplit(config.folds, gap=gap).split(dev_features)
        splitters["blocked K-fold"] = blocked_kfold(len(dev_pos), config.folds, gap)
    if table.groups is not None:
        dev_groups = table.groups[development]
        if len(np.unique(dev_groups)) < config.folds:
            raise DataError(f"GroupKFold with {config.folds} folds needs at least {config.folds} "
                            f"groups in {table.group_name!r}, the development rows have "
                            f"{len(np.unique(dev_groups))}; lower --folds")
        splitters["GroupKFold"] = GroupKFold(config.folds).split(dev_features, groups=dev_groups)
        if not table.split_by_column:
            group_time = group_time_split(dev_groups, gap)
            if group_time is not None:
                splitters["group-time split"] = group_time

    predictions = np.full(len(rows), np.nan)
    scheme_predictions = {}
    for name, splits in progress(list(splitters.items()), desc="validation schemes"):
        scheme_predictions[name] = np.full(len(rows), np.nan)
        scheme_predictions[name][dev_pos] = _out_of_fold(
            table.task, model_seed(seed, part, name), dev_features, y_dev, splits)
    model = _make_model(table.task, model_seed(seed, part, "hold-out")).fit(dev_features, y_dev)
    predictions[hold_pos] = _predict(model, features.iloc[hold_pos])

    copies = (_copies(table, development, holdout, config.alpha) if table.split_by_column
              else np.zeros(len(holdout), dtype=bool))
    reference = np.zeros(len(rows), dtype=bool)
    reference[hold_pos[~copies]] = True
    if copies.any():
        reference_name += " without the rows that copy development rows"
    metric, score = (("ROC AUC", roc_auc_score) if table.task == "classification"
                     else ("R²", r2_score))

    def scorer(values: np.ndarray, mask: np.ndarray) -> Callable[[np.ndarray], float]:
        def compute(index: np.ndarray) -> float:
            keep = index[mask[index] & np.isfinite(values[index])]
            if len(keep) < 2 or (table.task == "classification"
                                 and len(np.unique(y_all[keep])) < 2):
                return np.nan
            return float(score(y_all[keep], values[keep]))
        return compute

    scorers = {"hold-out": scorer(predictions, reference)}
    for name, values in scheme_predictions.items():
        scorers[name] = scorer(values, np.isfinite(values))
    clusters, cluster_name = bootstrap_clusters(table, rows)
    everything = np.arange(len(rows))
    point = {name: f(everything) for name, f in scorers.items()}
    replicates = cluster_bootstrap(scorers, clusters, config.bootstrap,
                                   stream(seed, "iid_checks", part, "validation", "bootstrap"),
                                   desc="validation bootstrap")
    optimism = {name: (point[name] - point["hold-out"], replicates[name] - replicates["hold-out"])
                for name in scheme_predictions}
    kfold_value, kfold_replicates = optimism["random K-fold"]

    def closer(name: str) -> Estimate | None:
        if name == "random K-fold":
            return None
        value, reps = optimism[name]
        return percentile_interval(abs(value) - abs(kfold_value),
                                   np.abs(reps) - np.abs(kfold_replicates))

    schemes = [
        SchemeScore(
            scheme=name,
            score=percentile_interval(point[name], replicates[name]),
            optimism=percentile_interval(*optimism[name]),
            rows_scored=int(np.isfinite(scheme_predictions[name]).sum()),
            closer_than_kfold=closer(name),
        )
        for name in scheme_predictions
    ]
    holdout_score = percentile_interval(point["hold-out"], replicates["hold-out"])
    closest, runner_up, margin = closest_scheme(optimism)
    return ValidationResult(
        metric=metric, model=type(model).__name__, reference=reference_name,
        holdout=holdout_score, holdout_width=float(holdout_score.high - holdout_score.low),
        schemes=schemes,
        gap=gap, gap_time=gap_time, required_gap=time_gap, embargo_rows=embargo,
        closest=closest, runner_up=runner_up, closest_margin=margin,
        folds=config.folds, development_rows=len(dev_pos),
        holdout_rows=int(reference.sum()),
        removed_copies=int(copies.sum()), clusters=cluster_name, subsampled=subsampled,
        iterations=int(model.get_params()["max_iter"]),
        min_leaf=int(model.get_params()["min_samples_leaf"]),
        residuals=y_dev - scheme_predictions["random K-fold"][dev_pos],
        residual_groups=None if table.groups is None else table.groups[development],
    )
