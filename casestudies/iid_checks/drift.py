"""Prior shift of a rare target: the relative change of its positive rate, with an interval.

Cramér's V of a 2 x 2 table is about ``|p_1 - p_2| / sqrt(p (1 - p))``: for a rate near 1 % a
rise by a third is a V of a few hundredths, "negligible" by the usual conventions, while for a
fraud team it is a third more fraud. For a rare event the effect that matters is relative:
``p_late / p_early - 1``.
"""

from __future__ import annotations

import numpy as np

from casestudies.iid_checks.data import AuditTable
from casestudies.stats import Estimate, percentile_interval

MATERIAL_RELATIVE_CHANGE = 0.2
"""A positive rate that moves by a fifth (up or down) is a material prior shift: thresholds,
expected losses and alert volumes all scale with it."""

PRIOR_BLOCKS = 25
"""Blocks of consecutive rows per side resampled by the interval's bootstrap: frauds come in
bursts (a compromised terminal, a leaked card), so single rows are not independent draws."""


def relative_rate_change(y: np.ndarray, is_test: np.ndarray, resamples: int,
                         rng: np.random.Generator, blocks: int = PRIOR_BLOCKS) -> Estimate:
    """``rate(test side) / rate(other side) - 1`` of a 0/1 target with a percentile interval.

    The interval resamples :data:`PRIOR_BLOCKS` blocks of consecutive rows within each side
    (the sides are kept apart: each rate varies only with its own blocks).
    """
    y = np.asarray(y, dtype=float)
    side = np.asarray(is_test, dtype=bool)
    parts = []
    for mask in (~side, side):
        values = y[mask]
        k = max(1, min(blocks, len(values)))
        edges = np.linspace(0, len(values), k + 1).astype(int)
        parts.append((np.add.reduceat(values, edges[:-1]), np.diff(edges)))

    def ratio(sums_counts: list[tuple[np.ndarray, np.ndarray]]) -> float:
        (s0, n0), (s1, n1) = sums_counts
        early, late = s0.sum() / n0.sum(), s1.sum() / n1.sum()
        return late / early - 1 if early > 0 else np.nan

    value = ratio(parts)
    replicates = np.empty(resamples)
    for b in range(resamples):
        drawn = []
        for sums, counts in parts:
            pick = rng.integers(0, len(sums), len(sums))
            drawn.append((sums[pick], counts[pick]))
        replicates[b] = ratio(drawn)
    return percentile_interval(value, replicates)


def prior_shift(table: AuditTable, resamples: int, rng: np.random.Generator) -> dict | None:
    """Positive rates of a 0/1 target on both sides and their relative change (``None``
    without a 0/1 target)."""
    if table.target is None or table.task != "classification":
        return None
    y = table.frame[table.target].to_numpy(dtype=float)
    change = relative_rate_change(y, table.is_test, resamples, rng)
    return {"early_rate": float(y[~table.is_test].mean()),
            "late_rate": float(y[table.is_test].mean()), "change": change,
            "blocks": PRIOR_BLOCKS}
