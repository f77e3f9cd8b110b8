"""The report document: sections of prose, figures, tables, callouts and Q&A, rendered to one
self-contained HTML file.

A study's ``report.py`` builds a :class:`Report` from its result object::

    report = Report("calibration", title=..., question=..., short_answer=...,
                    templates="casestudies.calibration")
    math = report.section("The math")
    math.text("math.md", t_star=result.t_star)          # templates/math.md, Markdown + $LaTeX$
    math.figure(fig, caption="Reliability diagram …", alt="…")
    math.table(frame, caption="…")
    report.references({"platt1999": "Platt, J. (1999). Probabilistic outputs for support "
                                    "vector machines …"})
    report.glossary({"Calibration": "A model is *calibrated* when …"})

Prose links to a reference with ``[Platt 1999](#ref-platt1999)`` and to a glossary entry with
``[calibrated](#term-calibration)``; a link whose target the page lacks fails the build.

For a phone: :meth:`Section.figure` keeps figure text at 9 px or more (a narrow variant of the
figure with stacked panels where needed), :meth:`Section.figures` lays separate panels out as
small multiples that stack on a narrow screen, and :meth:`Section.table` frames wide tables so
that they scroll with their first column in view. Tables show p-values (``pvalues=``) and
estimates with intervals (``intervals=``) as the numbers justify; templates have the filters
``pvalue(exact=True)`` and ``interval(low, high)``
(:func:`casestudies.report.markdown.make_environment`).

Everything is rendered as soon as it is added, so that a bad formula or a missing template value
fails while building, before any file is written.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
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
from casestudies.report.figures import (
    PX_PER_PT,
    figure_to_svg,
    narrow_layout,
    readable_width_px,
    svg_size_pt,
)
from casestudies.report.formatting import (
    format_estimate,
    format_integer_like,
    format_number,
    format_pvalue,
)
from casestudies.report.markdown import (
    BLOCK_KINDS,
    html_escape,
    inline_markdown_to_html,
    make_environment,
    markdown_to_html,
)
from casestudies.report.math import math_font_css

_ENGINE_TEMPLATES = jinja2.PackageLoader("casestudies.report", "templates")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"


def term_anchor(term: str) -> str:
    """The anchor id of a glossary term: ``"Prediction interval"`` → ``"term-prediction-interval"``.

    Markdown links to a term with ``[prediction interval](#term-prediction-interval)``.
    """
    return "term-" + _slug(term)


_REFERENCE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
# A citation names its year: 1500-2099, possibly with a letter ("2001a").
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)[a-z]?(?!\d)")


@dataclass
class Section:
    """One numbered section of a report; add content with its methods, in reading order."""

    title: str
    anchor: str
    report: Report = field(repr=False)
    blocks: list[str] = field(default_factory=list, repr=False)
    #: CSS class of the ``<section>`` element (``"references"``, ``"glossary"``); empty for prose.
    kind: str = ""

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

    def figure(self, fig: Figure, caption: str, alt: str, narrow: bool | None = None
               ) -> Section:
        """Add a matplotlib figure as inline SVG with a caption (Markdown) and alt text.

        The figure is shown at most at its natural size (1 pt = 4/3 px) and shrinks with the page,
        but never so far that its smallest text renders below
        :data:`~casestudies.report.figures.MIN_TEXT_PX` (9 px): a figure too wide for the screen
        scrolls sideways in its frame instead. On a narrow screen where the figure's text would
        drop below that size, the page shows a narrow variant: the same figure laid out again
        at phone width with its panels stacked in one column
        (:func:`~casestudies.report.figures.narrow_layout`).

        Parameters
        ----------
        fig : Figure
            Made with :func:`~casestudies.report.figures.new_figure`; consumed (the narrow variant
            changes its layout).
        caption : str
            Markdown, may contain ``$math$``; say what to look at.
        alt : str
            What the figure shows, for screen readers.
        narrow : bool, optional
            Whether to add the narrow variant: by default only when the figure needs it; False
            never (the figure scrolls on a phone instead), True always.
        """
        number = self.report.next_figure_number()
        body, css = _figure_variants(fig, alt, f"figure-{number}", f"f{number}", narrow)
        self.report.add_css(css)
        self.blocks.append(
            f'<figure id="figure-{number}" class="chart">{body}<figcaption><strong>Figure '
            f"{number}.</strong> {inline_markdown_to_html(caption)}</figcaption></figure>"
        )
        return self

    def figures(self, panels: Sequence[Figure], caption: str, alts: Sequence[str],
                labels: Sequence[str] | None = None) -> Section:
        """Add small multiples: separate panel figures that sit side by side when the page is
        wide enough and stack on a phone, under one caption (one figure number).

        Prefer this to one wide figure of many panels: each panel keeps readable text on any
        screen. Make each panel with :func:`~casestudies.report.figures.new_figure` at about
        3.2-4 inches wide, with the same axis limits where the panels are to be compared (the
        reader cannot see them aligned on a phone).

        Parameters
        ----------
        panels : sequence of Figure
            The panels in reading order.
        caption : str
            Markdown caption of the whole group; refer to panels by their labels.
        alts : sequence of str
            Alt text of each panel, same length as ``panels``.
        labels : sequence of str, optional
            A short label shown above each panel; default ``(a)``, ``(b)``, …

        Raises
        ------
        ValueError
            No panel, or ``alts``/``labels`` of another length than ``panels``.
        """
        panels = list(panels)
        alts = list(alts)
        labels = list(labels) if labels is not None else [
            f"({chr(ord('a') + i)})" for i in range(len(panels))]
        if not panels or len(alts) != len(panels) or len(labels) != len(panels):
            raise ValueError(f"figures needs at least one panel and one alt text and label per "
                             f"panel: {len(panels)} panels, {len(alts)} alt texts, "
                             f"{len(labels)} labels")
        number = self.report.next_figure_number()
        cells, widest = [], 0.0
        for i, (panel, alt, label) in enumerate(zip(panels, alts, labels, strict=True)):
            svg = _sized_svg(panel, alt, f"f{number}p{i + 1}")
            widest = max(widest, readable_width_px(svg))
            cells.append(f'<div class="panel"><p class="panel-label">'
                         f"{inline_markdown_to_html(label)}</p>"
                         f'<div class="figure-frame">{svg}</div></div>')
        # Columns no narrower than the width at which the panels' text stays readable.
        style = f"--panel-min: {math.ceil(widest)}px"
        self.blocks.append(
            f'<figure id="figure-{number}" class="chart panels" style="{style}">'
            f'<div class="panel-grid">{"".join(cells)}</div><figcaption><strong>Figure '
            f"{number}.</strong> {inline_markdown_to_html(caption)}</figcaption></figure>"
        )
        return self

    def table(self, frame: pd.DataFrame, caption: str, digits: int = 3, index: bool = False,
              percent: tuple[str, ...] = (), pvalues: tuple[str, ...] = (),
              intervals: Mapping[str, tuple[str, str]] | None = None) -> Section:
        """Add a DataFrame as a table: numbers formatted to ``digits`` significant figures.

        A column of whole numbers shows no decimals, even when stored as floats. The table
        scrolls sideways inside its frame when it is wider than the page (the page itself never
        does), keeping its first column in view, with a shadow on the edge that has more columns.
        Aim for at most about eight columns: split or transpose a wider table, or show a chosen
        subset and say in the caption that the JSON has the rest.

        Parameters
        ----------
        frame : DataFrame
            Column names and cell values are escaped. Name columns for a reader ("ECE width"),
            not as in the code (``ece_width``).
        caption : str
            Markdown, may contain ``$math$``.
        digits : int, default 3
            Significant figures for floats.
        index : bool, default False
            Show the index as the first column.
        percent : tuple of str
            Columns holding proportions to show as percentages.
        pvalues : tuple of str
            Columns holding p-values: two significant figures, ``< 1e-16`` below the
            floating-point floor, never ``0``
            (:func:`~casestudies.report.formatting.format_pvalue` with ``exact=True``).
        intervals : mapping of str to (str, str), optional
            ``{"cost": ("cost low", "cost high")}``: show each ``cost`` with its interval from
            the two other columns, rounded to the digits the interval justifies
            (:func:`~casestudies.report.formatting.format_estimate`), and do not show those two
            columns; this also saves two columns.

        Raises
        ------
        ValueError
            A column named in ``percent``, ``pvalues`` or ``intervals`` is not in the table.
        """
        self.report.table_count += 1
        number = self.report.table_count
        self.blocks.append(_table_html(frame, number, caption, digits, index, percent,
                                       pvalues, dict(intervals or {})))
        return self

def _sized_svg(fig: Figure, alt: str, prefix: str) -> str:
    """The figure as SVG sized by CSS: at most its natural width, at least its readable width."""
    svg = figure_to_svg(fig, prefix=prefix)
    natural = svg_size_pt(svg)[0] * PX_PER_PT
    readable = readable_width_px(svg)
    style = f"max-width: {math.ceil(max(natural, readable))}px"
    if readable:
        style += f"; min-width: {math.ceil(readable)}px"
    return svg.replace("<svg", f'<svg role="img" aria-label="{html_escape(alt)}" '
                       f'style="{style}"', 1)


# The content width of a phone 390 px wide (the page keeps 0.7 rem of padding each side).
PHONE_CONTENT_PX = 390 - 2 * 0.7 * 16
# What the page takes from the viewport on a wider screen: 1 rem of padding each side.
_PAGE_MARGINS_PX = 2 * 16


def _figure_variants(fig: Figure, alt: str, anchor: str, prefix: str, narrow: bool | None
                     ) -> tuple[str, str]:
    """The figure's HTML (one or two framed SVGs) and the CSS that picks a variant."""
    wide = _sized_svg(fig, alt, prefix)
    needs = readable_width_px(wide)
    if narrow is None:
        narrow = needs > PHONE_CONTENT_PX
    frame = '<div class="figure-frame{}">{}</div>'
    if not narrow:
        return frame.format("", wide), ""
    narrow_layout(fig)
    small = _sized_svg(fig, alt, f"{prefix}n")
    # Below this viewport width the wide figure's text would render under MIN_TEXT_PX.
    breakpoint = math.ceil(needs + _PAGE_MARGINS_PX)
    css = (f"@media screen and (max-width: {breakpoint}px) {{ #{anchor} > .figure-frame.wide "
           f"{{ display: none; }} #{anchor} > .figure-frame.narrow {{ display: block; }} }}")
    return frame.format(" wide", wide) + frame.format(" narrow", small), css


def _cell(value: Any, digits: int, as_percent: bool, as_pvalue: bool = False,
          whole: bool = False) -> tuple[str, bool]:
    """Cell text and whether it is numeric (right-aligned)."""
    if isinstance(value, (bool, np.bool_)):
        return ("yes" if value else "no"), False
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)):
        return "—", True
    if isinstance(value, (int, float, np.integer, np.floating)):
        if as_percent and np.isfinite(value):
            return f"{100 * float(value):.1f}%", True
        if as_pvalue:
            return html_escape(format_pvalue(value, exact=True)), True
        if whole:
            return format_integer_like(float(value)) or format_number(value, digits), True
        return format_number(value, digits), True
    return html_escape(value), False


