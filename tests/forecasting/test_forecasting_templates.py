"""The templates only look values up and choose words from verdicts: no comparison and no
arithmetic inside a template tag."""

import re
from pathlib import Path

import pytest

import casestudies.forecasting

TEMPLATES = sorted((Path(casestudies.forecasting.__file__).parent / "templates").glob("*.md"))
_BRANCH = re.compile(r"{%-?\s*(?:el)?if\b(.*?)-?%}", re.S)
_EXPRESSION = re.compile(r"{{-?(.*?)-?}}", re.S)
_COMPARISON = re.compile(r"<|>|==|!=|\bin\b")
_ARITHMETIC = re.compile(r"\s[-+*/%]\s|\babs\b|\bmin\b|\bmax\b|\bsum\b")


def test_there_are_templates():
    assert len(TEMPLATES) >= 10


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_template_branches_compare_nothing(path):
    for condition in _BRANCH.findall(path.read_text()):
        assert not _COMPARISON.search(condition), f"{path.name}: {{% if{condition}%}}"
        assert not re.search(r"\d", condition), f"{path.name}: a number in {condition}"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_template_expressions_compute_nothing(path):
    for expression in _EXPRESSION.findall(path.read_text()):
        assert not _ARITHMETIC.search(expression), f"{path.name}: {{{{{expression}}}}}"
