"""Leakage beyond copies: a feature that is the label in disguise, a feature whose predictive
power falls away after the development rows, and a feature recorded after the moment its row is
predicted.

Every leakage finding of the audit carries its type in the taxonomy of Kapoor & Narayanan
(2023), :data:`LEAKAGE_TYPES`. Single-feature power is a rank correlation with the target:
Somers' D (``2 AUC - 1``, the feature used as a score) for a 0/1 target, Spearman's rho for a
numeric one, both between -1 and 1, so that one threshold reads the same on both tasks. Its
intervals resample whole clusters (groups, or blocks of consecutive rows) of both sides at once,
so that the early and late powers of a replicate come from one draw and their difference is
paired.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from casestudies.iid_checks.data import AuditTable, prepare_table
from casestudies.iid_checks.resampling import bootstrap_clusters
from casestudies.progress import progress
from casestudies.rng import stream
from casestudies.stats import percentile_interval

LEAKAGE_TYPES = {
    "L1": "no clean separation of training and test rows",
    "L2": "the model uses a feature that is not legitimate",
    "L3": "the test rows are not drawn from the distribution of interest",
}
"""The three kinds of leakage of Kapoor & Narayanan (2023), in our words."""

TEST_TYPES = {
    "exact duplicates": "L1",  # a test row also in training: no clean separation
    "near duplicates": "L1",
    "groups on both sides": "L3",  # rows of one unit on both sides are not independent draws
    "label in disguise": "L2",  # a proxy of the label is not a legitimate feature
    "power drop": "L2",  # a feature built with the label on the development rows
    "recorded after prediction": "L2",  # a value not available at prediction time
}
"""Kapoor-Narayanan type of each leakage check."""

DISGUISED_POWER = 0.95
"""A feature is the label in disguise when the whole interval of its rank power (|Somers' D|,
i.e. AUC at least 0.975 or at most 0.025, or |Spearman rho|) on the development rows lies at or
above this value. A single honest predictor of a noisy outcome rarely ranks the rows that
consistently; a copy, a sum, a unit change or a consequence of the label does. A lag of a
smooth numeric target can too: the finding asks whether the value is known at prediction time,
it does not prove that it is not."""

MATERIAL_DROP = 0.1
"""A feature's power falls materially when the whole paired interval of (development power -
later power), oriented by the sign on the development rows, lies at or above this value: 0.1 is
the usual "small" for a correlation, and a fall of 0.1 in Somers' D is a fall of 0.05 in AUC,
the materiality of the adversarial check."""

LATE_RECORDING_TOLERANCE = 0.01
"""A feature declared with ``--recorded-at`` leaks when at least this share of its rows was
recorded after the row's prediction moment: the share of test rows from which the duplicate
checks count as material. A smaller share is within the clock skews and late corrections of
real logs; the count is reported either way."""

POWER_ROWS = 10_000
"""Longer tables are subsampled (randomly, time order kept) for the single-feature powers: the
standard error of a rank correlation on this many rows is about 0.01, far below the thresholds,
and every bootstrap replicate costs a pass over the rows per feature."""

CONTROL_ROWS = 2_000
"""Rows of the known-truth control on which the same checks run."""
CONTROL_PREVALENCE = 0.5  # positive rate of the control's 0/1 target
CONTROL_SHIFT = 1.8  # honest feature: class means 1.8 SD apart, AUC about 0.9
CONTROL_NOISE = 0.05  # SD of the noise on the disguised label
CONTROL_CORRELATION = 0.8  # honest feature of a numeric target
CONTROL_STABLE = 0.5  # the stable feature's correlation (or class shift) on both sides
CONTROL_TRUTH = {"disguised": "label in disguise", "honest": "", "breaks": "power drop",
                 "stable": ""}
"""Features of the control and the one check each should trip ("" for none)."""


class RankedColumns:
    """Columns as dense rank codes (equal values share a code), stacked so that weighted rank
    statistics of every column cost one ``bincount`` per sample."""

    def __init__(self, columns: list[np.ndarray]):
        uniques = [np.unique(values, return_inverse=True) for values in columns]
        self.levels = np.array([len(levels) for levels, _ in uniques])
        self.starts = np.concatenate([[0], np.cumsum(self.levels)[:-1]])
        self.codes = np.stack([codes + start for (_, codes), start
                               in zip(uniques, self.starts, strict=True)]).ravel()
        self.columns, self.rows = len(columns), len(columns[0])

    def counts(self, weights: np.ndarray) -> np.ndarray:
        """Weighted count of every level of every column (levels of one column adjacent)."""
        return np.bincount(self.codes, weights=np.tile(weights, self.columns),
                           minlength=int(self.levels.sum()))

    def below(self, counts: np.ndarray) -> np.ndarray:
        """Per level, the count of its column's lower levels."""
        cumulative = np.cumsum(counts)
        base = np.concatenate([[0.0], cumulative[self.starts[1:] - 1]])
        return cumulative - counts - np.repeat(base, self.levels)

    def midranks(self, weights: np.ndarray) -> np.ndarray:
        """Each row's midrank per column (shape columns x rows) in the sample that repeats
        row ``i`` ``weights[i]`` times."""
        counts = self.counts(weights)
        level_ranks = self.below(counts) + (counts + 1) / 2
        return level_ranks[self.codes].reshape(self.columns, self.rows)


