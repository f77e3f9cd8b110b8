"""The default report, end to end, through the command line."""


import pytest

from casestudies.iid_checks import checks
from casestudies.iid_checks.data import AR_COEFFICIENTS
from casestudies.report.numbers import answer_box_numbers, unexplained_numbers

# Prose numbers that are not results of the run, each with its reason.
ALLOWED = (
    "11",  # "the solar cycle (about 11 years)": a fact about the sun, not something measured
)


@pytest.fixture(scope="module")
def quick_report(render_report):
    return render_report("iid_checks", "--quick", "--replicates", "10")


@pytest.mark.slow
def test_default_report_quick(quick_report):
    html, payload = quick_report
    result = payload["result"]
    assert "short_answer" not in result  # written by the report from the verdicts
    assert payload["short_answer"].startswith("On ")
    assert result["table_name"] == "transactions"
    assert [row[0] for row in result["assumptions"]["data"]] == [
        "independent", "identically distributed", "no leakage"]
    for name in ("violates_independence", "violates_identical_distribution",
                 "violates_no_leakage", "kfold_overstates", "sides_differ_materially",
                 "gallery_finds_every_violation", "gallery_raises_false_alarms",
                 "concept_drift"):
        assert result["verdicts"][name]["name"] == name
    kfold_verdict = result["verdicts"]["kfold_overstates"]
    assert kfold_verdict["unit"] == result["validation"]["clusters"]
    schemes = {s["scheme"]: s for s in result["validation"]["schemes"]}
    assert {"random K-fold", "TimeSeriesSplit", "blocked K-fold", "GroupKFold"} <= set(schemes)
    # The gap rule: the simulator's 30-day windows plus its 7-day label delay.
    assert result["validation"]["required_gap"] == 37
    assert result["verdicts"]["gap_meets_rule"]["threshold"] == 37
    assert result["validation"]["closest"] in schemes
    kfold = schemes["random K-fold"]["optimism"]
    assert kfold["low"] <= kfold["value"] <= kfold["high"]
    assert kfold_verdict["estimate"] == kfold["value"]
    assert result["simulation"]["replicates"] == 10
    assert len(result["gallery"]) == 7
    assert result["real_series"]["name"] == "sunspots"
    for section in ("The question", "The data", "The math", "The evidence", "Pitfalls",
                    "Interview questions", "Use it on your own data", "Reproducibility"):
        assert section in html
    assert 'src="http' not in html and 'href="http' not in html  # nothing loaded
    # Constants of the methods and the simulator reach the prose from the code.
    phi = AR_COEFFICIENTS["ar1_strong"]
    assert f"{(1 + phi) / (1 - phi):.3g} times smaller" in html
    assert f"coefficient {AR_COEFFICIENTS['ar1_weak']:g})" in html
    assert f"{checks.PSI_BINS} bins of the first side" in html
    # The warm-up of the rolling windows is detected and left out of the audit.
    assert result["verdicts"]["warmup_detected"]["holds"] is True
    assert result["burn_in"]["used"] == result["burn_in"]["detected"] > 0
    assert result["calendar"] == ["is_weekend", "is_night"]
    assert "prior_shift" in result["verdicts"]
    assert "\\_" not in html  # names in code spans are shown without Markdown escapes


@pytest.mark.slow
def test_no_drift_verdict_from_a_stationarity_reading_without_a_material_effect(quick_report):
    """Acceptance: every stationarity check that counts as a violation has a material effect,
    and no violation of identical distribution comes from a calendar flag."""
    _, payload = quick_report
    checks_table = payload["result"]["audit"]["checks"]
    rows = [dict(zip(checks_table["columns"], row, strict=True)) for row in checks_table["data"]]
    for row in rows:
        if row["test"] == "ADF + KPSS" and row["verdict"] == "violation":
            assert row["effect"] >= row["threshold"]
        if row["role"] == "calendar":
            assert not row["decides"]


@pytest.mark.slow
def test_every_number_of_the_report_is_in_the_json(quick_report):
    html, payload = quick_report
    assert unexplained_numbers(html, payload, allowed=ALLOWED) == []


@pytest.mark.slow
def test_short_answer_follows_the_kfold_verdict(quick_report):
    _, payload = quick_report
    state = {True: "yes", False: "no", None: "undecided"}[
        payload["result"]["verdicts"]["kfold_overstates"]["holds"]]
    answer = payload["short_answer"]
    assert ("random K-fold overstates" in answer) == (state == "yes")
    assert ("not measurably" in answer) == (state == "undecided")


@pytest.mark.slow
def test_answer_box_holds_at_most_eight_numbers(quick_report):
    html, _ = quick_report
    assert len(answer_box_numbers(html)) <= 8


@pytest.mark.slow
def test_answer_box_names_the_concept_drift_verdict(quick_report):
    html, payload = quick_report
    state = payload["result"]["verdicts"]["concept_drift"]["holds"]
    words = {True: "concept drift</strong>", False: "no concept drift",
             None: "cannot tell concept drift from none"}
    box = html[html.index("Short answer"):html.index("60-second answer")]
    for holds, text in words.items():
        assert (text in box) == (holds is state)
