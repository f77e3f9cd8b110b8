"""Number formatting shared by tables, templates and the index."""

from __future__ import annotations

import math

import numpy as np


def format_integer_like(value) -> str | None:
    """A float that holds a whole number, written as one (``7.0`` → ``'7'``); None otherwise."""
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and \
            float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return None


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


PVALUE_FLOOR = 1e-16
"""Below this a computed p-value is rounding error: double precision resolves 1 - F(x) only to
about 1.1e-16 (half the machine epsilon), so a smaller p, or an exact 0, is shown as
``'< 1e-16'``."""


def format_pvalue(value, exact: bool = False) -> str:
    """Format a p-value.

    Parameters
    ----------
    value : float
        The p-value.
    exact : bool, default False
        False: three decimals, or ``'< 0.001'`` below 0.001 (the usual way to report a test).
        True: two significant figures down to :data:`PVALUE_FLOOR` (``'3.2e-05'``), and
        ``'< 1e-16'`` below it; never ``'0'``.

    Examples
    --------
    >>> format_pvalue(0.0004)
    '< 0.001'
    >>> format_pvalue(0.0004, exact=True)
    '4.0e-04'
    >>> format_pvalue(0.0, exact=True)
    '< 1e-16'
    """
    if value is None or not math.isfinite(float(value)):
        return "—"
    value = float(value)
    if not exact:
        return "< 0.001" if value < 1e-3 else f"{value:.3f}"
    if value < PVALUE_FLOOR:
        return "< 1e-16"
    return format_number(value, 2)


def interval_decimals(low, high) -> int:
    """Decimals that an interval justifies: down to the first significant digit of its half-width,
    one digit further when that digit is 1 or 2 (so that rounding moves the value by less than
    about a quarter of its uncertainty). Never below 0: integer digits are always shown (a
    reader, and the number checker, would take 12,300 for an exact count).

    Examples
    --------
    >>> interval_decimals(0.3512, 0.3987)   # half-width 0.024: the thousandths
    3
    >>> interval_decimals(0.31, 0.43)       # half-width 0.06: the hundredths
    2
    >>> interval_decimals(11_800, 12_900)   # half-width 550: whole numbers
    0
    """
    half = abs(float(high) - float(low)) / 2
    if not math.isfinite(half) or half == 0:
        raise ValueError(f"an interval needs two different finite bounds, not {low} and {high}")
    position = math.floor(math.log10(half))
    leading = int(half / 10.0 ** position + 1e-9)
    return max(-position + (1 if leading <= 2 else 0), 0)


def format_estimate(value, low, high, percent: bool = False) -> str:
    """An estimate with its interval, each rounded to the digits the interval justifies
    (:func:`interval_decimals`): ``'0.369 (0.351 to 0.399)'``, ``'37% (32% to 42%)'``.

    Parameters
    ----------
    value, low, high : float
        The estimate and the bounds of its interval (same units).
    percent : bool, default False
        Show proportions as percentages.

    Returns
    -------
    str
        The value alone (three significant figures) when the interval is missing or empty.
    """
    numbers = [value, low, high]
    if any(v is None or not math.isfinite(float(v)) for v in numbers) or float(low) == float(high):
        return format_percent(value) if percent else format_number(value)
    scale = 100.0 if percent else 1.0
    decimals = interval_decimals(scale * float(low), scale * float(high))
    suffix = "%" if percent else ""

    def show(v: float) -> str:
        v = round(scale * float(v), decimals) + 0.0  # + 0.0: no "-0"
        return f"{v:,.{decimals}f}{suffix}"

    return f"{show(value)} ({show(low)} to {show(high)})"


def format_ci(value, low, high, digits: int = 3) -> str:
    """Format an estimate with its confidence interval: ``'0.12 (0.10 to 0.14)'``."""
    return (f"{format_number(value, digits)} ({format_number(low, digits)} to "
            f"{format_number(high, digits)})")
