"""A user's table as it comes: binary labels given as text, missing values, categorical codes,
left-out columns and file dialects, each on tables on both sides of its rule; and what the
result and the report say was done."""

import codecs

import numpy as np
import pandas as pd
import pytest

from casestudies.cli import main
from casestudies.errors import ConfigError, DataError
from casestudies.iid_checks.audit import model_features
from casestudies.iid_checks.config import IIDConfig
from casestudies.iid_checks.data import apply_missing, file_reading, prepare_table
from casestudies.io import read_table

ROWS = 100


def _frame(rows: int = ROWS, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"t": np.arange(rows), "a": rng.normal(size=rows),
                         "b": rng.normal(size=rows), "y": rng.normal(size=rows)})


def _refused(tmp_path, capsys, frame: pd.DataFrame, *options: str) -> str:
    """Run the command line on ``frame``; assert exit 2, one line and nothing written."""
    path = tmp_path / "table.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    code = main(["iid_checks", "--data", str(path), "--out", str(out), "--quiet", "--quick",
                 "--replicates", "0", *options])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()
    return err


# ---- labels --------------------------------------------------------------------------------------
def test_yes_no_target_is_read_as_0_1_and_the_mapping_is_recorded():
    frame = _frame().assign(y=np.where(np.arange(ROWS) % 3 == 0, " Yes", "no"))
    table = prepare_table(frame, name="f", time="t", target="y")
    assert table.task == "classification"
    assert table.frame["y"].tolist() == (np.arange(ROWS) % 3 == 0).astype(int).tolist()
    assert (table.labels.positive, table.labels.negative) == ("Yes", "no")
    assert table.labels.how == "recognised pair"


def test_an_unrecognised_pair_needs_positive_and_then_runs():
    frame = _frame().assign(y=np.where(np.arange(ROWS) % 2 == 0, "Up", "Down"))
    with pytest.raises(DataError, match=r"holds 'Down', 'Up'; say which .* --positive"):
        prepare_table(frame, name="f", time="t", target="y")
    table = prepare_table(frame, name="f", time="t", target="y", positive="down")
    assert table.labels.positive == "Down" and table.labels.how == "--positive"
    assert table.frame["y"].sum() == ROWS // 2
    with pytest.raises(ConfigError, match="--positive 'Sideways' is not a value"):
        prepare_table(frame, name="f", time="t", target="y", positive="Sideways")


def test_numeric_target_stays_regression_and_positive_needs_two_values():
    table = prepare_table(_frame(), name="f", time="t", target="y")
    assert table.task == "regression" and table.labels is None
    with pytest.raises(DataError, match="must have two values"):
        prepare_table(_frame(), name="f", time="t", target="y", positive="1")


def test_positive_without_target_or_table_options_without_data_are_refused():
    with pytest.raises(ConfigError, match="--positive names a value of the --target column"):
        IIDConfig(data="x.csv", positive="Up")
    with pytest.raises(ConfigError, match="--sep describes your own table: add --data"):
        IIDConfig.from_options(sep=";")
    with pytest.raises(ConfigError, match="--drop names 'y', which is the --target"):
        IIDConfig(data="x.csv", target="y", drop=("y",))


# ---- missing values ------------------------------------------------------------------------------
def _with_gaps(share: float, column: str = "a") -> pd.DataFrame:
    frame = _frame()
    frame.loc[np.arange(ROWS) < round(share * ROWS), column] = np.nan
    return frame.sample(frac=1.0, random_state=0).reset_index(drop=True)


def test_three_percent_missing_rows_are_dropped_by_default_and_recorded():
    table = prepare_table(_with_gaps(0.03), name="f", time="t", target="y")
    assert len(table.frame) == ROWS - 3
    report = table.missing
    assert report.default and report.policy == "drop" and report.rows_dropped == 3
    assert report.missing_by_column == {"a": 3}
    assert "dropped 3 of 100 rows" in report.describe()


def test_thirty_percent_missing_stops_naming_the_column_and_the_option(tmp_path, capsys):
    with pytest.raises(DataError, match=r"30% of rows .*'a' \(30 of 100\).*--missing"):
        prepare_table(_with_gaps(0.30), name="f", time="t", target="y")
    err = _refused(tmp_path, capsys, _with_gaps(0.30), "--time", "t", "--target", "y")
    assert "'a'" in err and "--missing" in err


