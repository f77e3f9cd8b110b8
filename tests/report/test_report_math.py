"""LaTeX in Markdown prose becomes MathML with the right structure; bad LaTeX fails clearly."""

import xml.etree.ElementTree as ET

import pytest

from casestudies.report.markdown import markdown_to_html
from casestudies.report.math import MathError, latex_to_mathml

NS = "{http://www.w3.org/1998/Math/MathML}"


def parse(mathml: str) -> ET.Element:
    return ET.fromstring(mathml)


def find_all(root: ET.Element, tag: str) -> list[ET.Element]:
    return list(root.iter(NS + tag))


def test_fraction_becomes_mfrac_with_numerator_and_denominator():
    root = parse(latex_to_mathml(r"\frac{a}{b+1}"))
    (frac,) = find_all(root, "mfrac")
    numerator, denominator = list(frac)
    assert [e.text for e in numerator.iter(NS + "mi")] == ["a"]
    assert [e.text for e in denominator.iter(NS + "mn")] == ["1"]


def test_display_sum_has_limits_under_and_over():
    root = parse(latex_to_mathml(r"\sum_{i=1}^{n} x_i", display=True))
    assert root.get("display") == "block"
    (limits,) = find_all(root, "munderover")
    operator, lower, upper = list(limits)
    assert operator.text == "\u2211"
    assert "".join(lower.itertext()) == "i=1"
    assert "".join(upper.itertext()) == "n"


def test_hat_is_an_accent_over_the_symbol():
    root = parse(latex_to_mathml(r"\hat{\theta}"))
    (over,) = find_all(root, "mover")
    assert over.get("accent") == "true"
    base, accent = list(over)
    assert "".join(base.itertext()) == "\u03b8"
    assert accent.text == "\u02c6"  # the modifier letter, not the tall ASCII caret


def test_subscript_is_msub():
    root = parse(latex_to_mathml("x_i"))
    (sub,) = find_all(root, "msub")
    assert [e.text for e in sub] == ["x", "i"]


def test_latex_source_is_kept_as_alt_text():
    assert parse(latex_to_mathml(r"\alpha")).get("alttext") == r"\alpha"


def test_markdown_prose_inline_and_display_math_become_mathml():
    html = markdown_to_html("Let $x_i$ be a value.\n\n$$\n\\frac{1}{n}\n$$\n")
    assert '<math alttext="x_i"' in html and 'display="inline"' in html
    assert 'display="block"' in html and "<mfrac>" in html
    assert "$" not in html


@pytest.mark.parametrize("bad", [r"\frac{1}{", r"x^{", r"\left( x"])
def test_invalid_latex_names_the_formula(bad):
    with pytest.raises(MathError, match="invalid LaTeX in formula") as info:
        latex_to_mathml(bad)
    assert bad in str(info.value)


def test_unknown_command_names_the_command_and_formula():
    with pytest.raises(MathError, match=r"unknown LaTeX command \\frobnicate in formula"):
        latex_to_mathml(r"\frobnicate{x} + 1")


def test_invalid_latex_in_prose_fails_the_build():
    with pytest.raises(MathError, match=r"\\frac\{1\}\{"):
        markdown_to_html("Broken: $\\frac{1}{$ here.")


def test_escaped_dollar_is_not_math():
    html = markdown_to_html(r"It costs \$5 and \$6.")
    assert "<math" not in html and "$5" in html


def only(root: ET.Element, tag: str) -> ET.Element:
    (element,) = find_all(root, tag)
    return element


@pytest.mark.parametrize(("latex", "symbol"), [(r"a \sim b", "\u223c"), (r"a \pm b", "\u00b1"),
                                                (r"\lceil x \rceil", "\u2308"),
                                                (r"a \iff b", "\u27fa")])
def test_relations_and_signs_are_operators(latex, symbol):
    root = parse(latex_to_mathml(latex))
    assert symbol in [e.text for e in find_all(root, "mo")]
    assert symbol not in [e.text for e in find_all(root, "mi")]
    assert "~" not in "".join(root.itertext())


def test_tilde_accent_is_the_modifier_letter():
    over = only(parse(latex_to_mathml(r"\tilde{x}")), "mover")
    assert over.get("accent") == "true" and over[1].text == "\u02dc"


@pytest.mark.parametrize("latex", [r"\operatorname*{arg\,min}_{x} f(x)", r"\arg\min_{x} f(x)",
                                   r"\arg\min_x f(x)"])
def test_arg_min_puts_its_limit_underneath(latex):
    for display in (True, False):
        root = parse(latex_to_mathml(latex, display=display))
        under = only(root, "munder")
        assert under[0].text == "arg\u00a0min" and under[0].get("movablelimits") == "true"
        assert "".join(under[1].itertext()) == "x"
        assert not find_all(root, "msub")


@pytest.mark.parametrize("name", ["min", "max", "sup", "inf", "lim"])
def test_limit_operators_take_movable_limits(name):
    root = parse(latex_to_mathml(rf"\{name}_{{k \le K}} a_k", display=True))
    under = only(root, "munder")
    assert under[0].tag == NS + "mo" and under[0].text == name
    assert under[0].get("movablelimits") == "true"


