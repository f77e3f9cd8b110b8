"""The report engine: Markdown + LaTeX prose, SVG figures and tables to one HTML file.

``casestudies.report`` is also the function that writes a result's report
(``casestudies.report(result, out="reports")``). Importing this package makes Python bind the name
``casestudies.report`` to the package itself, so the package is made callable with the same
signature: the function and the package answer to the same name.
"""

import sys
import types

from casestudies.report.document import Report, Section, columns_as_rows
from casestudies.report.figures import PALETTE, figure_text, figure_to_svg, new_figure
from casestudies.report.markdown import escape_markdown as user_text

__all__ = ["PALETTE", "Report", "Section", "columns_as_rows", "figure_text", "figure_to_svg",
           "new_figure", "user_text"]


class _CallableModule(types.ModuleType):
    def __call__(self, result, out="reports"):
        """Write ``out/STUDY.html`` and ``out/STUDY.json``: see :func:`casestudies.write_report`."""
        from casestudies import write_report

        return write_report(result, out)


sys.modules[__name__].__class__ = _CallableModule
