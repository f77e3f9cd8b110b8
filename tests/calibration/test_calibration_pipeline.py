"""The pipeline end to end on small data: determinism, reported numbers against hand
computations, the time split, and the full command line on the default data."""

import json

import numpy as np
import pandas as pd
import pytest

from casestudies.calibration import metrics as cm
from casestudies.calibration.data import from_frame, load_data
from casestudies.calibration.pipeline import RAW, run, time_split
from casestudies.calibration.report import build
from casestudies.calibration.robustness import shifted_sample
from casestudies.cli import main
from casestudies.provenance import Provenance


@pytest.fixture(scope="module")
def result(quick_config):
    config = quick_config()
    return run(config, load_data(config))


def test_same_seed_same_numbers(result, quick_config):
    config = quick_config()
    again = run(config, load_data(config))
    assert again.short_answer == result.short_answer
    pd.testing.assert_frame_equal(again.metrics, result.metrics)
    pd.testing.assert_frame_equal(again.decisions_constant, result.decisions_constant)


def test_reported_metrics_match_a_recomputation(result):
    row = result.metrics.set_index(["model", "calibrator"]).loc[
        (result.focus_model, result.chosen_calibrator)]
    y, p = result.test_y, result.test_p_chosen
    assert row["log_loss"] == pytest.approx(cm.log_loss(y, p))
    assert row["observed_expected"] == pytest.approx(y.sum() / p.sum())
    raw = result.metrics.set_index(["model", "calibrator"]).loc[(result.focus_model, RAW)]
    assert raw["brier"] == pytest.approx(np.mean((result.test_p_raw - y) ** 2))


def test_band_around_the_threshold_by_hand(result):
    settings = result.settings
    k, t_star = settings["band_factor"], settings["t_star"]
    assert settings["band"] == pytest.approx([t_star / k, min(k * t_star, 1.0)])
    y, p = result.test_y, result.test_p_chosen
    inside = (p >= t_star / k) & (p <= k * t_star)
    row = result.metrics.set_index(["model", "calibrator"]).loc[
        (result.focus_model, result.chosen_calibrator)]
    assert row["band_rows"] == inside.sum()
    assert row["band_observed_expected"] == pytest.approx(y[inside].sum() / p[inside].sum())


def test_decisions_and_budgets_match_a_recomputation(result):
    settings = result.settings
    t_star = settings["cost_fp"] / (settings["cost_fp"] + settings["cost_fn"])
    assert settings["t_star"] == pytest.approx(t_star)
    y, p = result.test_y, result.test_p_chosen
    blocked = p >= t_star
    hand = (settings["cost_fp"] * np.sum(blocked & (y == 0))
            + settings["cost_fn"] * np.sum(~blocked & (y == 1))) / y.size
    rules = result.decisions_constant.set_index("label")
    assert rules.loc["t* on calibrated probability", "cost"] == pytest.approx(hand)
    assert rules.loc["oracle threshold on test (lower bound)", "cost"] <= min(
        rules.loc["t* on raw score", "cost"], rules.loc["threshold tuned on calibration block",
                                                         "cost"]) + 1e-12
    for budget in result.budgets.to_dict("records"):
        k = int(np.ceil(budget["budget"] * y.size))
        queue = np.argsort(-p, kind="stable")[:k]
        assert budget["predicted_frauds"] == pytest.approx(p[queue].sum())
        assert budget["realised_frauds"] == y[queue].sum()
    for row in rules.to_dict("records"):
        assert row["cost_low"] <= row["cost"] <= row["cost_high"]


def test_blocks_follow_in_time_with_a_gap(result):
    split = result.split.set_index("block")
    assert split.loc["train", "end"] < split.loc["calibration", "start"]
    assert split.loc["calibration", "end"] < split.loc["test", "start"]
    gap = split.loc["calibration", "start"] - split.loc["train", "end"]
    assert gap >= pd.Timedelta(days=result.settings["gap_days"])


def test_time_split_without_time_uses_row_shares():
    split = time_split(100, None, 0.5, 0.25, gap_days=7)
    assert (len(split.train), len(split.calibration), len(split.test)) == (50, 25, 25)
    assert split.dropped == 0


def test_shifted_sample_has_the_requested_rate():
    rng = np.random.default_rng(0)
    y = (rng.random(100_000) < 0.02).astype(int)
    for factor in (0.5, 2.0):
        rows = shifted_sample(y, factor, rng)
        assert y[rows].mean() == pytest.approx(factor * y.mean(), rel=0.02)


