"""The house style for matplotlib figures and their conversion to inline SVG.

Figures are made with :class:`matplotlib.figure.Figure` directly (no pyplot state), drawn with
text as paths so that no font is needed where the report is read, and with a fixed hash salt and
no date so that the same run gives byte-identical SVG.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib
from matplotlib.figure import Figure

matplotlib.use("Agg")

PALETTE = ["#1f5aa6", "#d1495b", "#2e933c", "#edae49", "#6c4f9e", "#00798c", "#7f7f7f",
           "#b86f0e"]

STYLE = {
    "svg.fonttype": "path",
    "svg.hashsalt": "casestudies",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "figure.dpi": 100,
    "lines.linewidth": 1.6,
}


@contextmanager
def style() -> Iterator[None]:
    """Context in which figures are created and drawn in the house style."""
    with matplotlib.rc_context(STYLE):
        yield


def new_figure(width: float = 7.0, height: float = 4.0, nrows: int = 1, ncols: int = 1,
               **subplot_kw) -> tuple[Figure, object]:
    """Create a figure in the house style and its axes (an array when there are several).

    Parameters
    ----------
    width, height : float
        Size in inches; the report scales figures to the page width.
    nrows, ncols : int
        Grid of axes, as in :meth:`matplotlib.figure.Figure.subplots`.
    **subplot_kw
        Passed to :meth:`~matplotlib.figure.Figure.subplots` (``sharex``, ``squeeze`` …).
    """
    with style():
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(nrows, ncols, **subplot_kw)
    return fig, axes


def figure_text(text: object) -> str:
    """Text from data or from the user (a column name, a label value), made inert for matplotlib.

    matplotlib reads ``$...$`` in any label as math (a value ``$$`` stops the drawing with a parse
    error) and gives ``\\`` meaning inside it; escaping every dollar sign keeps the text as it
    was typed. Labels the report writes itself may keep their math.
    """
    return str(text).replace("$", r"\$")


_ID = re.compile(r'\bid="([^"]+)"')


def figure_to_svg(fig: Figure, prefix: str = "fig") -> str:
    """Render ``fig`` as an ``<svg>`` element ready to be inlined in HTML.

    Every ``id`` in the SVG is prefixed with ``prefix`` so that several figures in one page never
    share an id (matplotlib reuses glyph and clip-path ids across figures).
    """
    buffer = io.StringIO()
    with style():
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    ids = set(_ID.findall(svg))
    if ids:
        alternatives = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
        svg = re.sub(rf'\bid="({alternatives})"', rf'id="{prefix}-\1"', svg)
        svg = re.sub(rf"#({alternatives})\b", rf"#{prefix}-\1", svg)
    # Let CSS size the figure: keep the viewBox, drop the fixed point size.
    svg = re.sub(r'(<svg[^>]*?)\swidth="[^"]*"\s+height="[^"]*"', r"\1", svg, count=1)
    return svg.strip()
