"""The report document: sections of prose, figures, tables, callouts and Q&A, rendered to one
self-contained HTML file.

A study's ``report.py`` builds a :class:`Report` from its result object::

    report = Report("calibration", title=..., question=..., short_answer=...,
                    templates="casestudies.calibration")
    math = report.section("The math")
    math.text("math.md", t_star=result.t_star)          # templates/math.md, Markdown + $LaTeX$
    math.figure(fig, caption="Reliability diagram …", alt="…")
    math.table(frame, caption="…")

Everything is rendered as soon as it is added, so that a bad formula or a missing template value
fails while building, before any file is written.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from casestudies.io import atomic_write_text
from casestudies.report.figures import figure_to_svg
from casestudies.report.formatting import format_number
from casestudies.report.markdown import (
    BLOCK_KINDS,
    html_escape,
    inline_markdown_to_html,
    make_environment,
    markdown_to_html,
)

_ENGINE_TEMPLATES = jinja2.PackageLoader("casestudies.report", "templates")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"


@dataclass
class Section:
    """One numbered section of a report; add content with its methods, in reading order."""

    title: str
    anchor: str
    report: Report = field(repr=False)
    blocks: list[str] = field(default_factory=list, repr=False)

    def text(self, template: str, **values: Any) -> Section:
        """Add prose from the study's Markdown template ``templates/<template>``.

        ``values`` are the template's placeholders; text values are escaped, numbers formatted
        (see :func:`casestudies.report.markdown.make_environment` for the filters).
        """
        source = self.report.render_template(template, **values)
        self.blocks.append(markdown_to_html(source))
        return self

    def markdown(self, source: str) -> Section:
        """Add Markdown that is already complete (generated lists, short notes)."""
        self.blocks.append(markdown_to_html(source))
        return self

    def callout(self, kind: str, template: str, title: str | None = None, **values: Any
                ) -> Section:
        """Add a highlighted block (``answer``, ``pitfall`` or ``note``) from a template."""
        if kind not in BLOCK_KINDS or kind == "qa":
            raise ValueError(f"callout kind must be answer, pitfall or note, not {kind!r}")
        body = self.report.render_template(template, **values)
        heading = f" {title}" if title else ""
        self.blocks.append(markdown_to_html(f"::: {kind}{heading}\n{body}\n:::\n"))
        return self

    def figure(self, fig: Figure, caption: str, alt: str) -> Section:
        """Add a matplotlib figure as inline SVG with a caption (Markdown) and alt text."""
        self.report.figure_count += 1
        number = self.report.figure_count
        svg = figure_to_svg(fig, prefix=f"f{number}")
        svg = svg.replace("<svg", f'<svg role="img" aria-label="{html_escape(alt)}"', 1)
        self.blocks.append(
            f'<figure id="figure-{number}">{svg}<figcaption><strong>Figure {number}.</strong> '
            f"{inline_markdown_to_html(caption)}</figcaption></figure>"
        )
        return self

    def table(self, frame: pd.DataFrame, caption: str, digits: int = 3, index: bool = False,
              percent: tuple[str, ...] = ()) -> Section:
        """Add a DataFrame as a table: numbers formatted to ``digits`` significant figures.

        Parameters
        ----------
        frame : DataFrame
            Column names and cell values are escaped.
        caption : str
            Markdown, may contain ``$math$``.
        digits : int, default 3
            Significant figures for floats.
        index : bool, default False
            Show the index as the first column.
        percent : tuple of str
            Columns holding proportions to show as percentages.
        """
        self.report.table_count += 1
        number = self.report.table_count
        self.blocks.append(_table_html(frame, number, caption, digits, index, percent))
        return self


def _cell(value: Any, digits: int, as_percent: bool) -> tuple[str, bool]:
    """Cell text and whether it is numeric (right-aligned)."""
    if isinstance(value, (bool, np.bool_)):
        return ("yes" if value else "no"), False
    if isinstance(value, (int, float, np.integer, np.floating)):
        if as_percent and value is not None and np.isfinite(value):
            return f"{100 * float(value):.1f}%", True
        return format_number(value, digits), True
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—", True
    return html_escape(value), False


def _table_html(frame: pd.DataFrame, number: int, caption: str, digits: int, index: bool,
                percent: tuple[str, ...]) -> str:
    if index:
        frame = frame.reset_index()
    head = "".join(f"<th>{html_escape(c)}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False, name=None):
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            text, numeric = _cell(value, digits, column in percent)
            cells.append(f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    # The caption sits outside the scrolling wrapper so that it wraps at the page width even
    # when a wide table scrolls sideways.
    return (
        f'<figure class="table"><figcaption><strong>Table {number}.</strong> '
        f"{inline_markdown_to_html(caption)}</figcaption>"
        f'<div class="table-wrap"><table id="table-{number}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></figure>"
    )


class Report:
    """A report under construction.

    Parameters
    ----------
    study : str
        The study's name (``"calibration"``); names the output files.
    title : str
        The page title.
    question : str
        The question the study answers, one sentence.
    short_answer : str
        The one-line answer with this run's numbers (plain text; also goes to the index).
    templates : str or path-like, optional
        Where the Markdown prose lives: a package name (``"casestudies.calibration"``, whose
        ``templates/`` folder is used) or a folder path.
    """

    def __init__(self, study: str, title: str, question: str, short_answer: str,
                 templates: str | os.PathLike | None = None):
        self.study = study
        self.title = title
        self.question = question
        self.short_answer = short_answer
        self.sections: list[Section] = []
        self.figure_count = 0
        self.table_count = 0
        if templates is None:
            loader = None
        elif isinstance(templates, os.PathLike):
            loader = jinja2.FileSystemLoader(os.fspath(templates))
        else:
            loader = jinja2.PackageLoader(templates, "templates")
        self._env = make_environment(loader)

    def section(self, title: str, anchor: str | None = None) -> Section:
        """Start a new section (it appears in the table of contents)."""
        anchor = anchor or _slug(title)
        taken = {s.anchor for s in self.sections}
        base, n = anchor, 2
        while anchor in taken:
            anchor, n = f"{base}-{n}", n + 1
        section = Section(title=title, anchor=anchor, report=self)
        self.sections.append(section)
        return section

    def text_section(self, title: str, template: str, **values: Any) -> Section:
        """Add a section made of one Markdown template (pitfalls, interview questions …)."""
        return self.section(title).text(template, **values)

    def render_template(self, name: str, **values: Any) -> str:
        """Fill the study's Markdown template ``name`` and return the Markdown."""
        try:
            return self._env.get_template(name).render(**values)
        except jinja2.UndefinedError as exc:
            raise ValueError(f"template {name}: {exc}") from exc

    def render(self, provenance: Any) -> str:
        """The complete HTML page, with the reproducibility section from ``provenance``.

        ``provenance`` is a :class:`casestudies.provenance.Provenance`.
        """
        env = jinja2.Environment(loader=_ENGINE_TEMPLATES, autoescape=True,
                                 undefined=jinja2.StrictUndefined)
        css = resources.files("casestudies.report").joinpath("templates/style.css").read_text()
        return env.get_template("base.html.j2").render(
            report=self,
            sections=[(s, markupsafe.Markup("\n".join(s.blocks))) for s in self.sections],
            css=markupsafe.Markup(css),
            provenance=provenance,
            generated=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )

    def write(self, path: str | os.PathLike, provenance: Any) -> Path:
        """Render and write atomically to ``path``; on any error the old file stays."""
        return atomic_write_text(path, self.render(provenance))
