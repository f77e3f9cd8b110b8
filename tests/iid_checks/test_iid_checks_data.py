"""The data of the IID audit: the gallery's known truth, and bad input through the command line
(exit code 2, one line on stderr, nothing written)."""

import numpy as np
import pandas as pd
import pytest

from casestudies.cli import main
from casestudies.errors import DataError
from casestudies.iid_checks.data import GALLERY, prepare_table, simulate_gallery


def test_gallery_is_seeded_and_has_its_violation():
    for kind in GALLERY:
        pd.testing.assert_frame_equal(simulate_gallery(kind, 200, 3),
                                      simulate_gallery(kind, 200, 3))
    iid = simulate_gallery("iid", 2000, 0)
    strong = simulate_gallery("ar1_strong", 2000, 0)
    lag1 = lambda x: np.corrcoef(x[1:], x[:-1])[0, 1]  # noqa: E731
    assert abs(lag1(iid["x1"].to_numpy())) < 0.1
    assert lag1(strong["x1"].to_numpy()) == pytest.approx(0.9, abs=0.05)
    shift = simulate_gallery("mean_shift", 2000, 0)
    assert shift["x1"][1000:].mean() - shift["x1"][:1000].mean() == pytest.approx(1, abs=0.15)
    duplicates = simulate_gallery("duplicates", 400, 0)
    features = duplicates[["x1", "x2", "x3", "x4"]]
    assert features.duplicated().sum() >= 0.15 * 400 * 0.8
    grouped = simulate_gallery("grouped", 400, 0)
    assert (grouped.groupby("group")["x3"].nunique() == 1).all()


def test_prepare_table_skips_constant_and_identifier_columns_with_a_note():
    frame = pd.DataFrame({"t": np.arange(60), "id": np.arange(60) * 7, "const": 1.0,
                          "x": np.random.default_rng(0).normal(size=60),
                          "level": ["a", "b", "c"] * 20})
    table = prepare_table(frame, name="f", time="t")
    assert table.numeric == ["x"] and table.categorical == ["level"]
    assert any("'const' is constant" in note for note in table.notes)
    assert any("'id' looks like an identifier" in note for note in table.notes)


def test_named_integer_column_with_distinct_values_is_audited():
    frame = pd.DataFrame({"t": np.arange(60), "cents": np.arange(60) * 7 + 3,
                          "x": np.random.default_rng(0).normal(size=60)})
    assert prepare_table(frame, name="f", time="t").numeric == ["x"]
    assert prepare_table(frame, name="f", time="t", columns=("cents", "x")).numeric == [
        "cents", "x"]


def test_prepare_table_sorts_by_time_and_splits_by_column():
    frame = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=60, freq="D")[::-1],
                          "x": np.arange(60.0), "y": np.arange(60.0) % 2,
                          "side": ["train"] * 40 + ["test"] * 20})
    table = prepare_table(frame, name="f", time="when", target="y", split="side")
    assert table.frame["x"].iloc[0] == 59  # the latest date came first in the file
    assert table.task == "classification"
    assert table.is_test.sum() == 20 and table.comparison == "train vs test"


@pytest.fixture
def write_csv(tmp_path):
    def write(frame: pd.DataFrame) -> str:
        path = tmp_path / "data.csv"
        frame.to_csv(path, index=False)
        return str(path)
    return write


def _good_frame(n: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"ts": pd.date_range("2024-01-01", periods=n, freq="h").astype(str),
                         "a": rng.normal(size=n), "b": rng.normal(size=n),
                         "y": rng.normal(size=n)})


