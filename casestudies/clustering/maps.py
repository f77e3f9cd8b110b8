"""Computing many maps at once: each map is a job run in its own worker process (one thread
each), so that two cores make two maps at a time. The jobs are plain functions with their
arguments; results come back in the order of the jobs, so a run is the same with one worker or
several.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from threadpoolctl import threadpool_limits

from casestudies import progress

Job = tuple[Callable[..., Any], tuple, dict]


def workers(n_jobs: int) -> int:
    """Worker processes for ``--jobs`` (-1 = every core)."""
    return (os.cpu_count() or 1) if n_jobs == -1 else max(1, n_jobs)


def _single_threaded(function: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    # One thread per map: BLAS and OpenMP (scikit-learn's Barnes-Hut gradient takes its
    # threads from OpenMP, which n_jobs does not limit) would otherwise fight over the cores.
    with threadpool_limits(limits=1):
        return function(*args, **kwargs)


def run_jobs(jobs: Sequence[Job], n_jobs: int, desc: str) -> list[Any]:
    """Results of ``function(*args, **kwargs)`` for every job, in order."""
    count = workers(n_jobs)
    if count == 1 or len(jobs) == 1:
        return [_single_threaded(*job) for job in progress.progress(jobs, desc=desc)]
    from joblib import Parallel, delayed

    # max_nbytes=None: arrays are pickled, not memory-mapped read-only (openTSNE writes).
    parallel = Parallel(n_jobs=min(count, len(jobs)), backend="loky", return_as="generator",
                        max_nbytes=None)
    results = parallel(delayed(_single_threaded)(*job) for job in jobs)
    return list(progress.progress(results, desc=desc, total=len(jobs)))