def test_missing_drop_and_impute_when_asked():
    dropped = prepare_table(_with_gaps(0.30), name="f", time="t", target="y", missing="drop")
    assert len(dropped.frame) == 70 and not dropped.missing.default
    imputed = prepare_table(_with_gaps(0.30), name="f", time="t", target="y", missing="impute")
    assert len(imputed.frame) == ROWS
    median = float(_frame()["a"].iloc[30:].median())
    assert imputed.missing.filled_with == {"a": pytest.approx(median)}
    assert np.isclose(imputed.frame["a"], median).sum() == 30
    with pytest.raises(DataError, match="missing values in 'a'.*--missing drop or"):
        prepare_table(_with_gaps(0.03), name="f", time="t", target="y", missing="error")


@pytest.mark.parametrize("role", ["t", "y"])
def test_a_time_or_target_value_is_never_imputed(role):
    frame = _with_gaps(0.30, role)
    options = {"time": "t", "target": "y"}
    with pytest.raises(DataError, match=r"--missing impute fills feature columns only.*--missing "
                                        r"drop"):
        prepare_table(frame, name="f", missing="impute", **options)
    with pytest.raises(DataError, match=r"30% of rows.*use --missing drop \(a time, group"):
        prepare_table(frame, name="f", **options)
    assert len(prepare_table(frame, name="f", missing="drop", **options).frame) == 70
    with pytest.raises(DataError, match=r"use --missing drop \(a time, group, split side or "
                                        r"target is never imputed\), or fill"):
        prepare_table(frame, name="f", missing="error", **options)
    # A few gaps in a role column are dropped like any other.
    assert len(prepare_table(_with_gaps(0.03, role), name="f", **options).frame) == 97


def test_missing_values_outside_the_columns_used_are_ignored():
    frame = _with_gaps(0.30, "b")
    table = prepare_table(frame, name="f", time="t", target="y", drop=("b",))
    assert len(table.frame) == ROWS and table.missing.missing_by_column == {}
    assert "b" not in table.features and table.dropped == ["b"]
    frame, report = apply_missing(frame, {"--time": "t"}, ["a"], None)
    assert len(frame) == ROWS and report.rows_dropped == 0


# ---- columns -------------------------------------------------------------------------------------
def test_declared_integer_codes_are_categorical_and_one_hot_encoded():
    frame = _frame().assign(region=np.arange(ROWS) % 4 + 1)
    plain = prepare_table(frame, name="f", time="t", target="y")
    assert "region" in plain.numeric
    table = prepare_table(frame, name="f", time="t", target="y", categorical=("region",))
    assert table.categorical == ["region"] and table.declared == ["region"]
    assert sorted(table.frame["region"].unique()) == ["1", "2", "3", "4"]
    features, encoding = model_features(table)
    assert encoding.encoded == {"region": ["1", "2", "3", "4"]}
    assert [c for c in features.columns if c.startswith("region=")] == [
        "region=1", "region=2", "region=3", "region=4"]
    with pytest.raises(DataError, match="--categorical: column 'a' holds numbers that are not "
                                        "whole"):
        prepare_table(frame, name="f", time="t", categorical=("a",))
    with pytest.raises(ConfigError, match="--categorical names 'region', which is not among"):
        prepare_table(frame, name="f", time="t", columns=("a",), categorical=("region",))
    with pytest.raises(DataError, match="--categorical: column 'zz' not found"):
        prepare_table(frame, name="f", time="t", categorical=("zz",))


def test_a_missing_code_is_imputed_with_the_most_frequent_code_not_a_median():
    region = np.where(np.arange(ROWS) % 10 < 6, 4.0, 1.0)  # code 4 most frequent, median 4
    region[[0, 1, 2]] = [1.0, 2.0, 2.0]
    region[ROWS - 10:] = np.nan  # 10 % missing: more than the default drops
    frame = _frame().assign(region=region)
    table = prepare_table(frame, name="f", time="t", categorical=("region",), missing="impute")
    assert table.missing.filled_with == {"region": "4"}
    assert table.frame["region"].tolist()[ROWS - 10:] == ["4"] * 10
    assert "4.0" not in set(table.frame["region"])
    # Undeclared, the same column is a number and gets its median.
    plain = prepare_table(frame.assign(region=frame["region"] * 1.5), name="f", time="t",
                          missing="impute")
    assert plain.missing.filled_with == {"region": 6.0}


