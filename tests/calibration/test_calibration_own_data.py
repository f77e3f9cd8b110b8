"""A user's table as it comes: labels, missing values, text and code columns, column choices and
file dialects, each on data on both sides of its rule; and what the data section says about it."""

import codecs

import numpy as np
import pandas as pd
import pytest

from casestudies.calibration.config import CalibrationConfig
from casestudies.calibration.data import (
    DataLoading,
    FileReading,
    MissingHandling,
    from_frame,
    load_data,
)
from casestudies.calibration.report import loading_sentences
from casestudies.errors import ConfigError, DataError
from casestudies.tables import EncodingReport, LabelMapping


def table(n=200, seed=0, **extra):
    """A small table: a yes/no target, two numbers, a text column and an id column."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "outcome": np.where(rng.random(n) < 0.3, "yes", "no"),
        "x": rng.normal(size=n),
        "amount": np.round(rng.lognormal(3, 1, n), 2),
        "channel": rng.choice(["web", "shop", "phone"], n),
        "ref": [f"r{i:04d}" for i in range(n)],
    })
    return frame.assign(**extra)


def load(frame, **options):
    return from_frame(frame, options.pop("target", "outcome"), source="t.csv", **options)


# ---- labels --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("values", "positive"), [
    (["yes", "no"], "yes"), ([" Yes", "NO "], "Yes"), (["pos", "neg"], "pos"),
    (["True", "False"], "True"), ([1, 0], "1")])
def test_usual_label_pairs_need_no_option(values, positive):
    frame = table(n=6).assign(outcome=values * 3)
    data = load(frame)
    np.testing.assert_array_equal(data.y, [1, 0] * 3)
    assert data.loading.labels.positive == positive
    assert data.loading.labels.how in {"recognised pair", "numeric"}


def test_another_pair_needs_positive_and_names_both_values():
    frame = table(n=6).assign(outcome=["fraud", "ok"] * 3)
    with pytest.raises(DataError, match=r"holds 'fraud', 'ok'; .*--positive") as info:
        load(frame)
    assert "\n" not in str(info.value)
    data = load(frame, positive="ok")
    np.testing.assert_array_equal(data.y, [0, 1] * 3)
    assert (data.loading.labels.positive, data.loading.labels.negative,
            data.loading.labels.how) == ("ok", "fraud", "--positive")
    with pytest.raises(ConfigError, match="--positive 'stolen' is not a value"):
        load(frame, positive="stolen")


def test_positive_can_name_the_other_value_of_a_usual_pair():
    frame = table(n=6).assign(outcome=["yes", "no"] * 3)
    np.testing.assert_array_equal(load(frame, positive="no").y, [0, 1] * 3)


def test_one_class_only_is_refused():
    with pytest.raises(DataError, match="only the value 'no'"):
        load(table(n=6).assign(outcome="no"))


# ---- missing values ------------------------------------------------------------------------------
def with_gaps(frame, column, share):
    frame = frame.copy()
    frame.loc[frame.index[: round(share * len(frame))], column] = np.nan
    return frame


def test_three_percent_missing_are_dropped_by_default_and_said():
    data = load(with_gaps(table(), "x", 0.03), amount="amount")
    missing = data.loading.missing
    assert (missing.policy, missing.default, missing.rows_dropped) == ("drop", True, 6)
    assert missing.missing_by_column == {"x": 6} and len(data.y) == 194
    sentence = loading_sentences(data.loading)[1]
    assert sentence.startswith("6 of 200 rows had a missing value and were dropped (by default")
    assert "6 in 'x'" in sentence


def test_thirty_percent_missing_stop_naming_the_column_and_the_option():
    with pytest.raises(DataError) as info:
        load(with_gaps(table(), "x", 0.3))
    message = str(info.value)
    assert "'x' (60 of 200)" in message and "--missing" in message and "\n" not in message
    dropped = load(with_gaps(table(), "x", 0.3), missing="drop").loading.missing
    assert (dropped.policy, dropped.default, dropped.rows_after) == ("drop", False, 140)


def test_missing_error_refuses_even_one_gap_and_accepts_none():
    with pytest.raises(DataError, match="'x' \\(1 of 200\\).*--missing drop"):
        load(with_gaps(table(), "x", 0.005), missing="error")
    assert load(table(), missing="error").loading.missing.missing_by_column == {}


def test_impute_fills_features_with_median_and_most_frequent_value():
    frame = with_gaps(with_gaps(table(), "x", 0.3), "channel", 0.1)
    data = load(frame, missing="impute")
    missing = data.loading.missing
    assert missing.rows_dropped == 0 and len(data.y) == 200
    assert missing.filled_with["x"] == pytest.approx(frame["x"].median())
    assert missing.filled_with["channel"] == frame["channel"].mode().sort_values().iloc[0]
    sentence = loading_sentences(data.loading)[1]
    assert "60 missing cells of 'x' were filled with its median" in sentence
    assert "20 missing cells of 'channel' were filled with its most frequent value" in sentence


def test_impute_drops_rows_without_a_label_and_says_why():
    frame = with_gaps(with_gaps(table(), "x", 0.3), "outcome", 0.02)
    data = load(frame, missing="impute")
    missing = data.loading.missing
    assert (missing.rows_dropped, missing.dropped_for) == (4, ["outcome"])
    assert "4 rows missing 'outcome' were dropped, because a label" in \
        loading_sentences(data.loading)[1]
    with pytest.raises(DataError, match=r"'outcome' \(60 of 200\).*--missing drop") as info:
        load(with_gaps(table(), "outcome", 0.3), missing="impute")
    assert "not guessed" in str(info.value)


def test_a_default_refusal_caused_by_labels_says_impute_cannot_fill_them():
    with pytest.raises(DataError, match="never imputed .*only --missing drop"):
        load(with_gaps(table(), "outcome", 0.3))


def test_missing_values_in_an_unused_column_cost_no_rows():
    frame = with_gaps(table(), "x", 0.3)
    data = load(frame, drop=("x",))
    assert data.loading.missing.rows_dropped == 0 and "x" not in data.features
    ids = table().assign(ref=[None] * 70 + [f"r{i}" for i in range(130)])
    assert load(ids).loading.missing.rows_dropped == 0


# ---- features ------------------------------------------------------------------------------------
def test_text_columns_are_encoded_and_identifiers_left_out():
    data = load(table())
    encoding = data.loading.features
    assert encoding.numeric == ["x", "amount"]
    assert set(encoding.encoded["channel"]) == {"web", "shop", "phone"}
    assert encoding.identifiers == ["ref"]
    assert {"channel=web", "channel=shop", "channel=phone"} <= set(data.features.columns)
    assert not any(name.startswith("ref") for name in data.features.columns)
    sentences = loading_sentences(data.loading)
    assert any("'channel' is one-hot encoded" in s for s in sentences)
    assert any("row identifiers" in s and "'ref'" in s for s in sentences)


def test_declared_integer_codes_are_encoded_and_undeclared_ones_are_numbers():
    frame = table(region=np.arange(200) % 4 + 1)
    assert "region" in load(frame).features.columns
    coded = load(frame, categorical=("region",))
    assert coded.loading.features.encoded["region"] == ["1", "2", "3", "4"]
    assert "region" not in coded.features.columns and "region=3" in coded.features.columns


def test_columns_and_drop_choose_the_features():
    chosen = load(table(), columns=("x", "channel"), amount="amount")
    assert chosen.loading.features.numeric == ["x"]
    assert chosen.loading.not_listed == ["amount", "ref"]
    np.testing.assert_allclose(chosen.amount, table()["amount"])  # still the amount rule's
    dropped = load(table(), drop=("channel", "amount"), amount="amount")
    assert list(dropped.features.columns) == ["x"]
    assert dropped.loading.dropped == ["channel", "amount"]
    assert any("Left out with --drop: 'channel' and 'amount'" in s
               for s in loading_sentences(dropped.loading))


@pytest.mark.parametrize(("option", "value"), [
    ("columns", ("x", "nope")), ("drop", ("nope",)), ("categorical", ("nope",))])
def test_unknown_column_names_are_one_line_errors(option, value):
    with pytest.raises(DataError, match=f"--{option} names 'nope', not a column of t.csv"):
        load(table(), **{option: value})


@pytest.mark.parametrize(("options", "message"), [
    (dict(columns=("x",), drop=("x",)), "--columns and --drop both name 'x'"),
    (dict(categorical=("x",), drop=("x",)), "--categorical and --drop both name 'x'"),
    (dict(columns=("outcome", "x")), "--columns names 'outcome', which is the --target"),
    (dict(drop=("t",), time="t"), "--drop names 't', which is the --time column"),
    (dict(categorical=("c",), cluster="c"), "--categorical names 'c', which is the --cluster"),
    (dict(columns=("x",), categorical=("y",)), "--categorical names 'y', which --columns"),
])
def test_contradicting_column_options_are_config_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        CalibrationConfig(data="t.csv", target="outcome", **options)


@pytest.mark.parametrize("options", [dict(positive="yes"), dict(missing="drop"),
                                     dict(columns=("x",)), dict(sep=";"), dict(encoding="cp1252")])
def test_options_about_the_file_need_a_file(options):
    with pytest.raises(ConfigError, match="describes? your --data file"):
        CalibrationConfig.from_options(**options)


# ---- file dialects -------------------------------------------------------------------------------
def test_a_semicolon_latin1_file_with_a_bom_is_read_and_recorded(tmp_path):
    frame = table(n=60).assign(channel=np.resize(["café", "Zürich", "shop"], 60))
    path = tmp_path / "export.csv"
    text = frame.to_csv(sep=";", index=False, decimal=",")
    path.write_bytes(codecs.BOM_UTF8 + text.encode("latin-1"))
    data = load_data(CalibrationConfig(data=str(path), target="outcome", quick=True))
    reading = data.loading.reading
    assert (reading.delimiter, reading.encoding, reading.decimal, reading.byte_order_mark) == (
        "semicolon", "latin-1", ",", True)
    assert reading.detected == ["delimiter", "encoding", "decimal mark"]
    assert "channel=café" in data.features.columns
    np.testing.assert_allclose(data.features["x"], frame["x"])
    sentence = loading_sentences(data.loading)[0]
    assert sentence == ("The file was read as semicolon-separated Latin-1 text with decimal "
                        "commas, after a UTF-8 byte-order mark; the delimiter, encoding and "
                        "decimal mark were detected.")


def test_given_sep_and_encoding_are_used_and_said(tmp_path):
    path = tmp_path / "export.txt"
    path.write_bytes(table(n=40).to_csv(sep="|", index=False).encode("cp1252"))
    data = load_data(CalibrationConfig(data=str(path), target="outcome", sep="pipe",
                                       encoding="cp1252"))
    reading = data.loading.reading
    assert (reading.delimiter, reading.encoding, reading.detected) == ("pipe", "cp1252", [])
    assert loading_sentences(data.loading)[0] == (
        "The file was read as pipe-separated Windows-1252 text; --sep and --encoding were given.")


def test_a_dataframe_has_no_dialect_to_state():
    assert load(table()).loading.reading is None
    assert FileReading.from_attrs({}) is None


# ---- the words -----------------------------------------------------------------------------------
def loading_record(**missing):
    values = dict(policy="drop", default=False, max_dropped_share=0.05, rows_before=100,
                  rows_after=100, rows_dropped=0, missing_by_column={}, filled_with={},
                  dropped_for=[])
    values.update(missing)
    return DataLoading(reading=None, labels=LabelMapping("y", "1", "0", "numeric"),
                       missing=MissingHandling(**values),
                       features=EncodingReport(["a"], {}, {}, []), dropped=[], not_listed=[])


def test_the_words_follow_the_record():
    assert loading_sentences(None) == []
    sentences = loading_sentences(loading_record())
    assert sentences[0] == ("The target 'y' holds '1' and '0': '1' is read as fraud (1) and '0' "
                            "as genuine (0), as 0/1 numbers.")
    assert sentences[1] == "No value is missing in the columns used."
    explicit = loading_sentences(loading_record(rows_after=90, rows_dropped=10,
                                                missing_by_column={"a": 10}))[1]
    assert "were dropped (with --missing drop)" in explicit
    default = loading_sentences(loading_record(default=True, rows_after=97, rows_dropped=3,
                                               missing_by_column={"a": 3}))[1]
    assert "were dropped (by default, as they are at most 5% of the rows)" in default


# ---- user text stays text ------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.usefixtures("calibration_only")
def test_label_values_levels_and_names_stay_inert_in_the_report(tmp_path, capsys):
    import re

    from casestudies.cli import main

    rng = np.random.default_rng(0)
    n = 3000
    signal = rng.normal(size=n)
    fraud = rng.random(n) < 1 / (1 + np.exp(-(2 * signal - 3)))
    frame = pd.DataFrame({
        "*zq*": np.where(fraud, "[zq](javascript:alert(1))", "<b>zq</b>"),
        "$\\foo$": signal + rng.normal(size=n),
        "{{ zq }}": rng.choice(["<script>zq</script>", "_zq_", "$$", "`zq`"], n),
        "id <em>": [f"**zq**{i}" for i in range(n)],
    })
    frame.loc[frame.index[:30], "$\\foo$"] = np.nan
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    code = main(["calibration", "--data", str(path), "--target", "*zq*", "--positive",
                 "[zq](javascript:alert(1))", "--out", str(out), "--quick", "--bootstrap", "20",
                 "--quiet"])
    assert code == 0, capsys.readouterr().err
    html = (out / "calibration.html").read_text(encoding="utf-8")
    assert "<script" not in html and "javascript:alert" not in re.sub(r"\s", "", "".join(
        re.findall(r"""href\s*=\s*["']?([^"' >]*)""", html)))
    for tag in ("em", "strong", "code", "b"):
        assert f"<{tag}>zq</{tag}>" not in html
    assert not re.search(r"<math[^>]*>(?:(?!</math>).)*foo", html, flags=re.S)
    assert "one-hot encoded" in html and "row identifiers" in html and "were dropped" in html
