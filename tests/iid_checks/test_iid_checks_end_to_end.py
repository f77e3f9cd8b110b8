"""The default report, end to end, through the command line."""

import json

import pytest

from casestudies.cli import main
from casestudies.iid_checks import checks
from casestudies.iid_checks.data import AR_COEFFICIENTS


@pytest.mark.slow
def test_default_report_quick(tmp_path):
    out = tmp_path / "reports"
    assert main(["iid_checks", "--out", str(out), "--quiet", "--quick", "--replicates", "10"]) == 0
    html = (out / "iid_checks.html").read_text()
    payload = json.loads((out / "iid_checks.json").read_text())
    result = payload["result"]
    assert payload["short_answer"] == result["short_answer"]
    assert result["table_name"] == "transactions"
    assert {row[0] for row in result["verdicts"]["data"]} == {
        "independent", "identically distributed", "no leakage"}
    schemes = {s["scheme"]: s for s in result["validation"]["schemes"]}
    assert set(schemes) == {"random K-fold", "TimeSeriesSplit", "GroupKFold"}
    kfold = schemes["random K-fold"]["optimism"]
    assert kfold["low"] <= kfold["value"] <= kfold["high"]
    assert result["simulation"]["replicates"] == 10
    assert len(result["gallery"]) == 7
    assert result["real_series"]["name"] == "sunspots"
    for section in ("The question", "The data", "The math", "The evidence", "Pitfalls",
                    "Interview questions", "Use it on your own data", "Reproducibility"):
        assert section in html
    assert 'src="http' not in html and 'href="http' not in html  # nothing loaded
    # Constants of the methods and the simulator reach the prose from the code.
    phi = AR_COEFFICIENTS["ar1_strong"]
    assert f"{(1 + phi) / (1 - phi):.3g} times smaller" in html
    assert f"coefficient {AR_COEFFICIENTS['ar1_weak']:g})" in html
    assert f"{checks.PSI_BINS} quantile bins" in html
    assert "\\_" not in html  # names in code spans are shown without Markdown escapes
