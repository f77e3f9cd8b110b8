"""Construction artefacts of time-ordered features: the warm-up of rolling-window features.

A feature computed over a trailing window (a customer's number of transactions in the last
30 days) starts empty when the log starts: during the first window (plus any label delay) it
grows towards its steady level. Early rows then differ from late rows because of how the
feature was built, not because the world changed: a drift check flags it, an adversarial
classifier separates the halves through it, and re-weighting by the density ratio would be
the wrong fix. The remedy is a burn-in: drop the rows before the windows have filled.

A warm-up is recognised from the means of the feature over equal spans of time: they start
far from the level the second half of the data holds and approach it early, then stay there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

WARMUP_SEGMENTS = 60
"""Equal spans of time whose means trace the feature's level (1.5 days over 90 days)."""

WARMUP_ROWS_PER_SEGMENT = 20
"""Fewer segments on short tables, so that each mean rests on about this many rows..."""

WARMUP_MIN_SEGMENTS = 8
"""... and no warm-up is looked for when fewer segments than this remain."""

WARMUP_GAP_SD = 0.25
"""A warm-up moves the level by at least a quarter of the feature's SD on the plateau: smaller
early differences are left to the drift checks."""

WARMUP_GAP_NOISE = 10.0
"""... and by at least ten times the noise of the segment means on the plateau (their robust
SD over the second half), so that noise is not mistaken for a warm-up."""

WARMUP_TOLERANCE = 0.05
"""The warm-up ends at the first segment after which every segment mean stays within 5 % of
the initial gap from the plateau (or within three noise SDs, when that is wider)."""

WARMUP_NOISE_BAND = 3.0

WARMUP_LATEST_END = 0.5
"""A warm-up ends in the first half of the time span; a feature still moving later has a
trend, which is drift, not a construction artefact."""


@dataclass(frozen=True)
class Warmup:
    """One feature's warm-up: where its level starts, its plateau, and when it ends."""

    column: str
    start_level: float
    plateau: float
    gap_in_sd: float  # |start - plateau| / SD of the feature on the plateau
    end: float  # time (in the table's unit) from the first row at which the warm-up is over


def _segment_means(times: np.ndarray, x: np.ndarray, segments: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Start time and mean of every non-empty one of ``segments`` equal spans of time."""
    span = times[-1] - times[0]
    if span <= 0:
        return np.array([]), np.array([])
    index = np.minimum(((times - times[0]) / span * segments).astype(int), segments - 1)
    counts = np.bincount(index, minlength=segments)
    sums = np.bincount(index, weights=x, minlength=segments)
    present = counts > 0
    starts = times[0] + np.arange(segments) * span / segments
    return starts[present], sums[present] / counts[present]


def detect_warmup(times: np.ndarray, x: np.ndarray, column: str = "",
                  segments: int = WARMUP_SEGMENTS) -> Warmup | None:
    """The warm-up of one feature (rows in time order), or ``None`` when it has none.

    The plateau is the median of the segment means over the second half of the time span and
    their noise the scaled median absolute deviation there. A warm-up needs a first segment
    at least :data:`WARMUP_GAP_SD` feature SDs and :data:`WARMUP_GAP_NOISE` noise SDs from the
    plateau, and an end (:data:`WARMUP_TOLERANCE`) within the first
    :data:`WARMUP_LATEST_END` of the span.
    """
    times = np.asarray(times, dtype=float)
    x = np.asarray(x, dtype=float)
    segments = min(segments, len(x) // WARMUP_ROWS_PER_SEGMENT)
    if segments < WARMUP_MIN_SEGMENTS:
        return None
    starts, means = _segment_means(times, x, segments)
    if len(means) < WARMUP_MIN_SEGMENTS:
        return None
    half = starts >= times[0] + (times[-1] - times[0]) / 2
    plateau = float(np.median(means[half]))
    noise = 1.4826 * float(np.median(np.abs(means[half] - plateau)))
    late_sd = float(np.std(x[times >= starts[half][0]]))
    gap = abs(means[0] - plateau)
    if late_sd == 0 or gap < WARMUP_GAP_SD * late_sd or gap < WARMUP_GAP_NOISE * noise:
        return None
    tolerance = max(WARMUP_TOLERANCE * gap, WARMUP_NOISE_BAND * noise)
    outside = np.flatnonzero(np.abs(means - plateau) > tolerance)
    end_index = int(outside[-1]) + 1
    if end_index >= len(starts) or starts[end_index] - times[0] > WARMUP_LATEST_END * (
            times[-1] - times[0]):
        return None
    return Warmup(column=column, start_level=float(means[0]), plateau=plateau,
                  gap_in_sd=gap / late_sd, end=float(starts[end_index] - times[0]))


def detect_warmups(frame: pd.DataFrame, times: np.ndarray, columns: list[str]
                   ) -> list[Warmup]:
    """The warm-ups of ``columns``, longest first."""
    found = [w for c in columns
             if (w := detect_warmup(times, frame[c].to_numpy(dtype=float), c)) is not None]
    return sorted(found, key=lambda w: -w.end)


def parse_duration(text: str, time_unit: str) -> float:
    """A duration in the table's time unit: ``"37D"``, ``"12h"``, ``"37 days"`` (dates) or a
    number (days for dates, the time column's units otherwise, rows without a time column).

    Raises
    ------
    ValueError
        Text that is neither a number nor a duration pandas reads, or a duration with a unit
        on a table whose time is not a date.
    """
    text = str(text).strip()
    try:
        value = float(text)
    except ValueError:
        if time_unit != "days":
            raise ValueError(f"a duration with a unit ({text!r}) needs a date time column; "
                             f"give a number in {time_unit}") from None
        try:
            value = pd.Timedelta(text) / pd.Timedelta(days=1)
        except ValueError:
            raise ValueError(f"{text!r} is not a duration; write it like 37D, 12h or "
                             f"'37 days'") from None
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"a duration must be a number at least 0, got {text!r}")
    return float(value)
