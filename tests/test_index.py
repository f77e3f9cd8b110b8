"""reports/index.html lists the reports present with their answers, escaped."""

import json

import pytest

from casestudies.errors import DataError
from casestudies.index import write_index


def test_index_lists_present_reports_with_escaped_answers(tmp_path):
    record = {"title": "Calibration", "question": "At what score?",
              "short_answer": "Block above 0.1 <b>now</b>",
              "provenance": {"started": "2026-01-01T00:00:00+00:00", "seed": 3,
                             "data_source": "simulated"}}
    (tmp_path / "calibration.json").write_text(json.dumps(record))
    (tmp_path / "calibration.html").write_text("<html></html>")
    (tmp_path / "forecasting.json").write_text(json.dumps(record))  # no html: not listed
    html = write_index(tmp_path).read_text()
    assert 'href="calibration.html"' in html and "forecasting.html" not in html
    assert "Block above 0.1 &lt;b&gt;now&lt;/b&gt;" in html
    assert "2026-01-01T00:00:00+00:00" in html and "seed 3" in html


def test_empty_index_says_how_to_build_reports(tmp_path):
    assert "make report-all" in write_index(tmp_path).read_text()


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"title": 3, "provenance": {}}',
                                     '{"title": "t"}'])
def test_malformed_report_json_is_a_one_line_data_error(tmp_path, content):
    (tmp_path / "calibration.json").write_text(content)
    (tmp_path / "calibration.html").write_text("<html></html>")
    with pytest.raises(DataError, match="calibration.json") as info:
        write_index(tmp_path)
    assert "\n" not in str(info.value)
