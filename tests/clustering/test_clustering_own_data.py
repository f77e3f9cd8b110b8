"""A user's table as it comes: dialects, missing values, identifier and code columns, --columns.

These tests stop after loading (no maps), so they are fast; the whole run on real tables is in
test_clustering_real_tables.py.
"""

import numpy as np
import pandas as pd
import pytest

from casestudies.clustering.config import ClusteringConfig
from casestudies.clustering.data import load_data
from casestudies.errors import ConfigError, DataError


def _table(n=100, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "customer_id": [f"c{i:04d}" for i in range(n)],
        "orders": rng.poisson(5, n),
        "spend": rng.lognormal(3, 1, n).round(2),
        "channel": rng.choice(["web", "store", "app"], n),
        "region_code": rng.choice([11, 22, 33, 44], n),
        "segment": rng.choice(["x", "y"], n),
    })


def _load(path, **options):
    return load_data(ClusteringConfig.from_options(data=str(path), **options))


def _write(tmp_path, table, name="t.csv"):
    path = tmp_path / name
    table.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("missing, message", [
    (3, "dropped 3 of 100 rows with a missing value (default); missing cells per column: "
        "'spend': 3"),
    (5, "dropped 5 of 100 rows"),
])
def test_a_few_missing_values_drop_their_rows_and_say_so(tmp_path, missing, message):
    table = _table()
    table.loc[:missing - 1, "spend"] = np.nan
    data = _load(_write(tmp_path, table), id="customer_id")
    assert data.n_rows == 100 - missing
    assert data.reading.missing.missing_by_column == {"spend": missing}
    assert any(message in sentence for sentence in data.reading.sentences())


def test_many_missing_values_stop_the_run_unless_a_policy_is_chosen(tmp_path):
    table = _table()
    table.loc[:29, "spend"] = np.nan
    path = _write(tmp_path, table)
    with pytest.raises(DataError, match=r"'spend' \(30 of 100\).*--missing") as error:
        _load(path, id="customer_id")
    assert "\n" not in str(error.value)
    assert _load(path, id="customer_id", missing="drop").n_rows == 70
    imputed = _load(path, id="customer_id", missing="impute")
    assert imputed.n_rows == 100
    median = float(table["spend"].median())
    assert imputed.reading.missing.filled_with == {"spend": median}
    assert imputed.table["spend"].iloc[0] == median
    with pytest.raises(DataError, match="--missing drop or --missing impute"):
        _load(path, missing="error")


def test_missing_values_outside_the_columns_used_are_ignored(tmp_path):
    table = _table()
    table.loc[:49, "channel"] = None
    data = _load(_write(tmp_path, table), drop="channel")
    assert data.n_rows == 100 and data.reading.missing.missing_by_column == {}


def test_impute_fills_categories_with_the_most_frequent_level(tmp_path):
    table = _table()
    table.loc[:9, "channel"] = None
    top = table["channel"].iloc[10:].value_counts().idxmax()
    data = _load(_write(tmp_path, table), missing="impute")
    assert data.reading.missing.filled_with == {"channel": top}
    assert "imputed missing cells ('channel': 10)" in " ".join(data.reading.sentences())


@pytest.mark.parametrize("missing_labels, rows", [(4, 96), (5, 95)])
def test_a_label_is_never_imputed(tmp_path, missing_labels, rows):
    table = _table()
    table.loc[:missing_labels - 1, "segment"] = None
    table.loc[50:59, "spend"] = np.nan
    data = _load(_write(tmp_path, table), label="segment", missing="impute")
    assert data.n_rows == rows and "nan" not in set(data.labels)
    assert data.reading.key_missing.rows_dropped == missing_labels
    assert data.reading.missing.missing_by_column == {"spend": 10}
    assert any("never imputed" in sentence for sentence in data.reading.sentences())


def test_a_label_missing_in_many_rows_stops_an_imputing_run(tmp_path):
    table = _table()
    table.loc[:5, "segment"] = None  # 6 %
    with pytest.raises(DataError, match=r"'segment' \(6 of 100\)\), which are never imputed"):
        _load(_write(tmp_path, table), label="segment", missing="impute")


def test_identifier_columns_are_left_out_with_a_note(tmp_path):
    table = _table().assign(email=lambda t: t["customer_id"] + "@example.org",
                            row_number=np.arange(100))
    data = _load(_write(tmp_path, table), id="customer_id")
    assert data.preprocessing.identifiers == ["email", "row_number"]
    assert not any(name.startswith(("email", "row_number")) for name in data.feature_names)
    # Named in --columns, a column is mapped whatever its values (row numbers as a number).
    named = _load(_write(tmp_path, table), columns="orders,spend,row_number")
    assert named.preprocessing.identifiers == [] and "row_number" in named.feature_names


