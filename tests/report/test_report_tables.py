"""Shaping tables to fit a page."""

import pandas as pd

from casestudies.report import columns_as_rows


def test_a_wide_preview_is_turned_on_its_side():
    wide = pd.DataFrame({f"c{i}": [i, i + 0.5] for i in range(12)}) \
        .assign(when=pd.to_datetime(["2025-01-01", "2025-01-02"]), name=["a", "b"])
    turned = columns_as_rows(wide)
    assert list(turned.columns) == ["column", "row 1", "row 2"]
    assert turned["column"].tolist() == [*(f"c{i}" for i in range(12)), "when", "name"]
    assert turned.loc[3, "row 2"] == 3.5 and turned.loc[13, "row 1"] == "a"
