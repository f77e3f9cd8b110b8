"""Binary labels, missing values and categorical columns of a user's table (casestudies.tables)."""

import numpy as np
import pandas as pd
import pytest

from casestudies.errors import ConfigError, DataError
from casestudies.tables import (
    MAX_DROPPED_SHARE,
    binary_labels,
    encode_features,
    handle_missing,
    is_identifier,
)


@pytest.mark.parametrize("values, expected", [
    (["yes", "no", "no", "yes"], [1, 0, 0, 1]),
    ([" Yes", "NO ", "no", "YES"], [1, 0, 0, 1]),
    (["pos", "neg", "neg"], [1, 0, 0]),
    (["Positive", "negative"], [1, 0]),
    (["y", "n", "n"], [1, 0, 0]),
    (["TRUE", "false"], [1, 0]),
    ([True, False, False], [1, 0, 0]),
    ([1, 0, 0, 1], [1, 0, 0, 1]),
    ([1.0, 0.0], [1, 0]),
    (["1", "0", "0"], [1, 0, 0]),
    (["no", "no"], [0, 0]),
])
def test_usual_label_pairs_are_recognised(values, expected):
    labels, mapping = binary_labels(pd.Series(values), "outcome")
    assert labels.tolist() == expected
    assert mapping.column == "outcome"


def test_the_mapping_says_what_became_one():
    _, mapping = binary_labels(pd.Series([" Yes", "no"]), "outcome")
    assert (mapping.positive, mapping.negative, mapping.how) == ("Yes", "no", "recognised pair")
    assert mapping.describe() == "target 'outcome': 'Yes' read as 1; 'no' as 0 (recognised pair)"


def test_positive_names_any_label_and_overrides_the_usual_reading():
    labels, mapping = binary_labels(pd.Series(["fraud", "legit", "Fraud"]), "c", positive="fraud")
    assert labels.tolist() == [1, 0, 1] and mapping.how == "--positive"
    labels, _ = binary_labels(pd.Series([1, 0, 0]), "c", positive=0)
    assert labels.tolist() == [0, 1, 1]
    labels, _ = binary_labels(pd.Series([1.0, 0.0]), "c", positive="1")
    assert labels.tolist() == [1, 0]


def test_two_unknown_labels_ask_for_positive_and_list_both():
    with pytest.raises(DataError, match=r"holds 'fraud', 'legit'; say which value is the "
                                        r"positive class with --positive") as info:
        binary_labels(pd.Series(["legit", "fraud"]), "outcome")
    assert "\n" not in str(info.value)


def test_more_than_two_labels_and_a_wrong_positive_are_errors():
    with pytest.raises(DataError, match="must have two values .* it has 3: 'a', 'b', 'c'"):
        binary_labels(pd.Series(["a", "b", "c"]), "outcome")
    with pytest.raises(DataError, match="holds '0', '2'; say which value .* --positive '2'"):
        binary_labels(pd.Series([0, 2, 2]).astype(float), "outcome")
    with pytest.raises(ConfigError, match="--positive 'maybe' is not a value of target column"):
        binary_labels(pd.Series(["yes", "no"]), "outcome", positive="maybe")
    with pytest.raises(DataError, match="1 missing values"):
        binary_labels(pd.Series(["yes", None]), "outcome")


def _table(rows=100, missing=3):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=rows), "city": rng.choice(["a", "b"], rows),
                          "unused": np.nan})
    frame.loc[: missing - 1, "x"] = np.nan
    frame.loc[missing: 2 * missing - 1, "city"] = None
    return frame


def test_the_default_drops_a_few_incomplete_rows_and_says_so():
    kept, report = handle_missing(_table(missing=2), ["x", "city"])
    assert len(kept) == 96 and report.rows_dropped == 4 and report.default
    assert report.missing_by_column == {"x": 2, "city": 2}
    assert report.describe() == ("dropped 4 of 100 rows with a missing value (default); missing "
                                 "cells per column: 'x': 2, 'city': 2")
    assert kept.index.tolist() == list(range(96))


def test_the_default_refuses_many_incomplete_rows_naming_columns_and_option():
    frame = _table(missing=15)
    assert 0.30 > MAX_DROPPED_SHARE
    with pytest.raises(DataError, match=r"30% of rows have a missing value \(in 'x' \(15 of "
                                        r"100\), 'city' \(15 of 100\)\).*--missing drop or "
                                        r"--missing impute") as info:
        handle_missing(frame, ["x", "city"])
    assert "\n" not in str(info.value)
    kept, report = handle_missing(frame, ["x", "city"], policy="drop")
    assert len(kept) == 70 and not report.default


def test_columns_the_study_does_not_use_are_ignored():
    kept, report = handle_missing(_table(missing=0), ["x", "city"])
    assert len(kept) == 100 and report.missing_by_column == {}


