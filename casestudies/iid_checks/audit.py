"""The battery of checks on one :class:`~casestudies.iid_checks.data.AuditTable`: one row per
test and column with statistic, p-value, effect size, adjusted p-value and verdict.

A check is a *violation* when its adjusted p-value is below alpha **and** its effect size is
beyond the threshold of :data:`EFFECTS`; significant checks with a smaller effect are reported
as *significant, small effect*, because with many rows every p-value is tiny.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold, cross_val_predict
from sklearn.neighbors import NearestNeighbors
from statsmodels.tsa.stattools import acf, pacf

from casestudies.iid_checks import checks
from casestudies.iid_checks import null_at_n as at_n
from casestudies.iid_checks.data import AuditTable
from casestudies.iid_checks.dependent import dependent_energy_test, dependent_two_sample
from casestudies.iid_checks.leakage import (
    CONTROL_ROWS,
    CONTROL_TRUTH,
    DISGUISED_POWER,
    LATE_RECORDING_TOLERANCE,
    MATERIAL_DROP,
    TEST_TYPES,
    control_table,
    feature_power,
    late_recordings,
)
from casestudies.iid_checks.resampling import bootstrap_clusters
from casestudies.progress import progress
from casestudies.rng import stream, stream_seed
from casestudies.stats import Estimate, cluster_bootstrap, percentile_interval
from casestudies.tables import EncodingReport, encode_features

# Effect size of each test, and the size from which it is called material. These are
# conventions (stated in the report), not laws: 0.1 is the usual "small" for correlations,
# Cramér's V and KS distances, and PSI's "moderate shift"; a tenth of a series' variance
# lying between the means of its tenths is a level that moves by about two thirds of an SD.
EFFECTS = {
    "Ljung-Box": ("max |ACF| up to lag h", 0.1),
    "runs": ("runs / expected - 1", 0.1),
    "Durbin-Watson": ("implied lag-1 correlation", 0.1),
    "BDS": ("W / sqrt(n)", 0.1),
    "ANOVA across groups": ("intraclass correlation", 0.1),
    "Kolmogorov-Smirnov": ("KS distance D", 0.1),
    "chi-square": ("Cramér's V", 0.1),
    "Wasserstein": ("Wasserstein distance / SD", 0.2),
    "PSI": ("PSI", 0.1),
    "energy distance": ("energy coefficient H", 0.05),
    "adversarial AUC": ("AUC - 0.5", 0.05),
    "ADF + KPSS": ("share of variance between segments", 0.1),
    "exact duplicates": ("share of test rows", 0.01),
    "near duplicates": ("share of test rows beyond chance", 0.01),
    "groups on both sides": ("share of test rows", 0.01),
    "label in disguise": ("lower end of the 95% interval of |rank correlation| with the "
                          "target on the development rows", DISGUISED_POWER),
    "power drop": ("lower end of the 95% interval of the fall in rank correlation, "
                   "development to later rows", MATERIAL_DROP),
    "recorded after prediction": ("share of rows", LATE_RECORDING_TOLERANCE),
}
ASSUMPTION = {
    "Ljung-Box": "independent", "runs": "independent", "Durbin-Watson": "independent",
    "BDS": "independent", "ANOVA across groups": "independent",
    "Kolmogorov-Smirnov": "identically distributed", "chi-square": "identically distributed",
    "Wasserstein": "identically distributed", "PSI": "identically distributed",
    "energy distance": "identically distributed", "adversarial AUC": "identically distributed",
    "ADF + KPSS": "identically distributed",
    "exact duplicates": "no leakage", "near duplicates": "no leakage",
    "groups on both sides": "no leakage", "label in disguise": "no leakage",
    "power drop": "no leakage", "recorded after prediction": "no leakage",
}
ROLES = ("target", "residuals", "feature", "calendar", "table")
"""What a checked column is. The independence verdict that decides about cross-validation
rests on the target and the model's out-of-fold residuals (Bergmeir, Hyndman & Koo 2018:
K-fold is biased by dependence in the residuals, not in the features); feature dependence is
context. Calendar columns (deterministic functions of time) are context for every
assumption: their autocorrelation and drift are the calendar's."""
DECIDING_ROLES = {
    "independent": ("target", "residuals"),
    "identically distributed": ("target", "feature", "table"),
    "no leakage": ("table", "feature"),
}
CONTEXT_TESTS = {"power drop"}
"""Checks that never decide a verdict: a feature whose power falls after the development rows
may have been built with the label there (leakage), but concept drift, or a narrower range of
the feature later, lowers its power just as well."""
NEAR_TOLERANCE = 0.01  # RMS difference per standardised feature below which rows are "near"
NEAR_DENSITY_NEIGHBOURS = 5  # neighbours that measure the local density of the other side
MAX_NEAR_QUERIES = 5_000
ADVERSARIAL_FOLDS = 3
PERMUTATION_ROWS = 10_000
"""Longer columns are thinned to every k-th row (time order kept) for the block-permutation
null: at 10,000 rows a KS distance of about 0.03 already reaches the p-value floor of 999
permutations, and each permutation costs a pass over the rows."""
IMPORTANCE_ROWS = 5_000  # at most this many held-out rows measure permutation importance
IMPORTANCE_HELD_OUT = 0.5  # share of the rows held out of the importance model's fit
ACF_COLUMNS = 4
VERDICTS = ("violation", "significant, small effect", "no evidence",
            "not counted: test unreliable at this n")
