"""The checker behind the promise that every number a report shows is in its JSON."""

from casestudies.report.numbers import json_numbers, report_text, unexplained_numbers

PAGE = """<html><head><title>9.99</title><style>p {{ margin: 7px }}</style></head><body>
<nav><ol><li>1. The question</li></ol></nav>
<main><section id="answer"><h2>1. The answer</h2>
<p>{body}</p><math><mn>42</mn></math><svg><text>0.25</text></svg></section>
<section id="reproducibility"><h2>9. Reproducibility</h2><p>Run time 12.3 s</p></section>
</main></body></html>"""


def test_text_leaves_out_formulas_figures_numbering_and_reproducibility():
    text = report_text(PAGE.format(body="cost 0.369"))
    assert "0.369" in text
    for absent in ("42", "0.25", "12.3", "9.99", "7px", "1."):
        assert absent not in text


def test_rounded_percent_separated_and_scientific_forms_are_explained():
    payload = {"cost": 0.36912, "share": 0.0476, "rows": 40159, "tiny": 1.234e-6,
               "diff": -0.057, "when": "2025-01-31"}
    body = ("cost 0.369, 4.8 % of rows, 40,159 rows, 1.23e-06, a change of −0.057 "
            "on 2025-01-31, as Platt (1999) and (Horn, 1965) showed; perplexities 0.369,40,159")
    assert unexplained_numbers(PAGE.format(body=body), payload) == []


def test_typed_and_computed_numbers_are_caught():
    payload = {"cost": 0.36912, "short_answer": "it costs 0.5"}
    missing = unexplained_numbers(PAGE.format(body="cost 0.37 then 0.5 and 0.3691"), payload)
    # 0.37 is a rounding of 0.36912; 0.5 is only in the prose answer; 0.3691 is a wrong rounding
    # only by the last digit, which is still within half a unit: only 0.5 is unexplained.
    assert [m.split()[0] for m in missing] == ["'0.5'"]
    assert unexplained_numbers(PAGE.format(body="0.5"), payload, allowed=["0.5"]) == []


def test_json_numbers_skip_booleans_and_prose():
    assert json_numbers({"a": True, "b": [1, 2.5], "short_answer": "7 x", "s": "seed 3"}) == [
        1.0, 2.5, 3.0]


def test_a_comma_separated_list_is_read_item_by_item():
    payload = {"perplexities": [5.0, 30.0, 100.0, 200.0]}
    assert unexplained_numbers(PAGE.format(body="the sweep 5,30,100,200"), payload) == []
    assert len(unexplained_numbers(PAGE.format(body="the sweep 5,30,100,201"), payload)) == 1


def test_answer_box_numbers_counts_only_the_first_answer_box_and_skips_formulas():
    from casestudies.report.numbers import answer_box_numbers

    html = (
        '<main><aside class="callout answer"><p class="callout-title">Answer</p>'
        '<div class="callout-body"><p>Cost 0.12 (0.10-0.15) at 30 % of '
        '<math alttext="x_1"><mi>x</mi><mn>1</mn></math> rows.</p>'
        '<p><strong>60-second answer.</strong> Block above 0.05.</p></div></aside>'
        '<p>Evidence 7 and 8.</p>'
        '<aside class="callout answer"><p>Later 9</p></aside></main>'
    )
    assert answer_box_numbers(html) == ["0.12", "0.10", "0.15", "30 %", "0.05"]
    assert answer_box_numbers("<main><p>no box 5</p></main>") == []
