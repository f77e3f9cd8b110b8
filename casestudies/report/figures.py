"""The house style for matplotlib figures and their conversion to inline SVG.

Figures are made with :class:`matplotlib.figure.Figure` directly (no pyplot state), drawn with
text as paths so that no font is needed where the report is read, and with a fixed hash salt and
no date so that the same run gives byte-identical SVG.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib
from matplotlib.dates import HOURLY, MINUTELY, MONTHLY, SECONDLY, AutoDateLocator
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text
from matplotlib.ticker import AutoLocator, MaxNLocator

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


# --- Figures on a phone ---------------------------------------------------------------------------
# A figure is shown at most at its natural size (1 pt of the figure = 4/3 CSS px), and shrinks with
# the page. Text is drawn as paths, so CSS cannot enlarge it: a wide figure shrunk onto a 390 px
# phone would carry 5 px labels. The engine therefore measures the smallest text of every figure and
# (a) gives the page a narrow variant of the figure, laid out again at phone width with its panels
# stacked, shown by a media query below the width where the wide one would drop under
# MIN_TEXT_PX; and (b) never lets either variant shrink below the width that keeps its text at
# MIN_TEXT_PX: a figure that cannot fit scrolls sideways inside its frame instead.

MIN_TEXT_PX = 9.0
"""Smallest size, in CSS px, at which text inside a figure may render."""
PHONE_WIDTH_IN = 3.8
"""Width of the narrow variant, inches: 365 px at its natural size, the content width of a 390 px
phone, so that its text renders at its own point size (10 pt → 13 px)."""
NARROW_PANEL_HEIGHT_IN = (2.3, 3.4)
"""Bounds on the height of one panel of the narrow variant, inches."""
PX_PER_PT = 4 / 3
"""CSS pixels per point: a figure's natural size on the page."""

_VIEWBOX = re.compile(r'<svg[^>]*\bviewBox="([-\d.e]+) ([-\d.e]+) ([\d.e]+) ([\d.e]+)"')
_GLYPH_GROUP = re.compile(
    r'<g transform="[^"]*scale\(([\d.e]+) -[\d.e]+\)">(.*?)</g>', re.DOTALL)
_USE = re.compile(r"<use\b[^>]*>")
_USE_SCALE = re.compile(r'transform="[^"]*scale\(([\d.e]+)\)"')


def svg_size_pt(svg: str) -> tuple[float, float]:
    """Width and height of a figure's SVG (from its viewBox), in points."""
    match = _VIEWBOX.search(svg)
    if match is None:
        raise ValueError("the SVG has no viewBox")
    return float(match.group(3)), float(match.group(4))


def svg_text_sizes(svg: str) -> list[float]:
    """The size in points of every glyph of the text drawn in an SVG made by :func:`figure_to_svg`.

    matplotlib draws text as paths defined on a 100-unit em and scales each run of glyphs to its
    font size (``scale(s -s)``), mathematical sub- and superscripts once more (``scale(0.7)``).
    """
    sizes = []
    for scale, body in _GLYPH_GROUP.findall(svg):
        for use in _USE.findall(body):
            inner = _USE_SCALE.search(use)
            sizes.append(100 * float(scale) * (float(inner.group(1)) if inner else 1.0))
    return sizes


def readable_width_px(svg: str) -> float:
    """The narrowest CSS width, px, at which all text of ``svg`` renders at MIN_TEXT_PX or more.

    0 for a figure without text.
    """
    width_pt, _ = svg_size_pt(svg)
    sizes = svg_text_sizes(svg)
    if not sizes:
        return 0.0
    # Shown w px wide, the figure's text of s pt renders at s * w / width_pt px.
    return width_pt * MIN_TEXT_PX / min(sizes)


def _grid_axes(fig: Figure) -> tuple[list, object] | None:
    """The axes laid out on one grid of single cells, and that grid; None when it is not so."""
    axes = [ax for ax in fig.axes if ax.get_subplotspec() is not None]
    if not axes:
        return None
    grids = {id(ax.get_subplotspec().get_gridspec()) for ax in axes}
    if len(grids) != 1:
        return None
    for ax in axes:
        spec = ax.get_subplotspec()
        if len(spec.rowspan) != 1 or len(spec.colspan) != 1:
            return None
    return axes, axes[0].get_subplotspec().get_gridspec()


NARROW_MIN_TEXT_PT = 7.0
"""Smallest font size, points, in the narrow variant: shown at about its natural size there,
7 pt renders at 9.3 px."""
_SCRIPTED_MATH = re.compile(r"(?<!\\)\$.*?(\^|_|\\frac|\\sqrt).*?(?<!\\)\$")


def _enlarge_small_text(fig: Figure, smallest: float = NARROW_MIN_TEXT_PT) -> None:
    """Raise every text of the narrow variant to ``smallest`` points; text whose math has sub- or
    superscripts (drawn at 70 %) to ``smallest / 0.7``."""
    for ax in fig.axes:
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            labels = axis.get_ticklabels()
            if labels and labels[0].get_fontsize() < smallest:
                ax.tick_params(axis=name, labelsize=smallest)
    for text in fig.findobj(Text):
        content = text.get_text()
        if not content or not text.get_visible():
            continue
        needed = smallest / 0.7 if _SCRIPTED_MATH.search(content) else smallest
        if text.get_fontsize() < needed:
            text.set_fontsize(needed)


