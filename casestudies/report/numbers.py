"""Check the promise that every number a report shows is in its JSON.

:func:`unexplained_numbers` reads a rendered report, takes the numbers of its body text (tables,
prose, captions, callouts, glossary; not formulas, not figures, not the references, not the
reproducibility section, not section numbering) and returns those that are not a value of the
result's JSON, as formatted: rounded to the digits shown, as a percentage, with thousands
separators, or as ``1e-06``. A number a template or
``report.py`` computed or typed by hand shows up in that list.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable
from html.parser import HTMLParser
from typing import Any

# Elements whose text is not a number the run computed: formulas (their digits are notation),
# figures (tick labels are axis scales), styles and scripts, and the table of contents.
_SKIPPED_ELEMENTS = {"math", "svg", "style", "script", "nav", "head", "title"}
# The reproducibility section reports the run, not its results; citations in the references hold
# volumes, pages and years.
_SKIPPED_IDS = {"reproducibility", "references"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}

_NUMBER = re.compile(
    r"(?<![\w.])"                    # not the tail of a word or of another number
    r"([-−]?)"                       # a minus sign (ASCII or U+2212)
    r"(\d{1,3}(?:,\d{3})+|\d+)"      # integer part, possibly with thousands separators
    r"(\.\d+)?"                      # decimals
    r"(?:[eE]([-+−]?\d+))?"          # exponent
    r"(\s?%)?"                       # percent
)


class _BodyText(HTMLParser):
    """Collects the text of a report outside the skipped elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.chunks: list[str] = []

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        attributes = dict(attrs)
        # A link to a reference ("[Platt 1999](#ref-platt1999)") is a citation: its year is not
        # a result.
        skip = (tag in _SKIPPED_ELEMENTS or attributes.get("id") in _SKIPPED_IDS
                or (tag == "a" and (attributes.get("href") or "").startswith("#ref-")))
        self.stack.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if not self._skipping():
            heading = self.stack and self.stack[-1][0] in {"h2", "h3"}
            if heading:
                # "3. The math": the section number is the page's outline, not a result.
                data = re.sub(r"^\s*\d+(\.\d+)*\.?\s", " ", data)
            elif self.stack and self.stack[-1][0] == "strong" and \
                    any(tag == "figcaption" for tag, _ in self.stack):
                # "Table 3." and "Figure 2." number the page's exhibits.
                data = re.sub(r"^\s*(Table|Figure) \d+\.\s*$", " ", data)
            self.chunks.append(data)
        self.chunks.append(" ")


def report_text(html: str) -> str:
    """The body text of a report whose numbers are the run's (see the module docstring)."""
    parser = _BodyText()
    parser.feed(html)
    text = re.sub(r"\s+", " ", "".join(parser.chunks))
    # "60-second answer" names a part of the answer box, not a result of the run.
    return text.replace("60-second answer", "short spoken answer")


_PROSE_KEYS = {"short_answer", "summary", "title", "question"}


