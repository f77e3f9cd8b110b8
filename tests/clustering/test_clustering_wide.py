"""A table with thousands of columns is clustered on its leading principal components, which the
clustering table states, instead of fitting full-covariance mixtures in thousands of dimensions."""

import json

import numpy as np
import pandas as pd
import pytest

from casestudies.cli import main
from casestudies.clustering.pipeline import MAX_MIXTURE_DIMENSIONS


@pytest.mark.slow
def test_wide_table_is_clustered_on_leading_components(tmp_path, capsys):
    rng = np.random.default_rng(0)
    columns = MAX_MIXTURE_DIMENSIONS + 30
    segment = rng.integers(0, 3, 320)
    frame = pd.DataFrame(rng.normal(size=(320, columns)) + segment[:, None],
                         columns=[f"c{i}" for i in range(columns)])
    frame["segment"] = segment.astype(str)
    frame.to_csv(tmp_path / "wide.csv", index=False)
    out = tmp_path / "out"
    code = main(["clustering", "--data", str(tmp_path / "wide.csv"), "--label", "segment",
                 "--perplexities", "5,30", "--no-sklearn", "--quick", "--quiet", "--out",
                 str(out)])
    assert code == 0, capsys.readouterr().err
    result = json.loads((out / "clustering.json").read_text())["result"]
    rows = {row[0]: row[1] for row in result["clustering"]["data"]}
    assert rows[f"data ({columns} features)"] == MAX_MIXTURE_DIMENSIONS
    assert result["constants"]["max_mixture_dimensions"] == MAX_MIXTURE_DIMENSIONS
