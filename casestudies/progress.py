"""One progress helper for all long work (t-SNE, training, backtests, bootstraps).

Progress goes to stderr through tqdm; ``--quiet`` (or :func:`set_quiet`) silences it everywhere.
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
        tqdm(iterable, desc=desc, total=total, disable=_quiet, file=sys.stderr,
             leave=False, dynamic_ncols=True)
    )


def status(message: str) -> None:
    """Print a one-line stage message to stderr unless quiet."""
    if not _quiet:
        print(message, file=sys.stderr, flush=True)