def json_numbers(payload: Any) -> list[float]:
    """Every finite number in a JSON document, sorted: its numbers (booleans excluded) and the
    numbers written inside its strings (dates, a source such as "seed 0, 120 days")."""
    found: list[float] = []

    def walk(value: Any) -> None:
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, str):
            found.extend(float(n) for n in re.findall(r"\d+(?:\.\d+)?", value.replace(",", "")))
        elif isinstance(value, (int, float)):
            if math.isfinite(value):
                found.append(float(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                # The answer sentences are prose built from the numbers, not a source of them.
                if not (key in _PROSE_KEYS and isinstance(item, str)):
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(payload)
    return sorted(found)


def _near(sorted_values: list[float], target: float, tolerance: float) -> bool:
    i = bisect.bisect_left(sorted_values, target - tolerance)
    return i < len(sorted_values) and sorted_values[i] <= target + tolerance


def _explained(token: re.Match, values: list[float]) -> bool:
    sign, integer, decimals, exponent, _percent = token.groups()
    digits = len(decimals) - 1 if decimals else 0
    mantissa = float(integer.replace(",", "") + (decimals or ""))
    if exponent is not None:
        power = int(exponent.replace("−", "-"))
        shown = mantissa * 10.0 ** power
        # Half a unit of the last digit shown, relative to the value.
        tolerance = 0.5 * 10.0 ** (power - digits)
        candidates = [(shown, tolerance)]
    else:
        candidates = [(mantissa, 0.5 * 10.0 ** (-digits))]
    # A share may be shown in percent, with the sign or under a "%" column header.
    candidates += [(v / 100, t / 100) for v, t in candidates]
    for value, tolerance in candidates:
        tolerance = tolerance * (1 + 1e-9) + 1e-12
        # A dash may be a range separator ("87-100 %") rather than a sign: accept either.
        for signed in ((-value, value) if sign else (value, -value)):
            if _near(values, signed, tolerance):
                return True
    return False


def _explained_as_list(literal: str, values: list[float]) -> bool:
    """``5,30,100`` is a list of numbers, not thirty thousand: every item must be explained."""
    if "," not in literal or "." in literal:
        return False
    items = [m for m in (_NUMBER.fullmatch(part) for part in literal.split(",")) if m]
    return len(items) == literal.count(",") + 1 and all(_explained(m, values) for m in items)


# "Platt (1999)", "(Elkan 2001)", "(Horn, 1965)", "Murphy's decomposition (1973)": a year in a
# citation.
_CITATION_YEAR = re.compile(
    r"(?:[A-Za-z.'’],?\s\(?|\()(1[89]\d\d|20[0-2]\d)[a-z]?[),;:]")


def _is_citation_year(text: str, token: re.Match) -> bool:
    window = text[max(token.start() - 3, 0):token.end() + 2]
    return bool(_CITATION_YEAR.search(window))


def unexplained_numbers(html: str, payload: Any, allowed: Iterable[str] = ()) -> list[str]:
    """Numbers shown in ``html`` that no value of ``payload`` (the report's JSON) explains.

    Parameters
    ----------
    html : str
        A rendered report.
    payload : dict
        Its parsed JSON.
    allowed : iterable of str
        Literal tokens that are prose rather than results (a reference's year, "k = 1 … 100" in a
        definition); each needs a reason where it is listed.

    Returns
    -------
    list of str
        Each unexplained number with about 40 characters of context on either side.
    """
    values = json_numbers(payload)
    allowed = set(allowed)
    text = report_text(html)
    missing = []
    for token in _NUMBER.finditer(text):
        literal = token.group(0).strip()
        if _CITATION_YEAR.search(text, max(token.start() - 60, 0), token.end() + 1) and \
                _is_citation_year(text, token):
            continue
        if literal in allowed or literal.lstrip("-−") in allowed:
            continue
        if not _explained(token, values) and not _explained_as_list(literal, values):
            start, end = max(token.start() - 40, 0), min(token.end() + 40, len(text))
            missing.append(f"{literal!r} in …{text[start:end]}…")
    return missing


_ANSWER_BOX = re.compile(r'<aside class="callout answer">(.*?)</aside>', re.DOTALL)


def answer_box_numbers(html: str) -> list[str]:
    """The numbers a reader meets in a report's first answer box (the short answer up front).

    Formulas are skipped (their digits are notation, not results), as in :func:`report_text`;
    "0.12 (0.10-0.15)" counts as three numbers, a percent as one.

    Parameters
    ----------
    html : str
        A rendered report.

    Returns
    -------
    list of str
        The number tokens in the order they appear; empty when the report has no answer box.
    """
    match = _ANSWER_BOX.search(html)
    if match is None:
        return []
    text = report_text(f"<main>{match.group(1)}</main>")
    return [token.group(0) for token in _NUMBER.finditer(text)]
