"""Each verdict rule of the calibration study on constructed inputs on both sides of its
threshold, and the short answer worded from verdicts."""

import dataclasses
import math

import pandas as pd
import pytest

from casestudies.calibration import verdicts as rules
from casestudies.calibration.data import load_data
from casestudies.calibration.pipeline import RAW, decide_verdicts, run
from casestudies.calibration.report import short_answer
from casestudies.stats import Estimate
from casestudies.verdicts import Verdict

LOW, HIGH = rules.CALIBRATED_BAND


def test_calibrated_band_is_symmetric_on_the_ratio_scale():
    assert LOW * HIGH == pytest.approx(1.0)


@pytest.mark.parametrize(("low", "high", "state"), [
    (LOW + 0.01, HIGH - 0.01, "yes"),     # wholly inside the band
    (LOW, HIGH, "yes"),                   # the band's edges belong to it
    (HIGH + 0.01, HIGH + 0.5, "no"),      # wholly above
    (0.05, LOW - 0.01, "no"),             # wholly below
    (LOW - 0.01, 1.0, "undecided"),       # straddles the lower edge
    (1.0, HIGH + 0.01, "undecided"),      # straddles the upper edge
    (math.nan, math.nan, "undecided"),    # no interval
])
def test_ratio_in_band_on_both_sides_of_each_edge(low, high, state):
    verdict = rules.ratio_in_band("r", Estimate(1.0, low, high))
    assert verdict.state == state
    assert verdict.threshold == 1.0 and verdict.unit == "transactions"


@pytest.mark.parametrize(("low", "high", "state"), [
    (-0.02, -1e-9, "yes"),
    (0.0, 0.02, "no"),
    (1e-9, 0.02, "no"),
    (-1e-9, 1e-9, "undecided"),
])
def test_lowers_needs_the_whole_paired_interval_below_zero(low, high, state):
    assert rules.lowers("d", Estimate((low + high) / 2, low, high), rule="r").state == state


@pytest.mark.parametrize(("low", "high", "state"), [
    (1e-9, 0.02, "yes"),
    (-0.02, -1e-9, "no"),
    (-0.01, 0.01, "undecided"),
    (0.0, 0.0, "undecided"),   # two rules blocking the same transactions cost the same
])
def test_costs_more_is_two_sided_and_equal_costs_are_undecided(low, high, state):
    assert rules.costs_more("d", Estimate((low + high) / 2, low, high), rule="r").state == state


def test_spiegelhalter_rejects_on_both_sides_of_its_level():
    level = rules.SPIEGELHALTER_LEVEL
    assert rules.spiegelhalter_rejects("z", level / 2).state == "yes"
    assert rules.spiegelhalter_rejects("z", level * 2).state == "no"
    assert rules.spiegelhalter_rejects("z", math.nan).state == "undecided"
    assert rules.spiegelhalter_rejects("z", 0.5).threshold == level


def _part(state: str, estimate: float) -> Verdict:
    holds = {"yes": True, "no": False, "undecided": None}[state]
    return Verdict("part", holds, estimate, estimate - 0.1, estimate + 0.1, 1.0, unit="u")


@pytest.mark.parametrize(("states", "state", "deciding"), [
    (["yes", "yes", "yes"], "yes", 2),
    (["yes", "undecided", "no"], "no", 2),
    (["undecided", "yes", "undecided"], "undecided", 0),
    (["no", "no"], "no", 0),
])
def test_every_rests_on_the_deciding_part(states, state, deciding):
    parts = [_part(s, float(i)) for i, s in enumerate(states)]
    verdict = rules.every("all", parts, rule="r")
    assert verdict.state == state
    assert rules.deciding_index(states) == deciding
    assert verdict.estimate == parts[deciding].estimate
    assert rules.every("none", [], rule="r").state == "undecided"


def test_beyond_noise_floor_on_both_sides():
    assert rules.beyond_noise_floor(0.011, 0.010)
    assert not rules.beyond_noise_floor(0.010, 0.010)
    assert not rules.beyond_noise_floor(0.009, 0.010)
    assert not rules.beyond_noise_floor(math.nan, 0.010)


