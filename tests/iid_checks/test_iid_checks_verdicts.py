"""Each verdict rule of the IID audit on constructed inputs on both sides of its threshold, the
summaries the verdicts rest on, the short answer's wording, and independent random streams."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from casestudies.iid_checks import verdicts as rules
from casestudies.iid_checks.audit import DECIDING_ROLES, column_verdicts
from casestudies.iid_checks.config import IIDConfig
from casestudies.iid_checks.pipeline import (
    GalleryEntry,
    gallery_summary,
    run_gallery,
    size_summary,
)
from casestudies.iid_checks.report import short_answer
from casestudies.iid_checks.simulation import size_and_power
from casestudies.io import to_jsonable
from casestudies.stats import Estimate


def _checks(assumption: str, verdicts: list[str], role: str = "target") -> pd.DataFrame:
    return pd.DataFrame({"assumption": assumption, "test": "Ljung-Box", "verdict": verdicts,
                         "column": [f"c{i}" for i in range(len(verdicts))], "role": role,
                         "decides": role in DECIDING_ROLES[assumption],
                         "effect": 0.2, "threshold": 0.1})


def test_assumption_verdict_needs_one_violation():
    violated = rules.assumption_verdict(
        "independent", column_verdicts(_checks("independent", ["violation", "no evidence"])))
    assert violated.name == "violates_independence"
    assert violated.holds is True and violated.estimate == 1
    small = rules.assumption_verdict("independent", column_verdicts(
        _checks("independent", ["significant, small effect", "no evidence"])))
    assert small.holds is False and small.estimate == 0
    nothing_ran = rules.assumption_verdict(
        "no leakage", column_verdicts(_checks("independent", ["violation"])))
    assert nothing_ran.holds is None


@pytest.mark.parametrize("role", ["feature", "calendar"])
def test_feature_and_calendar_dependence_is_context_not_the_verdict(role):
    """Dependence in a feature, or in a calendar flag, does not decide about K-fold: only the
    target and the residuals do."""
    context = rules.assumption_verdict(
        "independent", column_verdicts(pd.concat([
            _checks("independent", ["violation"], role),
            _checks("independent", ["no evidence"], "residuals").assign(column="residuals")])))
    assert context.holds is False


def test_three_tests_of_one_column_are_one_violation():
    frame = _checks("independent", ["violation", "violation", "violation"]).assign(
        column="y", test=["Ljung-Box", "runs", "BDS"])
    verdict = rules.assumption_verdict("independent", column_verdicts(frame))
    assert verdict.holds is True and verdict.estimate == 1


def test_calendar_flags_stay_out_of_the_drift_verdict():
    frame = pd.concat([_checks("identically distributed", ["violation"], "calendar"),
                       _checks("identically distributed", ["no evidence"], "feature").assign(
                           column="x")])
    assert rules.assumption_verdict("identically distributed",
                                    column_verdicts(frame)).holds is False


@pytest.mark.parametrize(("low", "high", "state"), [
    (0.01, 0.09, "yes"), (-0.05, -0.001, "no"), (-0.02, 0.04, "undecided"),
    (-0.03, 0.0, "no"),  # an interval reaching zero from below does not overstate
])
def test_overstates_verdict_on_both_sides_of_zero(low, high, state):
    verdict = rules.overstates_verdict("kfold_overstates", Estimate((low + high) / 2, low, high),
                                       "groups of 'customer'")
    assert verdict.state == state
    assert verdict.threshold == rules.NO_OPTIMISM
    assert verdict.unit == "groups of 'customer'"


@pytest.mark.parametrize(("low", "high", "state"), [
    (-0.09, -0.01, "yes"), (0.02, 0.13, "no"), (-0.03, 0.05, "undecided")])
def test_closer_verdict_on_both_sides_of_zero(low, high, state):
    verdict = rules.closer_verdict("time_series_split_closer_than_kfold",
                                   Estimate((low + high) / 2, low, high), "50 blocks")
    assert verdict.state == state


def test_adversarial_verdicts_against_chance_and_materiality():
    material = rules.adversarial_verdicts(Estimate(0.6, 0.56, 0.64), "blocks")
    assert material["sides_differ"].holds and material["sides_differ_materially"].holds
    modest = rules.adversarial_verdicts(Estimate(0.53, 0.52, 0.54), "blocks")
    assert modest["sides_differ"].holds is True
    assert modest["sides_differ_materially"].holds is False
    straddling = rules.adversarial_verdicts(Estimate(0.52, 0.53 - 0.08, 0.55), "blocks")
    assert straddling["sides_differ"].holds is None
    assert straddling["sides_differ_materially"].holds is False
    assert rules.MATERIAL_AUC == pytest.approx(0.55)


def test_rate_above_chance_against_the_binomial_band():
    above = rules.rate_above_chance("x", 0.2, 0.1, 0.3, 0.125, "rule")
    within = rules.rate_above_chance("x", 0.1, 0.03, 0.2, 0.125, "rule")
    at = rules.rate_above_chance("x", 0.125, 0.05, 0.25, 0.125, "rule")
    assert (above.holds, within.holds, at.holds) == (True, False, False)


def test_gallery_verdicts_count_misses_and_false_alarms():
    perfect = rules.gallery_verdicts(missed=0, false_alarms=0)
    assert perfect["gallery_finds_every_violation"].holds is True
    assert perfect["gallery_raises_false_alarms"].holds is False
    flawed = rules.gallery_verdicts(missed=1, false_alarms=1)
    assert flawed["gallery_finds_every_violation"].holds is False
    assert flawed["gallery_raises_false_alarms"].holds is True


def test_check_verdict_needs_the_check_to_be_a_violation():
    row = {"verdict": "violation", "effect": 0.2, "threshold": 0.1}
    assert rules.check_verdict("x", row, "rule").holds is True
    small = row | {"verdict": "significant, small effect", "effect": 0.05}
    assert rules.check_verdict("x", small, "rule").holds is False


def test_ks_conservative_verdict():
    assert rules.ks_conservative_verdict(ks_p=0.3, chi2_p=1e-5).holds is True
    assert rules.ks_conservative_verdict(ks_p=0.01, chi2_p=0.02).holds is False
    assert rules.ks_conservative_verdict(ks_p=0.0, chi2_p=0.0).holds is None


def test_outside_band_verdict_uses_the_absolute_autocorrelation():
    assert rules.outside_band_verdict("x", -0.3, 0.2, "band").holds is True
    assert rules.outside_band_verdict("x", 0.15, 0.2, "band").holds is False


def test_lag_choice_verdict():
    assert rules.lag_choice_verdict(np.array([0.001, 0.01, 0.2]), 0.05).holds is True
    assert rules.lag_choice_verdict(np.array([0.001, 0.01, 0.04]), 0.05).holds is False
    assert rules.lag_choice_verdict(np.array([0.3, 0.6]), 0.05).holds is False


def test_holm_floor_verdict():
    assert rules.holm_floor_verdict(0.05 / 96, 0.001).holds is True
    assert rules.holm_floor_verdict(0.05 / 10, 0.001).holds is False


def _entry(name, truth, found, flagged_identical=0):
    checks = pd.DataFrame({
        "assumption": ["identically distributed"] * 3, "decides": True,
        "verdict": ["violation"] * flagged_identical + ["no evidence"] * (3 - flagged_identical)})
    return GalleryEntry(name=name, description="", truth=truth,
                        found={"independent": "independent" in found,
                               "identically distributed": "identically distributed" in found,
                               "no leakage": "no leakage" in found},
                        audit=SimpleNamespace(checks=checks), validation=None)


def test_gallery_summary_counts_cells_against_the_truth():
    entries = [
        _entry("iid", (), ()),  # 3 correct
        _entry("ar1", ("independent",), ("independent", "identically distributed"),
               flagged_identical=2),  # 2 correct, 1 false alarm from dependence
        _entry("dup", ("no leakage",), ()),  # 2 correct, 1 missed
    ]
    summary = gallery_summary(entries)
    assert (summary.cells, summary.correct, summary.missed, summary.false_alarms) == (9, 7, 1, 1)
    assert summary.dependence_false_alarms == [{"name": "ar1", "checks": 2}]


def test_size_summary_counts_rates_inside_the_band():
    sim = size_and_power(20, 100, 0.05, random_state=3, scenarios=(
        "iid", "ar1_strong", "mean_shift", "grouped"))
    summary, verdicts = size_summary(sim)
    iid = sim.rates[sim.rates["scenario"] == "iid"]
    inside = iid[(iid["rate"] >= sim.band_low) & (iid["rate"] <= sim.band_high)]
    assert summary.inside_band == len(inside) and summary.tests == len(iid)
    assert summary.inside_band + len(summary.outside_band) == summary.tests
    level_shift = verdicts["simulation_ljung_box_flags_level_shift"]
    assert level_shift.estimate == sim.rate("mean_shift", "Ljung-Box")
    assert level_shift.holds == (level_shift.estimate > sim.band_high)


def _stand_in(kfold_state: str | None, violated: bool) -> SimpleNamespace:
    holds = {"yes": True, "no": False, "undecided": None}
    interval = {"yes": (0.05, 0.02, 0.08), "no": (-0.05, -0.08, -0.02),
                "undecided": (0.01, -0.02, 0.04)}
    verdicts = {name: rules.Verdict(name, violated) for name in rules.ASSUMPTION_VERDICTS.values()}
    if kfold_state is not None:
        verdicts["kfold_overstates"] = rules.overstates_verdict(
            "kfold_overstates", Estimate(*interval[kfold_state]), "blocks")
        assert verdicts["kfold_overstates"].holds is holds[kfold_state]
    assumptions = pd.DataFrame({"assumption": list(rules.ASSUMPTION_VERDICTS),
                                "violations": [2, 0, 1], "columns": [5, 4, 3],
                                "which": ["a: runs; b: BDS; z: runs", "c: PSI", ""]})
    return SimpleNamespace(verdicts=verdicts, assumptions=assumptions, rows=1234,
                           table_name="mine.csv", check_counts={"total": 12},
                           validation=SimpleNamespace(metric="R²"), burn_in=None)


@pytest.mark.parametrize(("state", "wording"), [
    ("yes", "random K-fold overstates the hold-out R² by +0.050, 95% CI +0.020 to +0.080"),
    ("no", "random K-fold does not overstate the hold-out R²"),
    ("undecided", "random K-fold is not measurably off the hold-out R²"),
])
def test_short_answer_is_worded_from_the_kfold_verdict(state, wording):
    answer = short_answer(_stand_in(state, violated=True))
    assert wording in answer
    assert answer.startswith("On mine.csv, independence fails (a: runs, b: BDS and 1 more); "
                             "identical distribution fails (c: PSI); no leakage fails")
    if state != "yes":
        assert "overstates" not in answer


def test_short_answer_without_violations_or_target():
    answer = short_answer(_stand_in(None, violated=False))
    assert answer == "On mine.csv, no assumption is violated in 12 checks."


QUICK = IIDConfig(quick=True, replicates=0, permutations=99, bootstrap=30, max_energy_rows=150,
                  gallery_rows=200)


def test_adding_a_gallery_dataset_leaves_the_others_unchanged():
    with threadpool_limits(1):
        alone = run_gallery(("mean_shift",), QUICK)
        with_another = run_gallery(("iid", "mean_shift"), QUICK)
    assert to_jsonable(alone[0]) == to_jsonable(with_another[1])


def test_adding_a_scenario_leaves_the_simulated_flags_of_the_others_unchanged():
    # With one generator shared across scenarios, 30 replicates are enough for the energy
    # test's permutations to flip a flag of "grouped" when "mean_shift" runs first.
    alone = size_and_power(30, 100, 0.05, random_state=2, scenarios=("grouped",))
    with_another = size_and_power(30, 100, 0.05, random_state=2,
                                  scenarios=("mean_shift", "grouped"))
    grouped = with_another.rates[with_another.rates["scenario"] == "grouped"]
    assert alone.rates.reset_index(drop=True).equals(grouped.reset_index(drop=True))


@pytest.mark.parametrize(("value", "low", "high", "state"), [
    (0.31, 0.1, 0.5, "yes"),  # a third more positives, interval above zero
    (-0.3, -0.5, -0.05, "yes"),
    (0.05, -0.1, 0.15, "no"),  # the whole interval within the material band
    (0.31, -0.05, 0.6, "undecided"),  # material estimate, interval includes zero
    (0.1, 0.02, 0.25, "undecided"),  # significant but the estimate is not material
])
def test_prior_shift_verdict_on_the_relative_change(value, low, high, state):
    verdict = rules.prior_shift_verdict(Estimate(value, low, high), "blocks")
    assert verdict.state == state
