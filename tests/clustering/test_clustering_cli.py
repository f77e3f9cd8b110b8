"""Bad input through the command line: exit code 2, one line on stderr, nothing written."""

import numpy as np
import pandas as pd
import pytest

from casestudies.cli import main

FAST = ["--perplexities", "5", "--perplexity", "5", "--quiet"]


def _table(n=120, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(n)],
        "orders": rng.poisson(5, n),
        "spend": rng.lognormal(3, 1, n).round(2),
        "channel": rng.choice(["web", "store"], n),
        "segment": rng.choice(["x", "y"], n),
    })


def _fails(tmp_path, capsys, args, expected):
    out = tmp_path / "out"
    code = main(["clustering", *args, "--out", str(out), *FAST])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert expected in err
    assert not out.exists() or not any(out.iterdir())


def test_missing_file(tmp_path, capsys):
    _fails(tmp_path, capsys, ["--data", str(tmp_path / "nope.csv")], "not found")


@pytest.mark.parametrize("args", [["--perplexities", "5,30"], ["--perplexity", "30"]])
def test_a_perplexity_given_that_the_rows_cannot_support(tmp_path, capsys, args):
    path = tmp_path / "small.csv"
    _table(60).to_csv(path, index=False)
    out = tmp_path / "out"
    code = main(["clustering", "--data", str(path), *args, "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "60 rows" in err and "perplexity 30" in err and "92" in err
    assert "the largest perplexity 60 rows allow is 19" in err and args[0] in err
    assert not out.exists()


def test_a_table_below_the_smallest_that_runs(tmp_path, capsys):
    path = tmp_path / "tiny.csv"
    _table(46).to_csv(path, index=False)
    out = tmp_path / "out"
    code = main(["clustering", "--data", str(path), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "46 rows" in err and "at least 47" in err
    assert not out.exists()


def test_a_metric_sample_given_beyond_the_rows(tmp_path, capsys):
    path = tmp_path / "t.csv"
    _table(250).to_csv(path, index=False)
    _fails(tmp_path, capsys, ["--data", str(path), "--metric-sample", "300"],
           "the largest that works is 250")


def test_no_usable_column(tmp_path, capsys):
    path = tmp_path / "ids.csv"
    table = _table()
    table[["customer_id"]].assign(flag=1).to_csv(path, index=False)
    _fails(tmp_path, capsys, ["--data", str(path), "--id", "customer_id"], "usable feature")


def test_many_missing_numeric_values(tmp_path, capsys):
    path = tmp_path / "gaps.csv"
    table = _table()
    table.loc[:35, "spend"] = np.nan  # 36 of 120 rows: 30 %, more than the default drops
    table.to_csv(path, index=False)
    _fails(tmp_path, capsys, ["--data", str(path), "--id", "customer_id"], "'spend' (36 of 120)")
    _fails(tmp_path, capsys, ["--data", str(path), "--id", "customer_id"], "--missing")
    _fails(tmp_path, capsys, ["--data", str(path), "--missing", "error"], "--missing drop")


def test_id_not_unique(tmp_path, capsys):
    path = tmp_path / "dupes.csv"
    table = _table()
    table.loc[3, "customer_id"] = "c0"
    table.to_csv(path, index=False)
    _fails(tmp_path, capsys, ["--data", str(path), "--id", "customer_id"], "not unique")


def test_unknown_columns(tmp_path, capsys):
    path = tmp_path / "t.csv"
    _table().to_csv(path, index=False)
    _fails(tmp_path, capsys, ["--data", str(path), "--id", "cust"], "'cust' not found")
    _fails(tmp_path, capsys, ["--data", str(path), "--drop", "zip"], "'zip' not found")


def test_label_with_many_missing_values_is_never_imputed(tmp_path, capsys):
    path = tmp_path / "t.csv"
    table = _table()
    table.loc[:19, "segment"] = None
    table.to_csv(path, index=False)
    _fails(tmp_path, capsys, ["--data", str(path), "--label", "segment"], "'segment' (20 of 120)")
    _fails(tmp_path, capsys, ["--data", str(path), "--label", "segment", "--missing", "impute"],
           "never imputed")


@pytest.mark.parametrize("args, expected", [
    (["--perplexity", "50"], "must be one of"),
    (["--perplexities", "1"], "at least 2"),
    (["--id", "customer_id"], "add --data"),
    (["--customers", "10"], "at least 50"),
    (["--stability-seeds", "1"], "at least 2"),
    (["--missing", "drop"], "--missing applies to your own table"),
    (["--sep", ";"], "--sep applies to your own table"),
    (["--columns", "a,b"], "--columns applies to your own table"),
    (["--missing", "guess"], "must be one of"),
    (["--sep", "x"], "--sep must be one of"),
    (["--encoding", "klingon"], "not a text encoding"),
])
def test_bad_options(tmp_path, capsys, args, expected):
    out = tmp_path / "out"
    code = main(["clustering", *args, "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and expected in err
    assert not out.exists()


def test_id_with_missing_values_under_error(tmp_path, capsys):
    path = tmp_path / "t.csv"
    table = _table()
    table.loc[4, "customer_id"] = None
    table.to_csv(path, index=False)
    _fails(tmp_path, capsys, ["--data", str(path), "--id", "customer_id", "--missing", "error"],
           "'customer_id' (1 of 120)")


def test_infinite_numeric_value(tmp_path, capsys):
    path = tmp_path / "t.csv"
    table = _table()
    table["spend"] = table["spend"].astype(float)
    table.loc[5, "spend"] = np.inf
    table.to_csv(path, index=False)
    _fails(tmp_path, capsys, ["--data", str(path), "--id", "customer_id"], "'spend' has infinite")
