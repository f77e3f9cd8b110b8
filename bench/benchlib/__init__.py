"""What the benchmark scripts share: the thread limits the pipelines use, timing with repeats,
and the settings each script prints before its numbers.

A ratio is only meaningful when both sides ran with the same threads. The pipelines limit the
math libraries with threadpoolctl (one thread; PyTorch is set to one thread while it trains), so
every comparison here runs both sides inside :func:`thread_limit` with the same limit, and each
script first prints the limits in force, as threadpoolctl reports them, with the sizes, repeats
and library versions. (This folder is a package, not a script, so ``make bench``, which runs
``bench/*.py``, does not run it.)
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from importlib import metadata
from typing import Any

from threadpoolctl import threadpool_info, threadpool_limits

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def thread_limit(limits: int = 1, user_api: str | None = None,
                 torch_threads: int | None = None) -> Iterator[None]:
    """Limit the math libraries' thread pools (``threadpoolctl.threadpool_limits``; all of
    them, or only ``user_api`` ``"blas"`` / ``"openmp"``), and PyTorch's intra-op threads to
    ``torch_threads`` when given. Previous settings are restored afterwards.

    threadpoolctl limits the libraries loaded when the block starts: import the libraries
    measured (scikit-learn, openTSNE …) before entering it."""
    with threadpool_limits(limits=limits, user_api=user_api):
        if torch_threads is None:
            yield
            return
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(torch_threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)


def timed(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """The value of ``function(*args, **kwargs)`` and the seconds it took."""
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def best_of(repeats: int, function: Callable[..., Any], *args: Any,
            **kwargs: Any) -> tuple[Any, float]:
    """Run ``function`` ``repeats`` times: its last value and the fastest run's seconds (the
    least disturbed by other work on the machine)."""
    best, value = float("inf"), None
    for _ in range(max(1, repeats)):
        value, seconds = timed(function, *args, **kwargs)
        best = min(best, seconds)
    return value, best


def best_of_each(repeats: int, *calls: Callable[[], Any]) -> list[tuple[Any, float]]:
    """Run the zero-argument ``calls`` in turn, ``repeats`` rounds: for each, its last value
    and its fastest run's seconds. Alternating the sides exposes them to the same spells of
    load from other work on the machine, which a ratio of two separate series would not. The
    calls run under the limits in force: enter :func:`thread_limit` around this, not inside a
    call, whose timing would then include it (milliseconds)."""
    best = [float("inf")] * len(calls)
    values: list[Any] = [None] * len(calls)
    for _ in range(max(1, repeats)):
        for i, call in enumerate(calls):
            values[i], seconds = timed(call)
            best[i] = min(best[i], seconds)
    return list(zip(values, best, strict=True))


def threads_now() -> str:
    """The threads each loaded math library would use now, as threadpoolctl reports them, e.g.
    ``"openblas 1, openmp 1"`` (and PyTorch's when it is loaded)."""
    pools: dict[str, set[int]] = {}
    for pool in threadpool_info():
        pools.setdefault(pool["internal_api"], set()).add(pool["num_threads"])
    parts = [f"{name} {'/'.join(str(n) for n in sorted(counts))}"
             for name, counts in sorted(pools.items())]
    if "torch" in sys.modules:
        parts.append(f"torch {sys.modules['torch'].get_num_threads()}")
    return ", ".join(parts) or "no thread pool loaded"


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def print_settings(title: str, *, threads: str, sizes: Iterable[str], repeats: str,
                   packages: Iterable[str]) -> None:
    """Print what a benchmark compares: machine, thread limits (described, and as
    threadpoolctl reports them at the time of the call), sizes, repeats and versions."""
    print(f"# {title}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(f"machine: {os.cpu_count()} cores, load average {load} (1, 5, 15 min; "
          f"other work on the machine slows both sides), Python {platform.python_version()}")
    variables = [f"{name}={os.environ[name]}" for name in THREAD_VARIABLES if name in os.environ]
    print(f"threads: {threads}")
    print(f"  in force: {threads_now()}"
          + (f"; environment {' '.join(variables)}" if variables else ""))
    print(f"sizes: {'; '.join(sizes)}")
    print(f"repeats: {repeats}")
    print("versions: " + ", ".join(f"{name} {_version(name)}"
                                   for name in ("casestudies", *packages)))
    print(flush=True)
