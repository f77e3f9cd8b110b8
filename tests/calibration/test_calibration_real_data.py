"""The study on real tables that ship inside installed packages, written to CSV as users receive
them: yes/no labels and a yes/no text column (ISLP ``Default``), labels that are neither 0/1 nor a
usual pair (scikit-learn's breast cancer data, ``malignant``/``benign``), a semicolon-separated
Latin-1 export with a byte-order mark (ISLP ``Caravan``), and a missing feature (ISLP ``Hitters``,
``Salary``). Each run is quick, with few bootstrap replicates, and checks what the result says it
did and that the report says so."""

import codecs
import json

import numpy as np
import pytest

from casestudies.cli import main
from casestudies.report.numbers import unexplained_numbers

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("calibration_only")]

QUICK = ["--quick", "--bootstrap", "20", "--quiet"]
# Caravan's features kept small for speed: two integer codes (customer type and main type), and
# a column renamed with a non-ASCII letter so that the Latin-1 encoding matters.
CARAVAN_COLUMNS = ["MOSTYPE", "MOSHOOFD", "Häuser", "MGEMOMV", "MGEMLEEF", "PPERSAUT",
                   "APERSAUT", "PBRAND", "MKOOPKLA"]


def run(path, out, capsys, *options):
    capsys.readouterr()
    code = main(["calibration", "--data", str(path), *options, "--out", str(out), *QUICK])
    return code, capsys.readouterr().err


def outputs(out):
    payload = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    html = (out / "calibration.html").read_text(encoding="utf-8")
    assert unexplained_numbers(html, payload) == []
    return payload["result"], html


def assert_one_line(code, err, out, *fragments):
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not out.exists() or not any(out.iterdir())


@pytest.fixture(scope="module")
def islp():
    """ISLP's data sets (the Makefile installs ISLP; the breast cancer test runs without it)."""
    return pytest.importorskip("ISLP")


@pytest.fixture(scope="module")
def default_table(islp):
    return islp.load_data("Default")


def test_default_yes_no_target_and_text_column(default_table, tmp_path, capsys):
    path = tmp_path / "default.csv"
    default_table.to_csv(path, index=False)
    code, err = run(path, tmp_path / "out", capsys, "--target", "default")
    assert code == 0, err
    result, html = outputs(tmp_path / "out")
    loading = result["loading"]
    assert loading["labels"] == {"column": "default", "positive": "Yes", "negative": "No",
                                 "how": "recognised pair"}
    assert result["n_frauds"] == int((default_table["default"] == "Yes").sum())
    assert loading["features"]["encoded"] == {"student": ["No", "Yes"]}
    assert loading["features"]["numeric"] == ["balance", "income"]
    assert loading["reading"]["delimiter"] == "comma"
    assert "'Yes' is read as fraud (1) and 'No' as genuine (0)" in html
    assert "'student' is one-hot encoded" in html


@pytest.mark.parametrize(("share", "runs"), [(0.03, True), (0.30, False)])
def test_default_with_missing_incomes(default_table, share, runs, tmp_path, capsys):
    frame = default_table.copy()
    gaps = np.random.default_rng(0).choice(len(frame), round(share * len(frame)), replace=False)
    frame.loc[gaps, "income"] = np.nan
    path = tmp_path / "default.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    code, err = run(path, out, capsys, "--target", "default")
    if not runs:
        assert_one_line(code, err, out, f"'income' ({len(gaps):,} of 10,000)", "--missing")
        return
    assert code == 0, err
    result, html = outputs(out)
    missing = result["loading"]["missing"]
    assert (missing["policy"], missing["default"]) == ("drop", True)
    assert missing["missing_by_column"] == {"income": len(gaps)}
    assert result["n_rows"] == 10_000 - len(gaps)
    assert f"{len(gaps)} of 10,000 rows had a missing value and were dropped (by default" in html


def test_breast_cancer_labels_need_positive(tmp_path, capsys):
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.drop(columns="target")
    frame["diagnosis"] = bunch.target_names[bunch.target]
    path = tmp_path / "wdbc.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    code, err = run(path, out, capsys, "--target", "diagnosis")
    assert_one_line(code, err, out, "'benign', 'malignant'", "--positive")
    code, err = run(path, out, capsys, "--target", "diagnosis", "--positive", "malignant")
    assert code == 0, err
    result, html = outputs(out)
    assert result["loading"]["labels"] == {"column": "diagnosis", "positive": "malignant",
                                           "negative": "benign", "how": "--positive"}
    assert result["n_frauds"] == int((frame["diagnosis"] == "malignant").sum())
    assert len(result["feature_names"]) == 30
    assert "as --positive says" in html


def test_caravan_semicolon_latin1_with_bom(islp, tmp_path, capsys):
    frame = islp.load_data("Caravan").rename(columns={"MAANTHUI": "Häuser"})
    path = tmp_path / "caravan.csv"
    path.write_bytes(codecs.BOM_UTF8 + frame.to_csv(sep=";", index=False).encode("latin-1"))
    out = tmp_path / "out"
    code, err = run(path, out, capsys, "--target", "Purchase", "--columns",
                    ",".join(CARAVAN_COLUMNS), "--categorical", "MOSTYPE,MOSHOOFD")
    assert code == 0, err
    result, html = outputs(out)
    loading = result["loading"]
    assert loading["reading"] == {"delimiter": "semicolon", "encoding": "latin-1",
                                  "decimal": ".", "byte_order_mark": True,
                                  "detected": ["delimiter", "encoding"]}
    assert loading["labels"]["positive"] == "Yes"
    assert "Häuser" in loading["features"]["numeric"]
    assert set(loading["features"]["encoded"]) == {"MOSTYPE", "MOSHOOFD"}
    assert loading["features"]["pooled"]["MOSTYPE"] == frame["MOSTYPE"].nunique() - 10
    assert len(loading["not_listed"]) == frame.shape[1] - 1 - len(CARAVAN_COLUMNS)
    assert "semicolon-separated Latin-1 text, after a UTF-8 byte-order mark" in html


def test_hitters_missing_salary_is_imputed_on_request(islp, tmp_path, capsys):
    frame = islp.load_data("Hitters")
    path = tmp_path / "hitters.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    options = ["--target", "League", "--positive", "N"]
    code, err = run(path, out, capsys, *options)
    assert_one_line(code, err, out, "'Salary' (59 of 322)", "--missing")
    code, err = run(path, out, capsys, *options, "--missing", "impute")
    assert code == 0, err
    result, html = outputs(out)
    missing = result["loading"]["missing"]
    assert (missing["policy"], missing["rows_dropped"]) == ("impute", 0)
    assert missing["filled_with"] == {"Salary": float(frame["Salary"].median())}
    assert result["n_rows"] == 322
    assert "59 missing cells of 'Salary' were filled with its median" in html
