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


# ---- hostile files ---------------------------------------------------------------------------
@pytest.mark.parametrize(("content", "message"), [
    (b"\x1f\x8b\x08\x00rest", "gzip-compressed; decompress it first"),
    (b"PK\x03\x04rest", "Excel .xlsx workbook; save the sheet as CSV"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "an Excel .xls workbook"),
])
def test_binary_formats_say_what_they_are(tmp_path, content, message):
    path = tmp_path / "table.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_table(path)


def test_latin1_and_bom_files_are_read(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("ville,montant\nMontréal,1.5\nZürich,2\n".encode("latin-1"))
    frame = read_table(latin)
    assert list(frame["ville"]) == ["Montréal", "Zürich"]
    assert frame.attrs["encoding"] == "latin-1"
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffx,y\n1,2\n".encode())
    assert list(read_table(bom).columns) == ["x", "y"]


def test_parquet_with_another_suffix_is_read_as_parquet(tmp_path, frame):
    path = tmp_path / "table.csv"
    frame.to_parquet(path)
    pd.testing.assert_frame_equal(read_table(path), frame)


def test_duplicate_column_names_are_an_error_naming_them(tmp_path):
    path = tmp_path / "dupes.csv"
    path.write_text("x,is_fraud,is_fraud\n1,0,0\n2,1,1\n")
    with pytest.raises(DataError, match=r"duplicate column names: 'is_fraud' \(2 times\)"):
        read_table(path)
    from casestudies.io import InMemoryTable

    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DataError, match="duplicate column names: 'a'"):
        read_table(InMemoryTable(frame))