def test_file_without_time_or_amount_skips_the_amount_rule(small_transactions, quick_config):
    frame = small_transactions.drop(columns=["timestamp"])
    data = from_frame(frame, "is_fraud", source="frame")
    result = run(quick_config(), data)
    assert result.decisions_amount is None
    assert not result.has_time
    assert result.settings["gap_rows_dropped"] == 0
    html = build(result).render(Provenance("calibration", 5, "test", "frame", "0" * 64))
    assert "amount-dependent rule is skipped" in html
    assert "When the cost of a miss is the amount" not in html


def test_metric_card_matches_the_point_metrics(result):
    card = result.metric_card.set_index(["probabilities", "metric"])
    y, p = result.test_y, result.test_p_chosen
    chosen = result.chosen_calibrator
    assert card.loc[(chosen, "cox_slope"), "value"] == pytest.approx(cm.cox_calibration(y, p)[1],
                                                                      rel=1e-6)
    assert card.loc[(chosen, "cox_intercept"), "value"] == pytest.approx(
        cm.cox_calibration(y, p)[0], rel=1e-6)
    assert card.loc[(chosen, "ece_width"), "value"] == pytest.approx(
        cm.ece(y, p, result.settings["n_bins"], "width"))
    assert card.loc[(chosen, "ece_mass"), "value"] == pytest.approx(
        cm.ece(y, p, result.settings["n_bins"], "mass"))
    assert card.loc[(chosen, "ece_debiased"), "value"] == pytest.approx(
        cm.debiased_ece(y, p, result.settings["n_bins"]))
    assert card.loc[(chosen, "spiegelhalter_z"), "value"] == pytest.approx(
        cm.spiegelhalter_z(y, p)[0])
    inside = card[card["low"].notna()]
    assert ((inside["low"] <= inside["value"] + 1e-12)
            & (inside["value"] <= inside["high"] + 1e-12)).mean() > 0.8


