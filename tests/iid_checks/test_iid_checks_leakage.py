"""Leakage beyond copies: single-feature power against reference libraries, the label in
disguise and the power that falls away on data on both sides of their thresholds, features
recorded after the prediction moment, and ``--recorded-at`` at the command line."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from casestudies.cli import main
from casestudies.errors import ConfigError
from casestudies.iid_checks import verdicts as rules
from casestudies.iid_checks.audit import (
    VERDICTS,
    adjust,
    column_verdicts,
    leakage_control,
    target_leakage_rows,
)
from casestudies.iid_checks.config import IIDConfig
from casestudies.iid_checks.data import prepare_table
from casestudies.iid_checks.leakage import (
    DISGUISED_POWER,
    LATE_RECORDING_TOLERANCE,
    MATERIAL_DROP,
    TEST_TYPES,
    RankedColumns,
    feature_power,
    late_recordings,
    somers_d,
    spearman,
)

CONFIG = IIDConfig(quick=True)


# ---- the rank powers against reference libraries ------------------------------------------------
def _weighted_sample(seed: int, rows: int = 300):
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=(3, rows)), 1)  # rounded: ties on purpose
    labels = (rng.random(rows) < 0.3 + 0.2 * (x[0] > 0)).astype(float)
    y = np.round(x[1] + rng.normal(size=rows), 1)
    weights = rng.integers(0, 3, rows).astype(float)
    return x, labels, y, weights


def test_somers_d_is_two_auc_minus_one_on_the_repeated_sample():
    x, labels, _, weights = _weighted_sample(0)
    found = somers_d(RankedColumns(list(x)), labels, weights)
    repeat = weights.astype(int)
    for j in range(3):
        auc = roc_auc_score(np.repeat(labels, repeat), np.repeat(x[j], repeat))
        assert found[j] == pytest.approx(2 * auc - 1, abs=1e-12)


def test_spearman_matches_scipy_on_the_repeated_sample_with_ties():
    x, _, y, weights = _weighted_sample(1)
    found = spearman(RankedColumns(list(x)), RankedColumns([y]), weights)
    repeat = weights.astype(int)
    for j in range(3):
        rho = stats.spearmanr(np.repeat(x[j], repeat), np.repeat(y, repeat)).statistic
        assert found[j] == pytest.approx(rho, abs=1e-12)


def test_a_constant_column_or_one_class_gives_nan():
    labels = np.array([0.0, 0.0, 0.0, 0.0])
    assert np.isnan(somers_d(RankedColumns([np.arange(4.0)]), labels, np.ones(4))).all()
    assert np.isnan(spearman(RankedColumns([np.ones(4)]), RankedColumns([np.arange(4.0)]),
                             np.ones(4))).all()


# ---- the two single-feature checks on both sides of their thresholds -----------------------------
def _flags(table, replicates: int = 100) -> dict[str, str]:
    rows, _, _, _ = target_leakage_rows(table, replicates, 0, "test")
    frame = adjust(pd.DataFrame(rows), 0.05, "bh")
    flagged = frame[frame["verdict"] == VERDICTS[0]]
    return flagged.groupby("column")["test"].agg(", ".join).to_dict()


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_the_control_flags_the_planted_leaks_and_only_them(task):
    control = leakage_control(task, CONFIG, 0)
    assert (control["flagged"] == control["truth"]).all(), control
    assert rules.leakage_control_verdict(control).holds is True


def _correlated(rows: int, seed: int) -> pd.DataFrame:
    """A numeric target and features whose Spearman correlation with it is about the given
    values on the early and the late half."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=rows)
    early = np.arange(rows) < rows // 2

    # Pearson r of normals gives Spearman 6/pi asin(r/2): invert it.
    def pearson(rho):
        return 2 * np.sin(np.pi * rho / 6)

    def feature(r_early, r_late):
        r = np.where(early, pearson(r_early), pearson(r_late))
        return r * y + np.sqrt(1 - r**2) * rng.normal(size=rows)

    return pd.DataFrame({"t": np.arange(rows),
                         "just_above": feature(0.985, 0.985), "just_below": feature(0.9, 0.9),
                         "falls": feature(0.6, 0.3), "holds": feature(0.6, 0.6), "y": y})


def test_thresholds_separate_features_close_to_them_on_both_sides():
    table = prepare_table(_correlated(8_000, 3), name="near", target="y", time="t")
    flags = _flags(table)
    assert flags.get("just_above") == "label in disguise"
    assert "just_below" not in flags
    assert flags.get("falls") == "power drop"
    assert "holds" not in flags


