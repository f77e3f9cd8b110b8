"""The IID audit: the battery of checks on the data, the consequence for validation, the
known-truth gallery and the size and power of the checks. No I/O, no HTML."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from casestudies import progress
from casestudies.iid_checks import checks
from casestudies.iid_checks.audit import AuditResult, run_audit
from casestudies.iid_checks.config import IIDConfig
from casestudies.iid_checks.data import (
    GALLERY,
    GALLERY_DESCRIPTION,
    GALLERY_TRUTH,
    AuditTable,
    IIDData,
    gallery_table,
)
from casestudies.iid_checks.simulation import SizePower, size_and_power
from casestudies.iid_checks.validation import ValidationResult, compare_validation
from casestudies.provenance import StageTimer

ASSUMPTIONS = ("independent", "identically distributed", "no leakage")
TRACE_POINTS = 300
TRACE_COLUMNS = 3
SENSITIVITY_LAGS = (1, 2, 5, 10, 20, 50)
SENSITIVITY_ROWS = 150  # a short series, where the choice of h matters most


@dataclass
class GalleryEntry:
    """One simulated dataset: its truth, what the checks found, and the validation gap."""

    name: str
    description: str
    truth: tuple[str, ...]
    audit: AuditResult
    validation: ValidationResult


@dataclass
class IIDResult:
    """Everything the report shows, as plain data."""

    short_answer: str
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
    verdicts: pd.DataFrame
    validation: ValidationResult | None
    real_series: AuditResult | None
    real_series_span: str | None
    gallery: list[GalleryEntry]
    gallery_matrix: pd.DataFrame
    simulation: SizePower | None
    discrete_ks: dict | None
    lag_sensitivity: pd.DataFrame
    trace: pd.DataFrame = field(metadata={"json": False})
    stage_seconds: dict[str, float] = field(default_factory=dict)


def assumption_verdicts(audit: AuditResult) -> pd.DataFrame:
    """Per assumption: how many checks ran and flagged it, and the strongest violation (the
    largest effect relative to its threshold)."""
    records = []
    frame = audit.checks
    for assumption in ASSUMPTIONS:
        rows = frame[frame["assumption"] == assumption]
        if rows.empty:
            continue
        violations = rows[rows["verdict"] == "violation"]
        # Largest effect relative to its threshold; the ADF/KPSS pair has none and ranks last.
        ratio = (violations["effect"].abs() / violations["threshold"]).fillna(0.0)
        strongest = violations.loc[ratio.idxmax()] if len(violations) else None
        records.append({
            "assumption": assumption,
            "checks": len(rows),
            "violations": len(violations),
            "small effects": int((rows["verdict"] == "significant, small effect").sum()),
            "violated": len(violations) > 0,
            "strongest": (f"{strongest['test']} on {strongest['column']}"
                          if strongest is not None else ""),
            "effect": float(strongest["effect"]) if strongest is not None else np.nan,
            "effect_name": strongest["effect_name"] if strongest is not None else "",
        })
    return pd.DataFrame(records)


def gallery_matrix(entries: list[GalleryEntry]) -> pd.DataFrame:
    """Known truth against what the audit found, per dataset and assumption."""
    records = []
    for entry in entries:
        record = {"dataset": entry.name}
        for assumption in ASSUMPTIONS:
            truth = assumption in entry.truth
            found = entry.audit.violated(assumption)
            record[assumption] = ("violated" if truth else "holds") + (
                ", found" if found else ", not found")
        random_kfold = entry.validation.scheme("random K-fold")
        record["K-fold optimism"] = random_kfold.optimism.value
        records.append(record)
    return pd.DataFrame(records)


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


def _short_answer(table: AuditTable, verdicts: pd.DataFrame,
                  validation: ValidationResult | None) -> str:
    failed = verdicts[verdicts["violated"]]
    parts = [f"{row.assumption} ({row.violations} of {row.checks} checks)"
             for row in failed.itertuples()]
    if parts:
        head = (f"On {len(table.frame):,} rows of {table.name}, {len(parts)} of "
                f"{len(verdicts)} assumptions fail: {', '.join(parts)}")
    else:
        head = f"On {len(table.frame):,} rows of {table.name}, no assumption is violated"
    if validation is None:
        return head + "."
    tail = [f"{s.optimism.value:+.3f} (95% CI {s.optimism.low:+.3f} to {s.optimism.high:+.3f}) "
            f"for {s.scheme}" for s in validation.schemes]
    return f"{head}; optimism of {validation.metric} over the hold-out: {', '.join(tail)}."


def run(config: IIDConfig, data: IIDData) -> IIDResult:
    """Audit ``data.table`` (and the real series), run the gallery and the simulation."""
    timer = StageTimer()
    rng = np.random.default_rng(config.seed)
    table = data.table
    # Models here are small: threads cost more than they save and oversubscribe shared machines.
    with threadpool_limits(1):
        with timer.stage("audit"):
            progress.status(f"auditing {table.name}: {len(table.frame):,} rows")
            audit = run_audit(table, config, rng)
        validation = None
        if table.target is not None:
            with timer.stage("validation"):
                progress.status("comparing validation schemes")
                validation = compare_validation(table, config, rng)
        real_series = None
        if data.real_series is not None:
            with timer.stage("real series"):
                real_series = run_audit(data.real_series, config, rng, adversarial=False)
        entries = []
        with timer.stage("gallery"):
            for name in progress.progress(GALLERY, desc="known-truth gallery"):
                gallery = gallery_table(name, config.gallery_rows, config.seed,
                                        config.max_levels)
                entries.append(GalleryEntry(
                    name=name, description=GALLERY_DESCRIPTION[name], truth=GALLERY_TRUTH[name],
                    audit=run_audit(gallery, config, rng),
                    validation=compare_validation(gallery, config, rng)))
        simulation = None
        if config.replicates > 0:
            with timer.stage("size and power"):
                simulation = size_and_power(config.replicates, config.sim_rows, config.alpha,
                                            config.seed)
    verdicts = assumption_verdicts(audit)
    weak = gallery_table("ar1_weak", config.gallery_rows, config.seed, config.max_levels)
    trace_columns = drifting_columns(audit, table.numeric, TRACE_COLUMNS)
    return IIDResult(
        short_answer=_short_answer(table, verdicts, validation),
        source=data.source, config=config, table_name=table.name, rows=len(table.frame),
        numeric=table.numeric, discrete=table.discrete, categorical=table.categorical,
        target=table.target, task=table.task, group=table.group_name,
        comparison=table.comparison, order=table.order, notes=audit.notes,
        preview=table.preview, audit=audit, verdicts=verdicts,
        validation=validation, real_series=real_series,
        real_series_span=data.real_series_span, gallery=entries,
        gallery_matrix=gallery_matrix(entries), simulation=simulation,
        discrete_ks=discrete_ks(table),
        lag_sensitivity=lag_sensitivity(weak.frame["x1"].to_numpy()[:SENSITIVITY_ROWS]),
        trace=_trace(table, trace_columns), stage_seconds=dict(timer.seconds),
    )
