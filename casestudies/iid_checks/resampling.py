"""The cluster bootstrap of the IID audit: whole groups, or blocks of consecutive rows, are
resampled, because resampling single rows would assume the very independence under audit and
give intervals that are too narrow."""

from __future__ import annotations

import numpy as np

from casestudies.iid_checks.data import AuditTable

TIME_BLOCKS = 50  # clusters of the bootstrap when there is no group column


def bootstrap_clusters(table: AuditTable, rows: np.ndarray) -> tuple[np.ndarray, str]:
    """Cluster code of each of ``rows`` (in time order) and a description of the clusters: the
    groups of the group column, else :data:`TIME_BLOCKS` blocks of consecutive rows."""
    if table.groups is not None:
        _, codes = np.unique(table.groups[rows], return_inverse=True)
        return codes, f"groups of {table.group_name!r}"
    blocks = min(TIME_BLOCKS, len(rows) // 5)
    return (np.arange(len(rows)) * blocks) // len(rows), f"{blocks} blocks of consecutive rows"
