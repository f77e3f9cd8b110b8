"""The cluster bootstrap of the IID audit: whole groups, or blocks of consecutive rows, are
resampled, because resampling single rows would assume the very independence under audit and
give intervals that are too narrow."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from casestudies.iid_checks.data import AuditTable
from casestudies.progress import progress
from casestudies.stats import Estimate

TIME_BLOCKS = 50  # clusters of the bootstrap when there is no group column


def bootstrap_clusters(table: AuditTable, rows: np.ndarray) -> tuple[np.ndarray, str]:
    """Cluster code of each of ``rows`` (in time order) and a description of the clusters: the
    groups of the group column, else :data:`TIME_BLOCKS` blocks of consecutive rows."""
    if table.groups is not None:
        _, codes = np.unique(table.groups[rows], return_inverse=True)
        return codes, f"groups of {table.group_name!r}"
    blocks = min(TIME_BLOCKS, len(rows) // 5)
    return (np.arange(len(rows)) * blocks) // len(rows), f"{blocks} blocks of consecutive rows"


def cluster_bootstrap(scorers: dict[str, Callable[[np.ndarray], float]], clusters: np.ndarray,
                      n_resamples: int, rng: np.random.Generator, desc: str = "bootstrap"
                      ) -> dict[str, np.ndarray]:
    """Replicates of each ``scorer(row_index)`` over resamples of whole clusters (positions
    into ``clusters``), drawn with replacement as many as there are clusters."""
    members = np.split(np.argsort(clusters, kind="stable"),
                       np.cumsum(np.bincount(clusters))[:-1])
    n_clusters = len(members)
    replicates = {name: np.full(n_resamples, np.nan) for name in scorers}
    for b in progress(range(n_resamples), desc=desc):
        index = np.concatenate([members[c] for c in rng.integers(0, n_clusters, n_clusters)])
        for name, scorer in scorers.items():
            replicates[name][b] = scorer(index)
    return replicates


def percentile_interval(value: float, replicates: np.ndarray, confidence: float = 0.95
                        ) -> Estimate:
    """``value`` with the percentile interval of the finite bootstrap ``replicates``."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return Estimate(value, np.nan, np.nan, confidence)
    low, high = np.quantile(finite, [(1 - confidence) / 2, (1 + confidence) / 2])
    return Estimate(float(value), float(low), float(high), confidence)
