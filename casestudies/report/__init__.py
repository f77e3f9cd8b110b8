"""The report engine: Markdown + LaTeX prose, SVG figures and tables to one HTML file."""

from casestudies.report.document import Report, Section
from casestudies.report.figures import PALETTE, figure_to_svg, new_figure

__all__ = ["PALETTE", "Report", "Section", "figure_to_svg", "new_figure"]
