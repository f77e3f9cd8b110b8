"""The report document: blocks, escaping of user text, numbers, atomic writes."""

import re
from pathlib import Path

import jinja2
import pandas as pd
import pytest

from casestudies.cli import Outcome, write_outputs
from casestudies.io import atomic_write_text
from casestudies.report import Report
from casestudies.report.formatting import format_number, format_percent, format_pvalue
from casestudies.report.math import MathError

HOSTILE = "<script>alert(1)</script>"
TEMPLATES = Path(__file__).parent / "templates"


def test_page_is_self_contained(sample_html):
    assert sample_html.startswith("<!DOCTYPE html>")
    assert "<script" not in sample_html  # no script at all: the hostile column is text
    assert not re.search(r"""(src|href)=["']https?://""", sample_html)
    assert "@import" not in sample_html and "url(http" not in sample_html
    assert "<style>" in sample_html and "<svg" in sample_html and "<math" in sample_html


def test_hostile_column_name_appears_only_as_text(sample_html):
    assert HOSTILE not in sample_html
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    # in prose, in inline code, in a figure caption, in a table header and a table cell
    assert sample_html.count(escaped) >= 5


def test_blocks_render(sample_html):
    assert '<aside class="callout pitfall">' in sample_html
    assert '<section class="qa"><p class="question">Why does' in sample_html
    assert "<figcaption><strong>Figure 1.</strong>" in sample_html
    assert '<table id="table-1">' in sample_html
    assert 'aria-label="a rising curve"' in sample_html


def test_table_of_contents_and_reproducibility(sample_html):
    toc = sample_html[sample_html.index('<nav class="toc"'):sample_html.index("</nav>")]
    assert toc.count("<li>") == 3  # two sections + reproducibility
    assert 'href="#the-math"' in toc and 'href="#reproducibility"' in toc
    assert "0" * 64 in sample_html and "python -m casestudies sample" in sample_html
    assert "numpy" in sample_html and "scikit-learn" in sample_html


def test_numbers_are_formatted_in_prose_and_tables(sample_html):
    assert "here 0.0123, for" in sample_html
    assert "1.2% base rate" in sample_html
    assert '<td class="num">1,000,000</td>' in sample_html
    assert '<td class="num">1.23</td>' in sample_html


def test_figure_ids_do_not_collide_between_figures():
    from casestudies.report import new_figure

    report = Report("x", "t", "q", "a")
    section = report.section("S")
    for _ in range(2):
        fig, ax = new_figure()
        ax.plot([0, 1], [0, 1])
        section.figure(fig, "c", "a")
    ids = re.findall(r'\bid="([^"]+)"', "".join(section.blocks))
    assert len(ids) == len(set(ids))


def _without_generation_time(html: str) -> str:
    return re.sub(r"Generated [^<]* by casestudies", "", html)


def test_rendering_is_deterministic(sample_report, make_sample_report, provenance):
    first = sample_report.render(provenance)
    again = make_sample_report().render(provenance)
    assert _without_generation_time(first) == _without_generation_time(again)


def test_text_section_is_a_section_of_one_template():
    report = Report("x", "t", "q", "a", templates=TEMPLATES)
    section = report.text_section("Pitfalls", "prose.md", threshold=0.5, column="c", rate=0.1,
                                  growth=2.0)
    assert report.sections == [section] and section.anchor == "pitfalls"
    assert "here 0.500, for" in section.blocks[0]


def test_missing_template_value_is_an_error():
    report = Report("x", "t", "q", "a", templates=TEMPLATES)
    with pytest.raises(ValueError, match="prose.md"):
        report.section("S").text("prose.md", threshold=1.0)


def test_bad_formula_in_template_fails_while_building():
    report = Report("x", "t", "q", "a", templates=TEMPLATES)
    with pytest.raises(MathError, match="invalid LaTeX"):
        report.section("S").text("bad_math.md")


