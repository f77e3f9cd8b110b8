"""The whole study on real tables that ship inside installed packages, written to CSV as a user
would have them: a small table (iris), a semicolon-separated Latin-1 file with a byte-order mark
and decimal commas (wine), and a table with text columns, integer codes, an identifier column and
a few missing cells (Carseats). Quick mode with the smallest settings; each test asserts what the
result says the run did, and that the report says it too."""

import json
import re

import numpy as np
import pandas as pd
import pytest

import casestudies
from casestudies.report.numbers import report_text, unexplained_numbers

# The smallest settings that still run every part of the study.
SMALL = dict(quick=True, quiet=True, no_sklearn=True, pitfall_points=50,
             parallel_analysis_draws=2)


def _run(tmp_path, path, **options):
    result = casestudies.run("clustering", data=str(path), **SMALL, **options)
    html_path, json_path = casestudies.write_report(result, tmp_path / "out")
    html = html_path.read_text(encoding="utf-8")
    payload = json.loads(json_path.read_text(encoding="utf-8"))
    assert unexplained_numbers(html, payload) == []
    return result, report_text(html), payload["result"]


def _settings(result):
    return {a.setting: a for a in result.adaptations}


@pytest.mark.slow
def test_iris_is_small_data_with_a_smaller_analysis(tmp_path):
    """150 flowers: the quick sweep's perplexity 100 needs 302 rows, so the sweep keeps 5 and
    30; the scorecard scores every row."""
    from sklearn.datasets import load_iris

    bunch = load_iris(as_frame=True)
    table = bunch.frame.assign(species=bunch.target_names[bunch.frame.pop("target")])
    path = tmp_path / "iris.csv"
    table.to_csv(path, index=False)
    result, text, payload = _run(tmp_path, path, label="species")
    assert result.n_rows == 150 and result.n_features == 4
    assert result.config.perplexities == (5.0, 30.0) and result.config.main_perplexity == 30.0
    sweep = _settings(result)["perplexity sweep"]
    assert sweep.default == [5.0, 30.0, 100.0] and sweep.limit == 49
    assert _settings(result)["rows of the faithfulness scorecard"].used == [150]
    assert result.metric_rows == 150 and result.segment_sizes == {
        "setosa": 50, "versicolor": 50, "virginica": 50}
    assert [a["setting"] for a in payload["adaptations"]] == list(_settings(result))
    assert "A smaller analysis for a small table" in text
    assert "perplexity sweep (--perplexities): 5, 30 instead of the default 5, 30, 100" in text
    assert "150 rows allow perplexities up to 49" in text


@pytest.mark.slow
def test_wine_as_a_semicolon_latin1_file_with_a_bom(tmp_path):
    """178 wines of three cultivars, written as a spreadsheet in continental Europe might: a
    UTF-8 byte-order mark, then Latin-1 text with semicolons and decimal commas."""
    from sklearn.datasets import load_wine

    bunch = load_wine(as_frame=True)
    names = np.array(["cépage 1", "cépage 2", "cépage 3"])
    table = bunch.frame.assign(cépage=names[bunch.frame.pop("target")])
    path = tmp_path / "vins.csv"
    text = table.to_csv(index=False, sep=";", decimal=",")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("latin-1"))
    result, text, payload = _run(tmp_path, path, label="cépage")
    reading = result.reading
    assert (reading.delimiter, reading.encoding, reading.decimal) == ("semicolon", "latin-1",
                                                                      "comma")
    assert sorted(reading.detected) == ["decimal", "encoding", "sep"]
    assert payload["reading"]["delimiter"] == "semicolon"
    assert result.n_rows == 178 and result.n_features == 13
    assert set(result.segment_sizes) == set(names)
    assert result.preprocessing.numeric[0] == "alcohol"  # the mark is not part of the name
    assert ("read as semicolon-separated text (detected), encoding Latin-1 (detected; the file "
            "is not valid UTF-8), decimal comma (detected)") in text
    assert "178 rows allow perplexities up to 58" in text


@pytest.mark.slow
def test_carseats_with_text_columns_codes_an_identifier_and_gaps(tmp_path):
    """ISLP's Carseats (400 stores): three text columns, education as an integer code, plus a
    store id the user did not name (left out as an identifier) and 8 missing incomes (2 %,
    dropped by default)."""
    islp = pytest.importorskip("ISLP")
    table = islp.load_data("Carseats")
    table.insert(0, "store", [f"store-{i:03d}" for i in range(len(table))])
    table.loc[np.arange(8) * 50, "Income"] = np.nan
    path = tmp_path / "carseats.csv"
    table.to_csv(path, index=False)
    result, text, payload = _run(tmp_path, path, categorical="Education")
    missing = result.reading.missing
    assert (missing.rows_before, missing.rows_after) == (400, 392)
    assert missing.missing_by_column == {"Income": 8} and missing.default
    assert result.n_rows == 392
    assert result.preprocessing.identifiers == ["store"]
    assert result.preprocessing.one_hot == {"ShelveLoc": 3, "Education": 9, "Urban": 2, "US": 2}
    assert result.preprocessing.codes == ["Education"]
    assert not any(name.startswith("store") for name in result.feature_names)
    # The quick sweep (5, 30, 100) fits 392 rows: only the scorecard sample shrinks.
    assert list(_settings(result)) == ["rows of the faithfulness scorecard"]
    assert payload["reading"]["missing"]["missing_by_column"] == {"Income": 8}
    assert ("dropped 8 of 400 rows with a missing value (default); missing cells per column: "
            "'Income': 8") in text
    assert "left out as identifiers" in text and "integer codes one-hot encoded" in text


@pytest.mark.slow
def test_hostile_names_in_what_the_loader_did_stay_inert(tmp_path):
    """Column names quoted in the data section's notes (missing cells, identifiers, codes) are
    shown as text, never as markup."""
    rng = np.random.default_rng(3)
    n = 120
    gaps, ident, code = "<script>zq</script>", "[zq](javascript:alert(1))", "**zq** $\\foo$"
    table = pd.DataFrame({gaps: rng.normal(size=n), "b": rng.normal(size=n),
                          ident: [f"id{i}" for i in range(n)],
                          code: rng.integers(1, 4, n), "_zq_": rng.choice(["u", "v"], n)})
    table.loc[:2, gaps] = np.nan
    path = tmp_path / "hostile.csv"
    table.to_csv(path, index=False)
    result, text, _ = _run(tmp_path, path, categorical=code)
    assert result.reading.missing.missing_by_column == {gaps: 3}
    assert result.preprocessing.identifiers == [ident] and result.preprocessing.codes == [code]
    html = (tmp_path / "out" / "clustering.html").read_text(encoding="utf-8")
    assert "<script" not in html
    assert not [href for href in re.findall(r"""href\s*=\s*["']?([^"' >]*)""", html)
                if "javascript:" in href]
    for tag in ("em", "strong", "b"):
        assert f"<{tag}>zq</{tag}>" not in html
    assert f"missing cells per column: {gaps!r}: 3" in text