"""Verdict of one check. The last is a significant check whose false-alarm rate at this n
lies above the binomial band of alpha (:func:`~casestudies.iid_checks.null_at_n.reliability`):
a test that flags random orders of the same values too often gives no evidence when it flags.
"""
TOO_FEW_ROWS = "too few rows to see it"
"""Reading of a check without evidence whose detectable effect (the smallest effect it flags
beyond chance at this n) exceeds its material threshold: "no evidence" is then no evidence of
absence."""


@dataclass
class Adversarial:
    """The classifier that tries to tell the two sides apart."""

    auc: Estimate
    p_value: float
    rows: int
    clusters: str  # what the bootstrap of the AUC resamples
    importance: pd.DataFrame  # feature, drop in AUC when permuted
    importance_rows: int  # held-out rows on which the importance is measured


@dataclass
class Correlogram:
    """ACF with Bartlett bands and PACF with white-noise bands of one series."""

    column: str
    acf: np.ndarray
    acf_low: np.ndarray
    acf_high: np.ndarray
    pacf: np.ndarray
    white_noise_band: float


@dataclass
class AuditResult:
    """Every check on one table, adjusted for multiple testing."""

    name: str
    rows: int
    checks: pd.DataFrame
    correction: str
    alpha: float
    correlograms: list[Correlogram] = field(default_factory=list)
    adversarial: Adversarial | None = None
    stationarity: dict[str, checks.Stationarity] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    columns: pd.DataFrame | None = None  # one verdict per column and assumption
    power: pd.DataFrame | None = None  # single-feature power per side (with a target)
    power_clusters: str = ""  # what the intervals of the power resampled
    late_recordings: pd.DataFrame | None = None  # per feature declared with --recorded-at

    def violated(self, assumption: str) -> bool:
        rows = self.checks[(self.checks["assumption"] == assumption) & self.checks["decides"]]
        return bool((rows["verdict"] == "violation").any())


def _row(test: str, column: str, result: checks.TestResult, note: str = "",
         role: str = "feature", naive_p: float = np.nan, detectable: float = np.nan,
         null: at_n.NullAtN | None = None, null_source: str | None = None) -> dict:
    """One check's row. ``null`` is its simulated behaviour at this n (false-alarm rate and
    detectable effect); without it, ``null_source`` says why there is none (alpha by
    construction, not simulated; by default "not simulated" for a check with a p-value)."""
    name, threshold = EFFECTS[test]
    assumption = ASSUMPTION[test]
    if null is not None:
        detectable, null_source = null.detectable, null.source
    elif null_source is None:
        null_source = at_n.NOT_SIMULATED if np.isfinite(result.p_value) else ""
    return {"assumption": assumption, "test": test, "column": column, "role": role,
            "decides": role in DECIDING_ROLES[assumption] and test not in CONTEXT_TESTS,
            "leakage_type": TEST_TYPES.get(test, ""),
            "statistic": result.statistic, "p_value": result.p_value, "naive_p_value": naive_p,
            "effect": result.effect, "effect_name": name, "threshold": threshold,
            "detectable": detectable,
            "false_alarm_rate": null.rate if null is not None else np.nan,
            "false_alarm_low": null.low if null is not None else np.nan,
            "false_alarm_high": null.high if null is not None else np.nan,
            "null_replicates": null.replicates if null is not None else 0,
            "null_source": null_source, "note": note}


def _role(table: AuditTable, column: str) -> str:
    if column == table.target:
        return "target"
    return "calendar" if column in table.calendar else "feature"


