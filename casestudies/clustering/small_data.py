"""A smaller analysis for a small table, instead of a refusal.

Several defaults of the study assume a few thousand rows: a perplexity of 200 needs 602 rows, a
scorecard sample of 2,000 rows, eight mixture components, islands of 15 points. On a smaller table
(from :data:`MIN_ROWS` rows on) each default the rows cannot support shrinks to the largest value
they allow, and the run records what changed and why (:class:`Adaptation`), so that the report
can say it. A value the user gave is never changed: when the rows cannot support it, the run stops
with one line that gives the largest value that works.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from casestudies.clustering import islands
from casestudies.clustering.config import ClusteringConfig
from casestudies.errors import DataError

NEIGHBOURHOOD_SHARE = 3
"""A neighbourhood may hold at most a third of the other rows: t-SNE's own rule (each point's
affinities reach its 3 x perplexity nearest neighbours, so 3 x perplexity + 2 rows are needed),
applied to the fixed neighbourhoods of the other checks too."""
ROWS_PER_CLUSTER = 10
"""Choosing k tries at most one cluster per this many rows: a full-covariance mixture component
or a k-means centre estimated from fewer rows is noise."""
MIN_CLUSTERS = 3
"""The fewest numbers of clusters tried (k = 1 … 3): silhouette needs k >= 2, and a pick at
k = 2 must be able to sit inside the grid."""
STABILITY_NEIGHBOURS = 15
"""Neighbours of the fixed checks: seed stability and placement (15-NN overlap), same-level
neighbours, and UMAP's graph (umap-learn's default)."""
MIN_ROWS = NEIGHBOURHOOD_SHARE * STABILITY_NEIGHBOURS + 2
"""Fewest rows a run accepts, 47: the fixed 15-neighbour checks need 15 neighbours that are at
most a third of the table, the rule t-SNE's perplexity follows. On fewer rows the run still
completes (25 rows did), but two maps then share most of any 15-neighbourhood by chance, so the
stability and placement checks would report agreement that says nothing about the maps."""


@dataclass(frozen=True)
class Adaptation:
    """One default that shrank to fit the rows.

    Attributes
    ----------
    setting : str
        What changed, in words (``"perplexity sweep"``).
    option : str or None
        The option that sets it (``"--perplexities"``), or None for a fixed setting.
    default : list of float
        The default value(s).
    used : list of float
        The value(s) used on this table.
    limit : float
        The largest value the rows allow.
    rule : str
        Why, in words (the numbers are in ``limit``, ``default`` and ``used``).
    """

    setting: str
    option: str | None
    default: list[float]
    used: list[float]
    limit: float
    rule: str

    def describe(self) -> str:
        """One sentence for the report's data section."""
        default = ", ".join(_number(v) for v in self.default)
        used = ", ".join(_number(v) for v in self.used)
        option = f" ({self.option})" if self.option else ""
        return f"{self.setting}{option}: {used} instead of the default {default}; {self.rule}"


def _number(value: float) -> str:
    """``2,000`` for a whole number, ``7.5`` otherwise."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


def largest_perplexity(n_rows: int) -> int:
    """The largest whole perplexity ``n_rows`` rows allow (3 x perplexity + 2 <= n)."""
    return (n_rows - 2) // NEIGHBOURHOOD_SHARE


def _rows_for(perplexity: float) -> int:
    return math.ceil(NEIGHBOURHOOD_SHARE * perplexity) + 2


def _check_minimum(n_rows: int, source: str) -> None:
    if n_rows < MIN_ROWS:
        raise DataError(f"{source} has {n_rows} rows; the study needs at least {MIN_ROWS} (its "
                        f"{STABILITY_NEIGHBOURS}-neighbour checks need neighbourhoods of at most "
                        f"a third of the rows); use a larger table")


def _explicit_perplexities(config: ClusteringConfig, n_rows: int, source: str) -> None:
    """Refuse a perplexity the user gave that the rows cannot support, naming the largest."""
    given = []
    if "perplexities" in config.explicit:
        given += [("--perplexities", p) for p in config.perplexities]
    if "main_perplexity" in config.explicit:
        given.append(("--perplexity", config.main_perplexity))
    limit = largest_perplexity(n_rows)
    for flag, value in given:
        if value > limit:
            raise DataError(
                f"{source} has {n_rows} rows but perplexity {value:g} needs at least "
                f"{_rows_for(value)} (3 x perplexity + 2); the largest perplexity {n_rows} rows "
                f"allow is {limit}: lower {flag}")


def _perplexities(config: ClusteringConfig, n_rows: int) -> tuple[dict, list[Adaptation]]:
    """The sweep and the main perplexity the rows allow."""
    limit = largest_perplexity(n_rows)
    changes: dict = {}
    found: list[Adaptation] = []
    sweep = tuple(p for p in config.perplexities if p <= limit) or (float(limit),)
    if sweep != config.perplexities:
        changes["perplexities"] = sweep
        found.append(Adaptation(
            "perplexity sweep", "--perplexities", list(config.perplexities), list(sweep), limit,
            f"t-SNE needs 3 x perplexity + 2 rows, so {n_rows:,} rows allow perplexities up to "
            f"{limit}"))
    if config.main_perplexity not in sweep:
        main = max(sweep)
        changes["main_perplexity"] = main
        found.append(Adaptation(
            "main perplexity", "--perplexity", [config.main_perplexity], [main], limit,
            "the largest perplexity of the sweep the rows allow"))
    return changes, found


def _metric_sample(config: ClusteringConfig, n_rows: int, source: str) -> list[Adaptation]:
    """The scorecard's rows: all of them when the table has fewer than the sample size."""
    if n_rows >= config.metric_sample:
        return []
    if "metric_sample" in config.explicit:
        raise DataError(f"--metric-sample {config.metric_sample} is more than the {n_rows} rows "
                        f"of {source}; the largest that works is {n_rows}")
    # The pipeline draws min(rows, sample) rows; the option keeps its value (and its bound).
    return [Adaptation("rows of the faithfulness scorecard", "--metric-sample",
                       [config.metric_sample], [n_rows], n_rows,
                       "every row of the table is scored")]


