"""Every number the quick report shows is a value of clustering.json (or formatted from one)."""


import pytest

from casestudies.report.numbers import unexplained_numbers

# The three verdicts the answer rests on, with what their intervals resample.
MAIN_VERDICTS = {"tsne_keeps_local_better": "customers", "pca_keeps_global_better": "seeds",
                 "tsne_reads_segments_better": "customers"}


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
    assert payload["short_answer"].startswith("t-SNE (perplexity 30)")
