"""The whole study through the command line on its default data, in quick mode."""

import json

import pytest

from casestudies.cli import main
from casestudies.report.numbers import report_text, unexplained_numbers


@pytest.mark.slow
def test_quick_run_writes_html_and_json(tmp_path, capsys):
    code = main(["clustering", "--quick", "--customers", "600", "--perplexities", "5,30",
                 "--stability-seeds", "2", "--out", str(tmp_path), "--quiet"])
    assert code == 0, capsys.readouterr().err
    html = (tmp_path / "clustering.html").read_text()
    payload = json.loads((tmp_path / "clustering.json").read_text())
    result = payload["result"]
    assert "UMAP" in payload["short_answer"]
    for section in ("The question", "The data", "The math", "The evidence", "Pitfalls",
                    "Interview questions", "Use it on your own data", "Reproducibility"):
        assert section in html
    assert "<math" in html and "<svg" in html and "<script" not in html
    names = result["scorecard"]["columns"]
    assert "Spearman distance correlation" in names and "10-NN segment accuracy" in names
    assert result["parallel"]["n_components"] >= 1
    assert abs(result["affinity"]["max_perplexity_error"]) < 1e-2
    assert {"gmm_ari", "kmeans_ari"} <= set(result["clustering"]["columns"])
    assert result["placement"]["sklearn_can_transform"] is False
    assert result["noise"]["clusters_data"] == 0 and len(result["noise"]["clusters_maps"]) == 2
    assert {"clusters_pca", "clusters_control"} <= set(result["noise"])
    assert any(m.startswith("umap-learn") for m in (row[1] for row in result["scorecard"]["data"]))
    assert "References" in html and "Böhm" in html
    methods = {row[1] for row in result["scorecard"]["data"]}
    assert any(m.startswith("openTSNE") for m in methods)
    assert any(m.startswith("scikit-learn") for m in methods)


@pytest.mark.slow
def test_user_table_without_label(tmp_path, capsys):
    from casestudies.clustering.data import simulate_customers

    table, _ = simulate_customers(300, random_state=1)
    path = tmp_path / "customers.csv"
    table.drop(columns="segment").assign(constant=1).to_csv(path, index=False)
    code = main(["clustering", "--data", str(path), "--id", "customer_id", "--perplexities",
                 "5,30", "--stability-seeds", "2", "--metric-sample", "300", "--no-sklearn",
                 "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 0, capsys.readouterr().err
    result = json.loads((tmp_path / "out" / "clustering.json").read_text())["result"]
    assert result["preprocessing"]["dropped_constant"] == ["constant"]
    assert result["label_name"] is None and result["life_stage"] is None
    html = (tmp_path / "out" / "clustering.html").read_text()
    assert "customers.csv" in html
    # The text, not the figures: an embedded PNG's base64 may spell "None" by chance.
    text = report_text(html)
    assert "None" not in text and "Segment accuracy" not in text
    assert "reads the known segments" not in text
    payload = json.loads((tmp_path / "out" / "clustering.json").read_text())
    assert unexplained_numbers(html, payload) == []