def test_an_empty_column_is_skipped_with_a_note_rather_than_dropping_every_row():
    table = prepare_table(_frame().assign(notes=np.nan), name="f", time="t", target="y")
    assert len(table.frame) == ROWS and "notes" not in table.features
    assert "'notes' has no values at all and was skipped" in table.notes


def test_text_columns_are_encoded_and_near_identifiers_left_out_of_the_models():
    rng = np.random.default_rng(1)
    codes = [f"id{i}" for i in range(ROWS)]
    codes[1] = codes[0]  # nearly every value distinct, but not all: a categorical column
    frame = _frame().assign(shop=rng.choice(["north", "south"], ROWS), code=codes)
    table = prepare_table(frame, name="f", time="t", target="y")
    assert table.categorical == ["shop", "code"]
    features, encoding = model_features(table)
    assert encoding.identifiers == ["code"] and list(encoding.encoded) == ["shop"]
    assert not any(c.startswith("code") for c in features.columns)
    assert any("'code' nearly always differ" in note for note in table.notes)
    # With only two values per level the column is no identifier, and is encoded.
    frame = frame.assign(code=[f"id{i // 2}" for i in range(ROWS)])
    _, encoding = model_features(prepare_table(frame, name="f", time="t", target="y"))
    assert encoding.identifiers == [] and "code" in encoding.encoded


def test_drop_leaves_a_column_out_and_an_unknown_name_is_refused():
    table = prepare_table(_frame(), name="f", time="t", target="y", drop=("b",))
    assert table.features == ["a"]
    with pytest.raises(DataError, match="--drop: column 'zz' not found"):
        prepare_table(_frame(), name="f", time="t", drop=("zz",))


# ---- file dialects -------------------------------------------------------------------------------
def test_detected_and_given_dialects_are_recorded(tmp_path):
    path = tmp_path / "t.csv"
    text = _frame(60).to_csv(sep="\t", index=False)
    path.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    reading = file_reading(path, read_table(path))
    assert (reading.delimiter, reading.encoding, reading.byte_order_mark) == (
        "tab", "utf-8-sig", True)
    assert reading.describe() == ("The file was read as tab-separated text in UTF-8, after a "
                                  "UTF-8 byte-order mark; the delimiter and encoding were "
                                  "detected.")
    path.write_text(_frame(60).to_csv(sep="|", index=False, decimal=","), encoding="cp1252")
    reading = file_reading(path, read_table(path, sep="pipe", encoding="cp1252"))
    assert (reading.delimiter, reading.decimal, reading.byte_order_mark) == ("pipe", ",", False)
    assert reading.describe().endswith("; the decimal mark was detected and --sep and "
                                       "--encoding were given.")


def test_a_user_file_with_gaps_text_labels_and_codes_says_what_was_done(tmp_path, capsys):
    import json

    from casestudies.report.numbers import unexplained_numbers

    rows = 120
    frame = _frame(rows).assign(
        y=np.where(np.arange(rows) % 3 == 0, "<b>bad</b>", "fine"),
        region=np.arange(rows) % 3 + 1)
    frame.loc[[5, 50, 90, 110], "a"] = np.nan  # 3 % of the rows
    path = tmp_path / "mine.csv"
    path.write_text(frame.to_csv(sep=";", index=False, decimal=","), encoding="latin-1")
    out = tmp_path / "out"
    assert main(["iid_checks", "--data", str(path), "--time", "t", "--target", "y",
                 "--positive", "<b>bad</b>", "--categorical", "region", "--out", str(out),
                 "--quiet", "--quick", "--replicates", "0"]) == 0
    payload = json.loads((out / "iid_checks.json").read_text(encoding="utf-8"))
    handling = payload["result"]["data_handling"]
    assert handling["rows_dropped"] == 4 and handling["missing"]["default"]
    assert handling["labels"]["positive"] == "<b>bad</b>"
    assert handling["declared_categorical"] == ["region"]
    assert handling["reading"]["delimiter"] == "semicolon"
    html = (out / "iid_checks.html").read_text(encoding="utf-8")
    assert "<b>bad</b>" not in html  # a label is text, never markup
    start = html.index("How the file was read")
    words = html[start:html.index("</p>", start)]
    assert "dropped 4 of 120 rows with a missing value (default)" in words
    assert "semicolon-separated text" in words and "decimal commas" in words
    assert "&#x27;region&#x27; one-hot encoded into 3 levels" in words or \
        "'region' one-hot encoded into 3 levels" in words
    assert unexplained_numbers(html, payload) == []
