"""Number formatting shared by tables, templates and the index."""

from __future__ import annotations

import math

import numpy as np


def format_number(value, digits: int = 3) -> str:
    """Format a number for reading: ``digits`` significant figures, no needless exponent.

    Integers get thousands separators; floats of magnitude below 1e-3 or above 1e6 use
    scientific notation; NaN and None show as an em dash.

    Examples
    --------
    >>> format_number(0.123456)
    '0.123'
    >>> format_number(1234567)
    '1,234,567'
    >>> format_number(0.0000123)
    '1.23e-05'
    """
    if value is None:
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    value = float(value)
    if not math.isfinite(value):
        return "—" if math.isnan(value) else ("∞" if value > 0 else "−∞")
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude < 1e-3 or magnitude >= 1e6:
        return f"{value:.{max(digits - 1, 0)}e}"
    if magnitude >= 10 ** digits:
        return f"{value:,.0f}"
    decimals = max(digits - 1 - math.floor(math.log10(magnitude)), 0)
    return f"{value:,.{decimals}f}"


def format_percent(value, digits: int = 1) -> str:
    """Format a proportion as a percentage: ``0.0123`` → ``'1.2%'``."""
    if value is None or not math.isfinite(float(value)):
        return "—"
    return f"{100 * float(value):.{digits}f}%"


def format_pvalue(value) -> str:
    """Format a p-value: three significant figures, or ``'< 0.001'`` below 0.001."""
    if value is None or not math.isfinite(float(value)):
        return "—"
    return "< 0.001" if float(value) < 1e-3 else f"{float(value):.3f}"


def format_ci(value, low, high, digits: int = 3) -> str:
    """Format an estimate with its confidence interval: ``'0.12 (0.10 to 0.14)'``."""
    return (f"{format_number(value, digits)} ({format_number(low, digits)} to "
            f"{format_number(high, digits)})")