def test_a_column_with_repeated_values_is_no_identifier(tmp_path):
    table = _table().assign(store=[f"s{i % 10}" for i in range(100)])
    data = _load(_write(tmp_path, table), id="customer_id")
    assert data.preprocessing.identifiers == [] and data.preprocessing.one_hot["store"] == 10


def test_integer_codes_are_encoded_as_categories_when_declared(tmp_path):
    path = _write(tmp_path, _table())
    plain = _load(path, id="customer_id")
    assert "region_code" in plain.preprocessing.numeric
    coded = _load(path, id="customer_id", categorical="region_code")
    assert coded.preprocessing.one_hot["region_code"] == 4
    assert coded.preprocessing.codes == ["region_code"]
    assert "region_code=11" in coded.feature_names
    with pytest.raises(ConfigError, match="--categorical names columns that are not features"):
        _load(path, id="customer_id", categorical="customer_id")


def test_columns_chooses_the_features(tmp_path):
    data = _load(_write(tmp_path, _table()), columns="orders,spend", label="segment")
    assert data.feature_names == ["orders", "spend"]
    assert set(data.preprocessing.excluded) == {"customer_id", "channel", "region_code",
                                                "segment"}
    with pytest.raises(ConfigError, match="--id, --label or --drop leave out"):
        ClusteringConfig.from_options(data="t.csv", columns="orders,segment", label="segment")


def test_the_dialect_is_detected_and_recorded(tmp_path):
    table = _table().assign(channel=lambda t: t["channel"].str.replace("store", "magasin é"))
    path = tmp_path / "semicolons.csv"
    path.write_bytes(table.to_csv(index=False, sep=";", decimal=",").encode("latin-1"))
    data = _load(path, id="customer_id")
    reading = data.reading
    assert (reading.delimiter, reading.encoding, reading.decimal) == ("semicolon", "latin-1",
                                                                      "comma")
    assert sorted(reading.detected) == ["decimal", "encoding", "sep"]
    assert reading.sentences()[0] == ("read as semicolon-separated text (detected), encoding "
                                      "Latin-1 (detected; the file is not valid UTF-8), decimal "
                                      "comma (detected)")
    assert data.table["spend"].dtype == float and "magasin é" in set(data.table["channel"])
    given = _load(path, id="customer_id", sep="semicolon", encoding="latin-1").reading
    assert given.sentences()[0].startswith("read as semicolon-separated text (given with "
                                           "--sep), encoding Latin-1 (given with --encoding)")


def test_a_parquet_table_has_no_dialect(tmp_path):
    path = tmp_path / "t.parquet"
    _table().to_parquet(path)
    data = _load(path, id="customer_id")
    assert data.reading.delimiter is None and data.reading.dialect_sentence() is None


def test_real_auto_with_missing_horsepower_imputed_and_origin_as_codes(tmp_path):
    """ISLP's Auto (392 cars): ``name`` is near-unique text, ``origin`` a code 1-3. The original
    table lacks horsepower for a few cars; five gaps are put back here and imputed."""
    islp = pytest.importorskip("ISLP")
    table = islp.load_data("Auto").reset_index(names="name")
    table.loc[[10, 50, 100, 200, 300], "horsepower"] = np.nan
    data = _load(_write(tmp_path, table, "auto.csv"), missing="impute", categorical="origin")
    assert data.n_rows == 392
    assert data.reading.missing.missing_by_column == {"horsepower": 5}
    assert data.reading.missing.filled_with == {
        "horsepower": float(table["horsepower"].median())}
    assert data.preprocessing.one_hot["origin"] == 3
    # 301 distinct names of 392 cars: below the identifier share, above the levels one-hot allows.
    assert data.preprocessing.identifiers == [] and data.preprocessing.dropped_many_levels == [
        "name"]


def test_a_dataframe_from_python_gets_the_same_policies():
    table = _table()
    table.loc[:1, "orders"] = np.nan
    data = load_data(ClusteringConfig.from_options(data=table, id="customer_id",
                                                   columns=["orders", "spend", "channel"]))
    assert data.n_rows == 98 and data.reading.delimiter is None
    assert data.reading.missing.missing_by_column == {"orders": 2}
    assert data.preprocessing.one_hot == {"channel": 3}
