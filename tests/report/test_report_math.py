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
    assert accent.text == "^"


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