def _neighbours(config: ClusteringConfig, n_rows: int) -> tuple[dict, list[Adaptation]]:
    """Neighbourhood sizes of the scorecard: trustworthiness needs k below half the rows."""
    rows = min(n_rows, config.metric_sample)
    kept = tuple(k for k in config.neighbours if 2 * k + 2 <= rows)
    if kept == config.neighbours:
        return {}, []
    limit = (rows - 2) // 2
    return {"neighbours": kept}, [Adaptation(
        "neighbourhood sizes k of the scorecard", None, list(config.neighbours), list(kept),
        limit, f"trustworthiness needs k + 1 below half of the {rows:,} rows scored")]


def _clusters(config: ClusteringConfig, n_rows: int) -> tuple[dict, list[Adaptation]]:
    """Largest number of clusters tried: one per :data:`ROWS_PER_CLUSTER` rows."""
    limit = max(MIN_CLUSTERS, n_rows // ROWS_PER_CLUSTER)
    if config.max_clusters <= limit:
        return {}, []
    return {"max_clusters": limit}, [Adaptation(
        "largest number of clusters tried", None, [config.max_clusters], [limit], limit,
        f"at most one cluster per {ROWS_PER_CLUSTER} rows")]


def _islands(n_rows: int) -> list[Adaptation]:
    """Smallest island: :func:`casestudies.clustering.islands.min_island_size` shrinks it."""
    used = islands.min_island_size(n_rows)
    if used >= islands.MIN_ISLAND_SIZE:
        return []
    return [Adaptation("smallest island on a map", None, [islands.MIN_ISLAND_SIZE], [used], used,
                       f"on fewer than {islands.MIN_ISLAND_SIZE * islands.SMALL_TABLE_ISLANDS} "
                       f"rows an island may be as small as a tenth of the rows (at least "
                       f"{islands.MIN_SMALL_ISLAND} points)")]


def adapt_to_rows(config: ClusteringConfig, n_rows: int, source: str
                  ) -> tuple[ClusteringConfig, list[Adaptation]]:
    """The settings a table of ``n_rows`` rows can support, and what changed.

    Parameters
    ----------
    config : ClusteringConfig
        The run's settings; the options in ``config.explicit`` are never changed.
    n_rows : int
        Rows of the table after missing values were handled.
    source : str
        The table's name, for messages.

    Returns
    -------
    config : ClusteringConfig
        ``config`` with every default the rows cannot support shrunk to the largest that works
        (the same object when nothing changes).
    adaptations : list of Adaptation

    Raises
    ------
    DataError
        Fewer than :data:`MIN_ROWS` rows, or an option the user gave that the rows cannot
        support (the message gives the largest value that works).
    """
    _check_minimum(n_rows, source)
    _explicit_perplexities(config, n_rows, source)
    changes, found = _perplexities(config, n_rows)
    found += _metric_sample(config, n_rows, source)
    for step in (_neighbours, _clusters):
        more_changes, more = step(config, n_rows)
        changes.update(more_changes)
        found += more
    found += _islands(n_rows)
    if not changes:
        return config, found
    return dataclasses.replace(config, **changes), found
