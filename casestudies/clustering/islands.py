"""What the islands of a 2-D map are: find them with a density clusterer (HDBSCAN) and measure
how well each original column of the table, and the known segments, explain them.

A map invites the reader to name its islands. Before that, this module says which attribute the
islands follow: the adjusted Rand index (ARI) and adjusted mutual information (AMI) between the
island of each customer and the value of each column (numeric columns cut into quantile bins).
A column-by-column check of map neighbours (:func:`same_level_share`) shows whether one
categorical column, rather than the customers' behaviour, decides who sits next to whom.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import HDBSCAN
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

MIN_ISLAND_SHARE = 0.01
"""An island must hold at least 1 % of the points (and at least :data:`MIN_ISLAND_SIZE`): the
density clusterer's smallest cluster, so that the count of islands does not grow with n through
specks a reader would not call an island."""

MIN_ISLAND_SIZE = 15
SMALL_TABLE_ISLANDS = 10
"""On a table of fewer than ``MIN_ISLAND_SIZE x SMALL_TABLE_ISLANDS`` rows the smallest island is
a tenth of the rows instead (at least :data:`MIN_SMALL_ISLAND`): 15 points would be a large share
of such a table, and HDBSCAN would find at most a few islands whatever the map shows."""
MIN_SMALL_ISLAND = 5
QUANTILE_BINS = 5  # numeric columns with more distinct values are cut into quintiles
NEIGHBOURS = 15  # map neighbours of the same-level check


def min_island_size(n: int) -> int:
    """Smallest island HDBSCAN may report among ``n`` points (smaller on small tables, see
    :data:`SMALL_TABLE_ISLANDS`)."""
    floor = min(MIN_ISLAND_SIZE, max(MIN_SMALL_ISLAND, n // SMALL_TABLE_ISLANDS))
    return max(floor, int(np.ceil(MIN_ISLAND_SHARE * n)))


def find_islands(Y: np.ndarray) -> np.ndarray:
    """Island of each point of the map ``Y`` (HDBSCAN, -1 for points in no island)."""
    Y = np.asarray(Y, dtype=float)
    return HDBSCAN(min_cluster_size=min_island_size(Y.shape[0]), copy=True).fit_predict(Y)


def as_categories(values: np.ndarray) -> np.ndarray:
    """Integer codes of a column: its levels, or quantile bins for a numeric column with more
    than :data:`QUANTILE_BINS` distinct values (ties kept in one bin)."""
    series = pd.Series(values)
    if pd.api.types.is_numeric_dtype(series) and series.nunique() > QUANTILE_BINS:
        return pd.qcut(series.rank(method="first"), QUANTILE_BINS, labels=False).to_numpy()
    return pd.factorize(series.astype(str))[0]


@dataclass
class IslandSummary:
    """The islands of one map and their best explanation.

    Attributes
    ----------
    map : str
    islands : int
        Islands found (HDBSCAN clusters).
    clustered_share : float
        Share of points inside an island.
    best_column : str
        The column (or the known segments) with the highest AMI with the islands.
    best_ami : float
    segment_ami, segment_ari : float or None
        AMI and ARI of the known segments with the islands.
    """

    map: str
    islands: int
    clustered_share: float
    best_column: str
    best_ami: float
    segment_ami: float | None
    segment_ari: float | None


def attribution(islands: np.ndarray, columns: dict[str, np.ndarray], segments: np.ndarray | None,
                segment_name: str = "known segment") -> pd.DataFrame:
    """ARI and AMI between the islands and each column, on the points inside an island.

    Parameters
    ----------
    islands : ndarray of int
        From :func:`find_islands` (-1 = in no island; those points are left out).
    columns : dict of str to ndarray
        The original columns of the table (the features before encoding).
    segments : ndarray or None
        The known segments, scored like a column under the name ``segment_name``.

    Returns
    -------
    DataFrame
        ``column``, ``ARI``, ``AMI`` and ``levels`` (levels or bins compared), highest AMI first.
    """
    inside = islands >= 0
    candidates = dict(columns)
    if segments is not None:
        candidates = {segment_name: segments, **candidates}
    rows = []
    for name, values in candidates.items():
        codes = as_categories(np.asarray(values))[inside]
        part = islands[inside]
        if part.size == 0 or np.unique(part).size < 2:
            ari = ami = 0.0
        else:
            ari = float(adjusted_rand_score(codes, part))
            ami = float(adjusted_mutual_info_score(codes, part))
        rows.append({"column": name, "ARI": ari, "AMI": ami,
                     "levels": int(np.unique(codes).size)})
    return (pd.DataFrame(rows).sort_values("AMI", ascending=False, kind="stable")
            .reset_index(drop=True))


def summarise(name: str, islands: np.ndarray, table: pd.DataFrame,
              segment_name: str | None) -> IslandSummary:
    """One line per map from its :func:`attribution` table."""
    top = table.iloc[0]
    segment = table[table["column"] == segment_name] if segment_name else table.iloc[:0]
    return IslandSummary(
        map=name, islands=int(islands.max() + 1) if islands.size else 0,
        clustered_share=float(np.mean(islands >= 0)), best_column=str(top["column"]),
        best_ami=float(top["AMI"]),
        segment_ami=float(segment["AMI"].iloc[0]) if len(segment) else None,
        segment_ari=float(segment["ARI"].iloc[0]) if len(segment) else None)


def expected_shares(values: np.ndarray, segments: np.ndarray | None) -> tuple[float, float]:
    """Share of pairs of customers with the same level of ``values``: two random customers
    (chance, :math:`\\sum_l p_l^2`), and two random customers of the same known segment
    (:math:`\\sum_s p_s \\sum_l p_{l|s}^2`; NaN without segments). The second is what a map
    that keeps segments together shows for a column that only differs between segments."""
    codes = pd.factorize(pd.Series(values).astype(str))[0]
    p = np.bincount(codes) / codes.size
    chance = float(np.sum(p**2))
    if segments is None:
        return chance, float("nan")
    within = 0.0
    for segment in np.unique(segments):
        part = codes[segments == segment]
        q = np.bincount(part) / part.size
        within += part.size / codes.size * float(np.sum(q**2))
    return chance, within


def same_level_share(Y: np.ndarray, values: np.ndarray, k: int = NEIGHBOURS
                     ) -> tuple[float, float]:
    """Share of each point's k nearest neighbours (in ``Y``) that share its level of
    ``values``, and the share expected by chance, :math:`\\sum_l p_l^2` (two random customers
    share a level with that probability)."""
    codes = pd.factorize(pd.Series(values).astype(str))[0]
    # kneighbors() without queries leaves each point out of its own neighbours.
    neighbours = NearestNeighbors(n_neighbors=k).fit(Y).kneighbors(return_distance=False)
    share = float(np.mean(codes[neighbours] == codes[:, None]))
    p = np.bincount(codes) / codes.size
    return share, float(np.sum(p**2))