def test_a_negative_disguise_is_flagged_and_a_reversed_relation_counts_as_a_fall():
    rng = np.random.default_rng(4)
    rows = 2_000
    y = (rng.random(rows) < 0.5).astype(float)
    early = np.arange(rows) < rows // 2
    frame = pd.DataFrame({"t": np.arange(rows), "minus": -y + 0.01 * rng.normal(size=rows),
                          "reverses": np.where(early, 1.0, -1.0) * y + rng.normal(size=rows),
                          "noise": rng.normal(size=rows), "y": y})
    # Unrelated early, strongly related later with either sign: power that appears is no fall,
    # whichever sign the noise of the early rows happens to take.
    for sign in (1.0, -1.0):
        frame[f"appears{sign:+.0f}"] = sign * 1.8 * y * ~early + rng.normal(size=rows)
    table = prepare_table(frame, name="signs", target="y", time="t")
    power, _ = feature_power(table, 100, 0, "test")
    by_feature = power.set_index("feature")
    assert by_feature.loc["minus", "sign"] == -1.0
    assert by_feature.loc["minus", "early"] == pytest.approx(1.0)
    assert by_feature.loc["reverses", "late"] < 0 < by_feature.loc["reverses", "early"]
    assert np.isnan(by_feature.loc[["appears+1", "appears-1"], "drop"]).all()
    flags = _flags(table)
    assert flags == {"minus": "label in disguise", "reverses": "power drop"}


def test_the_fall_is_context_and_the_disguise_decides_no_leakage():
    table = prepare_table(_correlated(4_000, 5), name="near", target="y", time="t")
    rows, _, _, _ = target_leakage_rows(table, 100, 0, "test")
    frame = adjust(pd.DataFrame(rows), 0.05, "bh")
    without_disguise = frame[frame["column"] != "just_above"]
    assert (without_disguise["verdict"] == VERDICTS[0]).any()  # the fall of "falls"
    assert rules.assumption_verdict("no leakage", column_verdicts(without_disguise)).holds \
        is False
    assert rules.assumption_verdict("no leakage", column_verdicts(frame)).holds is True
    assert set(frame["leakage_type"]) == {TEST_TYPES["label in disguise"]}


def test_no_target_no_single_feature_power():
    table = prepare_table(_correlated(200, 6).drop(columns="y"), name="x", time="t")
    assert feature_power(table, 20, 0, "test") is None


# ---- the verdicts over features -----------------------------------------------------------------
def _power(*intervals) -> pd.DataFrame:
    return pd.DataFrame([{"feature": f"x{i}", "early": sum(e) / 2, "early_low": e[0],
                          "early_high": e[1], "drop": sum(d) / 2, "drop_low": d[0],
                          "drop_high": d[1], "confidence": 0.95}
                         for i, (e, d) in enumerate(intervals)])


def test_feature_verdicts_yes_no_and_undecided_name_the_feature_that_decides():
    low, high = DISGUISED_POWER - 0.02, DISGUISED_POWER + 0.02
    below, above = MATERIAL_DROP - 0.05, MATERIAL_DROP + 0.05
    verdict, feature = rules.label_in_disguise_verdict(
        _power(((0.5, 0.6), (0, 0.01)), ((high, 1.0), (0, 0.01))), "blocks")
    assert (verdict.holds, feature) == (True, "x1")
    verdict, feature = rules.label_in_disguise_verdict(
        _power(((0.5, low), (0, 0.01)), ((0.1, 0.2), (0, 0.01))), "blocks")
    assert (verdict.holds, feature) == (False, "x0")
    # The undecided feature is shown, not the one whose interval lies higher but below.
    verdict, feature = rules.power_drop_verdict(
        _power(((0.5, 0.6), (below - 0.01, below)), ((0.5, 0.6), (-0.2, above))), "blocks")
    assert (verdict.holds, feature) == (None, "x1")
    verdict, feature = rules.power_drop_verdict(
        _power(((0.5, 0.6), (above, 2 * above)), ((0.5, 0.6), (-0.2, above))), "blocks")
    assert (verdict.holds, feature) == (True, "x0")