def correlogram(x: np.ndarray, column: str, nlags: int = 30) -> Correlogram:
    """ACF with Bartlett's 95% bands (valid under an MA(k-1) null at lag k) and PACF."""
    x = np.asarray(x, dtype=float)
    nlags = max(1, min(nlags, len(x) // 4))
    values, bands = acf(x, nlags=nlags, alpha=0.05, fft=True, result_object=False)
    partial = pacf(x, nlags=nlags, method="ywadjusted")
    return Correlogram(column=column, acf=values[1:], acf_low=bands[1:, 0] - values[1:],
                       acf_high=bands[1:, 1] - values[1:], pacf=partial[1:],
                       white_noise_band=float(1.96 / np.sqrt(len(x))))


def _group_anova(y: np.ndarray, groups: np.ndarray) -> checks.TestResult:
    """One-way ANOVA of ``y`` across groups; effect: the intraclass correlation ICC(1)."""
    labels, codes = np.unique(groups, return_inverse=True)
    k, n = len(labels), len(y)
    counts = np.bincount(codes)
    means = np.bincount(codes, weights=y) / counts
    ss_between = float(np.sum(counts * (means - y.mean()) ** 2))
    ss_within = float(np.sum((y - means[codes]) ** 2))
    ms_between = ss_between / (k - 1)
    ms_within = ss_within / (n - k)
    f = ms_between / ms_within if ms_within > 0 else np.inf
    k0 = (n - np.sum(counts**2) / n) / (k - 1)  # average group size, unbalanced correction
    icc = (ms_between - ms_within) / (ms_between + (k0 - 1) * ms_within)
    return checks.TestResult(float(f), float(stats.f.sf(f, k - 1, n - k)), float(icc))


def series_rows(x: np.ndarray, column: str, role: str, groups: np.ndarray | None,
                max_series: int, nulls: at_n.NullStreams | None = None,
                durbin_watson: bool = False) -> list[dict]:
    """Ljung-Box, runs and BDS (on block means when long; not on a series of fewer than
    :data:`checks.BDS_MIN_DISTINCT` values) of one series in time order, the ANOVA across
    groups when there are groups, and Durbin-Watson when asked (residuals).

    With ``nulls``, each check's false-alarm rate and detectable effect at this n come from
    random orders of the same values (:mod:`~casestudies.iid_checks.null_at_n`), drawn from
    the column's own streams."""
    found = (at_n.order_nulls(x, groups, nulls.alpha, nulls.rng(column, "order"),
                              durbin_watson) if nulls is not None else {})
    rows = [_row("Ljung-Box", column, checks.ljung_box(x),
                 f"h = {checks.ljung_box_lags(len(x))}", role, null=found.get("Ljung-Box")),
            _row("runs", column, checks.runs_test(x), role=role, null=found.get("runs"))]
    reduced = checks.block_means(x, max_series)
    note = f"on {len(reduced):,} block means" if len(reduced) < len(x) else ""
    if len(np.unique(reduced)) >= checks.BDS_MIN_DISTINCT:
        bds_null = (at_n.bds_null(reduced, nulls.alpha, nulls.rng(column, "BDS"))
                    if nulls is not None else None)
        rows.append(_row("BDS", column, checks.bds_test(reduced), note, role, null=bds_null))
    if groups is not None:
        rows.append(_row("ANOVA across groups", column, _group_anova(x, groups), role=role,
                         null=found.get("ANOVA across groups")))
    if durbin_watson:
        rows.append(_row("Durbin-Watson", column, checks.durbin_watson_test(x),
                         "residuals of the validated model, random K-fold", role,
                         null=found.get("Durbin-Watson")))
    return rows


def independence_rows(table: AuditTable, max_series: int,
                      residuals: tuple[np.ndarray, np.ndarray | None] | None = None,
                      nulls: at_n.NullStreams | None = None) -> list[dict]:
    """Order-based checks of every series (features as context, calendar columns flagged),
    of the target, and of the model's out-of-fold ``residuals`` (values in time order and
    their groups), with Durbin-Watson on the residuals; with ``nulls``, each with its
    behaviour at this n."""
    rows = []
    frame = table.frame
    columns = list(table.series_columns)
    if table.target is not None and table.task == "classification":
        columns.append(table.target)
    for column in columns:
        rows += series_rows(frame[column].to_numpy(dtype=float), column, _role(table, column),
                            table.groups, max_series, nulls)
    if residuals is not None:
        values, groups = residuals
        rows += series_rows(values, "out-of-fold residuals", "residuals", groups, max_series,
                            nulls, durbin_watson=True)
    return rows


def distribution_rows(table: AuditTable, config, rng: np.random.Generator) -> list[dict]:
    """Per column, with a block-permutation null (:mod:`~casestudies.iid_checks.dependent`):
    KS, Wasserstein and PSI (continuous) or chi-square (discrete, categorical); jointly: the
    energy distance on standardised features. The naive p-value (independent rows) is kept
    beside each. Every permutation draws from ``rng`` (the two-sample tests' own stream)."""
    rows = []
    frame, test = table.frame, table.is_test
    columns = table.features + ([table.target] if table.target is not None else [])
    blocks = []
    for column in progress(columns, desc="distribution checks"):
        role = _role(table, column)
        values = frame[column].to_numpy()
        discrete = (column in table.discrete or column in table.categorical
                    or (column == table.target and table.task == "classification"))
        result = dependent_two_sample(values, test, discrete=discrete,
                                      permutations=config.permutations, rng=rng,
                                      max_rows=min(config.max_rows, PERMUTATION_ROWS),
                                      alpha=config.alpha)
        critical = result.critical
        if not discrete:
            blocks.append(result.block * result.step)
        note = f"block {result.block * result.step:,} rows" + (
            f", every {result.step}th row" if result.step > 1 else "")
        if discrete:
            chi = checks.chi_square_test(values[~test], values[test])
            # Cramér's V of the critical chi-square of the (thinned) sample permuted.
            detectable = float(np.sqrt(critical["chi-square"] / result.rows))
            rows.append(_row("chi-square", column,
                             checks.TestResult(chi.statistic, result.p_values["chi-square"],
                                               chi.effect), note, role,
                             result.naive_p_values["chi-square"], detectable,
                             null_source=at_n.BY_CONSTRUCTION))
            continue
        full = dependent_two_sample(values, test, discrete=False, permutations=0, rng=rng,
                                    max_rows=len(values), block=1)
        stat = full.statistics
        rows.append(_row("Kolmogorov-Smirnov", column,
                         checks.TestResult(stat["Kolmogorov-Smirnov"],
                                           result.p_values["Kolmogorov-Smirnov"],
                                           stat["Kolmogorov-Smirnov"]), note, role,
                         full.naive_p_values["Kolmogorov-Smirnov"],
                         critical["Kolmogorov-Smirnov"], null_source=at_n.BY_CONSTRUCTION))
        rows.append(_row("Wasserstein", column,
                         checks.TestResult(stat["Wasserstein"], result.p_values["Wasserstein"],
                                           stat["Wasserstein"]), note, role,
                         detectable=critical["Wasserstein"], null_source=at_n.BY_CONSTRUCTION))
        psi = checks.psi(values[~test].astype(float), values[test].astype(float))
        rows.append(_row("PSI", column,
                         checks.TestResult(psi.statistic, result.p_values["PSI"], psi.effect),
                         note + f"; {checks.PSI_BINS} bins, point masses apart", role,
                         psi.p_value, critical["PSI"], null_source=at_n.BY_CONSTRUCTION))
    modelled = [c for c in table.numeric if c not in table.calendar]
    if modelled:
        numeric = frame[modelled].to_numpy(dtype=float)
        scale = numeric.std(axis=0)
        numeric = (numeric - numeric.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
        step = max(1, int(np.ceil(len(numeric) / (2 * config.max_energy_rows))))
        thinned = np.arange(0, len(numeric), step)
        block = max(1, int(np.ceil(max(blocks, default=1) / step)))
        result, naive = dependent_energy_test(numeric[thinned], test[thinned], block,
                                              config.permutations, rng)
        note = (f"{len(thinned):,} rows (every {step}th), block {block:,}, "
                f"{config.permutations} permutations")
        rows.append(_row("energy distance", "numeric features", result, note, "table", naive,
                         null_source=at_n.BY_CONSTRUCTION))
    return rows


def model_features(table: AuditTable) -> tuple[pd.DataFrame, EncodingReport]:
    """The features of the gradient-boosting models, for every row of ``table``: numeric
    columns as they are, categorical ones (text, and integer codes declared with
    ``--categorical``) one-hot encoded on their most frequent levels, identifier-like ones left
    out (:func:`~casestudies.tables.encode_features`); and what was done, for the report.

    Levels are chosen on all rows and ordered by frequency, then name, so neither a subsample
    nor the order of first appearance (which would encode time) decides the features.
    """
    return encode_features(table.frame, table.features, table.declared)


def model_matrix(table: AuditTable, index: np.ndarray) -> pd.DataFrame:
    """Rows ``index`` of :func:`model_features`."""
    features, _ = model_features(table)
    return features.iloc[index]


def adversarial_validation(table: AuditTable, config, seed: int, part: str = "data"
                           ) -> tuple[Adversarial, dict]:
    """Train a gradient-boosting classifier to tell the test (late) side from the other.

    Out-of-fold probabilities, from folds of whole clusters (groups, or blocks of consecutive
    rows, see :mod:`~casestudies.iid_checks.resampling`), give the AUC (with a
    cluster-bootstrap interval over the same clusters) and the Mann-Whitney p-value of
    AUC = 0.5 (AUC is the Mann-Whitney U divided by ``n1 n0``); permutation importance on a
    held-out half of the clusters names the features that give the split away.

    The subsample, the bootstrap and the classifier each draw from their own stream, named
    after ``part`` (the dataset audited), so that no other check changes their numbers.
    """
    index = np.arange(len(table.frame))
    if len(index) > config.max_rows:
        subsample = stream(seed, "iid_checks", part, "adversarial", "subsample")
        index = np.sort(subsample.choice(index, config.max_rows, replace=False))
    model_seed = stream_seed(seed, "iid_checks", part, "adversarial", "classifier")
    features = model_matrix(table, index)
    side = table.is_test[index].astype(int)
    model = HistGradientBoostingClassifier(max_iter=100, random_state=model_seed,
                                           categorical_features="from_dtype")
    clusters, cluster_name = bootstrap_clusters(table, index)
    # Folds of whole clusters (groups, or blocks of consecutive rows): with shuffled rows, a
    # row's neighbours in time or its group's other rows sit in the training folds, and slowly
    # varying features (a customer's 30-day mean) let the classifier recognise them; the AUC
    # would then measure that memory, not a difference between the sides.
    folds = StratifiedGroupKFold(n_splits=ADVERSARIAL_FOLDS, shuffle=True,
                                 random_state=model_seed)
    scores = cross_val_predict(model, features, side, cv=folds, groups=clusters,
                               method="predict_proba")[:, 1]

    levels, codes = np.unique(scores, return_inverse=True)

    def resampled_auc(rows: np.ndarray) -> float:
        return auc_of_codes(codes[rows], side[rows], len(levels))

    replicates = cluster_bootstrap({"auc": resampled_auc}, clusters, config.bootstrap,
                                   stream(seed, "iid_checks", part, "adversarial", "bootstrap"),
                                   desc="adversarial AUC bootstrap")["auc"]
    auc = percentile_interval(float(roc_auc_score(side, scores)), replicates)
    p_value = stats.mannwhitneyu(scores[side == 1], scores[side == 0]).pvalue
    fit_rows, held_rows = next(GroupShuffleSplit(
        n_splits=1, test_size=IMPORTANCE_HELD_OUT, random_state=model_seed).split(
        features, side, groups=clusters))
    # Every k-th held-out row, so that both sides (early and late rows) are kept.
    held_rows = held_rows[::max(1, int(np.ceil(len(held_rows) / IMPORTANCE_ROWS)))]
    model.fit(features.iloc[fit_rows], side[fit_rows])
    importance = permutation_importance(model, features.iloc[held_rows], side[held_rows],
                                        scoring="roc_auc", n_repeats=2,
                                        random_state=model_seed)
    ranking = pd.DataFrame({"feature": list(features.columns),
                            "auc_drop": importance.importances_mean})
    ranking = ranking.sort_values("auc_drop", ascending=False, ignore_index=True)
    note = f"{len(index):,} rows" + (" (subsample)" if len(index) < len(table.frame) else "")
    row = _row("adversarial AUC", "all features",
               checks.TestResult(auc.value, float(p_value), auc.value - 0.5), note, "table")
    return Adversarial(auc=auc, p_value=float(p_value), rows=len(index), clusters=cluster_name,
                       importance=ranking, importance_rows=len(held_rows)), row


def auc_of_codes(codes: np.ndarray, labels: np.ndarray, levels: int) -> float:
    """ROC AUC from the rank codes of the scores (``np.unique(..., return_inverse=True)``):
    the Mann-Whitney count with ties as one half, from two bincounts, so that each bootstrap
    resample costs one pass instead of a sort (``nan`` with one class only)."""
    positives = np.bincount(codes, weights=labels, minlength=levels)
    negatives = np.bincount(codes, minlength=levels) - positives
    n_pos, n_neg = positives.sum(), negatives.sum()
    if n_pos == 0 or n_neg == 0:
        return np.nan
    below = np.cumsum(negatives) - negatives
    return float(np.sum(positives * (below + 0.5 * negatives)) / (n_pos * n_neg))


def leakage_rows(table: AuditTable, rng: np.random.Generator, max_rows: int
                 ) -> tuple[list[dict], list[str]]:
    """Exact and near duplicates of test rows among the other side, and shared groups; and
    notes on the checks skipped.

    Copies are looked for only when a continuous feature exists: on discrete or categorical
    columns alone, identical rows are expected by chance and are not evidence of a copy.
    """
    rows, notes = [], []
    frame, test = table.frame, table.is_test
    n_test = int(test.sum())
    continuous = [c for c in table.numeric if c not in table.discrete]
    if len(table.features) >= 2 and not continuous:
        notes.append("the duplicate checks were skipped: without a continuous feature, "
                     "identical rows are expected by chance")
    elif len(table.features) >= 2:
        hashes = pd.util.hash_pandas_object(frame[table.features], index=False).to_numpy()
        exact = np.isin(hashes[test], hashes[~test])
        share = float(exact.mean())
        rows.append(_row("exact duplicates", "all features",
                         checks.TestResult(float(exact.sum()), np.nan, share),
                         f"{int(exact.sum()):,} of {n_test:,} test rows", "table"))
        if len(table.numeric) >= 2:
            rows.append(_near_duplicates(table, exact, rng, max_rows))
    if table.groups is not None:
        shared = np.isin(table.groups[test], table.groups[~test])
        n_groups = len(np.intersect1d(table.groups[test], table.groups[~test]))
        rows.append(_row("groups on both sides", table.group_name or "group",
                         checks.TestResult(float(n_groups), np.nan, float(shared.mean())),
                         f"{n_groups:,} groups on both sides", "table"))
    return rows, notes


def near_copies(reference: np.ndarray, queries: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whether each query row (standardised features) has a reference row within the near-copy
    radius, the chance of that for independent rows (see :func:`_near_duplicates`), and the
    distance to its nearest reference row."""
    dimension = reference.shape[1]
    neighbours = min(NEAR_DENSITY_NEIGHBOURS + 1, len(reference))
    distance, _ = NearestNeighbors(n_neighbors=neighbours).fit(reference).kneighbors(queries)
    radius = NEAR_TOLERANCE * np.sqrt(dimension)
    with np.errstate(divide="ignore"):
        ratio = np.where(distance[:, -1] > 0, radius / distance[:, -1], np.inf)
    chance = -np.expm1(-(neighbours - 1) * ratio**dimension)
    return distance[:, 0] < radius, chance, distance[:, 0]


def excess_p_value(near: np.ndarray, chance: np.ndarray) -> float:
    """One-sided p-value of more near copies than chance: the count is a sum of independent
    Bernoulli(chance_i) under independent rows, approximately normal with mean ``sum chance``
    and variance ``sum chance (1 - chance)``."""
    expected, variance = chance.sum(), np.sum(chance * (1 - chance))
    if variance <= 0:
        return 0.0 if near.sum() > expected else 1.0
    return float(stats.norm.sf((near.sum() - expected) / np.sqrt(variance)))


def _near_duplicates(table: AuditTable, exact: np.ndarray, rng: np.random.Generator,
                     max_rows: int) -> dict:
    """Test rows (not exact copies) whose nearest other-side row differs by less than
    :data:`NEAR_TOLERANCE` SD per feature (root mean square over the ``d`` numeric features),
    beyond the number expected by chance.

    With few features, independent rows fall that close by chance. Within the radius
    ``r = NEAR_TOLERANCE sqrt(d)`` of a test row, the other side holds about
    ``k (r / rho)^d`` rows, ``rho`` being the distance to its ``(k+1)``-th nearest other-side
    row (:data:`NEAR_DENSITY_NEIGHBOURS` = ``k``; one more so that a copy does not inflate the
    density), so the chance that the nearest row is within ``r`` is
    ``1 - exp(-k (r / rho)^d)``. The effect is the share of test rows near a copy minus the
    sum of these chances, divided by the number of test rows; :func:`excess_p_value` says
    whether the excess is more than chance variation.
    """
    values = table.frame[table.numeric].to_numpy(dtype=float)
    scale = values.std(axis=0)
    values = (values - values.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    train = np.flatnonzero(~table.is_test)
    queries = np.flatnonzero(table.is_test)[~exact]
    note = ""
    if len(train) > max_rows:
        train = rng.choice(train, max_rows, replace=False)
        note = f"; searched among {max_rows:,} subsampled rows (a lower bound)"
    if len(queries) > MAX_NEAR_QUERIES:
        queries = rng.choice(queries, MAX_NEAR_QUERIES, replace=False)
    if len(queries) == 0:
        return _row("near duplicates", "numeric features", checks.TestResult(0.0, np.nan, 0.0),
                    role="table")
    near, chance, _ = near_copies(values[train], values[queries])
    excess = max(0.0, float(near.sum() - chance.sum()))
    # Queries are (a sample of) the test rows that are not exact copies: scale to all test rows.
    share = excess / len(queries) * (~exact).sum() / exact.size
    return _row("near duplicates", "numeric features",
                checks.TestResult(float(near.sum()), excess_p_value(near, chance), share),
                f"{int(near.sum()):,} of {len(queries):,} test rows checked, "
                f"{chance.sum():,.1f} expected by chance{note}", "table")


def target_leakage_rows(table: AuditTable, replicates: int, seed: int, part: str
                        ) -> tuple[list[dict], pd.DataFrame | None, str, pd.DataFrame | None]:
    """Per numeric feature (with a target and ``replicates`` > 0): the label in disguise and
    the fall of its power after the development rows
    (:func:`~casestudies.iid_checks.leakage.feature_power`); per feature declared with
    ``--recorded-at``: the rows recorded after their prediction moment.

    The interval checks have no p-value: their effect is the lower end of the interval, so
    that a check is a violation exactly when the whole interval lies at or beyond its
    threshold.
    """
    rows = []
    found = feature_power(table, replicates, seed, part) if replicates > 0 else None
    power, clusters = found if found is not None else (None, "")
    for r in power.itertuples() if power is not None else ():
        level = f"{r.confidence:.0%}"
        rows.append(_row("label in disguise", r.feature,
                         checks.TestResult(r.early, np.nan, max(r.early_low, 0.0)),
                         f"{r.early:.3f} ({level} interval {r.early_low:.3f} to "
                         f"{r.early_high:.3f}) on {r.rows_early:,} development rows, over "
                         f"{clusters}"))
        rows.append(_row("power drop", r.feature,
                         checks.TestResult(r.drop, np.nan, max(r.drop_low, 0.0)),
                         f"{r.early:.3f} early, {r.late:.3f} later: fall {r.drop:.3f} "
                         f"({level} interval {r.drop_low:.3f} to {r.drop_high:.3f}), over "
                         f"{clusters}"))
    late = late_recordings(table) if table.recorded_at else None
    for r in late.itertuples() if late is not None else ():
        rows.append(_row("recorded after prediction", r.feature,
                         checks.TestResult(float(r.after), np.nan, r.share),
                         f"{r.after:,} of {r.rows:,} rows recorded after their time"))
    return rows, power, clusters, late


def stationarity_rows(table: AuditTable, alpha: float, max_series: int,
                      nulls: at_n.NullStreams | None = None
                      ) -> tuple[list[dict], dict[str, checks.Stationarity]]:
    """ADF + KPSS with a constant and with a constant and trend per series (block means of
    long series). The row's p-value is the constant KPSS's (null: a constant level), its effect
    the share of variance between segments of the full series; like every check it is a
    violation only when significant after adjustment and material. With ``nulls``, KPSS's
    false-alarm rate on a stationary AR(1) with the column's persistence at its length
    (:func:`~casestudies.iid_checks.null_at_n.kpss_null`)."""
    rows, results = [], {}
    for column in table.series_columns:
        full = table.frame[column].to_numpy(dtype=float)
        x = checks.block_means(full, max_series)
        result = checks.stationarity(x, alpha)
        share = checks.segment_share(full)
        result = checks.Stationarity(level=result.level, trend=result.trend, share=share)
        results[column] = result
        note = (f"{result.reading}; with trend: {result.trend.reading}"
                + (f"; on {len(x):,} block means" if len(x) < len(full) else ""))
        null = None
        if nulls is not None:
            null, phi = at_n.kpss_null(full, max_series, alpha, nulls.rng(column, "KPSS"))
            note += f"; KPSS null: AR(1) with coefficient {phi:.3f}"
        rows.append(_row("ADF + KPSS", column,
                         checks.TestResult(result.level.kpss_statistic,
                                           result.level.kpss_p_value, share), note,
                         _role(table, column), null=null))
    return rows, results


def adjust(frame: pd.DataFrame, alpha: float, correction: str) -> pd.DataFrame:
    """Add adjusted p-values (Holm or Benjamini-Hochberg over every check with a p-value, the
    context rows included, so that showing them never makes a deciding check look stronger)
    and the verdict of each row: a violation when significant after adjustment and material.

    The KPSS p-value is read from a table and clipped at its floor: adjusting the floor value
    is conservative, which is why that check also needs a material effect.
    """
    frame = frame.copy()
    tested = frame["p_value"].notna().to_numpy()
    adjusted = np.full(len(frame), np.nan)
    if tested.any():
        method = checks.holm if correction == "holm" else checks.benjamini_hochberg
        adjusted[tested] = method(frame.loc[tested, "p_value"].to_numpy())
    frame["p_adjusted"] = adjusted
    material = (frame["effect"].abs() >= frame["threshold"]).to_numpy()
    significant = np.where(tested, adjusted < alpha, True)
    verdict = np.where(significant & material, VERDICTS[0],
                       np.where(significant & tested, VERDICTS[1], VERDICTS[2]))
    missing = np.full(len(frame), np.nan)
    band_low, band_high, unreliable, oversized = at_n.reliability(
        frame.get("false_alarm_rate", missing), frame.get("null_replicates", missing), alpha)
    # A flag (significant, material or not) of a test that flags random orders of the same
    # values too often at this n is not evidence.
    verdict = np.where(oversized & significant & tested, VERDICTS[3], verdict)
    with np.errstate(invalid="ignore"):
        underpowered = (frame.get("detectable", missing) > frame["threshold"]).to_numpy()
    frame["material"] = material
    frame["verdict"] = verdict
    frame["band_low"], frame["band_high"] = band_low, band_high
    frame["unreliable"], frame["oversized"] = unreliable, oversized
    frame["underpowered"] = underpowered
    frame["reading"] = np.where((verdict == VERDICTS[2]) & underpowered & tested,
                                TOO_FEW_ROWS, verdict)
    return frame


def column_verdicts(frame: pd.DataFrame) -> pd.DataFrame:
    """One verdict per column and assumption, combining its checks: violated when any of them
    is a violation. ``tests`` names the checks that flag it."""
    records = []
    # A column's deciding and context checks of one assumption are judged apart (a feature's
    # "label in disguise" decides about leakage, its "power drop" is context).
    for (assumption, column, decides), rows in frame.groupby(["assumption", "column", "decides"],
                                                             sort=False):
        flagged = rows[rows["verdict"] == "violation"]
        unreliable = (rows["unreliable"].astype(bool) if "unreliable" in rows
                      else pd.Series(False, index=rows.index))
        records.append({
            "assumption": assumption, "column": column, "role": rows["role"].iloc[0],
            "decides": bool(decides), "checks": len(rows),
            "violated": len(flagged) > 0,
            "small effect": bool((rows["verdict"] == VERDICTS[1]).any()) and flagged.empty,
            # No violation, and no test of the column could have flagged a material effect at
            # this n: "no evidence" here means "too few rows to see it", not "no drift".
            "underpowered": bool(flagged.empty and "detectable" in rows
                                 and (rows["detectable"] > rows["threshold"]).all()),
            "tests": ", ".join(flagged["test"]),
            # Checks whose false-alarm rate at this n lies outside the binomial band of alpha,
            # and flags not counted because the test flags random orders too often.
            "unreliable": bool(unreliable.any()),
            "unreliable tests": ", ".join(rows.loc[unreliable, "test"]),
            "not counted": ", ".join(rows.loc[rows["verdict"] == VERDICTS[3], "test"]),
        })
    return pd.DataFrame(records)


def run_audit(table: AuditTable, config, seed: int, adversarial: bool = True,
              part: str = "data",
              residuals: tuple[np.ndarray, np.ndarray | None] | None = None,
              single_feature: bool = True, null_at_n: bool = True) -> AuditResult:
    """Run every check on ``table`` and adjust the p-values for multiple testing.

    Parameters
    ----------
    table : AuditTable
        The validated data.
    config : IIDConfig
        Levels, sizes and subsampling limits.
    seed : int
        Seed of the subsamples, permutations, bootstraps and classifiers.
    adversarial : bool, default True
        Train the adversarial classifier (the costliest check).
    part : str, default "data"
        Stable name of the dataset audited (``"data"``, ``"gallery iid"`` …). Each randomised
        check draws from the stream ``(seed, "iid_checks", part, check)``, so that auditing
        another dataset, or adding a check, leaves the numbers of this one unchanged.
    residuals : tuple of ndarray, optional
        Out-of-fold residuals of the validated model in time order, and their groups (or
        ``None``): their checks decide the independence verdict with the target's.
    single_feature : bool, default True
        Run the single-feature leakage checks (:func:`target_leakage_rows`); the recording
        times declared with ``--recorded-at`` are checked either way.
    null_at_n : bool, default True
        Simulate each series check's false-alarm rate and detectable effect at this n
        (:mod:`~casestudies.iid_checks.null_at_n`), from the streams
        ``(seed, "iid_checks", part, "null at n", column, family)``.
    """
    nulls = at_n.NullStreams(seed, part, config.alpha) if null_at_n else None
    rows = independence_rows(table, config.max_series, residuals, nulls)
    rows += distribution_rows(table, config,
                              stream(seed, "iid_checks", part, "two-sample tests"))
    stationarity, readings = stationarity_rows(table, config.alpha, config.max_series, nulls)
    rows += stationarity
    found = None
    if adversarial:
        found, row = adversarial_validation(table, config, seed, part)
        rows.append(row)
    leakage, leakage_notes = leakage_rows(table, stream(seed, "iid_checks", part,
                                                        "near duplicates"), config.max_rows)
    rows += leakage
    target_rows, power, power_clusters, late = target_leakage_rows(
        table, config.bootstrap if single_feature else 0, seed, part)
    rows += target_rows
    # A test that cannot run on a column (a runs test on a column equal to its median almost
    # everywhere) gives no row rather than a silent "no evidence".
    rows = [r for r in rows if np.isfinite(r["statistic"])]
    frame = adjust(pd.DataFrame(rows), config.alpha, config.correction)
    grams = [correlogram(table.frame[c].to_numpy(dtype=float), c)
             for c in [c for c in table.series_columns if c not in table.calendar][:ACF_COLUMNS]]
    return AuditResult(name=table.name, rows=len(table.frame), checks=frame,
                       correction=config.correction, alpha=config.alpha, correlograms=grams,
                       adversarial=found, stationarity=readings,
                       notes=list(table.notes) + leakage_notes, columns=column_verdicts(frame),
                       power=power, power_clusters=power_clusters, late_recordings=late)


def leakage_control(task: str, config, seed: int) -> pd.DataFrame:
    """The single-feature leakage checks on the known-truth control
    (:func:`~casestudies.iid_checks.leakage.simulate_control`) of ``task``: per feature its
    powers, the check it was built to trip (``truth``, "" for none) and the checks that flag it
    (``flagged``), judged by the same rule as on the data."""
    table = control_table(task, CONTROL_ROWS, seed)
    rows, power, _, _ = target_leakage_rows(table, config.bootstrap, seed, "leakage control")
    frame = adjust(pd.DataFrame(rows), config.alpha, config.correction)
    flagged = frame[frame["verdict"] == VERDICTS[0]].groupby("column")["test"].agg(", ".join)
    return power.assign(truth=power["feature"].map(CONTROL_TRUTH),
                        flagged=[flagged.get(f, "") for f in power["feature"]])