@pytest.mark.slow
@pytest.mark.usefixtures("calibration_only")
def test_command_line_on_the_default_data(tmp_path, capsys):
    code = main(["calibration", "--quick", "--quiet", "--out", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    html = (tmp_path / "calibration.html").read_text()
    payload = json.loads((tmp_path / "calibration.json").read_text())
    result = payload["result"]
    assert payload["short_answer"].startswith("Block a payment when its")
    for key in ("metrics", "decisions_constant", "decisions_amount", "budgets", "noise",
                "size_sweep", "prior_shift", "decay", "focus_model", "chosen_calibrator"):
        assert result[key] is not None
    assert result["settings"]["t_star"] == pytest.approx(5 / 105)
    assert "Interview questions" in html and "<svg" in html and "<math" in html
    assert "Reproducibility" in html


def test_worst_raw_score_is_the_one_farthest_from_calibrated(result):
    raw = result.metrics[result.metrics["calibrator"] == RAW].set_index("model")
    ratio_distance = np.abs(np.log(raw["observed_expected"]))
    worst = ratio_distance.idxmax()
    assert result.worst_raw["model"] == worst
    ratio = raw.loc[worst, "observed_expected"]
    assert result.worst_raw["factor"] == pytest.approx(max(ratio, 1 / ratio))
    assert result.worst_raw["overpredicts"] == (ratio < 1)


def test_interval_level_in_the_report_comes_from_the_settings(result):
    import dataclasses

    changed = dataclasses.replace(result, settings={**result.settings, "confidence": 0.9},
                                  noise_summary={**result.noise_summary, "tail": 0.05,
                                                 "upper_tail": 0.95})
    html = build(changed).render(Provenance("calibration", 5, "test", "frame", "0" * 64))
    assert "90% intervals from the incidents bootstrap" in html
    assert "floor 5.0%" in html and "floor 95.0%" in html
    assert "95 %" not in html


def test_figure_and_table_references_match_their_captions(result):
    import re

    from casestudies.calibration.report import FIGURES, METRIC_TABLE

    html = build(result).render(Provenance("calibration", 5, "test", "frame", "0" * 64))
    captions = dict(re.findall(r"<strong>Figure (\d+)\.</strong> (\w+ \w+)", html))
    starts = {"taxonomy": "Raw scores", "reliability": "Reliability of",
              "groups": "Observed over", "cost ratio": "Regret of", "cost curve":
              "Expected cost", "size sweep": "Test Brier", "decay": "Observed over"}
    assert len(captions) == len(FIGURES)
    for number, name in enumerate(FIGURES, start=1):
        assert captions[str(number)] == starts[name]
    assert re.search(rf"<strong>Table {METRIC_TABLE}\.</strong> Calibration of every model", html)


def test_prior_shift_without_shift_reproduces_the_decision_table(result):
    unshifted = result.prior_shift.set_index("factor").loc[1.0]
    rules = result.decisions_constant.set_index("label")["cost"]
    assert unshifted["rows"] == result.test_y.size
    assert unshifted["cost_before"] == pytest.approx(rules["t* on calibrated probability"])
    assert unshifted["cost_tuned_raw"] == pytest.approx(
        rules["threshold tuned on calibration block"])


def test_reported_brier_parts_add_up(result):
    row = result.metrics.set_index(["model", "calibrator"]).loc[
        (result.focus_model, result.chosen_calibrator)]
    total = (row["reliability"] - row["resolution"] + row["uncertainty"]
             + row["brier_within_bins"])
    assert total == pytest.approx(row["brier"], rel=1e-9)
    y, p = result.test_y, result.test_p_chosen
    assert row["uncertainty"] == pytest.approx(y.mean() * (1 - y.mean()))
    bins = cm.equal_mass_bins(p, result.settings["n_bins"])
    reliability = sum((bins == b).sum() * (p[bins == b].mean() - y[bins == b].mean()) ** 2
                      for b in np.unique(bins)) / y.size
    assert row["reliability"] == pytest.approx(reliability)


def test_isotonic_crossing_sizes_in_the_result(result):
    summary = result.size_sweep_summary
    assert summary["metric"] == "brier"
    pivot = result.size_sweep.pivot(index="frauds", columns="calibrator", values="brier")
    for rival, start in summary["isotonic_from"].items():
        better = pivot["isotonic (clipped)"] <= pivot[rival]
        if start is None:
            assert not better.iloc[-1]
            assert summary["isotonic_pattern"][rival] == "never"
            continue
        assert better[pivot.index >= start].all()
        below = pivot.index[pivot.index < start]
        if len(below):
            assert not better[below[-1]]
            assert summary["isotonic_pattern"][rival] == "from"
        else:
            assert summary["isotonic_pattern"][rival] == "always"


def test_every_number_in_the_report_is_in_the_json(tmp_path, capsys, calibration_only):
    """The report shows no number that its JSON lacks: every number of the body text (outside
    formulas, figures and the reproducibility section) is a value of calibration.json, as
    formatted."""
    from casestudies.report.numbers import unexplained_numbers

    code = main(["calibration", "--quick", "--quiet", "--out", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    html = (tmp_path / "calibration.html").read_text()
    payload = json.loads((tmp_path / "calibration.json").read_text())
    assert unexplained_numbers(html, payload) == []
    verdicts = payload["result"]["verdicts"]
    assert {"raw_score_calibrated", "calibration_lowers_cost_at_t_star",
            "workload_forecast_holds", "em_correction_helps"} <= set(verdicts)
    assert verdicts["raw_score_calibrated"]["unit"].startswith("incidents (a compromised")
    resampling = payload["result"]["resampling"]
    assert resampling["unit"] == verdicts["raw_score_calibrated"]["unit"]
    assert resampling["clustered"] and resampling["test_units"] < resampling["test_rows"]
    assert "Every interval in this report resamples" in html
    # Every clause of the short answer is the wording of a verdict stored in the JSON.
    answer, state = payload["short_answer"], {k: v["holds"] for k, v in verdicts.items()}
    words = {None: "undecided", True: "yes", False: "no"}
    cost = {"yes": ", calibrated by ", "no": "did not lower the cost",
            "undecided": "their costs differ only within noise"}
    trust = {"yes": "probability? Yes, in the large", "no": "probability? No, not in the large",
             "undecided": "this test block cannot tell"}
    assert cost[words[state["calibration_lowers_cost_at_t_star"]]] in answer
    assert trust[words[state["raw_score_calibrated"]]] in answer
    helped = ("made the later test block worse" if state["calibration_hurts_on_test"] else
              {"yes": "helped on the later", "no": "did not help on the later",
               "undecided": "did not help beyond noise"}[words[state["calibration_helps_on_test"]]])
    assert helped in answer
