"""Parsing of list-valued options, shared by the config parsers and custom option parsers.

A list option arrives as ``"a,b"`` from the command line or as a list from
:func:`casestudies.run`; both give the same tuple, and a bad value is a one-line
:class:`~casestudies.errors.ConfigError` that names the option.
"""

from __future__ import annotations

from collections.abc import Iterable

from casestudies.errors import ConfigError


def comma_list(value: str | Iterable | None) -> tuple[str, ...]:
    """Items of ``"a, b,c"`` (or of a sequence), stripped, empty ones dropped."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    return tuple(str(item).strip() for item in items if str(item).strip())


def comma_numbers(value: str | Iterable | None, option: str) -> tuple[float, ...]:
    """Numbers of ``"0.5,1"`` (or of a sequence of numbers); at least one is required."""
    items = comma_list(value)
    if not items:
        raise ConfigError(f"{option} needs at least one number, e.g. {option} 5,30")
    try:
        return tuple(float(item) for item in items)
    except ValueError:
        raise ConfigError(f"{option} must be comma-separated numbers, not "
                          f"{','.join(items)!r}") from None