def test_error_policy_refuses_any_missing_value():
    with pytest.raises(DataError, match="missing values in 'x' \\(1 of 100\\)"):
        handle_missing(_table(missing=1), ["x"], policy="error")


def test_impute_uses_the_median_and_the_most_frequent_value():
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0, 10.0], "c": ["b", "a", None, "b"]})
    filled, report = handle_missing(frame, ["x", "c"], policy="impute")
    assert filled["x"].tolist() == [1.0, 3.0, 3.0, 10.0]
    assert filled["c"].tolist() == ["b", "a", "b", "b"]
    assert report.filled_with == {"x": 3.0, "c": "b"} and report.rows_dropped == 0
    assert len(filled.columns) == 2  # nothing added, such as indicator columns


def test_impute_on_an_empty_column_and_an_unknown_policy_are_errors():
    with pytest.raises(DataError, match="no values at all"):
        handle_missing(pd.DataFrame({"x": [np.nan, np.nan]}), ["x"], policy="impute")
    with pytest.raises(ConfigError, match="--missing must be one of error, drop, impute"):
        handle_missing(_table(), ["x"], policy="fill")


def test_text_columns_are_one_hot_encoded_and_identifiers_left_out():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "amount": rng.normal(size=50),
        "channel": rng.choice(["web", "shop", "phone"], 50, p=[0.6, 0.3, 0.1]),
        "customer_id": [f"c{i:03d}" for i in range(50)],
        "region": rng.integers(1, 4, 50),
    })
    features, report = encode_features(frame, ["amount", "channel", "customer_id", "region"],
                                       categorical=["region"])
    assert report.identifiers == ["customer_id"]
    assert report.numeric == ["amount"]
    assert set(report.encoded) == {"channel", "region"}
    assert report.encoded["channel"][0] == "web"  # most frequent first
    np.testing.assert_array_equal(features[[c for c in features if c.startswith("channel=")]]
                                  .sum(axis=1), 1.0)
    assert "customer_id" in report.describe()
    assert all(pd.api.types.is_float_dtype(d) for d in features.dtypes)


def test_rare_levels_are_pooled_into_other():
    frame = pd.DataFrame({"c": [f"l{i % 15}" for i in range(300)]})
    features, report = encode_features(frame, ["c"], max_levels=10)
    assert len(report.encoded["c"]) == 10 and report.pooled == {"c": 5}
    assert features["c=other"].sum() == 100
    assert features.shape[1] == 11


def test_identifiers_need_nearly_all_values_distinct_in_a_large_enough_table():
    assert is_identifier(pd.Series([f"id{i}" for i in range(100)]))
    assert is_identifier(pd.Series(range(100)))
    assert not is_identifier(pd.Series(np.linspace(0, 1, 100)))  # a measurement
    assert not is_identifier(pd.Series([f"id{i}" for i in range(10)]))  # too few rows to say
    assert not is_identifier(pd.Series([f"id{i % 50}" for i in range(100)]))


def test_declaring_an_unknown_categorical_and_leaving_nothing_are_errors():
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(30)], "x": range(30)})
    with pytest.raises(ConfigError, match="--categorical names columns that are not features"):
        encode_features(frame, ["x"], categorical=["y"])
    with pytest.raises(DataError, match="no feature columns are left"):
        encode_features(frame, ["id"])


def test_the_table_options_parse_and_refuse_like_every_option():
    import argparse
    import dataclasses

    from casestudies.config import (
        StudyConfig,
        categorical_option,
        encoding_option,
        missing_option,
        positive_option,
        sep_option,
    )

    @dataclasses.dataclass(frozen=True)
    class TableConfig(StudyConfig):
        sep: str | None = sep_option()
        encoding: str | None = encoding_option()
        missing: str | None = missing_option()
        positive: str | None = positive_option()
        categorical: tuple[str, ...] = categorical_option()

    config = TableConfig.from_options(sep="semicolon", encoding="CP1252", missing="impute",
                                      positive="yes", categorical="region,tier")
    assert (config.sep, config.encoding, config.missing, config.positive, config.categorical) == (
        ";", "cp1252", "impute", "yes", ("region", "tier"))
    assert TableConfig().sep is None and TableConfig().missing is None
    parser = argparse.ArgumentParser()
    TableConfig.add_arguments(parser)
    assert "drop when at most 5% of rows have one" in " ".join(parser.format_help().split())
    for bad, message in [({"sep": "::"}, "--sep must be one of"),
                         ({"encoding": "x-klingon"}, "--encoding 'x-klingon' is not"),
                         ({"missing": "fill"}, "missing must be one of")]:
        with pytest.raises(ConfigError, match=message):
            TableConfig.from_options(**bad)