def test_plain_operatorname_keeps_its_subscript_beside_it():
    root = parse(latex_to_mathml(r"\operatorname{Var}_{x}(Y)", display=True))
    assert only(root, "msub")[0].text == "Var" and not find_all(root, "munder")


def test_display_sum_keeps_limits_under_and_over():
    root = parse(latex_to_mathml(r"\sum_{i=1}^{n} x_i", display=True))
    assert only(root, "munderover")[0].text == "\u2211"


def test_aligned_becomes_a_table_without_literal_ampersands():
    root = parse(latex_to_mathml(r"\begin{aligned} a &= b \\ c &= d \end{aligned}",
                                 display=True))
    table = only(root, "mtable")
    assert len(find_all(table, "mtr")) == 2
    assert "&" not in "".join(root.itertext())


def test_norm_bars_do_not_stretch():
    root = parse(latex_to_mathml(r"\lVert x \rVert_2"))
    bars = [e for e in find_all(root, "mo") if e.text == "\u2016"]
    assert len(bars) == 2 and all(b.get("stretchy") == "false" for b in bars)


@pytest.mark.parametrize(("latex", "text"), [
    (r"\mathbb{E}", "\U0001d53c"), (r"\mathbb{R}", "\u211d"), (r"\mathbb{1}", "\U0001d7d9"),
    (r"\mathbf{x}", "\U0001d431"), (r"\mathbf{1}", "\U0001d7cf"),
    (r"\boldsymbol{\beta}", "\U0001d737"), (r"\mathcal{N}", "\U0001d4a9"),
    (r"\mathcal{L}", "\u2112"),
])
def test_styled_letters_become_unicode_math_alphanumerics(latex, text):
    root = parse(latex_to_mathml(latex))
    assert "".join(root.itertext()) == text
    assert all(e.get("mathvariant") is None for e in root.iter())


def test_mathrm_single_letter_stays_upright():
    root = parse(latex_to_mathml(r"\mathrm{d}x"))
    assert only(root, "mtext").text == "d"


def test_capital_greek_is_upright_and_small_greek_italic():
    root = parse(latex_to_mathml(r"\Sigma \sigma"))
    upright, italic = find_all(root, "mi")
    assert upright.get("mathvariant") == "normal" and italic.get("mathvariant") is None


@pytest.mark.parametrize(("latex", "message"), [
    (r"a & b", "would show literally"),
    (r"\operatorname*{\mathbf{x}}_i", "empty operator"),
    (r"\mathfrak{\alpha}", r"unsupported style|unknown LaTeX command"),
])
def test_guard_rejects_what_would_render_wrongly(latex, message):
    with pytest.raises(MathError, match=message) as info:
        latex_to_mathml(latex)
    assert latex in str(info.value)


def _embedded_font(html: str) -> bytes:
    import base64
    import re

    match = re.search(r'@font-face \{ font-family: "Report Math";.*?base64,([A-Za-z0-9+/=]+)"',
                      html)
    assert match, "no embedded math font"
    return base64.b64decode(match.group(1))


def test_report_embeds_a_math_font_subset_with_licence_and_math_table(sample_html):
    import io

    from fontTools.ttLib import TTFont

    from casestudies.report.math import math_characters

    data = _embedded_font(sample_html)
    assert data[:4] == b"wOF2" and len(data) < 80_000
    font = TTFont(io.BytesIO(data))
    assert "MATH" in font and "GSUB" in font
    names = {record.nameID: record.toUnicode() for record in font["name"].names}
    assert "Open Font License" in names[13] and "STIX" in names[0]
    cmap = font.getBestCmap()
    used = math_characters(sample_html)
    assert "\u2211" in used and "\u03bc" in used and "\u02c6" in used
    assert all(ord(c) in cmap for c in used)
    assert len(cmap) < 120  # a subset, not the 5,000-character font


def test_math_font_bytes_are_the_same_on_every_build():
    from casestudies.report.math import _subset_woff2

    assert _subset_woff2("x\u2211\u03b8") == _subset_woff2("x\u2211\u03b8")


def test_math_font_is_first_in_the_math_font_stack(sample_html):
    assert 'math { font-family: "Report Math", "STIX Two Math"' in sample_html


def test_page_without_formulas_carries_no_font(provenance):
    from casestudies.report import Report

    report = Report("x", "t", "q", "a")
    report.section("S").markdown("No formula, costs \\$5.")
    assert "@font-face" not in report.render(provenance)


def test_alttext_is_not_counted_as_shown_characters():
    from casestudies.report.math import math_characters

    page = '<p>a</p><math alttext="\\frac{q}{z}" display="inline"><mi>x</mi></math>'
    assert math_characters(page) == "x"


@pytest.mark.parametrize("prose", ["costs $5 per false positive and $100 per missed fraud",
                                   "a fee of $ 5 and $ 6", "FP costs $5, FN $100."])
def test_prices_in_prose_stay_text(prose):
    html = markdown_to_html(prose)
    assert "<math" not in html and "$" in html
