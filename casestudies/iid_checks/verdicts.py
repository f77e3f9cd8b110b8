"""The conclusions of the IID audit as :class:`~casestudies.verdicts.Verdict` records.

Every sentence of the report that states a conclusion ("random K-fold overstates the hold-out",
"the two sides are easy to tell apart", "Ljung-Box mistakes a level shift for dependence") is
chosen from one of these verdicts. Each rule is a small function with its threshold as a named
constant; the report only looks the verdicts up.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from casestudies.iid_checks.audit import EFFECTS, TOO_FEW_ROWS
from casestudies.stats import Estimate
from casestudies.verdicts import Verdict, interval_above, interval_below

ASSUMPTION_VERDICTS = {
    "independent": "violates_independence",
    "identically distributed": "violates_identical_distribution",
    "no leakage": "violates_no_leakage",
}
"""Name of the verdict of each assumption."""

NO_OPTIMISM = 0.0
"""A validation scheme overstates the hold-out score when the whole interval of its optimism
(scheme score minus hold-out score, both on the same cluster-bootstrap resamples) lies above
zero. Zero is "as honest as the hold-out"; the interval already carries the noise of both
scores, so no extra margin is added."""

NO_DIFFERENCE = 0.0
"""A scheme is closer to the hold-out than random K-fold when the whole paired interval of
``|its optimism| - |K-fold optimism|`` lies below zero."""

CHANCE_AUC = 0.5
"""AUC of an adversarial classifier that cannot tell the two sides apart."""

MATERIAL_AUC = CHANCE_AUC + EFFECTS["adversarial AUC"][1]
"""AUC from which the two sides are easy to tell apart: the audit's own materiality threshold
of the adversarial check (AUC - 0.5 of at least 0.05), so that this sentence and the check's
verdict use one convention."""

MISSED_VIOLATIONS_ALLOWED = 0
"""The gallery's violations are built in and known; a single one missed shows that the battery
can miss that kind of violation at this size, so none is allowed for "finds every violation"."""

FALSE_ALARMS_ALLOWED = 0
"""Likewise a single flag on an assumption that holds by construction is a false alarm worth
stating."""


def assumption_verdict(assumption: str, columns: pd.DataFrame) -> Verdict:
    """Whether ``assumption`` is violated: at least one deciding column violates it.

    ``columns`` holds one verdict per column and assumption
    (:func:`~casestudies.iid_checks.audit.column_verdicts`): a column violates an assumption
    when one of its checks is significant after adjustment and has an effect at or beyond its
    threshold of :data:`~casestudies.iid_checks.audit.EFFECTS`. Only deciding columns count
    (:data:`~casestudies.iid_checks.audit.DECIDING_ROLES`: for independence the target and the
    model's residuals; calendar columns never). Undecided when no deciding check could run.
    """
    name = ASSUMPTION_VERDICTS[assumption]
    rows = columns[(columns["assumption"] == assumption) & columns["decides"]]
    rule = ("violated when at least one deciding column has a check significant after "
            "adjustment with an effect at or beyond its threshold")
    if rows.empty:
        return Verdict(name=name, holds=None, rule=rule + "; no check of it could run")
    violations = int(rows["violated"].sum())
    return Verdict(name=name, holds=violations > 0, estimate=float(violations), threshold=0.0,
                   rule=rule + " (estimate: the number of columns that violate it)")


def overstates_verdict(name: str, optimism: Estimate, unit: str) -> Verdict:
    """Random K-fold (or another scheme) overstates the hold-out score: the whole interval of
    its optimism lies above :data:`NO_OPTIMISM`; understated or equal when the whole interval
    lies at or below it, undecided when it straddles it."""
    return interval_above(name, optimism, NO_OPTIMISM, unit=unit,
                          rule="cross-validated score minus hold-out score, interval above 0")


def closer_verdict(name: str, difference: Estimate, unit: str) -> Verdict:
    """A scheme is closer to the hold-out than random K-fold: the paired interval of the
    difference of absolute optimisms lies below :data:`NO_DIFFERENCE`."""
    return interval_below(name, difference, NO_DIFFERENCE, unit=unit,
                          rule="|optimism of the scheme| - |optimism of random K-fold|, "
                               "interval below 0")


def adversarial_verdicts(auc: Estimate, unit: str) -> dict[str, Verdict]:
    """The sides differ (AUC interval above :data:`CHANCE_AUC`) and they differ materially
    (AUC interval above :data:`MATERIAL_AUC`)."""
    return {
        "sides_differ": interval_above("sides_differ", auc, CHANCE_AUC, unit=unit,
                                       rule="adversarial AUC interval above chance (0.5)"),
        "sides_differ_materially": interval_above(
            "sides_differ_materially", auc, MATERIAL_AUC, unit=unit,
            rule="adversarial AUC interval above chance plus the check's effect threshold"),
    }


def rate_above_chance(name: str, rate: float, low: float, high: float, band_high: float,
                      rule: str) -> Verdict:
    """A test flags a simulated scenario more often than a test of size alpha would by chance:
    its flag rate is above ``band_high``, the upper end of the binomial band of alpha for that
    many replicates (the band already holds the simulation noise). ``low``, ``high`` are the
    rate's Wilson interval, reported alongside."""
    holds = None if not math.isfinite(rate) else bool(rate > band_high)
    return Verdict(name=name, holds=holds, estimate=float(rate), low=float(low),
                   high=float(high), threshold=float(band_high), rule=rule)


def gallery_verdicts(missed: int, false_alarms: int) -> dict[str, Verdict]:
    """Whether the audit finds every built-in violation of the gallery
    (:data:`MISSED_VIOLATIONS_ALLOWED`) and whether it raises false alarms
    (:data:`FALSE_ALARMS_ALLOWED`)."""
    return {
        "gallery_finds_every_violation": Verdict(
            name="gallery_finds_every_violation",
            holds=missed <= MISSED_VIOLATIONS_ALLOWED, estimate=float(missed),
            threshold=float(MISSED_VIOLATIONS_ALLOWED),
            rule="built-in violations of the gallery that the audit misses, at most the "
                 "threshold"),
        "gallery_raises_false_alarms": Verdict(
            name="gallery_raises_false_alarms",
            holds=false_alarms > FALSE_ALARMS_ALLOWED, estimate=float(false_alarms),
            threshold=float(FALSE_ALARMS_ALLOWED),
            rule="assumptions that hold by construction but are flagged, above the threshold"),
    }


def check_verdict(name: str, check: dict, rule: str) -> Verdict:
    """One row of an audit as a verdict: it holds when the check is a violation (significant
    after adjustment and with an effect beyond its threshold)."""
    return Verdict(name=name, holds=check["verdict"] == "violation",
                   estimate=float(check["effect"]), threshold=float(check["threshold"]),
                   rule=rule)


def ks_conservative_verdict(ks_p: float, chi2_p: float) -> Verdict:
    """On a discrete column, KS is conservative: chi-square on the same counts gives a smaller
    p-value. Undecided when both p-values are equal (both underflow to zero, say)."""
    holds = None if chi2_p == ks_p else bool(chi2_p < ks_p)
    return Verdict(name="ks_conservative_on_discrete", holds=holds, estimate=float(chi2_p),
                   threshold=float(ks_p),
                   rule="chi-square p-value below the KS p-value on the same discrete column")


def outside_band_verdict(name: str, acf: float, band: float, band_name: str) -> Verdict:
    """An autocorrelation lies outside a symmetric band ``+-band``."""
    return Verdict(name=name, holds=bool(abs(acf) > band), estimate=float(acf),
                   threshold=float(band), rule=f"|autocorrelation| above the {band_name}")


def lag_choice_verdict(p_values: np.ndarray, alpha: float) -> Verdict:
    """The answer of Ljung-Box depends on its lag h: some choices of h reject at ``alpha`` and
    others do not."""
    rejections = int(np.sum(np.asarray(p_values) < alpha))
    holds = 0 < rejections < len(p_values)
    return Verdict(name="ljung_box_answer_depends_on_lag", holds=bool(holds),
                   estimate=float(rejections), threshold=float(alpha),
                   rule="some but not all lags h give a p-value below alpha (estimate: the "
                        "number of lags that reject)")


def holm_floor_verdict(holm_threshold: float, floor: float) -> Verdict:
    """Holm's first threshold (alpha / m) lies below the smallest p-value KPSS can report, so
    that under Holm the stationarity check could never reject."""
    return Verdict(name="holm_below_kpss_floor", holds=bool(holm_threshold < floor),
                   estimate=float(holm_threshold), threshold=float(floor),
                   rule="alpha / m below the KPSS p-value floor")


def _material_change(change: Estimate, material: float, increase_only: bool) -> bool | None:
    """Whether ``change`` is a material change: ``True`` when its interval excludes zero and
    its estimate is at least ``material`` in size; ``False`` when the whole interval lies
    within ``material`` of zero (below ``material`` when only an increase counts); ``None``
    otherwise, and without a finite interval."""
    low, high = change.low, change.high
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    if increase_only:
        if low > 0 and change.value >= material:
            return True
        return False if high < material else None
    if (low > 0 or high < 0) and abs(change.value) >= material:
        return True
    return False if -material < low and high < material else None


def prior_shift_verdict(change: Estimate, unit: str) -> Verdict:
    """The positive rate of a 0/1 target shifts materially between the sides: its relative
    change has an interval that excludes zero and a point estimate at least
    :data:`~casestudies.iid_checks.drift.MATERIAL_RELATIVE_CHANGE` in size. It does not when
    the whole interval lies within that band; undecided otherwise."""
    from casestudies.iid_checks.drift import MATERIAL_RELATIVE_CHANGE as material

    low, high = change.low, change.high
    holds = _material_change(change, material, increase_only=False)
    return Verdict(name="prior_shift", holds=holds, estimate=float(change.value),
                   low=float(low), high=float(high), threshold=material, unit=unit,
                   confidence=float(change.confidence),
                   rule="relative change of the positive rate (late / early - 1): interval "
                        "excluding 0 and estimate beyond the material change; no shift when "
                        "the interval lies within it")


def concept_drift_verdict(increase: Estimate, unit: str) -> Verdict:
    """``P(y | x)`` changes materially between the periods: ignoring the period makes the
    proper score worse (relative increase ``L_blind / L_aware - 1`` on the same scored rows,
    :func:`~casestudies.iid_checks.concept.concept_drift`) with an interval above zero and a
    point estimate at least
    :data:`~casestudies.iid_checks.concept.MATERIAL_LOSS_INCREASE`. It does not when the whole
    interval lies below that material increase; undecided otherwise."""
    from casestudies.iid_checks.concept import MATERIAL_LOSS_INCREASE as material

    low, high = increase.low, increase.high
    holds = _material_change(increase, material, increase_only=True)
    return Verdict(name="concept_drift", holds=holds, estimate=float(increase.value),
                   low=float(low), high=float(high), threshold=material, unit=unit,
                   confidence=float(increase.confidence),
                   rule="relative increase of the proper score when the model ignores the "
                        "period (period-blind with per-period base rates / period-aware - 1, "
                        "paired on the same scored rows): interval above 0 and estimate at "
                        "least the material increase; none when the interval lies below it")


def burn_in_verdict(detected: float, warmups: int) -> Verdict:
    """Some features warm up: their early level is a construction artefact, and the detected
    burn-in (the latest end of a warm-up) is worth leaving out."""
    return Verdict(name="warmup_detected", holds=warmups > 0, estimate=float(detected),
                   threshold=0.0,
                   rule="at least one feature starts far from its plateau and reaches it in "
                        "the first half of the time span (estimate: the burn-in)")


def closest_scheme_verdict(closest: str, margin: Estimate | None, unit: str) -> Verdict:
    """The scheme whose estimate is closest to the hold-out is distinguishably closer than the
    runner-up: the paired interval of ``|its optimism| - |runner-up's optimism|`` lies below
    :data:`NO_DIFFERENCE`. Undecided without a runner-up."""
    rule = (f"closest scheme: {closest}; |its optimism| - |optimism of the runner-up|, "
            "interval below 0")
    if margin is None:
        return Verdict(name="closest_scheme_distinguishable", holds=None, rule=rule)
    return interval_below("closest_scheme_distinguishable", margin, NO_DIFFERENCE, unit=unit,
                          rule=rule)


def gap_rule_verdict(gap_time: float, required: float, name: str = "gap_meets_rule",
                     what: str = "the time-ordered schemes") -> Verdict:
    """The time-ordered schemes (or ``what`` else, under the verdict ``name``) leave at least
    the feature window plus the label delay between training and validation rows."""
    return Verdict(name=name, holds=bool(gap_time >= required),
                   estimate=float(gap_time), threshold=float(required),
                   rule=f"gap of {what} at least the longest feature window plus the label "
                        "delay")


def _most_suspicious(states: list[Verdict]) -> Verdict:
    """The feature verdict whose interval lies highest (lower end first, then the estimate)."""
    return max(states, key=lambda v: (v.low if v.low is not None and math.isfinite(v.low)
                                      else -math.inf, v.estimate or -math.inf))


def _any_feature(name: str, states: list[Verdict], rule: str) -> tuple[Verdict, str]:
    """One verdict over features: yes when one of them holds, no when none can (every one is
    no), undecided otherwise; the estimate and interval are those of the most suspicious
    feature with that state (each state is named after its feature), which is returned beside
    it."""
    if not states:
        return Verdict(name=name, holds=None, rule=rule + "; no feature could be measured"), ""
    holds = (True if any(v.holds is True for v in states)
             else False if all(v.holds is False for v in states) else None)
    # The feature shown is one that gives the aggregate its state (an undecided one when the
    # verdict is undecided), and among those the one whose interval lies highest.
    top = _most_suspicious([v for v in states if v.holds is holds])
    return Verdict(**{**top.__dict__, "name": name, "holds": holds,
                      "rule": f"{rule} (shown: {top.name!r})"}), top.name


def label_in_disguise_verdict(power: pd.DataFrame, unit: str) -> tuple[Verdict, str]:
    """Some feature is the label in disguise: the whole interval of its rank power on the
    development rows lies above :data:`~casestudies.iid_checks.leakage.DISGUISED_POWER`; and
    the feature whose interval lies highest."""
    from casestudies.iid_checks.leakage import DISGUISED_POWER

    states = [interval_above(r.feature, Estimate(r.early, r.early_low, r.early_high,
                                                 r.confidence), DISGUISED_POWER, unit=unit,
                             rule="") for r in power.itertuples() if math.isfinite(r.early)]
    return _any_feature("feature_is_label_in_disguise", states,
                        "a feature whose |rank correlation| with the target on the development "
                        "rows has its whole interval above the threshold")


def power_drop_verdict(power: pd.DataFrame, unit: str) -> tuple[Verdict, str]:
    """Some feature loses its power after the development rows: the whole paired interval of
    (early - later) rank power lies above :data:`~casestudies.iid_checks.leakage.MATERIAL_DROP`;
    and the feature whose fall lies highest."""
    from casestudies.iid_checks.leakage import MATERIAL_DROP

    states = [interval_above(r.feature, Estimate(r.drop, r.drop_low, r.drop_high,
                                                 r.confidence), MATERIAL_DROP, unit=unit,
                             rule="") for r in power.itertuples() if math.isfinite(r.drop)]
    return _any_feature("feature_power_drops_later", states,
                        "a feature whose rank correlation with the target falls from the "
                        "development to the later rows, whole paired interval above the "
                        "material fall")


def recorded_after_prediction_verdict(late: pd.DataFrame) -> tuple[Verdict, str]:
    """Some feature declared with ``--recorded-at`` was recorded after the prediction moment in
    at least :data:`~casestudies.iid_checks.leakage.LATE_RECORDING_TOLERANCE` of its rows; and
    the feature with the largest share."""
    from casestudies.iid_checks.leakage import LATE_RECORDING_TOLERANCE as tolerance

    rule = ("a feature recorded after its row's time (the prediction moment) in at least the "
            "tolerated share of rows")
    if late.empty or not late["share"].notna().any():
        return Verdict(name="feature_recorded_after_prediction", holds=None, rule=rule), ""
    top = late.loc[late["share"].idxmax()]
    return Verdict(name="feature_recorded_after_prediction",
                   holds=bool(top["share"] >= tolerance), estimate=float(top["share"]),
                   threshold=tolerance,
                   rule=f"{rule} (shown: {top['feature']!r})"), str(top["feature"])


def leakage_control_verdict(control: pd.DataFrame) -> Verdict:
    """The single-feature checks separate the control's planted leaks from its honest
    features: no feature of the known-truth control is flagged wrongly or missed
    (:data:`MISSED_VIOLATIONS_ALLOWED` errors)."""
    errors = int((control["flagged"] != control["truth"]).sum())
    return Verdict(name="leakage_control_separates", holds=errors <= MISSED_VIOLATIONS_ALLOWED,
                   estimate=float(errors), threshold=float(MISSED_VIOLATIONS_ALLOWED),
                   rule="control features flagged by a check other than the one they were "
                        "built to trip, or not flagged, at most the threshold")


UNRELIABLE_CHECKS_ALLOWED = 0
"""A check whose false-alarm rate at this n lies outside the binomial band of alpha (see
:func:`~casestudies.iid_checks.null_at_n.reliability`) is worth stating even when it is one:
its flags, or its silences, do not mean what its level says."""

TOO_FEW_ROWS_ALLOWED = 0
"""Likewise one deciding check that finds no evidence but could not have told a material
effect from chance at this n changes what its "no evidence" means."""


def unreliable_checks_verdict(checks_frame: pd.DataFrame) -> Verdict:
    """Some checks are unreliable at this n: more than :data:`UNRELIABLE_CHECKS_ALLOWED` of the
    checks whose null was simulated flag random orders of the same values (or a stationary
    AR(1), for KPSS) at a rate outside the binomial band of alpha. Undecided when no null was
    simulated."""
    simulated = checks_frame["false_alarm_rate"].notna()
    rule = ("at least one check's false-alarm rate at this n, simulated on the column's own "
            "values, lies outside the binomial band of alpha (estimate: how many)")
    if not simulated.any():
        return Verdict(name="checks_unreliable_at_this_n", holds=None, rule=rule)
    count = int(checks_frame.loc[simulated, "unreliable"].sum())
    return Verdict(name="checks_unreliable_at_this_n",
                   holds=count > UNRELIABLE_CHECKS_ALLOWED, estimate=float(count),
                   threshold=float(UNRELIABLE_CHECKS_ALLOWED), rule=rule)


def too_few_rows_verdict(checks_frame: pd.DataFrame) -> Verdict:
    """Some deciding checks find no evidence only because they could not see a material
    effect: more than :data:`TOO_FEW_ROWS_ALLOWED` deciding checks without evidence have a
    detectable effect above their material threshold. Undecided when no deciding check has a
    detectable effect."""
    deciding = checks_frame[checks_frame["decides"] & checks_frame["detectable"].notna()]
    rule = ("at least one deciding check without evidence has a detectable effect at this n "
            "above its material threshold (estimate: how many)")
    if deciding.empty:
        return Verdict(name="deciding_checks_too_few_rows", holds=None, rule=rule)
    count = int((deciding["reading"] == TOO_FEW_ROWS).sum())
    return Verdict(name="deciding_checks_too_few_rows", holds=count > TOO_FEW_ROWS_ALLOWED,
                   estimate=float(count), threshold=float(TOO_FEW_ROWS_ALLOWED), rule=rule)