def _whole_number_columns(frame: pd.DataFrame) -> set:
    """Float columns whose finite values are all whole numbers (counts stored as floats)."""
    whole = set()
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_float_dtype(values.dtype):
            finite = values[np.isfinite(values)]
            if len(finite) and bool((finite == np.round(finite)).all()) and \
                    bool((finite.abs() < 1e15).all()):
                whole.add(column)
    return whole


def columns_as_rows(frame: pd.DataFrame, label: str = "column") -> pd.DataFrame:
    """A few rows of a wide table turned on their side, to fit a page: one row per column of
    ``frame``, named in the first column ``label``, and one column per row ("row 1", "row 2", ...).

    Parameters
    ----------
    frame : DataFrame
        A preview: a handful of rows, any number of columns.
    label : str, default "column"
        Header of the column that names ``frame``'s columns.

    Returns
    -------
    DataFrame
        Of object dtype: each cell keeps its value (a number stays a number for formatting).
    """
    turned = frame.astype(object).T
    turned.columns = [f"row {i + 1}" for i in range(len(frame))]
    turned.insert(0, label, [str(c) for c in frame.columns])
    return turned.reset_index(drop=True)


def _table_html(frame: pd.DataFrame, number: int, caption: str, digits: int, index: bool,
                percent: tuple[str, ...], pvalues: tuple[str, ...] = (),
                intervals: dict[str, tuple[str, str]] | None = None) -> str:
    if index:
        frame = frame.reset_index()
    intervals = intervals or {}
    named = set(percent) | set(pvalues) | set(intervals)
    named |= {bound for pair in intervals.values() for bound in pair}
    missing = sorted(str(c) for c in named - set(frame.columns))
    if missing:
        raise ValueError(f"table {number}: no column {', '.join(map(repr, missing))} to format; "
                         f"the columns are {', '.join(map(repr, map(str, frame.columns)))}")
    hidden = {bound for pair in intervals.values() for bound in pair}
    shown = [c for c in frame.columns if c not in hidden]
    whole = _whole_number_columns(frame)
    head = "".join(f"<th>{html_escape(c)}</th>" for c in shown)
    rows = []
    for record in frame.to_dict("records"):
        cells = []
        for column in shown:
            value = record[column]
            if column in intervals:
                low, high = (record[b] for b in intervals[column])
                text = html_escape(format_estimate(value, low, high, percent=column in percent))
                numeric = True
            else:
                text, numeric = _cell(value, digits, column in percent, column in pvalues,
                                      column in whole)
            cells.append(f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    # The caption sits outside the scrolling frame so that it wraps at the page width even
    # when a wide table scrolls sideways; the frame is focusable so that a keyboard can scroll.
    return (
        f'<figure class="table"><figcaption><strong>Table {number}.</strong> '
        f"{inline_markdown_to_html(caption)}</figcaption>"
        f'<div class="table-wrap" role="region" tabindex="0" aria-label="Table {number}">'
        f'<table id="table-{number}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></figure>"
    )


def _mapping_items(entries: Mapping[str, str], what: str) -> list[tuple[str, str]]:
    if not isinstance(entries, Mapping):
        raise ValueError(f"{what} takes a mapping (dict), not {type(entries).__name__}")
    items = list(entries.items())
    bad = [k for k, v in items if not isinstance(k, str) or not isinstance(v, str)]
    if bad:
        raise ValueError(f"{what} keys and texts must be strings: {bad[0]!r}")
    return items


_ID_ATTRIBUTE = re.compile(r'\bid="([^"]+)"')
_INTERNAL_LINK = re.compile(r'<a href="#([^"]+)"')


def _check_internal_links(page: str) -> None:
    """Raise when a link inside the page points at an anchor the page does not have."""
    ids = set(_ID_ATTRIBUTE.findall(page))
    missing = sorted({target for target in _INTERNAL_LINK.findall(page) if target not in ids})
    if missing:
        hints = {"ref": "add it with Report.references", "term": "add it with Report.glossary"}
        hint = hints.get(missing[0].split("-", 1)[0], "check the anchor")
        raise ValueError(f"link to #{missing[0]} has no target in the report ({hint}); "
                         f"missing: {', '.join('#' + m for m in missing)}")


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
        self._css: list[str] = []
        self._references: dict[str, str] = {}
        self._glossary: dict[str, str] = {}
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

    def next_figure_number(self) -> int:
        """Count one more figure and return its number (figures are numbered in page order)."""
        self.figure_count += 1
        return self.figure_count

    def add_css(self, rule: str) -> None:
        """Add a style rule of this report (a figure's media query) to the page's style sheet."""
        if rule and rule not in self._css:
            self._css.append(rule)

    def references(self, entries: Mapping[str, str]) -> Report:
        """Add works to the "References" section, shown after the study's sections.

        Each citation becomes a list item with the anchor id ``ref-KEY``, so that prose cites it
        where the claim is made with a Markdown link: ``[Platt 1999](#ref-platt1999)``. The text
        is inserted as written (escaped; no Markdown, no math), in the order given. May be called
        more than once; the entries accumulate.

        Parameters
        ----------
        entries : mapping of str to str
            Key (letters, digits, ``-`` and ``_``; e.g. ``"platt1999"``) to the full citation:
            authors, year, title, venue, e.g. ``"Platt, J. (1999). Probabilistic outputs for
            support vector machines and comparisons to regularized likelihood methods. Advances
            in Large Margin Classifiers, MIT Press."``.

        Returns
        -------
        Report
            ``self``, so that calls can be chained.

        Raises
        ------
        ValueError
            A key that is not a valid anchor or is already taken by another citation, or a
            citation that is empty or names no year (1500-2099).

        Notes
        -----
        The References and Glossary sections come last, before Reproducibility, whenever they
        are added, and are listed in the contents. Numbers inside citations (volume, pages) are
        not results, so :func:`casestudies.report.numbers.unexplained_numbers` skips this section.
        """
        for key, citation in _mapping_items(entries, "references"):
            if not _REFERENCE_KEY.fullmatch(key):
                raise ValueError(f"reference key {key!r} must be letters, digits, '-' or '_' "
                                 f"(it becomes the anchor #ref-{key})")
            text = " ".join(str(citation).split())
            if not text:
                raise ValueError(f"reference {key!r} has no citation text")
            if not _YEAR.search(text):
                raise ValueError(f"reference {key!r} names no year: add the year of "
                                 f"publication to {text!r}")
            if self._references.get(key, text) != text:
                raise ValueError(f"reference key {key!r} is already used for another work")
            self._references[key] = text
        return self

    def glossary(self, entries: Mapping[str, str]) -> Report:
        """Add terms to the "Glossary" section, shown after the References.

        Each term becomes a definition-list entry with the anchor id from :func:`term_anchor`
        (``"Prediction interval"`` → ``term-prediction-interval``), so prose links to it with
        ``[prediction interval](#term-prediction-interval)``. Terms are listed alphabetically.
        May be called more than once; the entries accumulate.

        Parameters
        ----------
        entries : mapping of str to str
            Term (shown as written, escaped) to its definition: Markdown with ``$math$``, written
            by the study (never user or data text, which must go through
            :func:`casestudies.report.user_text`). Definitions may link to other terms and to
            references.

        Returns
        -------
        Report
            ``self``, so that calls can be chained.

        Raises
        ------
        ValueError
            An empty term or definition, or two terms with the same anchor.
        MathError
            A formula in a definition is invalid.
        """
        for term, definition in _mapping_items(entries, "glossary"):
            term = " ".join(term.split())
            if not term or not str(definition).strip():
                raise ValueError(f"glossary term {term!r} needs a name and a definition")
            anchor = term_anchor(term)
            clash = [t for t in self._glossary if term_anchor(t) == anchor and t != term]
            if clash or self._glossary.get(term, definition) != definition:
                raise ValueError(f"glossary term {term!r} is defined twice (anchor #{anchor})")
            markdown_to_html(str(definition))  # a bad formula fails now, not at render time
            self._glossary[term] = str(definition)
        return self

    def _closing_sections(self, taken: set[str]) -> list[Section]:
        """The References and Glossary sections, built from what was added."""
        closing = []
        if self._references:
            items = "".join(
                f'<li id="ref-{html_escape(key)}">{html_escape(text)}</li>'
                for key, text in self._references.items())
            closing.append(("References", "references", f'<ol class="references">{items}</ol>'))
        if self._glossary:
            items = "".join(
                f'<dt id="{term_anchor(term)}">{html_escape(term)}</dt>'
                f"<dd>{markdown_to_html(self._glossary[term])}</dd>"
                for term in sorted(self._glossary, key=str.casefold))
            closing.append(("Glossary", "glossary", f'<dl class="glossary">{items}</dl>'))
        sections = []
        for title, kind, body in closing:
            anchor, n = kind, 2
            while anchor in taken:
                anchor, n = f"{kind}-{n}", n + 1
            taken.add(anchor)
            sections.append(Section(title=title, anchor=anchor, report=self, blocks=[body],
                                    kind=kind))
        return sections

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
        taken = {s.anchor for s in self.sections} | {"reproducibility"}
        sections = self.sections + self._closing_sections(taken)
        bodies = [markupsafe.Markup("\n".join(s.blocks)) for s in sections]
        page = env.get_template("base.html.j2").render(
            report=self,
            sections=list(zip(sections, bodies, strict=True)),
            css=markupsafe.Markup(css + "\n" + "\n".join(self._css)),
            math_font=markupsafe.Markup(math_font_css("".join(bodies))),
            provenance=provenance,
        )
        _check_internal_links(page)
        return page

    def write(self, path: str | os.PathLike, provenance: Any) -> Path:
        """Render and write atomically to ``path``; on any error the old file stays."""
        return atomic_write_text(path, self.render(provenance))