def test_failed_build_leaves_previous_report_untouched(tmp_path, sample_report, provenance,
                                                      monkeypatch):
    (tmp_path / "sample.html").write_text("previous html")
    (tmp_path / "sample.json").write_text("previous json")

    def broken_render(provenance):
        raise RuntimeError("rendering failed half-way")

    monkeypatch.setattr(sample_report, "render", broken_render)
    outcome = Outcome(result={"short_answer": "x"}, report=sample_report,
                      provenance=provenance)
    with pytest.raises(RuntimeError, match="half-way"):
        write_outputs(outcome, tmp_path)
    assert (tmp_path / "sample.html").read_text() == "previous html"
    assert (tmp_path / "sample.json").read_text() == "previous json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample.html", "sample.json"]


def test_report_write_replaces_file_only_when_complete(tmp_path, sample_report, provenance):
    target = tmp_path / "sample.html"
    target.write_text("previous html")
    with pytest.raises(jinja2.UndefinedError):
        sample_report.write(target, provenance=object())  # render fails: no provenance fields
    assert target.read_text() == "previous html"
    sample_report.write(target, provenance)
    assert target.read_text().startswith("<!DOCTYPE html>")


def test_written_file_has_ordinary_permissions(tmp_path):
    import os
    import stat

    mask = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "r.html", "x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_write_is_atomic_on_error(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    atomic_write_text(target, "old report")

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", fail)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new report")
    assert target.read_text() == "old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temp file left


@pytest.mark.parametrize(("value", "text"), [
    (0.123456, "0.123"), (1234567, "1,234,567"), (0.0000123, "1.23e-05"), (12.345, "12.3"),
    (1234.5, "1,234"), (0.0, "0"), (float("nan"), "—"), (-0.5, "-0.500"),
])
def test_format_number(value, text):
    assert format_number(value) == text


def test_format_percent_and_pvalue():
    assert format_percent(0.0123) == "1.2%"
    assert format_pvalue(0.0004) == "< 0.001"
    assert format_pvalue(0.0456) == "0.046"


def test_table_escapes_and_formats():
    report = Report("x", "t", "q", "a")
    frame = pd.DataFrame({"<b>": ["<i>x</i>"], "share": [0.25]})
    report.section("S").table(frame, caption="c", percent=("share",))
    block = report.sections[0].blocks[0]
    assert "<th>&lt;b&gt;</th>" in block and "<td>&lt;i&gt;x&lt;/i&gt;</td>" in block
    assert '<td class="num">25.0%</td>' in block


def test_tex_filter_inserts_code_built_latex_unescaped(tmp_path):
    (tmp_path / "f.md").write_text("The target is ${{ formula | tex }}$.\n")
    report = Report("x", "t", "q", "a", templates=tmp_path)
    report.section("S").text("f.md", formula=r"y = x_1 - 0.5 x_2")
    assert "<msub><mi>x</mi><mn>1</mn></msub>" in report.sections[0].blocks[0]
    with pytest.raises(ValueError, match="must not contain"):
        report.section("T").text("f.md", formula="$x$")


PLATT = ("Platt, J. (1999). Probabilistic outputs for support vector machines. Advances in Large "
         "Margin Classifiers, 10(3), 61-74.")


def _study_aids_report() -> Report:
    report = Report("x", "t", "q", "a")
    report.section("The math").markdown(
        "Platt scaling [Platt 1999](#ref-platt1999) gives [calibrated](#term-calibration) "
        "scores.")
    report.glossary({"Prediction interval": "Covers the *next* value $y_{n+1}$.",
                     "Calibration": "Scores equal [frequencies](#ref-platt1999)."})
    report.references({"platt1999": PLATT})
    report.section("Pitfalls").markdown("None.")
    return report


