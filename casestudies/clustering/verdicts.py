"""The conclusions of the clustering study as rules: each takes numbers of a run and returns a
:class:`~casestudies.verdicts.Verdict`, with its threshold a named constant below.

The report chooses its words from these verdicts and never compares numbers itself. Where the
pipeline has replicates (a paired bootstrap over customers, or the maps of several seeds) the
verdict rests on their interval; where it has one number per method (the synthetic pitfalls,
the clustering scores) the rule is a point comparison and says so, and the wording claims no more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from casestudies.stats import Estimate
from casestudies.verdicts import Verdict, interval_above, point_above

NO_DIFFERENCE = 0.0
"""Paired differences (t-SNE minus PCA, PCA minus t-SNE) are compared with zero: the question is
which map keeps more, not whether it keeps a given amount more."""

MAJORITY_SHARE = 0.5
"""A 2-D PCA map "shows most of the variation" when its two components keep more than half of
the variance; below that, more variation lies in the dimensions the map drops than in the map."""

CLEARLY_MORE_REPRODUCIBLE = 0.8
"""PCA initialisation is "clearly" more reproducible when its mean seed-to-seed Procrustes
disparity is below 0.8 times that of random starts (a fifth less). With one to three pairs of
seeds per initialisation there is no interval, so the rule asks for a visible margin rather
than any difference and calls a smaller gap marginal; the value is a convention, not a test."""

MOST_NEIGHBOURS_AGREE = 0.5
"""Neighbourhoods "agree across seeds" when, with both initialisations, more than half of each
point's nearest neighbours are the same in two maps: then most of what a single map shows about
a point's neighbours is not an accident of its seed."""

CONVERGED_GRADIENT_FALL = 10.0
"""The optimisation counts as having reached a near-stationary point when the RMS gradient of
the exact objective fell by more than a factor of 10 from the PCA start: an order of magnitude
is the usual reading of "the gradient has become small" when no absolute scale is known. A fall
by a factor between 1 and 10 is undecided; no fall at all means it had not converged."""

DOMINANT_SQUARED_LOADING = 0.5
"""An unstandardised first component "is mostly one column" when that column's squared loading
(its share of the unit direction) exceeds one half: more of the axis is that column than all the
others together."""

EQUALISED_SPREAD_FACTOR = 0.5
"""t-SNE "equalises" the spreads when the ratio of the two clusters' radii on the map is less
than half the ratio in the data: the map removes more than half of the difference (on the ratio
scale)."""

LOOKS_EQUAL_RATIO = 2.0
"""Two clusters "look about equally large" on a map when one's radius is less than twice the
other's: a convention for what a reader would still call similar in size."""

COMPRESSED_DISTANCE_FACTOR = 1 / 1.5
"""Between-cluster distances count as "compressed" when the map's ratio d(A,C)/d(A,B) is below
two thirds of the data's: a third or more of the contrast is lost, which a reader comparing
gaps on the map would misjudge (the data's own ratio, from the sampled centroids, is within a
few per cent of the simulated one)."""


CATEGORY_NEIGHBOUR_MARGIN = 0.10
"""A map's neighbourhoods "follow a category" when the share of each customer's nearest map
neighbours with the same level of one categorical column exceeds the expected share by more than
10 percentage points. The expected share is that of two customers of the same known segment (a
column that differs between segments may legitimately sort a map that keeps segments together)
or, without segments, of two random customers. An unweighted one-hot block of a column that
carries no information exceeded it by about 60 points on the simulator (86 % of map neighbours
in the same region against 25 %); 10 points leaves room for the segments' own imprint on
neighbourhoods while catching such an artefact."""


def _finite(*values: float | None) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def paired_difference(name: str, difference: Estimate, *, rule: str, unit: str) -> Verdict:
    """A claim "the first method scores higher than the second" on an interval of their paired
    difference: holds when the whole interval lies above :data:`NO_DIFFERENCE`, fails when it
    lies at or below it, undecided when it straddles it."""
    return interval_above(name, difference, NO_DIFFERENCE, rule=rule, unit=unit)


