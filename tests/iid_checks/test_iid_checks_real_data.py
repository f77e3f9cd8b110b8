"""The audit on real tables that ship inside installed packages, written to CSV the way users'
files come: a stock-market direction stored as Up/Down (ISLP ``Smarket``), salaries missing for
a sixth of the players (ISLP ``Hitters``), a Yes/No target beside a Yes/No feature (ISLP
``Default``), and a semicolon-separated Latin-1 export with a byte-order mark and decimal commas
(statsmodels' ``macrodata``). Quick runs; each asserts what the result says was done."""

import codecs
import json

import numpy as np
import pytest

from casestudies.cli import main
from casestudies.report.numbers import unexplained_numbers

islp = pytest.importorskip("ISLP")

FAST = ("--quick", "--replicates", "0", "--quiet")


def _run(tmp_path, capsys, path, *options: str) -> tuple[int, str, dict | None, str | None]:
    """Exit code, stderr, the JSON result and the HTML of one command-line run."""
    out = tmp_path / "out"
    code = main(["iid_checks", "--data", str(path), "--out", str(out), *FAST, *options])
    err = capsys.readouterr().err
    if code != 0:
        assert len(err.strip().splitlines()) == 1  # one line on stderr
        assert not out.exists()  # nothing written
        return code, err, None, None
    payload = json.loads((out / "iid_checks.json").read_text(encoding="utf-8"))
    html = (out / "iid_checks.html").read_text(encoding="utf-8")
    assert unexplained_numbers(html, payload) == []
    return code, err, payload, html


def _data_section(html: str) -> str:
    """The report's words about how the file was read (up to the roles)."""
    start = html.index("How the file was read")
    return html[start:html.index("</p>", start)]


def test_smarket_direction_needs_positive_and_is_then_read_as_stated(tmp_path, capsys):
    path = tmp_path / "smarket.csv"
    islp.load_data("Smarket").to_csv(path, index=False)
    options = ("--time", "Year", "--target", "Direction")
    code, err, _, _ = _run(tmp_path, capsys, path, *options)
    assert code == 2
    assert "'Down', 'Up'" in err and "--positive" in err
    # "Today" is the return whose sign is the target: left out, as a user would.
    code, _, payload, html = _run(tmp_path, capsys, path, *options, "--positive", "Up",
                                  "--drop", "Today")
    assert code == 0
    result = payload["result"]
    handling = result["data_handling"]
    assert result["task"] == "classification" and result["rows"] == 1250
    assert handling["labels"] == {"column": "Direction", "positive": "Up", "negative": "Down",
                                  "how": "--positive"}
    assert handling["dropped_columns"] == ["Today"] and "Today" not in result["numeric"]
    assert handling["rows_dropped"] == 0
    assert handling["reading"]["delimiter"] == "comma"
    words = _data_section(html)
    assert "'Up' read as 1; 'Down' as 0 (--positive)" in words
    assert "comma-separated text in UTF-8" in words


def test_hitters_missing_salaries_stop_the_default_and_drop_runs(tmp_path, capsys):
    path = tmp_path / "hitters.csv"
    hitters = islp.load_data("Hitters")
    hitters.to_csv(path, index=False)
    missing = int(hitters["Salary"].isna().sum())
    assert missing == 59
    code, err, _, _ = _run(tmp_path, capsys, path, "--target", "Salary")
    assert code == 2
    assert "'Salary' (59 of 322)" in err and "--missing drop" in err
    code, err, _, _ = _run(tmp_path, capsys, path, "--target", "Salary", "--missing", "impute")
    assert code == 2 and "fills feature columns only" in err and "--missing drop" in err
    code, _, payload, html = _run(tmp_path, capsys, path, "--target", "Salary",
                                  "--missing", "drop")
    assert code == 0
    result = payload["result"]
    handling = result["data_handling"]
    assert result["task"] == "regression" and result["rows"] == 322 - missing
    assert handling["missing"]["missing_by_column"] == {"Salary": missing}
    assert handling["missing"]["policy"] == "drop" and not handling["missing"]["default"]
    assert handling["rows_dropped"] == missing and handling["labels"] is None
    # The three two-level text columns are audited as categories and one-hot encoded.
    assert result["categorical"] == ["League", "Division", "NewLeague"]
    assert handling["features"]["encoded"] == {"League": ["A", "N"], "Division": ["W", "E"],
                                               "NewLeague": ["A", "N"]}
    assert "dropped 59 of 322 rows with a missing value (--missing drop)" in _data_section(html)


def test_default_yes_no_target_and_student_column(tmp_path, capsys):
    path = tmp_path / "default.csv"
    # Every fifth of the 10,000 customers keeps the run quick; the table stays as it comes.
    islp.load_data("Default").iloc[::5].to_csv(path, index=False)
    code, _, payload, html = _run(tmp_path, capsys, path, "--target", "default")
    assert code == 0
    result = payload["result"]
    handling = result["data_handling"]
    assert handling["labels"]["how"] == "recognised pair"
    assert (handling["labels"]["positive"], handling["labels"]["negative"]) == ("Yes", "No")
    assert result["categorical"] == ["student"]
    assert handling["features"]["numeric"] == ["balance", "income"]
    assert handling["features"]["encoded"] == {"student": ["No", "Yes"]}
    features = [row[0] for row in result["audit"]["adversarial"]["importance"]["data"]]
    assert sorted(features) == ["balance", "income", "student=No", "student=Yes"]
    assert "recognised pair" in _data_section(html)


def test_macrodata_as_a_semicolon_latin1_export_with_a_byte_order_mark(tmp_path, capsys):
    import statsmodels.api as sm

    frame = sm.datasets.macrodata.load_pandas().data.rename(columns={"realgdp": "PIB réel"})
    path = tmp_path / "macro.csv"
    text = frame.to_csv(sep=";", index=False, decimal=",")
    path.write_bytes(codecs.BOM_UTF8 + text.encode("latin-1"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes()[3:].decode("utf-8")  # Latin-1 indeed, not UTF-8
    code, _, payload, html = _run(tmp_path, capsys, path, "--time", "year", "--target", "infl",
                                  "--categorical", "quarter")
    assert code == 0
    result = payload["result"]
    reading = result["data_handling"]["reading"]
    assert reading == {"kind": "text", "delimiter": "semicolon", "encoding": "latin-1",
                       "byte_order_mark": True, "decimal": ",",
                       "detected": ["encoding", "sep", "decimal"]}
    assert "PIB réel" in result["numeric"]  # the accent survives, the mark is not in a name
    assert result["rows"] == len(frame)
    assert np.isclose(result["preview"]["data"][0][result["preview"]["columns"].index("cpi")],
                      frame["cpi"].iloc[0])  # decimal commas read as numbers
    assert result["categorical"] == ["quarter"]
    assert result["data_handling"]["features"]["encoded"]["quarter"] == ["1", "2", "3", "4"]
    assert ("semicolon-separated text in Latin-1, after a UTF-8 byte-order mark, with decimal "
            "commas; the delimiter, encoding and decimal mark were detected") in _data_section(html)