# ---- recording times ----------------------------------------------------------------------------
def _recorded_frame(rows: int = 120, late_every: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    t = pd.date_range("2024-01-01", periods=rows, freq="h")
    late = (np.arange(rows) % late_every == 0) if late_every else np.zeros(rows, bool)
    recorded = t - pd.Timedelta("30min") + pd.to_timedelta(np.where(late, 2.0, 0.0), unit="h")
    return pd.DataFrame({"t": t.astype(str), "a": rng.normal(size=rows),
                         "a_at": recorded.astype(str), "b": rng.normal(size=rows),
                         "b_at": t.astype(str), "note": rng.choice(["x", "y"], rows),
                         "y": rng.normal(size=rows)})


def test_late_recordings_count_rows_recorded_strictly_after_their_time():
    table = prepare_table(_recorded_frame(120, late_every=10), name="f", time="t", target="y",
                          recorded_at={"a": "a_at", "b": "b_at"})
    assert "a_at" not in table.features and "b_at" not in table.features
    late = late_recordings(table).set_index("feature")
    assert late.loc["a", "after"] == 12 and late.loc["a", "share"] == pytest.approx(0.1)
    assert late.loc["a", "latest"] == pytest.approx(1.5 / 24)  # days
    assert late.loc["b", "after"] == 0  # recorded at the prediction moment: available
    kept = table.since(table.times[60])
    assert len(kept.recorded_at["a"]) == len(kept.frame) == 60


@pytest.mark.parametrize("share, holds", [(2 * LATE_RECORDING_TOLERANCE, True),
                                          (LATE_RECORDING_TOLERANCE / 2, False)])
def test_recorded_after_prediction_on_both_sides_of_the_tolerance(share, holds):
    late = pd.DataFrame({"feature": ["a", "b"], "rows": [1000, 1000],
                         "after": [0, int(share * 1000)], "share": [0.0, share]})
    verdict, feature = rules.recorded_after_prediction_verdict(late)
    assert (verdict.holds, feature) == (holds, "b")


def test_recorded_at_numbers_compare_with_a_numeric_time():
    frame = pd.DataFrame({"t": np.arange(100.0), "a": np.random.default_rng(0).normal(size=100),
                          "b": np.arange(100) % 7, "y": np.arange(100) % 2})
    frame["a_at"] = frame["t"] + np.where(np.arange(100) < 5, 3.0, -1.0)
    table = prepare_table(frame, name="f", time="t", target="y", recorded_at={"a": "a_at"})
    assert late_recordings(table).loc[0, "after"] == 5


def _run(tmp_path, frame: pd.DataFrame, *options: str):
    path = tmp_path / "table.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    code = main(["iid_checks", "--data", str(path), "--out", str(out), "--quiet", "--quick",
                 "--replicates", "0", "--time", "t", *options])
    return code, out


def test_recorded_at_on_the_command_line_flags_the_late_feature(tmp_path, capsys):
    from casestudies.report.numbers import unexplained_numbers

    code, out = _run(tmp_path, _recorded_frame(200, late_every=5), "--target", "y",
                     "--recorded-at", "a=a_at", "--recorded-at", "b=b_at")
    assert code == 0, capsys.readouterr().err
    payload = json.loads((out / "iid_checks.json").read_text(encoding="utf-8"))
    result = payload["result"]
    late = result["audit"]["late_recordings"]
    assert [row[0] for row in late["data"]] == ["a", "b"]  # repeated options add up
    verdict = result["verdicts"]["feature_recorded_after_prediction"]
    assert verdict["holds"] is True and verdict["estimate"] == pytest.approx(0.2)
    checks = pd.DataFrame(**{k: result["audit"]["checks"][k] for k in ("columns", "data")})
    row = checks[(checks["test"] == "recorded after prediction") & (checks["column"] == "a")]
    assert row["verdict"].item() == VERDICTS[0] and row["leakage_type"].item() == "L2"
    assert bool(row["decides"].item())
    html = (out / "iid_checks.html").read_text(encoding="utf-8")
    assert "Recording times" in html and "recorded after prediction (L2)" in html
    assert unexplained_numbers(html, payload) == []


def _refused(tmp_path, capsys, frame, *options) -> str:
    code, out = _run(tmp_path, frame, *options)
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()
    return err


@pytest.mark.parametrize("options, message", [
    (("--recorded-at", "a=missing"), "time column 'missing' not found"),
    (("--recorded-at", "zz=a_at"), "feature 'zz' not found"),
    (("--recorded-at", "a=note"), "do not parse as dates"),
    (("--recorded-at", "a=b"), "holds numbers, but the --time column 't' holds dates"),
    (("--recorded-at", "a"), "must be FEATURE=TIME_COLUMN"),
    (("--recorded-at", "a=a_at,a=b_at"), "names 'a' twice"),
    (("--target", "y", "--recorded-at", "y=a_at"), "which is the --target"),
    (("--recorded-at", "note=a_at", "--drop", "note"), "which --drop leaves out"),
    (("--recorded-at", "a=y", "--target", "y"), "'y' is the --target column"),
])
def test_bad_recorded_at_values_stop_with_one_line_and_nothing_written(tmp_path, capsys,
                                                                       options, message):
    assert message in _refused(tmp_path, capsys, _recorded_frame(), *options)


def test_recorded_at_needs_a_time_column_and_a_table():
    with pytest.raises(ConfigError, match="add --time"):
        IIDConfig(data="x.csv", recorded_at=("a=a_at",))
    with pytest.raises(ConfigError, match="add --data"):
        IIDConfig(time="t", recorded_at=("a=a_at",))
    config = IIDConfig.from_options(data="x.csv", time="t", recorded_at="a = a_at, b=b_at")
    assert config.recorded_pairs == {"a": "a_at", "b": "b_at"}
