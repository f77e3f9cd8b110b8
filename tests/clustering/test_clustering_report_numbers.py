"""Every number the quick report shows is a value of clustering.json (or formatted from one)."""


import pytest

from casestudies.report.numbers import answer_box_numbers, unexplained_numbers

# The verdicts the answer rests on, with what their intervals resample.
MAIN_VERDICTS = {"tsne_keeps_local_better": "seeds and customers",
                 "umap_keeps_local_better": "seeds and customers",
                 "pca_keeps_global_better": "seeds and half-subsamples of customers",
                 "tsne_reads_segments_better": "seeds and customers",
                 "umap_reads_segments_better": "seeds and customers"}
MAX_ANSWER_NUMBERS = 8  # the answer-first shape: at most eight numbers in the answer box


@pytest.fixture(scope="module")
def quick_report(render_report):
    return render_report("clustering", "--quick")


@pytest.mark.slow
def test_every_number_in_the_report_is_in_the_json(quick_report):
    html, payload = quick_report
    assert unexplained_numbers(html, payload) == []


@pytest.mark.slow
def test_the_json_holds_the_verdicts_of_the_answer(quick_report):
    _, payload = quick_report
    verdicts = payload["result"]["verdicts"]
    for name, unit in MAIN_VERDICTS.items():
        assert verdicts[name]["unit"] == unit
        assert verdicts[name]["holds"] in (True, False, None)
        assert verdicts[name]["low"] <= verdicts[name]["high"]
    assert "t-SNE" in payload["short_answer"] and "UMAP" in payload["short_answer"]


@pytest.mark.slow
def test_the_answer_box_holds_at_most_eight_numbers(quick_report):
    html, _ = quick_report
    numbers = answer_box_numbers(html)
    assert 0 < len(numbers) <= MAX_ANSWER_NUMBERS, numbers


@pytest.mark.slow
def test_the_islands_are_named_before_the_maps_are_shown(quick_report):
    html, _ = quick_report
    assert html.index("What the islands are") < html.index("PCA, t-SNE and UMAP side by side")
