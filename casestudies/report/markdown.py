"""Markdown with ``$math$`` to HTML, and the Jinja environment that fills study templates.

Prose is CommonMark with tables, ``$inline$`` and ``$$display$$`` LaTeX (converted to MathML) and
four kinds of fenced block::

    ::: answer The short answer          ::: pitfall Global ECE is blind here
    …                                    …
    :::                                  :::

    ::: note Optional title              ::: qa Why does the interval widen with h?
    …                                    …the answer…
    :::                                  :::

Raw HTML in the Markdown is shown as text, never interpreted: together with the escaping of every
value a template inserts, this is what keeps a column named ``<script>`` harmless.
"""

from __future__ import annotations

import html
import math
import re
from functools import lru_cache
from typing import Any

import jinja2
import markupsafe
import numpy as np
from markdown_it import MarkdownIt
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin

from casestudies.report.formatting import (
    format_ci,
    format_estimate,
    format_integer_like,
    format_number,
    format_percent,
    format_pvalue,
)
from casestudies.report.math import latex_to_mathml

BLOCK_KINDS = ("answer", "pitfall", "note", "qa")
_DEFAULT_TITLES = {"answer": "Short answer", "pitfall": "Pitfall", "note": "Note", "qa": ""}


def _render_math(content: str, options: dict[str, Any]) -> str:
    return latex_to_mathml(content, display=bool(options.get("display_mode")))


def _make_block_renderer(kind: str):
    def render(self, tokens, idx, options, env) -> str:
        token = tokens[idx]
        if token.nesting != 1:
            return "</div></aside>\n" if kind != "qa" else "</div></section>\n"
        title = token.info.strip()[len(kind):].strip() or _DEFAULT_TITLES[kind]
        title_html = _parser().renderInline(title) if title else ""
        if kind == "qa":
            return (f'<section class="qa"><p class="question">{title_html}</p>'
                    '<div class="answer-text">\n')
        return (f'<aside class="callout {kind}"><p class="callout-title">{title_html}</p>'
                '<div class="callout-body">\n')
    return render


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")
    # Prices stay prose: "$5 and $100" (digits next to a dollar) and "$ 5 and $ 6" (a space
    # inside the dollars) are text, while $t^*$ is math.
    dollarmath_plugin(md, allow_labels=False, allow_digits=False, allow_space=False,
                      double_inline=False, renderer=_render_math)
    for kind in BLOCK_KINDS:
        container_plugin(md, kind, render=_make_block_renderer(kind))
    return md


def markdown_to_html(source: str) -> str:
    """Render Markdown prose (with math and fenced blocks) to an HTML fragment.

    Raises :class:`~casestudies.report.math.MathError` when a formula is invalid.
    """
    return _parser().render(source)


def inline_markdown_to_html(source: str) -> str:
    """Render one line of Markdown (a caption, a title) without a surrounding paragraph."""
    return _parser().renderInline(source)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|$<>&~])")


def escape_markdown(text: str) -> str:
    """Backslash-escape Markdown punctuation (and ``$``) so that ``text`` shows literally."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _finalize(value: Any) -> Any:
    """How a template shows a bare ``{{ value }}``: text escaped, numbers formatted."""
    if value is None:
        return "—"
    if isinstance(value, markupsafe.Markup):
        return str(value)
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return format_number(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return "—"
        # A whole number held in a float (a config's 7.0 days) is written as one: "7 days".
        return format_integer_like(value) or format_number(float(value))
    return escape_markdown(str(value))


def _code(value: Any) -> markupsafe.Markup:
    """Show ``value`` as inline code, safely whatever backticks it contains."""
    text = str(value)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return markupsafe.Markup(f"{fence} {text} {fence}")


def _tex(value: Any) -> markupsafe.Markup:
    """Insert LaTeX that the code built (never user text) inside ``$…$`` without escaping."""
    text = str(value)
    if "$" in text:
        raise ValueError(f"LaTeX inserted with the tex filter must not contain $: {text!r}")
    return markupsafe.Markup(text)


def make_environment(loader: jinja2.BaseLoader | None = None) -> jinja2.Environment:
    """The Jinja environment for Markdown templates.

    Filters for numbers:

    ``num(digits=3)``
        significant figures (:func:`~casestudies.report.formatting.format_number`);
    ``pct(digits=1)``
        a proportion as a percentage;
    ``pvalue(exact=False)``
        ``'< 0.001'`` below 0.001; with ``exact=True`` two significant figures and ``'< 1e-16'``
        below the floating-point floor, never ``'0'``
        (:func:`~casestudies.report.formatting.format_pvalue`);
    ``ci(low, high, digits=3)``
        ``'0.12 (0.10 to 0.14)'`` at a fixed number of significant figures;
    ``interval(low, high, percent=False)``
        the estimate and its interval rounded to the digits the interval justifies:
        ``{{ cost | interval(cost_low, cost_high) }}`` → ``'0.369 (0.351 to 0.399)'``
        (:func:`~casestudies.report.formatting.format_estimate`).

    ``code`` shows verbatim text and ``tex`` inserts LaTeX built by the code (to go inside
    ``$…$``); any other inserted text is Markdown-escaped, and a bare number is formatted (a float
    holding a whole number without decimals). A template that uses an undefined name fails
    instead of printing an empty string.
    """
    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        finalize=_finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=lambda v, digits=3: markupsafe.Markup(format_number(v, digits)),
        pct=lambda v, digits=1: markupsafe.Markup(escape_markdown(format_percent(v, digits))),
        pvalue=lambda v, exact=False: markupsafe.Markup(
            escape_markdown(format_pvalue(v, exact=exact))),
        interval=lambda v, low, high, percent=False: markupsafe.Markup(
            escape_markdown(format_estimate(v, low, high, percent=percent))),
        ci=lambda v, low, high, digits=3: markupsafe.Markup(format_ci(v, low, high, digits)),
        code=_code,
        text=lambda v: markupsafe.Markup(escape_markdown(str(v))),
        tex=_tex,
    )
    return env


def html_escape(text: Any) -> str:
    """Escape text for HTML content or attribute values."""
    return html.escape(str(text), quote=True)
