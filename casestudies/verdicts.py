"""Verdicts: the conclusions a report states, as data.

A report never compares numbers. Every conclusion it draws ("the raw score is calibrated",
"the interval covers the truth", "random K-fold overstates the score") is a :class:`Verdict` in
the study's result: the estimate and interval it rests on, the threshold it was compared with, the
rule in words, and the unit that was resampled for the interval. The rule itself is a small
function in the study's Python code with its threshold as a named constant, tested on data on both
sides of it; the report only chooses its wording from :attr:`Verdict.holds`.

>>> v = interval_above("overstates", Estimate(0.06, 0.01, 0.12), 0.0,
...                    rule="K-fold minus hold-out AUC above 0", unit="customers")
>>> v.holds, v.state
(True, 'yes')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from casestudies.stats import Estimate

YES, NO, UNDECIDED = "yes", "no", "undecided"


@dataclass(frozen=True)
class Verdict:
    """One conclusion of a study and the evidence it rests on.

    Attributes
    ----------
    name : str
        Stable identifier, also its key in ``result.verdicts`` (``"raw_score_calibrated"``).
    holds : bool or None
        ``True`` the claim holds, ``False`` it does not, ``None`` the evidence cannot tell.
    estimate : float or None
        The number the rule looked at (a difference, a ratio, a coverage …).
    low, high : float or None
        Its confidence interval, when it has one.
    threshold : float or None
        What the estimate (or its interval) was compared with.
    rule : str
        The rule in words, with the threshold's meaning (plain text, no numbers of this run).
    unit : str
        What was resampled for the interval (``"incidents"``, ``"forecast origins"``), or ``""``
        when the interval is not a resampling interval.
    confidence : float or None
        Level of the interval.
    """

    name: str
    holds: bool | None
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    threshold: float | None = None
    rule: str = ""
    unit: str = ""
    confidence: float | None = None

    @property
    def state(self) -> str:
        """``"yes"``, ``"no"`` or ``"undecided"``: the word a template branches on."""
        return UNDECIDED if self.holds is None else (YES if self.holds else NO)

    def describe(self) -> str:
        """One line of plain text: name, state, estimate with interval, and the rule."""
        parts = [f"{self.name}: {self.state}"]
        if self.estimate is not None and _finite(self.estimate):
            number = f"{self.estimate:.4g}"
            if _finite(self.low) and _finite(self.high):
                level = f"{self.confidence:.0%} " if self.confidence else ""
                number += f" ({level}interval {self.low:.4g} to {self.high:.4g}"
                number += f", over {self.unit})" if self.unit else ")"
            parts.append(number)
        if self.rule:
            parts.append(self.rule)
        return "; ".join(parts)


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _from_estimate(name: str, holds: bool | None, estimate: Estimate, threshold: float,
                   rule: str, unit: str) -> Verdict:
    return Verdict(name=name, holds=holds, estimate=float(estimate.value),
                   low=float(estimate.low), high=float(estimate.high),
                   threshold=float(threshold), rule=rule, unit=unit,
                   confidence=float(estimate.confidence))


def interval_above(name: str, estimate: Estimate, threshold: float, *, rule: str,
                   unit: str = "") -> Verdict:
    """Holds when the whole interval lies above ``threshold``, fails when the whole interval lies
    at or below it, and is undecided when the interval straddles it (or is missing)."""
    low, high = estimate.low, estimate.high
    if not (_finite(low) and _finite(high)):
        holds = None
    elif low > threshold:
        holds = True
    elif high <= threshold:
        holds = False
    else:
        holds = None
    return _from_estimate(name, holds, estimate, threshold, rule, unit)


def interval_below(name: str, estimate: Estimate, threshold: float, *, rule: str,
                   unit: str = "") -> Verdict:
    """Mirror of :func:`interval_above`: holds when the whole interval lies below
    ``threshold``."""
    low, high = estimate.low, estimate.high
    if not (_finite(low) and _finite(high)):
        holds = None
    elif high < threshold:
        holds = True
    elif low >= threshold:
        holds = False
    else:
        holds = None
    return _from_estimate(name, holds, estimate, threshold, rule, unit)


def interval_within(name: str, estimate: Estimate, low: float, high: float, *, rule: str,
                    unit: str = "") -> Verdict:
    """Holds when the interval overlaps the band ``[low, high]`` (the data are consistent with a
    value inside it), fails when the whole interval lies outside it.

    ``threshold`` records the band's centre; the band itself belongs in ``rule``.
    """
    e_low, e_high = estimate.low, estimate.high
    if not (_finite(e_low) and _finite(e_high)):
        holds = None
    else:
        holds = bool(e_high >= low and e_low <= high)
    return _from_estimate(name, holds, estimate, (low + high) / 2, rule, unit)


def point_above(name: str, value: float, threshold: float, *, rule: str) -> Verdict:
    """A verdict on a value without an interval (a count, a share of a known population)."""
    holds = None if not _finite(value) else bool(value > threshold)
    return Verdict(name=name, holds=holds, estimate=float(value), threshold=float(threshold),
                   rule=rule)
