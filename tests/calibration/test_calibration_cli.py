"""The command line on a user's file: a working run and every bad input (exit 2, one line on
stderr, nothing written)."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import Bunch

from casestudies.calibration.data import load_openml_creditcard
from casestudies.cli import main
from casestudies.errors import DataError

QUICK = ["--quick", "--bootstrap", "20", "--quiet"]


def run_cli(args, out, capsys):
    code = main(["calibration", *args, "--out", str(out), *QUICK])
    return code, capsys.readouterr().err


def assert_user_error(code, err, out, *fragments):
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0]
    assert not out.exists() or not any(out.iterdir())


def write(frame, tmp_path, name="data.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


@pytest.mark.usefixtures("calibration_only")
def test_runs_on_a_user_csv(small_csv, tmp_path, capsys):
    out = tmp_path / "out"
    code, err = run_cli(["--data", str(small_csv), "--target", "is_fraud", "--time",
                         "timestamp", "--amount", "amount"], out, capsys)
    assert code == 0, err
    payload = json.loads((out / "calibration.json").read_text())
    assert payload["result"]["source"] == "transactions.csv"
    assert payload["result"]["decisions_amount"] is not None
    html = (out / "calibration.html").read_text()
    assert "transactions.csv" in html and "<math" in html


@pytest.mark.usefixtures("calibration_only")
@pytest.mark.parametrize(("change", "options", "fragments"), [
    (None, ["--target", "label"], ["'label'", "not found"]),
    ("target_three_values", [], ["must have two values", "'0', '1', '2'"]),
    ("target_other_pair", [], ["'fraud', 'ok'", "--positive"]),
    ("target_other_pair", ["--positive", "stolen"], ["--positive 'stolen'", "'fraud', 'ok'"]),
    ("target_one_class", [], ["only the value '0'", "both frauds"]),
    ("nan_feature", ["--missing", "error"], ["'terminal_risk_7d' (1 of", "--missing drop"]),
    ("inf_feature", [], ["'customer_mean_amount_1d'", "missing or infinite"]),
    ("negative_amount", ["--amount", "amount"], ["'amount'", "negative"]),
    ("missing_amount", ["--amount", "amount", "--missing", "error"], ["'amount'", "missing"]),
    (None, ["--columns", "amount,nope"], ["--columns names 'nope'", "not a column"]),
    (None, ["--drop", "nope"], ["--drop names 'nope'", "not a column"]),
    (None, ["--categorical", "amount", "--columns", "is_night"],
     ["--categorical names 'amount'", "--columns does not list"]),
    (None, ["--columns", "amount", "--drop", "amount"], ["--columns and --drop both name"]),
    (None, ["--columns", "is_fraud,amount"], ["--columns names 'is_fraud'", "--target"]),
    (None, ["--drop", "timestamp", "--time", "timestamp"], ["--drop names 'timestamp'",
                                                            "--time column"]),
    (None, ["--sep", "::"], ["--sep must be one of"]),
    (None, ["--encoding", "klingon"], ["--encoding 'klingon'"]),
    (None, ["--amount", "value"], ["'value'", "not found"]),
    ("bad_time", ["--time", "timestamp"], ["'timestamp'", "do not parse"]),
    ("few_frauds", [], ["calibration block has", "at least 30"]),
    (None, ["--cost-fp", "0"], ["--cost-fp", "greater than 0"]),
    (None, ["--cost-fn", "-3"], ["--cost-fn", "greater than 0"]),
    (None, ["--openml", "creditcard"], ["either --data or --openml"]),
    (None, ["--budgets", "0.5,x"], ["--budgets"]),
])
def test_bad_input_is_one_line_and_writes_nothing(change, options, fragments, small_transactions,
                                                  tmp_path, capsys):
    frame = small_transactions.copy()
    if change == "target_three_values":
        frame.loc[frame.index[:5], "is_fraud"] = 2
    elif change == "target_other_pair":
        frame["is_fraud"] = np.where(frame["is_fraud"] == 1, "fraud", "ok")
    elif change == "target_one_class":
        frame["is_fraud"] = 0
    elif change == "nan_feature":
        frame.loc[frame.index[3], "terminal_risk_7d"] = np.nan
    elif change == "inf_feature":
        frame.loc[frame.index[3], "customer_mean_amount_1d"] = np.inf
    elif change == "negative_amount":
        frame.loc[frame.index[7], "amount"] = -12.0
    elif change == "missing_amount":
        frame.loc[frame.index[7], "amount"] = np.nan
    elif change == "bad_time":
        frame["timestamp"] = frame["timestamp"].astype(str)
        frame.loc[frame.index[9], "timestamp"] = "not a date"
    elif change == "few_frauds":
        # Frauds only in the first half: the calibration block has none.
        frame.loc[frame.index[len(frame) // 2:], "is_fraud"] = 0
    path = write(frame, tmp_path)
    out = tmp_path / "out"
    code, err = run_cli(["--data", str(path), *options], out, capsys)
    assert_user_error(code, err, out, *fragments)


@pytest.mark.usefixtures("calibration_only")
def test_missing_file_is_a_user_error(tmp_path, capsys):
    out = tmp_path / "out"
    code, err = run_cli(["--data", str(tmp_path / "nope.csv")], out, capsys)
    assert_user_error(code, err, out, "not found")


def _fake_creditcard(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"Time": np.sort(rng.uniform(0, 172_800, n)),
                          "V1": rng.normal(size=n), "V2": rng.normal(size=n),
                          "Amount": rng.lognormal(3, 1, n)})
    frame["Class"] = pd.Categorical(np.where(rng.random(n) < 0.05, "1", "0"))
    return frame


def test_openml_loader_on_a_local_frame(monkeypatch):
    frame = _fake_creditcard()
    calls = {}

    def fake_fetch_openml(**kwargs):
        calls.update(kwargs)
        return Bunch(frame=frame.copy())

    monkeypatch.setattr("sklearn.datasets.fetch_openml", fake_fetch_openml)
    data = load_openml_creditcard()
    assert calls["name"] == "creditcard"
    assert data.kind == "openml"
    assert list(data.features.columns) == ["V1", "V2", "Amount"]
    np.testing.assert_array_equal(data.y, (frame["Class"].astype(str) == "1").astype(int))
    np.testing.assert_allclose(data.amount, frame["Amount"])
    assert np.all(np.diff(data.time.astype(np.int64)) >= 0)


@pytest.mark.usefixtures("calibration_only")
def test_openml_download_failure_is_a_user_error(monkeypatch, tmp_path, capsys):
    def offline(**kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr("sklearn.datasets.fetch_openml", offline)
    with pytest.raises(DataError, match="cannot download"):
        load_openml_creditcard()
    out = tmp_path / "out"
    code, err = run_cli(["--openml", "creditcard"], out, capsys)
    assert_user_error(code, err, out, "cannot download OpenML")


@pytest.mark.usefixtures("calibration_only")
def test_too_few_bootstrap_replicates_is_a_user_error(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["calibration", "--quick", "--quiet", "--bootstrap", "5", "--out", str(out)])
    assert_user_error(code, capsys.readouterr().err, out, "--bootstrap", "at least 20")


def test_quick_keeps_an_explicit_bootstrap_count():
    from casestudies.calibration.config import QUICK_BOOTSTRAP, CalibrationConfig

    default = CalibrationConfig.n_bootstrap
    assert CalibrationConfig.from_options(quick=True).n_bootstrap == QUICK_BOOTSTRAP
    explicit = CalibrationConfig.from_options(quick=True, bootstrap=str(default))
    assert explicit.n_bootstrap == explicit.n_noise_floor == default
    assert CalibrationConfig.from_options().n_bootstrap == default
