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
            log_loss=(0.001, 0.0002, 0.002), cost=(-0.03, -0.05, -0.01),
            tuned=(0.0, -0.01, 0.01), forecasts=((1.0, 0.9, 1.1), (1.0, 0.95, 1.05)),
            em=((-0.2, -0.3, -0.1), (0.05, 0.01, 0.1))):
    budgets = pd.DataFrame([
        {"budget": b, "forecast_observed_expected": v, "forecast_observed_expected_low": lo,
         "forecast_observed_expected_high": hi}
        for b, (v, lo, hi) in zip((0.005, 0.01), forecasts, strict=True)])
    shift = pd.DataFrame([
        {"factor": f, "shifted": True, "em_gain": v, "em_gain_low": lo, "em_gain_high": hi,
         "em_cost_change": v, "em_cost_change_low": lo, "em_cost_change_high": hi}
        for f, (v, lo, hi) in zip((0.5, 2.0), em, strict=True)])
    return dict(intervals=_intervals(raw_oe, calibrated_oe), chosen="Platt (logit)",
                log_loss_change=Estimate(*log_loss),
                differences={"cost_calibrated_minus_raw": Estimate(*cost),
                             "cost_tuned_minus_calibrated": Estimate(*tuned)},
                budgets=budgets, prior_shift=shift, spiegelhalter_p=0.3, confidence=0.95)


def test_decide_verdicts_on_constructed_inputs():
    verdicts = decide_verdicts(**_inputs())
    assert verdicts["raw_score_calibrated"].state == "yes"
    assert verdicts["calibrated_score_calibrated"].state == "undecided"
    assert verdicts["calibration_lowers_log_loss"].state == "no"
    assert verdicts["calibration_lowers_cost_at_t_star"].state == "yes"
    assert verdicts["tuned_threshold_costs_more"].state == "undecided"
    assert verdicts["workload_forecast_holds"].state == "yes"
    # EM helps at x0.5 and hurts at x2: the claim "at every shift" fails, resting on x2.
    assert verdicts["em_correction_helps"].state == "no"
    assert verdicts["em_correction_helps"].estimate == pytest.approx(0.05)
    assert "amount_rule_beats_single_threshold" not in verdicts
    assert all(v.unit.startswith("transactions") for name, v in verdicts.items()
               if not name.startswith("spiegelhalter"))
    assert verdicts["workload_forecast_holds"].unit == "transactions in the queue"


def test_decide_verdicts_other_side_of_each_threshold():
    verdicts = decide_verdicts(**_inputs(
        raw_oe=(0.08, 0.07, 0.09), calibrated_oe=(1.0, 0.95, 1.05),
        log_loss=(-0.01, -0.02, -0.005), cost=(0.02, 0.01, 0.03), tuned=(0.02, 0.01, 0.03),
        forecasts=((1.0, 0.9, 1.1), (1.6, 1.4, 1.8)),
        em=((-0.2, -0.3, -0.1), (-0.1, -0.2, -0.05))))
    assert verdicts["raw_score_calibrated"].state == "no"
    assert verdicts["calibrated_score_calibrated"].state == "yes"
    assert verdicts["calibration_lowers_log_loss"].state == "yes"
    assert verdicts["calibration_lowers_cost_at_t_star"].state == "no"
    assert verdicts["tuned_threshold_costs_more"].state == "yes"
    assert verdicts["workload_forecast_holds"].state == "no"
    assert verdicts["workload_forecast_holds"].estimate == pytest.approx(1.6)
    assert verdicts["em_correction_helps"].state == "yes"


@pytest.fixture(scope="module")
def result(quick_config):
    config = quick_config()
    return run(config, load_data(config))


def _with(result, **states):
    verdicts = dict(result.verdicts)
    for name, holds in states.items():
        verdicts[name] = dataclasses.replace(verdicts[name], holds=holds)
    return dataclasses.replace(result, verdicts=verdicts)


def test_short_answer_when_the_raw_score_is_calibrated_and_calibration_hurts(result):
    # The default run's case: raw O/E inside the band, calibration not lowering the cost.
    answer = short_answer(_with(result, raw_score_calibrated=True,
                                raw_score_calibrated_near_t_star=False,
                                calibration_lowers_log_loss=False,
                                calibration_lowers_cost_at_t_star=False))
    assert "the raw score is calibrated in the large (O/E" in answer
    assert "is not calibrated near t* (O/E" in answer
    assert "test log loss does not fall" in answer
    assert answer.startswith(f"Block when the raw {result.focus_model} score exceeds t*")
    assert "only safe on calibrated" not in answer


def test_short_answer_when_only_the_calibrated_probability_can_be_trusted(result):
    answer = short_answer(_with(result, raw_score_calibrated=False,
                                raw_score_calibrated_near_t_star=False,
                                calibrated_score_calibrated=True,
                                calibrated_score_calibrated_near_t_star=True,
                                calibration_lowers_log_loss=True,
                                calibration_lowers_cost_at_t_star=True))
    assert answer.startswith("Block when the calibrated fraud probability")
    assert "the raw score is not calibrated in the large (O/E" in answer
    assert "calibration it is calibrated in the large (O/E" in answer
    assert "test log loss falls beyond noise" in answer


def test_short_answer_when_the_test_block_cannot_tell(result):
    answer = short_answer(_with(result, raw_score_calibrated=None,
                                calibrated_score_calibrated=None,
                                calibration_lowers_cost_at_t_star=None,
                                calibration_lowers_log_loss=None))
    assert "within noise" in answer
    assert "the raw score is neither shown calibrated nor miscalibrated" in answer
    assert "changes only within noise" in answer


@pytest.mark.parametrize(("holds", "words"), [
    (True, "its <strong>calibrated</strong> fraud probability exceeds"),
    (False, "its <strong>raw</strong> score exceeds"),
    (None, "here they cost the same within noise"),
])
def test_the_report_answer_follows_the_cost_verdict(result, holds, words):
    from casestudies.calibration.report import build
    from casestudies.provenance import Provenance

    changed = _with(result, calibration_lowers_cost_at_t_star=holds)
    html = build(changed).render(Provenance("calibration", 5, "test", "frame", "0" * 64))
    assert words in html


def test_the_report_says_where_a_calibrated_raw_score_is_not(result):
    from casestudies.calibration.report import build
    from casestudies.provenance import Provenance

    changed = _with(result, raw_score_calibrated=True, raw_score_calibrated_near_t_star=False)
    html = build(changed).render(Provenance("calibration", 5, "test", "frame", "0" * 64))
    assert "but not near the threshold, where blocking is decided" in html
    kept = _with(result, raw_score_calibrated=True, raw_score_calibrated_near_t_star=True)
    html = build(kept).render(Provenance("calibration", 5, "test", "frame", "0" * 64))
    assert "but not near the threshold" not in html