def _thin_out_ticks(fig: Figure) -> None:
    """Fewer automatic ticks along narrowed x axes, so that their labels do not collide."""
    for ax in fig.axes:
        locator = ax.xaxis.get_major_locator()
        if type(locator) is AutoLocator:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
        elif isinstance(locator, AutoDateLocator):
            locator.maxticks = dict.fromkeys(locator.maxticks, 5)
            locator.minticks = 3
            # With at most five ticks, a span just short of three coarser units (35 months,
            # say) needs a step of a whole coarser unit, which the default steps lack.
            for unit, step in ((MONTHLY, 12), (HOURLY, 24), (MINUTELY, 60), (SECONDLY, 60)):
                if step not in locator.intervald[unit]:
                    locator.intervald[unit] = [*locator.intervald[unit], step]


_LOCATION_NAMES = {code: name for name, code in Legend.codes.items()}


def _set_legend_columns(legend: Legend, ncols: int) -> Legend:
    """The legend made again in ``ncols`` columns (matplotlib lays a legend's box out once).

    Kept as it is when its placement cannot be made again exactly (a ``bbox_to_anchor``, an
    ``outside`` placement on the left or right).
    """
    outside = getattr(legend, "_outside_loc", None)
    name = _LOCATION_NAMES.get(legend._loc)
    if legend._bbox_to_anchor is not None and outside is None:
        return legend
    if outside is not None:
        if outside not in ("lower", "upper") or name is None:
            return legend
        location = f"outside {name}"
    else:
        location = legend._loc
    handles = list(legend.legend_handles)
    labels = [text.get_text() for text in legend.texts]
    title = legend.get_title().get_text() or None
    owner = legend.parent
    options = dict(loc=location, ncols=ncols, fontsize=legend.prop.get_size(),
                   frameon=legend.get_frame_on(), title=title)
    legend.remove()
    return owner.legend(handles, labels, **options)


def _fit_legends(fig: Figure, width: float) -> float:
    """Put legends wider than their room in fewer columns; return the height, inches, that the
    legends of the whole figure take."""
    for columns in (2, 1):
        legends = [(legend, None) for legend in fig.legends]
        legends += [(ax.get_legend(), ax) for ax in fig.axes if ax.get_legend() is not None]
        legends = [(legend, ax) for legend, ax in legends if legend._ncols > columns]
        if not legends:
            continue  # nothing to narrow: spare the drawing
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "constrained_layout not applied", UserWarning)
            fig.draw_without_rendering()
        for legend, ax in legends:
            room = ax.bbox.width if ax is not None else width * fig.dpi
            if legend.get_window_extent().width > room:
                _set_legend_columns(legend, columns)
    if not fig.legends:
        return 0.0
    # Measured before the figure is given the legends' room, the panels may have none left; that
    # layout is only a measurement, so its warning is not the reader's concern.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "constrained_layout not applied", UserWarning)
        fig.draw_without_rendering()
    return 0.15 + sum(legend.get_window_extent().height for legend in fig.legends) / fig.dpi


def narrow_layout(fig: Figure, width: float = PHONE_WIDTH_IN) -> bool:
    """Lay ``fig`` out again for a phone, in place: ``width`` inches, panels stacked in one column.

    Panels of a grid (``new_figure(…, nrows, ncols)``) are put one under the other in reading
    order, each with its own tick labels; a colorbar follows its panel. A figure whose axes are
    not one grid of single cells keeps its arrangement and is only narrowed. Text below
    :data:`NARROW_MIN_TEXT_PT` is enlarged (math with sub- or superscripts to 10 pt, as those
    are drawn at 70 %), automatic x ticks are thinned out, and legends wider than their room
    take fewer columns.

    Returns
    -------
    bool
        Whether the panels were re-stacked.
    """
    old_width, old_height = (float(v) for v in fig.get_size_inches())
    found = _grid_axes(fig)
    stacked = False
    rows = 1
    if found is not None:
        axes, grid = found
        nrows, ncols = grid.get_geometry()
        rows = nrows
        if ncols > 1:
            panel_aspect = (old_height / nrows) / (old_width / ncols)
            # Empty cells of the grid (axes switched off, with nothing drawn) are dropped.
            empty = [ax for ax in axes if not (ax.get_visible() and (ax.axison or ax.has_data()))]
            for ax in empty:
                ax.remove()
            shown = sorted((ax for ax in axes if ax not in empty),
                           key=lambda ax: (ax.get_subplotspec().rowspan[0],
                                           ax.get_subplotspec().colspan[0]))
            new_grid = fig.add_gridspec(max(len(shown), 1), 1)
            for row, ax in enumerate(shown):
                ax.set_subplotspec(new_grid[row])
                ax.tick_params(labelleft=True, labelbottom=True)
            rows, stacked = max(len(shown), 1), True
        else:
            panel_aspect = (old_height / nrows) / old_width
    else:
        panel_aspect = old_height / old_width
    low, high = NARROW_PANEL_HEIGHT_IN
    panel_height = min(max(width * panel_aspect, low), high)
    fig.set_size_inches(width, rows * panel_height)
    _enlarge_small_text(fig)
    _thin_out_ticks(fig)
    # A legend or title of the whole figure takes room the panels must not lose.
    extra = _fit_legends(fig, width)
    if fig._suptitle is not None:
        extra += 0.35
    fig.set_size_inches(width, rows * panel_height + extra)
    return stacked
