"""LaTeX to MathML, so that formulas render natively in the browser with no script and no network.

Browsers render MathML Core (Chromium since 109, Firefox, Safari). Conversion is done by
``latex2mathml``; this module adds the checks it does not make, so that a typo in a formula fails
the report build with a message naming the formula instead of showing garbage.
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert

from casestudies.errors import CaseStudyError


class MathError(CaseStudyError):
    """A formula in a report could not be converted; the message names the formula."""


# latex2mathml passes unknown commands through as identifiers such as <mi>\foo</mi>.
_UNKNOWN_COMMAND = re.compile(r"<m[io][^>]*>(\\[A-Za-z]+)</m[io]>")


def latex_to_mathml(latex: str, display: bool = False) -> str:
    """Convert one LaTeX formula to a ``<math>`` element.

    Parameters
    ----------
    latex : str
        The formula without its ``$`` delimiters.
    display : bool, default False
        Block (``display="block"``) rather than inline layout.

    Returns
    -------
    str
        MathML markup; the LaTeX source is kept in the ``alttext`` attribute for screen readers.

    Raises
    ------
    MathError
        The formula is empty, unbalanced, or uses a command the converter does not know.
    """
    source = latex.strip()
    if not source:
        raise MathError("empty formula in report prose")
    try:
        mathml = convert(source, display="block" if display else "inline")
    except Exception as exc:  # latex2mathml signals syntax errors with many exception types
        raise MathError(
            f"invalid LaTeX in formula ${source}$: {type(exc).__name__} {exc}".strip()
        ) from exc
    unknown = _UNKNOWN_COMMAND.search(mathml)
    if unknown:
        raise MathError(f"unknown LaTeX command {unknown.group(1)} in formula ${source}$")
    return mathml.replace("<math ", f'<math alttext="{html.escape(source)}" ', 1)