def _intervals(raw_oe, calibrated_oe, chosen="Platt (logit)") -> pd.DataFrame:
    rows = []
    for label, (value, low, high) in ((RAW, raw_oe), (chosen, calibrated_oe)):
        rows.append({"label": label, "observed_expected": value, "observed_expected_low": low,
                     "observed_expected_high": high, "band_observed_expected": value,
                     "band_observed_expected_low": low, "band_observed_expected_high": high})
    return pd.DataFrame(rows)


def _inputs(raw_oe=(0.97, 0.92, 1.03), calibrated_oe=(1.16, 1.10, 1.30),
            log_loss=(0.001, 0.0002, 0.002), brier=(0.0001, 0.00005, 0.0002),
            cost=(-0.03, -0.05, -0.01), tuned=(0.0, -0.01, 0.01),
            forecasts=((1.0, 0.9, 1.1), (1.0, 0.95, 1.05)),
            em=((-0.2, -0.3, -0.1), (0.05, 0.01, 0.1)), drift=(1.5, 1.2, 1.9)):
    budgets = pd.DataFrame([
        {"budget": b, "forecast_observed_expected": v, "forecast_observed_expected_low": lo,
         "forecast_observed_expected_high": hi}
        for b, (v, lo, hi) in zip((0.005, 0.01), forecasts, strict=True)])
    shift = pd.DataFrame([
        {"factor": f, "shifted": True, "em_gain": v, "em_gain_low": lo, "em_gain_high": hi,
         "em_cost_change": v, "em_cost_change_low": lo, "em_cost_change_high": hi}
        for f, (v, lo, hi) in zip((0.5, 2.0), em, strict=True)])
    return dict(intervals=_intervals(raw_oe, calibrated_oe), chosen="Platt (logit)",
                changes={"log_loss": Estimate(*log_loss), "brier": Estimate(*brier)},
                differences={"cost_calibrated_minus_raw": Estimate(*cost),
                             "cost_tuned_minus_calibrated": Estimate(*tuned)},
                budgets=budgets, prior_shift=shift, spiegelhalter_p=0.3, confidence=0.95,
                unit="incidents", drift={"raw_observed_expected": Estimate(*drift),
                                         "fraud_rate": Estimate(1.0, 0.9, 1.1)})


def test_decide_verdicts_on_constructed_inputs():
    verdicts = decide_verdicts(**_inputs())
    assert verdicts["raw_score_calibrated"].state == "yes"
    assert verdicts["calibrated_score_calibrated"].state == "undecided"
    assert verdicts["calibration_lowers_log_loss"].state == "no"
    assert verdicts["calibration_helps_on_test"].state == "no"
    assert verdicts["calibration_hurts_on_test"].state == "yes"
    assert verdicts["calibration_lowers_cost_at_t_star"].state == "yes"
    assert verdicts["tuned_threshold_costs_more"].state == "undecided"
    assert verdicts["workload_forecast_holds"].state == "yes"
    assert verdicts["raw_calibration_moved"].state == "yes"
    assert verdicts["fraud_rate_moved"].state == "no"
    # EM helps at x0.5 and hurts at x2: the claim "at every shift" fails, resting on x2.
    assert verdicts["em_correction_helps"].state == "no"
    assert verdicts["em_correction_helps"].estimate == pytest.approx(0.05)
    assert "amount_rule_beats_single_threshold" not in verdicts
    assert all(v.unit.startswith("incidents") for name, v in verdicts.items()
               if not name.startswith("spiegelhalter"))
    assert verdicts["workload_forecast_holds"].unit.startswith("incidents (queue re-drawn")


def test_decide_verdicts_other_side_of_each_threshold():
    verdicts = decide_verdicts(**_inputs(
        raw_oe=(0.08, 0.07, 0.09), calibrated_oe=(1.0, 0.95, 1.05),
        log_loss=(-0.01, -0.02, -0.005), brier=(-0.001, -0.002, -0.0005),
        cost=(0.02, 0.01, 0.03), tuned=(0.02, 0.01, 0.03),
        forecasts=((1.0, 0.9, 1.1), (1.6, 1.4, 1.8)),
        em=((-0.2, -0.3, -0.1), (-0.1, -0.2, -0.05)), drift=(1.0, 0.9, 1.1)))
    assert verdicts["raw_score_calibrated"].state == "no"
    assert verdicts["calibrated_score_calibrated"].state == "yes"
    assert verdicts["calibration_lowers_log_loss"].state == "yes"
    assert verdicts["calibration_helps_on_test"].state == "yes"
    assert verdicts["calibration_hurts_on_test"].state == "no"
    assert verdicts["calibration_lowers_cost_at_t_star"].state == "no"
    assert verdicts["tuned_threshold_costs_more"].state == "yes"
    assert verdicts["workload_forecast_holds"].state == "no"
    assert verdicts["workload_forecast_holds"].estimate == pytest.approx(1.6)
    assert verdicts["em_correction_helps"].state == "yes"
    assert verdicts["raw_calibration_moved"].state == "no"