CASES = {
    "unknown column": (lambda f: f, ["--time", "nope"], "--time column 'nope' not found"),
    "unknown feature": (lambda f: f, ["--columns", "a,zz"], "--columns: column 'zz' not found"),
    "time does not parse": (lambda f: f.assign(ts=["soon", *list(f.ts[1:])]), ["--time", "ts"],
                            "do not parse as dates"),
    "too few rows": (lambda f: f.head(30), ["--time", "ts"], "the BDS test needs at least 50"),
    "mixed types": (lambda f: f.assign(b=["x", *list(f.b[1:].astype(str))]), ["--time", "ts"],
                    "mixes numbers and text"),
    "missing values": (lambda f: f.assign(a=[np.nan] * 10 + list(f.a[10:])), ["--time", "ts"],
                       "(in 'a' (10 of 80)), more than the 5% dropped by default; choose "
                       "--missing drop or --missing impute"),
    "three-valued split": (lambda f: f.assign(s=np.arange(len(f)) % 3), ["--split", "s"],
                           "exactly two values"),
    "text target": (lambda f: f.assign(y=np.arange(len(f)).astype(str) + "z"),
                    ["--target", "y"], "must be two-valued or numeric"),
    "rare class": (lambda f: f.assign(y=(np.arange(len(f)) == 70).astype(int)),
                   ["--time", "ts", "--target", "y", "--replicates", "0"],
                   "of its rarer class"),
    "time not sortable": (lambda f: f.assign(ts=["2024-01-01 00:00+01:00",
                                                 "2024-01-01 01:00"] * (len(f) // 2)),
                          ["--time", "ts"], "time column 'ts'"),
    "every feature constant": (lambda f: f.assign(a=1.0, b="same"), ["--time", "ts",
                                                                      "--target", "y"],
                               "no usable feature column"),
    "too few on a side": (lambda f: f.assign(s=np.where(np.arange(len(f)) < 75, "train",
                                                        "test")), ["--split", "s"],
                          "too few rows on the test side"),
    "few groups": (lambda f: f.assign(g=np.arange(len(f)) % 3),
                   ["--time", "ts", "--target", "y", "--group", "g", "--replicates", "0"],
                   "GroupKFold with 5 folds needs at least 5 groups"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(case, write_csv, tmp_path, capsys):
    change, options, message = CASES[case]
    path = write_csv(change(_good_frame()))
    out = tmp_path / "out"
    code = main(["iid_checks", "--data", path, "--out", str(out), "--quiet", "--quick",
                 *options])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("options", [["--alpha", "0.7"], ["--folds", "1"], ["--holdout", "0.9"],
                                     ["--permutations", "5"], ["--target", "a", "--time", "a"]])
def test_bad_options_exit_2(options, tmp_path, capsys):
    code = main(["iid_checks", "--out", str(tmp_path / "out"), "--quiet", *options])
    assert code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_mixed_time_zones_are_not_sortable():
    frame = _good_frame(60).assign(ts=["2024-01-01 00:00+01:00", "2024-01-01 01:00"] * 30)
    with pytest.raises(DataError, match="time column 'ts'"):
        prepare_table(frame, name="f", time="ts")


def test_columns_option_accepts_text_or_list():
    from casestudies.iid_checks.config import IIDConfig

    text = IIDConfig.from_options(columns="a, b")
    listed = IIDConfig.from_options(columns=["a", "b"])
    assert text.columns == listed.columns == ("a", "b")


def test_gallery_target_follows_the_stated_formula():
    from casestudies.iid_checks.data import COEFFICIENTS
    from casestudies.iid_checks.report import _linear_formula

    frame = simulate_gallery("iid", 5000, 0)
    design = np.column_stack([np.ones(5000), frame[["x1", "x2", "x3", "x4"]]])
    fitted, *_ = np.linalg.lstsq(design, frame["y"].to_numpy(), rcond=None)
    np.testing.assert_allclose(fitted[1:], COEFFICIENTS, atol=0.05)
    assert abs(fitted[0]) < 0.05
    assert _linear_formula(COEFFICIENTS) == "x_1 - 0.5x_2 + 0.5x_3 + 0.25x_4"
    assert _linear_formula(np.array([-1.0, 2.0])) == "-x_1 + 2x_2"


def test_gallery_shift_and_variance_follow_their_constants():
    from casestudies.iid_checks.data import SHIFT_SD, VARIANCE_FACTOR

    shift = simulate_gallery("mean_shift", 4000, 1)
    late = np.arange(4000) >= 2000
    for column, moved in (("x1", True), ("x2", True), ("x3", False)):
        gap = shift[column][late].mean() - shift[column][~late].mean()
        assert gap == pytest.approx(SHIFT_SD if moved else 0.0, abs=0.1)
    change = simulate_gallery("variance_change", 4000, 1)
    ratio = change["x1"][late].std() / change["x1"][~late].std()
    assert ratio == pytest.approx(VARIANCE_FACTOR, rel=0.1)


def test_a_wide_table_is_audited_on_its_first_columns_and_says_so():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(200, 150)), columns=[f"c{i}" for i in range(150)])
    table = prepare_table(frame, name="wide", max_columns=100)
    assert table.features == [f"c{i}" for i in range(100)]
    assert any("150 feature columns: the first 100" in note for note in table.notes)
    narrow = prepare_table(frame.iloc[:, :20], name="narrow", max_columns=100)
    assert len(narrow.features) == 20 and not narrow.notes