def test_references_and_glossary_come_last_before_reproducibility(provenance):
    html = _study_aids_report().render(provenance)
    toc = html[html.index('<nav class="toc"'):html.index("</nav>")]
    order = re.findall(r'href="#([^"]+)"', toc)
    assert order == ["the-math", "pitfalls", "references", "glossary", "reproducibility"]
    assert "<h2>3. References</h2>" in html and "<h2>5. Reproducibility</h2>" in html
    assert '<section id="references" class="references">' in html


def test_reference_is_an_anchor_with_inert_text(provenance):
    report = Report("x", "t", "q", "a")
    report.section("S").markdown("See [Smith](#ref-smith_2020).")
    report.references({"smith_2020": "Smith, <b>A.</b> (2020). *Not emphasis* $x$."})
    html = report.render(provenance)
    assert ('<li id="ref-smith_2020">Smith, &lt;b&gt;A.&lt;/b&gt; (2020). *Not emphasis* $x$.'
            "</li>") in html
    assert '<a href="#ref-smith_2020">Smith</a>' in html


def test_glossary_terms_are_sorted_anchored_and_definitions_are_markdown(provenance):
    html = _study_aids_report().render(provenance)
    glossary = html[html.index('<dl class="glossary">'):]
    assert glossary.index('id="term-calibration"') < glossary.index(
        'id="term-prediction-interval"')
    assert "<em>next</em>" in glossary and "<msub>" in glossary


def test_references_numbers_are_not_results(provenance):
    from casestudies.report.numbers import unexplained_numbers

    html = _study_aids_report().render(provenance)
    assert unexplained_numbers(html, {}) == []  # volume, pages and year are citation text


@pytest.mark.parametrize(("entries", "message"), [
    ({"bad key": "Smith (2020)."}, "letters, digits"),
    ({"smith": "Smith, no year."}, "names no year"),
    ({"smith": "  "}, "no citation text"),
    (["smith"], "mapping"),
    ({"smith": 2020}, "strings"),
])
def test_bad_references_are_clear_errors(entries, message):
    with pytest.raises(ValueError, match=message):
        Report("x", "t", "q", "a").references(entries)


def test_reference_key_reused_for_another_work_is_an_error():
    report = Report("x", "t", "q", "a").references({"a": "A (2001)."})
    report.references({"a": "A (2001)."})  # the same entry again is harmless
    with pytest.raises(ValueError, match="already used"):
        report.references({"a": "B (2002)."})


def test_glossary_errors():
    report = Report("x", "t", "q", "a")
    with pytest.raises(ValueError, match="defined twice"):
        report.glossary({"Prediction interval": "a", "prediction-interval": "b"})
    with pytest.raises(ValueError, match="needs a name and a definition"):
        report.glossary({"Term": " "})
    with pytest.raises(MathError):
        report.glossary({"Term": r"Broken $\frac{1}{$."})


def test_link_to_a_missing_reference_fails_the_build(provenance):
    report = Report("x", "t", "q", "a")
    report.section("S").markdown("See [Smith](#ref-smith) and [it](#term-it).")
    with pytest.raises(ValueError, match=r"#ref-smith has no target.*Report.references"):
        report.render(provenance)


def test_whole_numbers_show_without_decimals_in_tables_and_prose(tmp_path):
    (tmp_path / "n.md").write_text("Poisson({{ rate }}) over {{ days }} days.\n")
    report = Report("x", "t", "q", "a", templates=tmp_path)
    section = report.section("S")
    section.text("n.md", rate=0.5, days=7.0)
    section.table(pd.DataFrame({"rows": [120.0, float("nan"), 4.0], "mean": [1.0, 2.5, 3.0]}),
                  caption="c")
    prose, table = section.blocks
    assert "Poisson(0.500) over 7 days." in prose
    assert '<td class="num">120</td>' in table and '<td class="num">4</td>' in table
    assert '<td class="num">1.00</td>' in table  # a column with fractions keeps its digits