@pytest.mark.parametrize(("low", "high", "state"), [
    (1.05, 1.4, "yes"), (0.5, 0.95, "yes"), (0.9, 1.1, "no"), (0.7, 1.1, "undecided")])
def test_moved_on_both_sides(low, high, state):
    assert rules.moved("m", Estimate(1.0, low, high), rule="r").state == state


@pytest.fixture(scope="module")
def result(quick_config):
    config = quick_config()
    return run(config, load_data(config))


def _with(result, **states):
    verdicts = dict(result.verdicts)
    for name, holds in states.items():
        verdicts[name] = dataclasses.replace(verdicts[name], holds=holds)
    return dataclasses.replace(result, verdicts=verdicts)


def test_short_answer_says_yes_or_no_to_both_parts(result):
    """Every clause of the short answer comes from a verdict: flipping each flips its words."""
    answer = short_answer(_with(result, raw_score_calibrated=True,
                                raw_score_calibrated_near_t_star=False,
                                calibration_helps_on_test=False,
                                calibration_hurts_on_test=True,
                                calibration_lowers_cost_at_t_star=False))
    assert answer.startswith(f"Block a payment when its raw {result.focus_model} score exceeds")
    assert "Is the raw score a probability? Yes, in the large, but not near t*;" in answer
    assert "made the later test block worse" in answer
    answer = short_answer(_with(result, raw_score_calibrated=False,
                                raw_score_calibrated_near_t_star=True,
                                calibration_helps_on_test=True,
                                calibration_hurts_on_test=False,
                                calibration_lowers_cost_at_t_star=True))
    assert ", calibrated by " in answer and "cheaper than t* on the raw score" in answer
    assert "No, not in the large, though near t* it is one;" in answer
    assert "helped on the later test block" in answer
    answer = short_answer(_with(result, raw_score_calibrated=None,
                                raw_score_calibrated_near_t_star=None,
                                calibration_helps_on_test=None,
                                calibration_hurts_on_test=None,
                                calibration_lowers_cost_at_t_star=None))
    assert "their costs differ only within noise" in answer
    assert "In the large this test block cannot tell;" in answer
    assert "did not help beyond noise" in answer


def _html(result):
    from casestudies.calibration.report import build
    from casestudies.provenance import Provenance

    return build(result).render(Provenance("calibration", 5, "test", "frame", "0" * 64))


@pytest.mark.parametrize(("states", "words"), [
    ({"raw_score_calibrated": True}, "Is the raw score a probability?</strong> Yes, in the large"),
    ({"raw_score_calibrated": False}, "Is the raw score a probability?</strong> No:"),
    ({"raw_score_calibrated": None}, "This test block cannot tell"),
    ({"calibration_helps_on_test": False, "calibration_hurts_on_test": True},
     "No, it hurt: the Brier score on the test block rose beyond noise"),
    ({"calibration_helps_on_test": True, "calibration_hurts_on_test": False},
     "Yes: the Brier score on the test block fell beyond noise"),
    ({"raw_calibration_moved": True, "calibration_helps_on_test": None,
      "calibration_hurts_on_test": None}, "The raw score&#39;s calibration moved between"),
    ({"calibration_helps_on_test": True, "calibration_hurts_on_test": False,
      "raw_calibration_moved": False},
     "The correction learnt on the calibration block carried over to the test block."),
])
def test_the_answer_box_follows_the_verdicts(result, states, words):
    html = _html(_with(result, **states))
    box = html[html.index('class="callout answer"'):]
    box = box[:box.index("</aside>")]
    assert words.replace("&#39;", "'") in box.replace("&#39;", "'").replace("&rsquo;", "'")


def test_the_answer_box_holds_at_most_eight_numbers(result):
    from casestudies.report.numbers import answer_box_numbers

    numbers = answer_box_numbers(_html(result))
    assert 0 < len(numbers) <= 8, numbers