def test_values_beyond_the_overflow_bound_are_an_error(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("x,y\n1,2\n1e200,3\n")
    with pytest.raises(DataError, match=r"column 'x' of huge.csv has values as large as 1e\+200"):
        read_table(path)


# ---- writing a report's two files together ----------------------------------------------------
def test_pair_write_restores_the_previous_pair_when_a_rename_fails(tmp_path, monkeypatch):
    import os

    from casestudies import io

    first, second = tmp_path / "study.json", tmp_path / "study.html"
    io.atomic_write_files({first: "old json", second: "old html"})
    real_replace = os.replace

    def failing_replace(source, destination):
        if str(destination) == str(second):
            raise OSError("disk full")
        return real_replace(source, destination)

    monkeypatch.setattr(io.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        io.atomic_write_files({first: "new json", second: "new html"})
    monkeypatch.setattr(io.os, "replace", real_replace)
    assert first.read_text() == "old json" and second.read_text() == "old html"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.html", "study.json"]


def test_pair_write_removes_a_new_file_when_the_pair_fails(tmp_path, monkeypatch):
    import os

    from casestudies import io

    first, second = tmp_path / "a.json", tmp_path / "a.html"
    real_replace = os.replace
    monkeypatch.setattr(io.os, "replace", lambda s, d: (_ for _ in ()).throw(OSError("no"))
                        if str(d) == str(second) else real_replace(s, d))
    with pytest.raises(OSError):
        io.atomic_write_files({first: "json", second: "html"})
    assert list(tmp_path.iterdir()) == []


# ---- dates that read two ways ------------------------------------------------------------------
@pytest.mark.parametrize(("values", "message"), [
    (["03/04/2024", "05/06/2024", "13/06/2024"], "mixes date formats|day-first and month-first"),
    (["03/04/2024", "05/06/2024"], "2 date\\(s\\) that read differently day-first and month-first"),
    (["2024-01-31"] * 20 + ["31/01/2024"] * 2, "mixes date formats"),
])
def test_ambiguous_or_mixed_dates_ask_for_a_format(values, message):
    with pytest.raises(DataError, match=message) as info:
        datetime_column(pd.DataFrame({"t": values}), "t")
    assert "--time-format" in str(info.value)


def test_unambiguous_dates_and_a_given_format_are_read():
    iso = datetime_column(pd.DataFrame({"t": ["2024-01-31", "2024-02-01 10:00"]}), "t")
    assert list(iso) == [pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-01 10:00")]
    month_first = datetime_column(pd.DataFrame({"t": ["01/31/2024", "02/28/2024"]}), "t")
    assert list(month_first.dt.month) == [1, 2]
    day_first = datetime_column(pd.DataFrame({"t": ["03/04/2024"]}), "t", time_format="%d/%m/%Y")
    assert day_first.iloc[0] == pd.Timestamp("2024-04-03")


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_the_delimiter_is_detected(tmp_path, sep):
    path = tmp_path / "table.csv"
    path.write_text(sep.join(["id", "amount", "label"]) + "\n"
                    + "\n".join(sep.join([str(i), f"{i}.5", "yes"]) for i in range(5)) + "\n")
    frame = read_table(path)
    assert list(frame.columns) == ["id", "amount", "label"]
    assert frame["amount"].tolist() == [0.5, 1.5, 2.5, 3.5, 4.5]
    assert frame.attrs["sep"] == sep
    assert "sep" in frame.attrs["detected"]


def test_a_semicolon_latin1_file_with_decimal_commas_is_read(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes("ville;montant;fraude\nMontréal;1,5;oui\nZürich;2,25;non\n"
                     "Genève;3;non\n".encode("latin-1"))
    frame = read_table(path)
    assert list(frame.columns) == ["ville", "montant", "fraude"]
    assert frame["montant"].tolist() == [1.5, 2.25, 3.0]
    assert frame["ville"].tolist() == ["Montréal", "Zürich", "Genève"]
    assert (frame.attrs["sep"], frame.attrs["decimal"], frame.attrs["encoding"]) == (
        ";", ",", "latin-1")


def test_a_semicolon_file_with_a_bom_is_read(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffx;y\n1.5;2\n3;4\n".encode())
    frame = read_table(path)
    assert list(frame.columns) == ["x", "y"]
    assert frame["x"].tolist() == [1.5, 3.0]
    assert frame.attrs["decimal"] == "."


def test_a_latin1_file_behind_a_utf8_bom_loses_the_mark(tmp_path):
    path = tmp_path / "bom-latin.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "ville;montant\nMontréal;1,5\nZürich;2\n".encode("latin-1"))
    frame = read_table(path)
    assert list(frame.columns) == ["ville", "montant"]
    assert frame["ville"].tolist() == ["Montréal", "Zürich"]
    assert frame.attrs["encoding"] == "latin-1" and frame.attrs["decimal"] == ","
    plain = tmp_path / "latin.csv"
    plain.write_bytes("ïx;y\n1;2\n".encode("latin-1"))  # a name that merely starts with ï
    assert list(read_table(plain).columns) == ["ïx", "y"]


def test_quoted_delimiters_do_not_fool_the_detection(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text('name,note\n"Smith; John","a; b; c"\n"Doe; Jane","d"\n')
    frame = read_table(path)
    assert frame["name"].tolist() == ["Smith; John", "Doe; Jane"]
    assert frame.attrs["sep"] == ","


def test_a_one_column_file_is_read_with_commas(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("y\n1\n2\n3\n")
    frame = read_table(path)
    assert list(frame.columns) == ["y"] and frame.attrs["sep"] == ","


def test_given_sep_and_encoding_override_the_detection(tmp_path):
    path = tmp_path / "pipes.txt"
    path.write_bytes("a|b;c\n1|2;3\n".encode("cp1252"))
    frame = read_table(path, sep="pipe", encoding="cp1252")
    assert list(frame.columns) == ["a", "b;c"]
    assert frame.attrs["detected"] == []
    assert read_table(path, sep=";").columns.tolist() == ["a|b", "c"]
    assert read_table(path, sep="\\t").attrs["sep"] == "\t"


def test_a_wrong_encoding_or_separator_is_a_one_line_error(tmp_path):
    from casestudies.errors import ConfigError

    path = tmp_path / "latin.csv"
    path.write_bytes("ville,montant\nMontréal,1.5\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"not utf-8 text; give another --encoding") as info:
        read_table(path, encoding="utf-8")
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="--encoding 'klingon' is not a text encoding"):
        read_table(path, encoding="klingon")
    with pytest.raises(ConfigError, match="--sep must be one of"):
        read_table(path, sep="::")