@pytest.mark.parametrize(("value", "text"), [
    (0.0, "< 1e-16"), (1e-300, "< 1e-16"), (3.21e-5, "3.2e-05"), (0.0456, "0.046"),
    (0.5, "0.50"), (float("nan"), "—"),
])
def test_exact_pvalues_never_show_zero(value, text):
    assert format_pvalue(value, exact=True) == text


def test_pvalue_columns_and_filter(tmp_path):
    (tmp_path / "p.md").write_text("p {{ p | pvalue(exact=True) }}, p {{ p | pvalue }}.\n")
    report = Report("x", "t", "q", "a", templates=tmp_path)
    section = report.section("S").text("p.md", p=0.0)
    section.table(pd.DataFrame({"test": ["KS"], "p": [0.0]}), caption="c", pvalues=("p",))
    prose, table = section.blocks
    assert "p &lt; 1e-16, p &lt; 0.001." in prose
    assert '<td class="num">&lt; 1e-16</td>' in table


@pytest.mark.parametrize(("low", "high", "decimals"), [
    (0.3512, 0.3987, 3), (0.31, 0.43, 2), (0.0301, 0.0309, 4), (11_800, 12_900, 0),
    (-0.0049, 0.0003, 4), (0.9, 1.9, 1),
])
def test_interval_decimals_follow_the_half_width(low, high, decimals):
    from casestudies.report.formatting import interval_decimals

    assert interval_decimals(low, high) == decimals


def test_interval_filter_and_table_column_round_to_the_interval(tmp_path):
    from casestudies.report.formatting import format_estimate

    assert format_estimate(0.36912, 0.3512, 0.3987) == "0.369 (0.351 to 0.399)"
    assert format_estimate(0.0476, 0.031, 0.072, percent=True) == "4.8% (3.1% to 7.2%)"
    assert format_estimate(-0.0021, -0.0049, 0.0003) == "-0.0021 (-0.0049 to 0.0003)"
    assert format_estimate(0.5, 0.5, 0.5) == "0.500"  # no interval to round to
    (tmp_path / "i.md").write_text("cost {{ c | interval(lo, hi) }}\n")
    report = Report("x", "t", "q", "a", templates=tmp_path)
    section = report.section("S").text("i.md", c=0.36912, lo=0.3512, hi=0.3987)
    assert "cost 0.369 (0.351 to 0.399)" in section.blocks[0].replace("\\", "")
    frame = pd.DataFrame({"method": ["raw"], "cost": [0.36912], "low": [0.3512], "high": [0.3987]})
    section.table(frame, caption="c", intervals={"cost": ("low", "high")})
    table = section.blocks[1]
    assert "<th>low</th>" not in table and "<th>cost</th>" in table
    assert '<td class="num">0.369 (0.351 to 0.399)</td>' in table


def test_numbers_rounded_to_their_interval_are_explained(provenance):
    from casestudies.report.numbers import unexplained_numbers

    report = Report("x", "t", "q", "a")
    frame = pd.DataFrame({"cost": [0.36912], "low": [0.3512], "high": [0.3987], "p": [0.0]})
    report.section("S").table(frame, caption="c", intervals={"cost": ("low", "high")},
                              pvalues=("p",))
    payload = {"cost": 0.36912, "low": 0.3512, "high": 0.3987, "p": 0.0}
    html = report.render(provenance)
    assert unexplained_numbers(html, payload) == []
    assert unexplained_numbers(html, {**payload, "p": 0.2}) != []  # "< 1e-16" needs a tiny p


def test_table_names_a_missing_formatted_column():
    with pytest.raises(ValueError, match="no column 'p'"):
        Report("x", "t", "q", "a").section("S").table(pd.DataFrame({"a": [1]}), caption="c",
                                                      pvalues=("p",))


def test_wide_table_scrolls_in_a_focusable_region():
    report = Report("x", "t", "q", "a")
    report.section("S").table(pd.DataFrame({"a": [1]}), caption="c")
    assert '<div class="table-wrap" role="region" tabindex="0" aria-label="Table 1">' in \
        report.sections[0].blocks[0]
