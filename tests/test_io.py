"""Reading user tables: clear one-line errors; fingerprints; JSON conversion."""

import json

import numpy as np
import pandas as pd
import pytest

from casestudies.errors import DataError
from casestudies.io import (
    datetime_column,
    dumps_json,
    fingerprint_frame,
    numeric_column,
    read_table,
    require_columns,
)


@pytest.fixture
def frame():
    return pd.DataFrame({"amount": [1.5, 2.0, 3.25], "label": ["a", "b", "c"],
                         "ts": ["2024-01-01", "2024-01-02", "2024-01-03"]})


def test_csv_and_parquet_read_the_same_table_with_the_same_fingerprint(tmp_path, frame):
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    from_csv, from_parquet = read_table(tmp_path / "t.csv"), read_table(tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(from_csv, from_parquet, check_dtype=False)
    assert fingerprint_frame(from_csv.astype(from_parquet.dtypes.to_dict())) == \
        fingerprint_frame(from_parquet)


def test_fingerprint_changes_with_any_value(frame):
    changed = frame.copy()
    changed.loc[2, "amount"] = 3.26
    assert fingerprint_frame(frame) == fingerprint_frame(frame.copy())
    assert fingerprint_frame(frame) != fingerprint_frame(changed)
    assert len(fingerprint_frame(frame)) == 64


@pytest.mark.parametrize(("content", "message"), [
    (None, "data file not found"),
    (b"", "data file is empty"),
    (b"a,b\n", "has no rows"),
    (b'a,b\n1,"unterminated\n', "cannot read bad.csv as CSV"),
])
def test_unreadable_files_give_one_line_errors(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        read_table(path)
    assert "\n" not in str(info.value)


def test_corrupt_parquet_is_a_data_error(tmp_path):
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"this is not parquet")
    with pytest.raises(DataError, match="cannot read bad.parquet as Parquet"):
        read_table(path)


def test_directory_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="is a directory"):
        read_table(tmp_path)


def test_missing_column_names_it_and_lists_available(frame):
    with pytest.raises(DataError, match=r"column 'is_fraud' not found.*'amount', 'label'"):
        require_columns(frame, ["amount", "is_fraud"])


def test_numeric_column_reports_text_and_nan(frame):
    assert numeric_column(frame, "amount").tolist() == [1.5, 2.0, 3.25]
    with pytest.raises(DataError, match=r"'label' must be numeric.*3 value\(s\)"):
        numeric_column(frame, "label")
    frame.loc[1, "amount"] = np.inf
    with pytest.raises(DataError, match=r"1 missing or infinite value\(s\) \(first at row 1\)"):
        numeric_column(frame, "amount")


def test_datetime_column_reports_unparseable_values(frame):
    assert datetime_column(frame, "ts").dt.day.tolist() == [1, 2, 3]
    frame.loc[2, "ts"] = "not a date"
    with pytest.raises(DataError, match="do not parse as dates, e.g. 'not a date'"):
        datetime_column(frame, "ts")


def test_numeric_time_needs_a_unit():
    frame = pd.DataFrame({"t": [0, 86_400, 172_800]})
    with pytest.raises(DataError, match="time column 't' holds numbers, not dates"):
        datetime_column(frame, "t")
    parsed = datetime_column(frame, "t", numeric_unit="s")
    assert parsed.diff().dt.days.tolist()[1:] == [1, 1]


def test_mixed_time_zones_are_a_data_error():
    frame = pd.DataFrame({"t": ["2024-01-01T00:00:00+01:00", "2024-01-02T00:00:00",
                                "2024-01-03T00:00:00-05:00"]})
    with pytest.raises(DataError, match="time column 't' cannot be parsed as dates"):
        datetime_column(frame, "t")


def test_json_is_strict_and_plain():
    from dataclasses import dataclass, field

    @dataclass
    class Result:
        value: float
        array: np.ndarray
        table: pd.DataFrame
        hidden: list = field(default_factory=list, metadata={"json": False})

    text = dumps_json(Result(np.float64("nan"), np.arange(3), pd.DataFrame({"a": [1]}), [1]))
    record = json.loads(text)
    assert record == {"value": None, "array": [0, 1, 2],
                      "table": {"columns": ["a"], "index": [0], "data": [[1]]}}
