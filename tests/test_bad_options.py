"""Bad options on the real studies: one line, exit code 2, nothing written, and no data loaded
(the check comes before any work)."""

import importlib

import pytest

from casestudies import cli

CASES = [
    ("calibration", ["--seed", "-1"], "--seed must be at least 0"),
    ("calibration", ["--seed", str(2**32)], "--seed must be at least 0 and at most 4294967295"),
    ("calibration", ["--bootstrap", "1e14"], "--bootstrap must be at least 20 and at most"),
    ("calibration", ["--gap-days", "nan"], "--gap-days must be a finite number"),
    ("calibration", ["--cost-fn", "inf"], "--cost-fn must be a finite number"),
    ("calibration", ["--time-format", "%d/%m/%Y"], "--time-format describes the --time column"),
    ("forecasting", ["--paths", "1e8"], "--paths must be at least 20 and at most"),
    ("forecasting", ["--season", "inf"], "--season must be a finite number"),
    ("forecasting", ["--data", "x.csv", "--value", "y", "--time", "t", "--freq", "0D"],
     "--freq '0D' must step forward in time"),
    ("iid_checks", ["--gap-days", "3"], "unrecognized arguments"),
    ("iid_checks", ["--alpha", "0.7"], "--alpha must be greater than 0 and less than 0.5"),
    ("iid_checks", ["--max-columns", "0"], "--max-columns must be at least 1"),
    ("clustering", ["--perplexities", "5,30", "--perplexity", "50"],
     "--perplexity 50 must be one of --perplexities 5,30"),
    ("clustering", ["--customers", "10"], "--customers must be at least 50"),
]


@pytest.mark.parametrize(("study", "options", "message"), CASES)
def test_bad_option_is_one_line_before_any_work(study, options, message, tmp_path, capsys,
                                                monkeypatch):
    def must_not_load(config):
        raise AssertionError("data was loaded before the options were checked")

    monkeypatch.setattr(importlib.import_module(f"casestudies.{study}.data"), "load_data",
                        must_not_load)
    out = tmp_path / "out"
    try:
        code = cli.main([study, *options, "--out", str(out)])
    except SystemExit as exit_info:  # argparse's own usage errors
        code = exit_info.code
    err = capsys.readouterr().err
    assert code == 2
    assert len([line for line in err.splitlines() if line.strip()]) == 1, err
    assert message in err
    assert not out.exists()


def test_out_naming_a_file_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(importlib.import_module("casestudies.calibration.data"), "load_data",
                        lambda config: pytest.fail("data loaded"))
    target = tmp_path / "report.html"
    target.write_text("keep me")
    assert cli.main(["calibration", "--out", str(target)]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert target.read_text() == "keep me"
