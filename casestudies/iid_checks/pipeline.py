"""The IID audit: the battery of checks on the data, the consequence for validation, the
known-truth gallery and the size and power of the checks. No I/O, no HTML."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from casestudies import progress
from casestudies.calibration.data import WINDOWS_DAYS
from casestudies.errors import DataError
from casestudies.iid_checks import checks, leakage, null_at_n
from casestudies.iid_checks import verdicts as rules
from casestudies.iid_checks.alongside import Alongside, can_start
from casestudies.iid_checks.audit import (
    EFFECTS,
    NEAR_DENSITY_NEIGHBOURS,
    NEAR_TOLERANCE,
    VERDICTS,
    AuditResult,
    leakage_control,
    model_features,
    run_audit,
)
from casestudies.iid_checks.burnin import (
    WARMUP_GAP_NOISE,
    WARMUP_GAP_SD,
    WARMUP_SEGMENTS,
    WARMUP_TOLERANCE,
    detect_warmups,
    parse_duration,
)
from casestudies.iid_checks.cache import cached, has_entry
from casestudies.iid_checks.concept import (
    MATERIAL_LOSS_INCREASE,
    SCORED_SHARE,
    ConceptDrift,
    concept_drift,
)
from casestudies.iid_checks.config import IIDConfig
from casestudies.iid_checks.data import (
    AR_COEFFICIENTS,
    COEFFICIENTS,
    GALLERY,
    GALLERY_DESCRIPTION,
    GALLERY_TRUTH,
    ROW_LEVEL_FEATURES,
    AuditTable,
    FileReading,
    IIDData,
    gallery_table,
    transaction_windows,
)
from casestudies.iid_checks.dependent import BLOCK_FACTOR
from casestudies.iid_checks.drift import MATERIAL_RELATIVE_CHANGE, prior_shift
from casestudies.iid_checks.simulation import SizePower, size_and_power
from casestudies.iid_checks.validation import ValidationResult, check_gap, compare_validation
from casestudies.provenance import StageTimer
from casestudies.results import StudyResult
from casestudies.rng import stream
from casestudies.tables import (
    MAX_DROPPED_SHARE,
    EncodingReport,
    LabelMapping,
    MissingReport,
)
from casestudies.verdicts import Verdict

ASSUMPTIONS = ("independent", "identically distributed", "no leakage")
TRACE_POINTS = 300
TRACE_COLUMNS = 3
SENSITIVITY_LAGS = (1, 2, 5, 10, 20, 50)
SENSITIVITY_ROWS = 150  # a short series, where the choice of h matters most
BAND_LAG = 10  # lag at which the white-noise and Bartlett bands of the sunspots are compared
ADF_FLAG = "ADF (flags if not rejected)"
# The gallery and the simulation run in a second process when there is a core for it.
MIN_CORES_ALONGSIDE = 2


@dataclass
class GalleryEntry:
    """One simulated dataset: its truth, what the checks found, and the validation gap."""

    name: str
    description: str
    truth: tuple[str, ...]
    found: dict[str, bool]  # per assumption: whether the audit flags it
    audit: AuditResult
    validation: ValidationResult


@dataclass
class GallerySummary:
    """The audit's verdicts on the gallery against the known truth, counted over the
    dataset-assumption cells."""

    cells: int
    correct: int
    missed: int
    false_alarms: int
    # Datasets whose rows are dependent but from one process, where identical-distribution
    # checks nevertheless flag the halves: name and number of such checks.
    dependence_false_alarms: list[dict]


@dataclass
class MultipleTesting:
    """How many checks are significant before and after adjustment, and the p-value floors
    that matter under Holm."""

    correction: str  # its name in words
    tested: int  # checks with a p-value
    raw_significant: int
    adjusted_significant: int
    expected_by_chance: float  # tested * alpha: rejections if every assumption held
    holm_first_threshold: float  # alpha / tested
    kpss_p_floor: float
    energy_p_floor: float  # 1 / (permutations + 1)


@dataclass
class SizeSummary:
    """What the size and power simulation shows, as the report states it."""

    iid_rates: pd.DataFrame  # per test under IID: flags, rate, Wilson interval, inside_band
    tests: int
    inside_band: int  # flag rates under IID inside the binomial band of alpha
    outside_band: list[str]
    adf_outside: bool
    bds_outside: bool
    ljung_box_iid: float
    ljung_box_strong_ar1: float
    ljung_box_mean_shift: float
    ljung_box_grouped: float
    bds_iid: float
    energy_grouped: float


@dataclass
class BurnIn:
    """The warm-up of rolling-window features and the burn-in the audit leaves out."""

    warmups: list  # Warmup records, longest first
    detected: float  # latest end of a warm-up (0 when none), in `unit`
    used: float  # burn-in applied
    source: str  # "detected" or "--burn-in"
    unit: str
    rows_dropped: int
    rows_kept: int


@dataclass
class DataHandling:
    """What was done to a user's table before the audit, and the sentences that say so.

    Attributes
    ----------
    reading : FileReading
        Delimiter, encoding and decimal mark, given or detected.
    labels : LabelMapping or None
        How a two-valued target was read as 0/1.
    missing : MissingReport
        The missing-value policy and the missing cells per column used.
    rows_read, rows_dropped : int
        Rows of the file, and rows the policy dropped.
    features : EncodingReport
        How the audited columns became the models' features.
    dropped_columns : list of str
        Columns left out with ``--drop``.
    declared_categorical : list of str
        Integer columns declared categorical with ``--categorical``.
    sentences : list of str
        The report's words for all of the above.
    """

    reading: FileReading
    labels: LabelMapping | None
    missing: MissingReport
    rows_read: int
    rows_dropped: int
    features: EncodingReport
    dropped_columns: list[str]
    declared_categorical: list[str]
    sentences: list[str]


def _sentence(text: str) -> str:
    """``text`` (a record's lower-case description) as a sentence."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def data_handling(data: IIDData, table: AuditTable) -> DataHandling | None:
    """What was done to the user's table (``None`` on the default data), with the sentences
    the report's data section shows."""
    if data.reading is None or table.missing is None:
        return None
    _, features = model_features(table)
    missing = table.missing
    sentences = [data.reading.describe()]
    if table.labels is not None:
        sentences.append(_sentence(table.labels.describe()))
    sentences.append(_sentence(f"missing values: {missing.describe()}"))
    if table.dropped:
        sentences.append(_sentence(f"left out of the features with --drop: "
                                   f"{', '.join(map(repr, table.dropped))}"))
    if table.declared:
        sentences.append(_sentence(
            f"declared categorical with --categorical, so compared with chi-square and one-hot "
            f"encoded: {', '.join(map(repr, table.declared))}"))
    models = ("the adversarial classifier and the validation models" if table.target is not None
              else "the adversarial classifier")
    sentences.append(_sentence(f"features of {models}: {features.describe()}"))
    return DataHandling(reading=data.reading, labels=table.labels, missing=missing,
                        rows_read=missing.rows_before, rows_dropped=missing.rows_dropped,
                        features=features, dropped_columns=list(table.dropped),
                        declared_categorical=list(table.declared), sentences=sentences)


@dataclass
class IIDResult(StudyResult):
    """Every number and every conclusion the report shows, as plain data."""

    study: ClassVar[str] = "iid_checks"

    source: str
    config: IIDConfig
    table_name: str
    rows: int
    numeric: list[str]
    discrete: list[str]
    categorical: list[str]
    target: str | None
    task: str | None
    group: str | None
    comparison: str
    order: str
    notes: list[str]
    preview: pd.DataFrame
    audit: AuditResult
    assumptions: pd.DataFrame
    check_counts: dict[str, int]
    multiple_testing: MultipleTesting
    ljung_box_lags: int  # h of Ljung-Box for this many rows
    smallest_significant_ks: dict | None  # the weakest KS check that is significant but small
    smallest_significant_ljung_box: dict | None
    stationarity_columns: int
    not_stationary: int  # columns whose ADF/KPSS reading is not "stationary"
    validation: ValidationResult | None
    real_series: AuditResult | None
    real_series_span: str | None
    sunspot_ljung_box: dict | None
    sunspot_band: dict | None
    gallery: list[GalleryEntry]
    gallery_matrix: pd.DataFrame
    gallery_summary: GallerySummary
    simulation: SizePower | None
    size_summary: SizeSummary | None
    discrete_ks: dict | None
    lag_sensitivity: pd.DataFrame
    lag_rows: int
    settings: dict
    verdicts: dict[str, Verdict]
    trace: pd.DataFrame = field(metadata={"json": False})
    burn_in: BurnIn | None = None
    audit_without_burn_in: AuditResult | None = None
    burn_in_effects: pd.DataFrame | None = None
    prior: dict | None = None
    concept: ConceptDrift | None = None  # P(y | x) between the early and the later rows
    calendar: list[str] = field(default_factory=list)
    gaps: dict | None = None
    islp: list = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    data_handling: DataHandling | None = None  # what was done to a user's table
    leakage_control: pd.DataFrame | None = None  # the leakage checks on the known-truth control
    leakage_features: dict[str, str] = field(default_factory=dict)  # feature each verdict shows
    at_n: dict | None = None  # each check's false-alarm rate and detectable effect at this n

    def tables(self) -> dict[str, pd.DataFrame]:
        """The main tables: verdicts per assumption, every check, the gallery, the lag
        sensitivity and (when simulated) the flag rates."""
        tables = {"assumptions": self.assumptions, "checks": self.audit.checks,
                  "gallery": self.gallery_matrix, "lag_sensitivity": self.lag_sensitivity,
                  "verdicts": self.verdict_frame()}
        if self.simulation is not None:
            tables["flag_rates"] = self.simulation.rates
        return tables


def assumption_table(audit: AuditResult) -> pd.DataFrame:
    """Per assumption: the deciding columns, how many violate it and which (each named with
    the checks that flag it), and the context columns flagged."""
    records = []
    columns = audit.columns
    for assumption in ASSUMPTIONS:
        rows = columns[columns["assumption"] == assumption]
        if rows.empty:
            continue
        deciding = rows[rows["decides"]]
        violated = deciding[deciding["violated"]]
        context = rows[~rows["decides"] & rows["violated"]]
        records.append({
            "assumption": assumption,
            "columns": len(deciding),
            "violations": len(violated),
            "small effects": int(deciding["small effect"].sum()),
            "violated": len(violated) > 0,
            "which": "; ".join(f"{r.column}: {r.tests}" for r in violated.itertuples()),
            "context flagged": len(context),
            "underpowered": int(deciding["underpowered"].sum()),
            "unreliable": int(deciding["unreliable"].sum()),
            "flags not counted": int((deciding["not counted"] != "").sum()),
        })
    return pd.DataFrame(records)


def run_gallery(names: tuple[str, ...], config: IIDConfig) -> list[GalleryEntry]:
    """Simulate, audit and validate each gallery dataset of ``names``, each from its own
    streams: the simulation's stream is named after the dataset
    (:func:`~casestudies.iid_checks.data.simulate_gallery`), and the checks and models draw
    from streams of the part ``"gallery NAME"``, so that adding a dataset leaves the others
    unchanged."""
    entries = []
    for name in progress.progress(names, desc="known-truth gallery"):
        table = gallery_table(name, config.gallery_rows, config.seed, config.max_levels)
        validation = compare_validation(table, config, config.seed, part=f"gallery {name}")
        audit = run_audit(table, config, config.seed, part=f"gallery {name}",
                          residuals=(validation.residuals, validation.residual_groups))
        entries.append(GalleryEntry(
            name=name, description=GALLERY_DESCRIPTION[name], truth=GALLERY_TRUTH[name],
            found={a: audit.violated(a) for a in ASSUMPTIONS}, audit=audit,
            validation=validation))
    return entries


def gallery_matrix(entries: list[GalleryEntry]) -> pd.DataFrame:
    """Known truth against what the audit found, per dataset and assumption."""
    records = []
    for entry in entries:
        record = {"dataset": entry.name}
        for assumption in ASSUMPTIONS:
            truth = assumption in entry.truth
            record[assumption] = ("violated" if truth else "holds") + (
                ", found" if entry.found[assumption] else ", not found")
        random_kfold = entry.validation.scheme("random K-fold")
        record["K-fold optimism"] = random_kfold.optimism.value
        records.append(record)
    return pd.DataFrame(records)


def gallery_summary(entries: list[GalleryEntry]) -> GallerySummary:
    """Hits, misses and false alarms over the dataset-assumption cells of the gallery, and the
    datasets with dependent rows from one process on which identical-distribution checks
    flag the halves."""
    missed = false_alarms = correct = 0
    dependent = []
    for entry in entries:
        for assumption in ASSUMPTIONS:
            truth, found = assumption in entry.truth, entry.found[assumption]
            correct += truth == found
            missed += truth and not found
            false_alarms += found and not truth
        if "independent" in entry.truth and "identically distributed" not in entry.truth:
            frame = entry.audit.checks
            flagged = frame[(frame["assumption"] == "identically distributed")
                            & (frame["verdict"] == "violation") & frame["decides"]]
            if len(flagged):
                dependent.append({"name": entry.name, "checks": len(flagged)})
    return GallerySummary(cells=len(entries) * len(ASSUMPTIONS), correct=int(correct),
                          missed=int(missed), false_alarms=int(false_alarms),
                          dependence_false_alarms=dependent)


def drifting_columns(audit: AuditResult, numeric: list[str], count: int) -> list[str]:
    """The numeric columns whose two sides differ most (KS distance or Cramér's V)."""
    frame = audit.checks
    rows = frame[frame["test"].isin(["Kolmogorov-Smirnov", "chi-square"])
                 & frame["column"].isin(numeric)]
    return rows.sort_values("effect", ascending=False)["column"].head(count).tolist()


def _trace(table: AuditTable, columns: list[str]) -> pd.DataFrame:
    """Block means of a few columns along the row order, for the drift figure."""
    n = len(table.frame)
    points = min(TRACE_POINTS, n)
    edges = np.linspace(0, n, points + 1).astype(int)
    data = {"position": (edges[:-1] + edges[1:]) / 2 / n}
    for column in columns:
        values = table.frame[column].to_numpy(dtype=float)
        data[column] = np.add.reduceat(values, edges[:-1]) / np.diff(edges)
    return pd.DataFrame(data)


def discrete_ks(table: AuditTable) -> dict | None:
    """KS against chi-square on a discrete column (the target if it is 0/1): KS assumes a
    continuous distribution and is conservative on ties."""
    if table.target is not None and table.task == "classification":
        column = table.target
    elif table.discrete:
        column = table.discrete[0]
    else:
        return None
    values = table.frame[column].to_numpy(dtype=float)
    a, b = values[~table.is_test], values[table.is_test]
    ks, chi = checks.ks_test(a, b), checks.chi_square_test(a, b)
    return {"column": column, "levels": len(np.unique(values)), "ks_d": ks.statistic,
            "ks_p": ks.p_value, "chi2": chi.statistic, "chi2_p": chi.p_value}


def lag_sensitivity(x: np.ndarray, lags: tuple[int, ...] = SENSITIVITY_LAGS) -> pd.DataFrame:
    """Ljung-Box Q and p-value of one series for several maximum lags h."""
    records = []
    for h in lags:
        if h < len(x) // 2:
            result = checks.ljung_box(x, h)
            records.append({"h": h, "Q": result.statistic, "p_value": result.p_value})
    return pd.DataFrame(records)


def check_counts(audit: AuditResult) -> dict[str, int]:
    """Number of checks per verdict, and in total."""
    verdict = audit.checks["verdict"]
    return {v: int((verdict == v).sum()) for v in VERDICTS} | {"total": len(verdict)}


def multiple_testing(audit: AuditResult, config: IIDConfig) -> MultipleTesting:
    """Significant checks before and after adjustment, and the floors of the clipped or
    permutation p-values against Holm's first threshold."""
    frame = audit.checks
    tested = frame["p_value"].notna()
    m = int(tested.sum())
    return MultipleTesting(
        correction="Holm" if config.correction == "holm" else "Benjamini-Hochberg",
        tested=m,
        raw_significant=int((frame.loc[tested, "p_value"] < config.alpha).sum()),
        adjusted_significant=int((frame.loc[tested, "p_adjusted"] < config.alpha).sum()),
        expected_by_chance=m * config.alpha,
        holm_first_threshold=config.alpha / max(m, 1),
        kpss_p_floor=checks.KPSS_P_RANGE[0],
        energy_p_floor=1 / (config.permutations + 1))


def smallest_significant(audit: AuditResult, test: str) -> dict | None:
    """The check of ``test`` with the smallest effect among those significant with a small
    effect: the sharpest example of significance without materiality."""
    frame = audit.checks
    rows = frame[(frame["verdict"] == "significant, small effect") & (frame["test"] == test)]
    return rows.loc[rows["effect"].idxmin()].to_dict() if len(rows) else None


def size_summary(sim: SizePower) -> tuple[SizeSummary, dict[str, Verdict]]:
    """What the simulation says about the size of each test under IID and the flag rates the
    report discusses, with the verdicts on them."""
    iid = sim.rates[sim.rates["scenario"] == "iid"]
    inside = (iid["rate"] >= sim.band_low) & (iid["rate"] <= sim.band_high)
    outside = iid.loc[~inside, "test"].tolist()
    summary = SizeSummary(
        iid_rates=iid.drop(columns="scenario").assign(inside_band=inside).reset_index(drop=True),
        tests=len(iid), inside_band=int(inside.sum()), outside_band=outside,
        adf_outside=ADF_FLAG in outside, bds_outside="BDS" in outside,
        ljung_box_iid=sim.rate("iid", "Ljung-Box"),
        ljung_box_strong_ar1=sim.rate("ar1_strong", "Ljung-Box"),
        ljung_box_mean_shift=sim.rate("mean_shift", "Ljung-Box"),
        ljung_box_grouped=sim.rate("grouped", "Ljung-Box"),
        bds_iid=sim.rate("iid", "BDS"),
        energy_grouped=sim.rate("grouped", "energy distance"))

    def above(name: str, scenario: str, test: str, rule: str) -> Verdict:
        row = sim.rates[(sim.rates["scenario"] == scenario) & (sim.rates["test"] == test)]
        row = row.iloc[0]
        return rules.rate_above_chance(name, row["rate"], row["low"], row["high"],
                                       sim.band_high, rule)

    verdicts = [
        above("simulation_ljung_box_flags_level_shift", "mean_shift", "Ljung-Box",
              "Ljung-Box flags independent rows with a level shift more often than its size"),
        above("simulation_ljung_box_flags_groups", "grouped", "Ljung-Box",
              "Ljung-Box on a row-level feature flags grouped rows more often than its size"),
        above("simulation_energy_flags_groups", "grouped", "energy distance",
              "the energy test flags halves holding different groups more often than its "
              "size"),
    ]
    return summary, {v.name: v for v in verdicts}


def sunspot_band(audit: AuditResult) -> dict | None:
    """The white-noise and Bartlett bands of the sunspots' ACF at lag :data:`BAND_LAG`."""
    grams = {g.column: g for g in audit.correlograms}
    if "sunspots" not in grams:
        return None
    gram = grams["sunspots"]
    lag = min(BAND_LAG, len(gram.acf))
    return {"lag": lag, "bartlett": float(gram.acf_high[lag - 1]),
            "white": gram.white_noise_band, "acf": float(gram.acf[lag - 1])}


def settings() -> dict:
    """The constants of the methods and the simulator that the report states."""
    strong, weak = AR_COEFFICIENTS["ar1_strong"], AR_COEFFICIENTS["ar1_weak"]
    return {
        "effect_thresholds": {test: threshold for test, (_, threshold) in EFFECTS.items()},
        "block_factor": BLOCK_FACTOR,
        "warmup_segments": WARMUP_SEGMENTS, "warmup_gap_sd": WARMUP_GAP_SD,
        "warmup_gap_noise": WARMUP_GAP_NOISE, "warmup_tolerance": WARMUP_TOLERANCE,
        "material_relative_change": MATERIAL_RELATIVE_CHANGE,
        "material_loss_increase": MATERIAL_LOSS_INCREASE,
        "concept_scored_share": SCORED_SHARE,
        "stationarity_segments": checks.STATIONARITY_SEGMENTS,
        "kpss_p_range": list(checks.KPSS_P_RANGE),
        "near_tolerance": NEAR_TOLERANCE, "near_neighbours": NEAR_DENSITY_NEIGHBOURS,
        "ljung_box_max_lags": checks.LJUNG_BOX_MAX_LAGS,
        "ljung_box_rows_per_lag": checks.LJUNG_BOX_ROWS_PER_LAG,
        "bds_dimension": checks.BDS_DIMENSION, "bds_distance": checks.BDS_DISTANCE,
        "bds_min_distinct": checks.BDS_MIN_DISTINCT,
        "psi_bins": checks.PSI_BINS, "psi_pseudo_count": checks.PSI_PSEUDO_COUNT,
        "psi_degrees_of_freedom": checks.PSI_BINS - 1,
        "strong_phi": strong, "weak_phi": weak,
        # n / effective sample size of the mean of an AR(1): (1 + phi) / (1 - phi)
        "strong_ar1_size_factor": (1 + strong) / (1 - strong),
        "windows_days": list(WINDOWS_DAYS),
        "gallery_coefficients": COEFFICIENTS.tolist(),
        "group_level_features": list(range(ROW_LEVEL_FEATURES + 1, len(COEFFICIENTS) + 1)),
        "sunspot_band_lag": BAND_LAG,
        "adversarial_chance_auc": rules.CHANCE_AUC,
        "adversarial_material_auc": rules.MATERIAL_AUC,
        "max_dropped_share": MAX_DROPPED_SHARE,
        "disguised_power": leakage.DISGUISED_POWER, "material_drop": leakage.MATERIAL_DROP,
        # The same thresholds on the AUC scale (Somers' D = 2 AUC - 1).
        "disguised_auc": (1 + leakage.DISGUISED_POWER) / 2,
        "material_drop_auc": leakage.MATERIAL_DROP / 2,
        "late_recording_tolerance": leakage.LATE_RECORDING_TOLERANCE,
        "power_rows": leakage.POWER_ROWS, "leakage_types": dict(leakage.LEAKAGE_TYPES),
        "control_rows": leakage.CONTROL_ROWS, "control_shift": leakage.CONTROL_SHIFT,
        "control_noise": leakage.CONTROL_NOISE,
        "control_prevalence": leakage.CONTROL_PREVALENCE,
        "control_correlation": leakage.CONTROL_CORRELATION,
        "control_stable": leakage.CONTROL_STABLE,
    }


def leakage_verdicts(audit: AuditResult) -> tuple[dict[str, Verdict], dict[str, str]]:
    """The verdicts of the single-feature and recording-time leakage checks, and per verdict
    the feature it shows (the most suspicious one)."""
    found, features = {}, {}
    pairs = []
    if audit.power is not None:
        pairs += [rules.label_in_disguise_verdict(audit.power, audit.power_clusters),
                  rules.power_drop_verdict(audit.power, audit.power_clusters)]
    if audit.late_recordings is not None:
        pairs.append(rules.recorded_after_prediction_verdict(audit.late_recordings))
    for verdict, feature in pairs:
        found[verdict.name] = verdict
        features[verdict.name] = feature
    return found, features


def table_verdicts(audit: AuditResult, validation: ValidationResult | None
                   ) -> dict[str, Verdict]:
    """Verdicts on the audited table: one per assumption, the adversarial classifier, and each
    validation scheme against the hold-out."""
    found = {}
    for assumption in ASSUMPTIONS:
        verdict = rules.assumption_verdict(assumption, audit.columns)
        found[verdict.name] = verdict
    if audit.adversarial is not None:
        found |= rules.adversarial_verdicts(audit.adversarial.auc, audit.adversarial.clusters)
    found |= leakage_verdicts(audit)[0]
    if validation is not None:
        kfold = validation.scheme("random K-fold")
        found["kfold_overstates"] = rules.overstates_verdict(
            "kfold_overstates", kfold.optimism, validation.clusters)
        found["closest_scheme_distinguishable"] = rules.closest_scheme_verdict(
            validation.closest, validation.closest_margin, validation.clusters)
        if validation.required_gap > 0:
            found["gap_meets_rule"] = rules.gap_rule_verdict(validation.gap_time,
                                                             validation.required_gap)
        for scheme, name in (("TimeSeriesSplit", "time_series_split_closer_than_kfold"),
                             ("blocked K-fold", "blocked_kfold_closer_than_kfold"),
                             ("GroupKFold", "group_kfold_closer_than_kfold"),
                             ("group-time split", "group_time_split_closer_than_kfold")):
            score = validation.scheme(scheme)
            if score is not None:
                found[name] = rules.closer_verdict(name, score.closer_than_kfold,
                                                   validation.clusters)
    return found


def gallery_verdicts(entries: list[GalleryEntry], summary: GallerySummary
                     ) -> dict[str, Verdict]:
    """The gallery's hits and false alarms, and the two lessons the report draws from it."""
    found = rules.gallery_verdicts(summary.missed, summary.false_alarms)
    by_name = {e.name: e for e in entries}
    if "mean_shift" in by_name:
        frame = by_name["mean_shift"].audit.checks
        row = frame[(frame["test"] == "Ljung-Box") & (frame["column"] == "x1")]
        if len(row):
            found["gallery_level_shift_flagged_as_dependence"] = rules.check_verdict(
                "gallery_level_shift_flagged_as_dependence", row.iloc[0].to_dict(),
                "Ljung-Box on x1 of the mean-shift dataset (independent rows) is a violation")
    for dataset in ("grouped", "duplicates"):
        if dataset in by_name:
            validation = by_name[dataset].validation
            name = f"gallery_{dataset}_kfold_overstates"
            found[name] = rules.overstates_verdict(
                name, validation.scheme("random K-fold").optimism, validation.clusters)
    return found


MIN_ROWS_AFTER_BURN_IN = 100
"""Fewest rows the audit needs after the burn-in (the two-sample tests, ADF and BDS)."""


def apply_burn_in(table: AuditTable, config: IIDConfig) -> tuple[AuditTable, BurnIn]:
    """Detect the warm-up of the features and leave out the rows before the burn-in: the
    detected one, or ``--burn-in``.

    Raises
    ------
    DataError
        A ``--burn-in`` that does not parse for this time column, or that leaves fewer than
        :data:`MIN_ROWS_AFTER_BURN_IN` rows.
    """
    candidates = [c for c in table.numeric if c not in table.calendar]
    warmups = detect_warmups(table.frame, table.times, candidates)
    detected = max((w.end for w in warmups), default=0.0)
    if config.burn_in is None:
        used, source = detected, "detected"
        if used > 0 and len(table.since(table.times[0] + used).frame) < MIN_ROWS_AFTER_BURN_IN:
            used, source = 0.0, "detected, but too few rows would remain"
    else:
        try:
            used = parse_duration(config.burn_in, table.time_unit)
        except ValueError as error:
            raise DataError(f"--burn-in: {error}") from None
        source = "--burn-in"
    after = table.since(table.times[0] + used) if used > 0 else table
    if used > 0 and len(after.frame) < MIN_ROWS_AFTER_BURN_IN:
        raise DataError(f"--burn-in {config.burn_in} leaves {len(after.frame)} rows; the audit "
                        f"needs at least {MIN_ROWS_AFTER_BURN_IN} (give a shorter burn-in, or "
                        f"0 for none)")
    return after, BurnIn(warmups=warmups, detected=detected, used=used, source=source,
                         unit=table.time_unit,
                         rows_dropped=len(table.frame) - len(after.frame),
                         rows_kept=len(after.frame))


def burn_in_effects(after: AuditResult, before: AuditResult) -> pd.DataFrame:
    """Per column, the drift effects (KS distance, PSI) and the stationarity effect without
    and with the burn-in."""
    def effects(audit: AuditResult, test: str) -> pd.Series:
        rows = audit.checks[audit.checks["test"] == test]
        return rows.set_index("column")["effect"]

    frame = pd.DataFrame({
        "KS without": effects(before, "Kolmogorov-Smirnov"),
        "KS with": effects(after, "Kolmogorov-Smirnov"),
        "PSI without": effects(before, "PSI"),
        "PSI with": effects(after, "PSI"),
        "level share without": effects(before, "ADF + KPSS"),
        "level share with": effects(after, "ADF + KPSS"),
    }).dropna(subset=["KS without"])
    return frame.rename_axis("column").reset_index()


def time_gap(table: AuditTable, config: IIDConfig, default_data: bool) -> dict:
    """The gap time-ordered validation should leave: the longest feature window plus the
    label delay (``--feature-window``, ``--label-delay``; the simulator's own on the default
    data, 0 on a user's file), in the table's time unit."""
    window, delay = transaction_windows() if default_data else (0.0, 0.0)
    try:
        if config.feature_window is not None:
            window = parse_duration(config.feature_window, table.time_unit)
        if config.label_delay is not None:
            delay = parse_duration(config.label_delay, table.time_unit)
    except ValueError as error:
        raise DataError(f"--feature-window / --label-delay: {error}") from None
    return {"window": window, "delay": delay, "total": window + delay, "unit": table.time_unit}


def data_independent_parts(config: IIDConfig
                            ) -> tuple[list[GalleryEntry], SizePower | None, dict[str, float]]:
    """The known-truth gallery and the size-and-power simulation, read from the cache or
    computed and stored, and the seconds each took. Neither reads the audited table."""
    timer = StageTimer()
    with threadpool_limits(1):
        with timer.stage("gallery"):
            entries, _ = cached("gallery", config, lambda: run_gallery(GALLERY, config))
        simulation = None
        if config.replicates > 0:
            with timer.stage("size and power"):
                simulation, _ = cached("size and power", config, lambda: size_and_power(
                    config.replicates, config.sim_rows, config.alpha, config.seed))
    return entries, simulation, timer.seconds


def start_alongside(config: IIDConfig) -> Alongside | None:
    """Start the gallery and the simulation in a second process when one of them is not in the
    cache and the machine has a second core; ``None`` when computing them here costs less."""
    missing = not has_entry("gallery", config) or (
        config.replicates > 0 and not has_entry("size and power", config))
    if not missing or (os.cpu_count() or 1) < MIN_CORES_ALONGSIDE or not can_start():
        return None
    return Alongside(config)


def run(config: IIDConfig, data: IIDData) -> IIDResult:
    """Audit ``data.table`` (and the real series), run the gallery and the simulation.

    Each part (the table, the real series, each gallery dataset, the simulation) draws from its
    own named random streams under ``config.seed``.
    """
    timer = StageTimer()
    full_table = data.table
    table, burn = apply_burn_in(full_table, config)
    gaps = time_gap(table, config, config.data is None)
    check_gap(table, config)
    alongside = start_alongside(config)
    try:
        return _run(config, data, table, full_table, burn, gaps, timer, alongside)
    finally:
        if alongside is not None:
            alongside.close()


def _run(config: IIDConfig, data: IIDData, table: AuditTable, full_table: AuditTable,
         burn: BurnIn, gaps: dict, timer: StageTimer, alongside: Alongside | None
         ) -> IIDResult:
    """The stages of :func:`run` after the burn-in and the gap are settled."""
    # Models here are small: threads cost more than they save and oversubscribe shared machines.
    with threadpool_limits(1):
        validation = None
        if table.target is not None:
            with timer.stage("validation"):
                progress.status("comparing validation schemes")
                validation = compare_validation(table, config, config.seed, part="data",
                                                time_gap=gaps["total"])
        concept = None
        if table.target is not None:
            with timer.stage("concept drift"):
                progress.status("measuring concept drift")
                concept = concept_drift(table, config, config.seed, time_gap=gaps["total"])
        with timer.stage("audit"):
            progress.status(f"auditing {table.name}: {len(table.frame):,} rows")
            residuals = ((validation.residuals, validation.residual_groups)
                         if validation is not None else None)
            audit = run_audit(table, config, config.seed, part="data", residuals=residuals)
        without = None
        if burn.used > 0:
            with timer.stage("audit without burn-in"):
                progress.status("auditing without the burn-in")
                # Only its drift effects are compared; the single-feature leakage checks are
                # judged on the rows audited, and no nulls at n are simulated.
                without = run_audit(full_table, config, config.seed,
                                    part="data without burn-in", single_feature=False,
                                    null_at_n=False)
        real_series = None
        if data.real_series is not None:
            with timer.stage("real series"):
                real_series = run_audit(data.real_series, config, config.seed,
                                        adversarial=False, part="real series")
        islp = []
        if data.islp:
            with timer.stage("ISLP datasets"):
                for islp_table, description in data.islp:
                    # Shown by their verdicts only: no nulls at n, which would cost seconds.
                    islp_audit = run_audit(islp_table, config, config.seed, adversarial=False,
                                           part=f"ISLP {islp_table.name}", null_at_n=False)
                    islp.append({"name": islp_table.name, "description": description,
                                 "rows": len(islp_table.frame), "target": islp_table.target,
                                 "calendar": list(islp_table.calendar),
                                 "assumptions": assumption_table(islp_audit),
                                 "audit": islp_audit})
        if alongside is not None:
            progress.status("waiting for the known-truth gallery and the simulation")
            entries, simulation, seconds = alongside.result()
            # Their seconds overlap those of the stages above.
            seconds = {f"{stage} (second process)": value for stage, value in seconds.items()}
        else:
            entries, simulation, seconds = data_independent_parts(config)
        timer.seconds.update(seconds)
    prior = prior_shift(table, config.bootstrap,
                        stream(config.seed, "iid_checks", "data", "prior shift"))
    verdicts = table_verdicts(audit, validation)
    verdicts["checks_unreliable_at_this_n"] = rules.unreliable_checks_verdict(audit.checks)
    verdicts["deciding_checks_too_few_rows"] = rules.too_few_rows_verdict(audit.checks)
    control = None
    if audit.power is not None:
        with timer.stage("leakage control"):
            control = leakage_control(table.task, config, config.seed)
        verdicts["leakage_control_separates"] = rules.leakage_control_verdict(control)
    verdicts["warmup_detected"] = rules.burn_in_verdict(burn.detected, len(burn.warmups))
    for entry in islp:
        for assumption in ASSUMPTIONS:
            verdict = rules.assumption_verdict(assumption, entry["audit"].columns)
            name = f"{entry['name'].lower()}_{verdict.name}"
            verdicts[name] = Verdict(**{**verdict.__dict__, "name": name})
    if prior is not None:
        verdicts["prior_shift"] = rules.prior_shift_verdict(
            prior["change"], f"{prior['blocks']} blocks of consecutive rows per side")
    if concept is not None:
        verdicts["concept_drift"] = rules.concept_drift_verdict(concept.loss_increase,
                                                                concept.clusters)
        if concept.required_gap > 0:
            verdicts["concept_gap_meets_rule"] = rules.gap_rule_verdict(
                concept.gap, concept.required_gap, name="concept_gap_meets_rule",
                what="the concept-drift comparison")
    testing = multiple_testing(audit, config)
    verdicts["holm_below_kpss_floor"] = rules.holm_floor_verdict(
        testing.holm_first_threshold, testing.kpss_p_floor)
    summary = gallery_summary(entries)
    verdicts |= gallery_verdicts(entries, summary)
    sizes = None
    if simulation is not None:
        sizes, simulation_verdicts = size_summary(simulation)
        verdicts |= simulation_verdicts
    dks = discrete_ks(table)
    if dks is not None:
        verdicts["ks_conservative_on_discrete"] = rules.ks_conservative_verdict(
            dks["ks_p"], dks["chi2_p"])
    band = sunspot_band(real_series) if real_series is not None else None
    if band is not None:
        verdicts["sunspot_acf_outside_white_noise_band"] = rules.outside_band_verdict(
            "sunspot_acf_outside_white_noise_band", band["acf"], band["white"],
            "white-noise band")
        verdicts["sunspot_acf_outside_bartlett_band"] = rules.outside_band_verdict(
            "sunspot_acf_outside_bartlett_band", band["acf"], band["bartlett"],
            "Bartlett band")
    # The same series as the gallery's ar1_weak dataset.
    weak = gallery_table("ar1_weak", config.gallery_rows, config.seed, config.max_levels)
    lags = lag_sensitivity(weak.frame["x1"].to_numpy()[:SENSITIVITY_ROWS])
    if len(lags):
        verdicts["ljung_box_answer_depends_on_lag"] = rules.lag_choice_verdict(
            lags["p_value"].to_numpy(), config.alpha)
    sunspot_lb = None
    if real_series is not None:
        rows = real_series.checks[real_series.checks["test"] == "Ljung-Box"]
        if len(rows):
            sunspot_lb = rows.iloc[0].to_dict() | {
                "lags": checks.ljung_box_lags(real_series.rows)}
    trace_columns = drifting_columns(audit, table.numeric, TRACE_COLUMNS)
    return IIDResult(
        source=data.source, config=config, table_name=table.name, rows=len(table.frame),
        numeric=table.numeric, discrete=table.discrete, categorical=table.categorical,
        target=table.target, task=table.task, group=table.group_name,
        comparison=table.comparison, order=table.order, notes=audit.notes,
        preview=table.preview, audit=audit, assumptions=assumption_table(audit),
        check_counts=check_counts(audit), multiple_testing=testing,
        ljung_box_lags=checks.ljung_box_lags(len(table.frame)),
        smallest_significant_ks=smallest_significant(audit, "Kolmogorov-Smirnov"),
        smallest_significant_ljung_box=smallest_significant(audit, "Ljung-Box"),
        stationarity_columns=len(audit.stationarity),
        not_stationary=sum(v.level.reading != "stationary" for v in audit.stationarity.values()),
        validation=validation, real_series=real_series,
        real_series_span=data.real_series_span, sunspot_ljung_box=sunspot_lb,
        sunspot_band=band, gallery=entries, gallery_matrix=gallery_matrix(entries),
        gallery_summary=summary, simulation=simulation, size_summary=sizes,
        discrete_ks=dks, lag_sensitivity=lags, lag_rows=SENSITIVITY_ROWS,
        settings=settings(), verdicts=verdicts, burn_in=burn, audit_without_burn_in=without,
        burn_in_effects=burn_in_effects(audit, without) if without is not None else None,
        prior=prior, concept=concept, calendar=list(table.calendar), gaps=gaps, islp=islp,
        trace=_trace(table, trace_columns), stage_seconds=dict(timer.seconds),
        data_handling=data_handling(data, table), leakage_control=control,
        leakage_features=leakage_verdicts(audit)[1],
        at_n=null_at_n.summary(audit.checks, config.alpha),
    )