def difference_over_seeds(name: str, main_difference: float,
                          seed_differences: Sequence[float], *, rule: str) -> Verdict:
    """A claim that holds for the map of every seed: holds when the difference is above
    :data:`NO_DIFFERENCE` for the main map and for every other seed's map, fails when it is at
    or below it for all of them, and is undecided when the seeds disagree. ``low`` and ``high``
    are the smallest and largest difference over the seeds (a range, not a confidence
    interval: there are only a few seeds)."""
    values = np.array([main_difference, *seed_differences], dtype=float)
    if not _finite(*values):
        holds = None
    elif np.all(values > NO_DIFFERENCE):
        holds = True
    elif np.all(values <= NO_DIFFERENCE):
        holds = False
    else:
        holds = None
    return Verdict(name=name, holds=holds, estimate=float(main_difference),
                   low=float(values.min()), high=float(values.max()),
                   threshold=NO_DIFFERENCE, rule=rule, unit="seeds")


def point_difference(name: str, first: float, second: float, *, rule: str) -> Verdict:
    """Point comparison without an interval: holds when ``first - second`` is above
    :data:`NO_DIFFERENCE`."""
    return point_above(name, first - second, NO_DIFFERENCE, rule=rule)


def both_lower(name: str, first: Sequence[float], second: Sequence[float], *,
               rule: str) -> Verdict:
    """Point comparison of several paired scores: holds when every ``first`` is below its
    ``second``, fails when every one is above, undecided when they disagree (or tie). The
    estimate is the largest of ``first - second``."""
    differences = np.asarray(first, float) - np.asarray(second, float)
    if not _finite(*differences):
        holds = None
    elif np.all(differences < 0):
        holds = True
    elif np.all(differences > 0):
        holds = False
    else:
        holds = None
    return Verdict(name=name, holds=holds, estimate=float(np.max(differences)),
                   threshold=NO_DIFFERENCE, rule=rule)


def monotone_rise(name: str, values: Sequence[float], *, rule: str) -> Verdict:
    """Whether a score rises at every step of a sweep: holds when every step is up, fails when
    every step is down, undecided when it goes both ways (or stays level somewhere). The
    estimate is the change from the first to the last value."""
    steps = np.diff(np.asarray(values, float))
    if steps.size == 0 or not _finite(*steps):
        holds = None
    elif np.all(steps > 0):
        holds = True
    elif np.all(steps < 0):
        holds = False
    else:
        holds = None
    change = float(values[-1] - values[0]) if len(values) else math.nan
    return Verdict(name=name, holds=holds, estimate=change, threshold=NO_DIFFERENCE, rule=rule)


def ratio_below(name: str, ratio: float, clearly_below: float, *, rule: str) -> Verdict:
    """A ratio compared with a band: holds when it is below ``clearly_below``, fails when it is
    at or above 1, undecided in between (smaller, but not clearly)."""
    if not _finite(ratio):
        holds = None
    elif ratio < clearly_below:
        holds = True
    elif ratio >= 1.0:
        holds = False
    else:
        holds = None
    return Verdict(name=name, holds=holds, estimate=float(ratio), threshold=clearly_below,
                   rule=rule)


def point_below(name: str, value: float, threshold: float, *, rule: str) -> Verdict:
    """Point comparison: holds when ``value`` is below ``threshold``."""
    holds = None if not _finite(value) else bool(value < threshold)
    return Verdict(name=name, holds=holds, estimate=float(value), threshold=float(threshold),
                   rule=rule)


def gradient_converged(name: str, gradient_start: float, gradient_end: float) -> Verdict:
    """Holds when the RMS gradient fell by more than :data:`CONVERGED_GRADIENT_FALL` (or to
    exactly zero), fails when it did not fall at all, undecided in between."""
    rule = (f"point comparison: RMS gradient at the PCA start divided by that of the final map, "
            f"above {CONVERGED_GRADIENT_FALL:g} = near-stationary, at most 1 = not converged")
    if gradient_end == 0:
        return Verdict(name=name, holds=True, estimate=math.inf,
                       threshold=CONVERGED_GRADIENT_FALL, rule=rule)
    fall = gradient_start / gradient_end
    if not _finite(fall):
        holds = None
    elif fall > CONVERGED_GRADIENT_FALL:
        holds = True
    elif fall <= 1.0:
        holds = False
    else:
        holds = None
    return Verdict(name=name, holds=holds, estimate=float(fall),
                   threshold=CONVERGED_GRADIENT_FALL, rule=rule)


def different_picks(name: str, first: str, second: str, *, rule: str) -> Verdict:
    """Holds when two picks (the best map by one score and by another) are different maps."""
    return Verdict(name=name, holds=first != second, rule=rule)


def equal_flag(name: str, value: int, limit: int, *, rule: str) -> Verdict:
    """A count that reached its limit (a choice at the edge of the range tried)."""
    return Verdict(name=name, holds=bool(value == limit), estimate=float(value),
                   threshold=float(limit), rule=rule)
