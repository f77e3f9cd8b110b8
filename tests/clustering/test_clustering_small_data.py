"""A small table gets a smaller analysis, not a refusal; an option given is never changed."""

import pytest

from casestudies.clustering import islands, small_data
from casestudies.clustering.config import ClusteringConfig
from casestudies.clustering.small_data import MIN_ROWS, adapt_to_rows, largest_perplexity
from casestudies.errors import DataError


def _given(**options):
    """A config built as the command line builds it, recording which options were given."""
    return ClusteringConfig.from_options(data="t.csv", **options)


def _by_setting(adaptations):
    return {a.setting: a for a in adaptations}


def test_the_default_data_is_left_as_it_is():
    config = ClusteringConfig()
    adapted, adaptations = adapt_to_rows(config, config.n_customers, "simulated")
    assert adapted is config and adaptations == []


def test_a_200_row_table_keeps_the_perplexities_it_allows():
    config = _given()
    adapted, adaptations = adapt_to_rows(config, 200, "t.csv")
    assert largest_perplexity(200) == 66
    assert adapted.perplexities == (5.0, 30.0) and adapted.main_perplexity == 30.0
    found = _by_setting(adaptations)
    sweep = found["perplexity sweep"]
    assert sweep.default == [5.0, 30.0, 100.0, 200.0] and sweep.used == [5.0, 30.0]
    assert sweep.limit == 66 and "66" in sweep.describe()
    assert found["rows of the faithfulness scorecard"].used == [200]
    assert adapted.metric_sample == config.metric_sample  # the pipeline scores min(rows, sample)
    # 200 rows support the rest: k = 50 needs 102 rows, eight clusters 80, islands of 15 150.
    assert set(found) == {"perplexity sweep", "rows of the faithfulness scorecard"}
    assert adapted.neighbours == config.neighbours and adapted.max_clusters == 8


@pytest.mark.parametrize("rows, main", [(92, 30.0), (91, 5.0)])
def test_the_main_perplexity_falls_back_only_when_the_rows_cannot_support_it(rows, main):
    adapted, adaptations = adapt_to_rows(_given(), rows, "t.csv")
    assert adapted.main_perplexity == main
    assert ("main perplexity" in _by_setting(adaptations)) is (main != 30.0)
    assert main in adapted.perplexities


def test_every_default_that_depends_on_the_rows_shrinks_on_a_small_table():
    adapted, adaptations = adapt_to_rows(_given(), 60, "t.csv")
    found = _by_setting(adaptations)
    assert adapted.perplexities == (5.0,) and adapted.main_perplexity == 5.0
    assert adapted.neighbours == (5, 15)  # k = 50 needs 102 rows
    assert found["neighbourhood sizes k of the scorecard"].limit == 29
    assert adapted.max_clusters == 6 and found["largest number of clusters tried"].used == [6]
    assert found["smallest island on a map"].used == [6] == [islands.min_island_size(60)]


def test_the_sweep_always_keeps_one_perplexity():
    # Built in Python without options: nothing counts as given, so a lone 30 shrinks to 19.
    config = ClusteringConfig(perplexities=(30.0,), main_perplexity=30.0)
    adapted, _ = adapt_to_rows(config, 60, "t.csv")
    assert adapted.perplexities == (19.0,) and adapted.main_perplexity == 19.0


@pytest.mark.parametrize("options, flag", [({"perplexities": "5,30"}, "--perplexities"),
                                           ({"perplexity": 30, "perplexities": "5,30"},
                                            "--perplexities"),
                                           ({"perplexity": 30}, "--perplexity")])
def test_a_perplexity_given_is_never_changed(options, flag):
    config = _given(**options)
    with pytest.raises(DataError, match=f"largest perplexity 60 rows allow is 19: lower {flag}"):
        adapt_to_rows(config, 60, "t.csv")
    assert adapt_to_rows(config, 92, "t.csv")[0].main_perplexity == 30.0


def test_a_metric_sample_given_beyond_the_rows_is_an_error():
    with pytest.raises(DataError, match="largest that works is 250"):
        adapt_to_rows(_given(metric_sample=300), 250, "t.csv")
    _, adaptations = adapt_to_rows(_given(metric_sample=250), 250, "t.csv")
    assert "rows of the faithfulness scorecard" not in _by_setting(adaptations)


def test_the_smallest_table_that_runs():
    assert MIN_ROWS == 3 * small_data.STABILITY_NEIGHBOURS + 2 == 47
    adapted, _ = adapt_to_rows(_given(), MIN_ROWS, "t.csv")
    assert adapted.perplexities == (5.0,)
    with pytest.raises(DataError, match="t.csv has 46 rows; the study needs at least 47"):
        adapt_to_rows(_given(), MIN_ROWS - 1, "t.csv")


@pytest.mark.parametrize("rows, size", [(47, 5), (60, 6), (149, 14), (150, 15), (2500, 25)])
def test_islands_may_be_smaller_on_small_tables_only(rows, size):
    assert islands.min_island_size(rows) == size


def test_the_smallest_table_follows_the_largest_fixed_neighbourhood():
    from casestudies.clustering import pipeline, umap_map

    fixed = (pipeline.STABILITY_K, islands.NEIGHBOURS, umap_map.N_NEIGHBOURS)
    assert max(fixed) == small_data.STABILITY_NEIGHBOURS