def somers_d(x: RankedColumns, labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Somers' D of 0/1 ``labels`` on each column, ``2 AUC - 1`` with ties counted as one
    half, in the sample that repeats row ``i`` ``weights[i]`` times (``nan`` with one class)."""
    positives = x.counts(weights * labels)
    negatives = x.counts(weights * (1 - labels))
    n_pos, n_neg = float(np.dot(weights, labels)), float(np.dot(weights, 1 - labels))
    if n_pos == 0 or n_neg == 0:
        return np.full(x.columns, np.nan)
    wins = np.add.reduceat(positives * (x.below(negatives) + 0.5 * negatives), x.starts)
    return 2 * wins / (n_pos * n_neg) - 1


def spearman(x: RankedColumns, y: RankedColumns, weights: np.ndarray) -> np.ndarray:
    """Spearman's rho (Pearson correlation of midranks) of each column of ``x`` with the one
    column of ``y``, in the sample that repeats row ``i`` ``weights[i]`` times (``nan`` where
    either is constant)."""
    total = weights.sum()
    rx, ry = x.midranks(weights), y.midranks(weights)[0]
    dx = rx - (rx @ weights)[:, None] / total
    dy = ry - np.dot(ry, weights) / total
    spread = np.sqrt((dx * dx) @ weights * np.dot(dy * dy, weights))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(spread > 0, (dx * dy) @ weights / spread, np.nan)


class _Side:
    """The rows of one side, ready for repeated weighted rank powers of every feature."""

    def __init__(self, features: list[np.ndarray], target: np.ndarray, task: str):
        self.classification = task == "classification"
        self.features = RankedColumns(features)
        self.target = target.astype(float) if self.classification else RankedColumns([target])

    def powers(self, weights: np.ndarray) -> np.ndarray:
        if self.classification:
            return somers_d(self.features, self.target, weights)
        return spearman(self.features, self.target, weights)


def feature_power(table: AuditTable, replicates: int, seed: int, part: str
                  ) -> tuple[pd.DataFrame, str] | None:
    """Rank power of every numeric feature on the development (``~is_test``) and later rows,
    and its fall, with cluster-bootstrap intervals; ``None`` without a target.

    The power on the later rows is oriented by the sign on the development rows, so that a
    feature whose relation reverses counts as falling. The fall is left undefined (``nan``) for
    a feature whose interval on the development rows does not lie above zero. The subsample
    and the bootstrap draw from the streams ``(seed, "iid_checks", part, "leakage power",
    ...)``.

    Returns
    -------
    frame : DataFrame
        One row per feature: ``early``, ``late``, ``drop`` with ``_low`` and ``_high`` interval
        ends, ``sign`` (the orientation) and the rows per side.
    clusters : str
        What the bootstrap resampled.
    """
    if table.target is None or not table.numeric:
        return None
    index = np.arange(len(table.frame))
    if len(index) > POWER_ROWS:
        subsample = stream(seed, "iid_checks", part, "leakage power", "subsample")
        index = np.sort(subsample.choice(index, POWER_ROWS, replace=False))
    frame = table.frame.iloc[index]
    late = table.is_test[index]
    sides = [_Side([frame[c].to_numpy(dtype=float)[rows] for c in table.numeric],
                   frame[table.target].to_numpy(dtype=float)[rows], table.task)
             for rows in (~late, late)]
    point = [side.powers(np.ones(int(rows.sum())))
             for side, rows in zip(sides, (~late, late), strict=True)]
    clusters, cluster_name = bootstrap_clusters(table, index)
    n_clusters = int(clusters.max()) + 1
    rng = stream(seed, "iid_checks", part, "leakage power", "bootstrap")
    draws = np.full((2, replicates, len(table.numeric)), np.nan)
    for b in progress(range(replicates), desc="single-feature power bootstrap"):
        weights = np.bincount(rng.integers(0, n_clusters, n_clusters),
                              minlength=n_clusters)[clusters].astype(float)
        for side, rows in enumerate((~late, late)):
            draws[side, b] = sides[side].powers(weights[rows])
    records = []
    for j, column in enumerate(table.numeric):
        sign = -1.0 if point[0][j] < 0 else 1.0
        early = percentile_interval(sign * point[0][j], sign * draws[0, :, j])
        later = percentile_interval(sign * point[1][j], sign * draws[1, :, j])
        drop = percentile_interval(early.value - later.value,
                                   sign * (draws[0, :, j] - draws[1, :, j]))
        if not early.low > 0:
            # Without power on the development rows there is none to lose, and the sign that
            # orients the later rows is noise: a relation that appears later would count as a
            # fall whenever the noise picked the other sign.
            drop = percentile_interval(np.nan, np.full(0, np.nan))
        records.append({"feature": column, "sign": sign,
                        "early": early.value, "early_low": early.low, "early_high": early.high,
                        "late": later.value, "late_low": later.low, "late_high": later.high,
                        "drop": drop.value, "drop_low": drop.low, "drop_high": drop.high,
                        "confidence": early.confidence, "rows_early": int((~late).sum()),
                        "rows_late": int(late.sum())})
    return pd.DataFrame(records), cluster_name


def late_recordings(table: AuditTable) -> pd.DataFrame:
    """Per feature declared with ``--recorded-at``: the rows whose value was recorded after
    the row's time (its prediction moment), strictly, and their share of the rows."""
    times = table.times if table.times is not None else np.arange(len(table.frame), float)
    records = []
    for feature, recorded in table.recorded_at.items():
        after = recorded > times
        records.append({"feature": feature, "rows": len(after), "after": int(after.sum()),
                        "share": float(after.mean()) if len(after) else np.nan,
                        "latest": float(np.max(recorded - times)) if len(after) else np.nan,
                        "unit": table.time_unit})
    return pd.DataFrame(records, columns=["feature", "rows", "after", "share", "latest",
                                          "unit"])


def simulate_control(task: str, rows: int, seed: int) -> pd.DataFrame:
    """The known-truth control: a time index ``t``, a target ``y`` and four features, each
    built to sit on one side of a threshold (:data:`CONTROL_TRUTH`):

    * ``disguised``: the label plus a little noise (:data:`CONTROL_NOISE`), on every row;
    * ``honest``: strongly but honestly related on every row (class means
      :data:`CONTROL_SHIFT` SD apart, or correlation :data:`CONTROL_CORRELATION`);
    * ``breaks``: as strong as ``honest`` on the early half, unrelated on the late half;
    * ``stable``: moderately related (:data:`CONTROL_STABLE`) on both halves.
    """
    rng = stream(seed, "iid_checks", "leakage control", task)
    early = np.arange(rows) < rows // 2
    noise = rng.normal(size=(rows, 4))
    if task == "classification":
        y = (rng.random(rows) < CONTROL_PREVALENCE).astype(float)
        signal = {"honest": CONTROL_SHIFT, "stable": CONTROL_STABLE}
        features = {
            "disguised": y + CONTROL_NOISE * noise[:, 0],
            "honest": signal["honest"] * y + noise[:, 1],
            "breaks": signal["honest"] * y * early + noise[:, 2],
            "stable": signal["stable"] * y + noise[:, 3],
        }
    else:
        y = rng.normal(size=rows)

        def related(r: float, column: int) -> np.ndarray:
            return r * y + np.sqrt(1 - r**2) * noise[:, column]

        features = {
            "disguised": y + CONTROL_NOISE * noise[:, 0],
            "honest": related(CONTROL_CORRELATION, 1),
            "breaks": np.where(early, related(CONTROL_CORRELATION, 2), noise[:, 2]),
            "stable": related(CONTROL_STABLE, 3),
        }
    return pd.DataFrame({"t": np.arange(rows), **features, "y": y})


def control_table(task: str, rows: int, seed: int) -> AuditTable:
    """:func:`simulate_control` prepared for the audit (time ``t``, target ``y``)."""
    return prepare_table(simulate_control(task, rows, seed), name="leakage control",
                         target="y", time="t")
