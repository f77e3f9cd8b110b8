"""One progress helper for all long work (t-SNE, training, backtests, bootstraps).

Progress goes to stderr through tqdm when stderr is a terminal; ``--quiet`` (or
:func:`set_quiet`) silences it everywhere. A pipe or a log file gets no bars (nested bars would
write cursor codes and newlines into it), so that an error there is exactly one line.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")

_quiet = False


def set_quiet(quiet: bool) -> None:
    """Turn progress bars off (``True``) or on (``False``) for the whole process."""
    global _quiet
    _quiet = bool(quiet)


def is_quiet() -> bool:
    """Whether progress output is currently silenced."""
    return _quiet


def progress(iterable: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """Iterate over ``iterable`` while showing a progress bar labelled ``desc``.

    Parameters
    ----------
    iterable : iterable
        The work items.
    desc : str
        What is being done, e.g. ``"bootstrap"`` or ``"LSTM epochs"``.
    total : int, optional
        Number of items when ``iterable`` has no ``len``.
    """
    return iter(
        tqdm(iterable, desc=desc, total=total, disable=_quiet or not _is_terminal(),
             file=sys.stderr, leave=False, dynamic_ncols=True)
    )


_status_shown = False


def status(message: str) -> None:
    """Show the current stage ("[calibration] loading data") on a terminal, unless quiet.

    The message is transient: each replaces the previous one on the same line, and
    :func:`clear_status` removes it, so that an error that follows stands alone on its line. When
    stderr is not a terminal (a pipe, a log file) stage messages are not written: progress bars
    still show long work there, and a bad input leaves exactly one line.
    """
    global _status_shown
    if _quiet or not _is_terminal():
        return
    sys.stderr.write(f"\r\x1b[K{message}")
    sys.stderr.flush()
    _status_shown = True


def clear_status() -> None:
    """Remove the stage message from the terminal line, if one is shown."""
    global _status_shown
    if _status_shown:
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()
        _status_shown = False


def _is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
