"""The real customers: ISLP's Caravan table, its duplicates and postcode columns, and the
one-line error without ISLP."""

import builtins
import dataclasses

import numpy as np
import pytest

from casestudies.cli import main
from casestudies.clustering.config import ClusteringConfig
from casestudies.clustering.data import ISLP_INSTALL, load_caravan, load_data
from casestudies.errors import DataError

pytest.importorskip("ISLP")


def test_caravan_drops_duplicates_and_keeps_postcode_groups():
    data = load_caravan(ClusteringConfig(dataset="caravan"))
    assert data.duplicates_dropped == 602 and data.n_rows == 5822 - 602
    assert data.table.duplicated().sum() == 0
    assert "MOSHOOFD" not in data.feature_names and "MOSTYPE" not in data.feature_names
    assert "Purchase" not in data.feature_names
    assert np.unique(data.labels).size == 10
    # Rows in one postcode group share all 43 postcode columns.
    zip_columns = list(data.table.columns[:43])
    first = data.table[data.groups == data.groups[0]][zip_columns]
    assert (first.nunique() == 1).all()


def test_default_data_brings_a_sample_of_real_customers():
    config = ClusteringConfig(n_customers=300, perplexities=(30.0,), real_customers=400)
    data = load_data(config)
    assert data.companion is not None and data.companion.n_rows == 400
    no_real = dataclasses.replace(config, real_customers=0)
    assert load_data(no_real).companion is None


def _without_islp(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "ISLP" or name.startswith("ISLP."):
            raise ImportError("No module named 'ISLP'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_without_islp_caravan_is_a_one_line_error(monkeypatch, tmp_path, capsys):
    _without_islp(monkeypatch)
    with pytest.raises(DataError, match="ISLP"):
        load_caravan(ClusteringConfig(dataset="caravan"))
    code = main(["clustering", "--dataset", "caravan", "--out", str(tmp_path / "out"),
                 "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and ISLP_INSTALL in err
    assert not (tmp_path / "out").exists()


def test_without_islp_the_default_run_notes_the_missing_real_customers(monkeypatch):
    _without_islp(monkeypatch)
    config = ClusteringConfig(n_customers=300, perplexities=(30.0,), real_customers=400)
    data = load_data(config)
    assert data.companion is None and ISLP_INSTALL in data.companion_note
