"""Independent random streams, one per named unit of work.

Each part of a study (a series, a gallery dataset, a model, a bootstrap) draws from its own
generator, spawned from the run's seed and a stable name with :class:`numpy.random.SeedSequence`.
Adding a series or a column therefore never changes the numbers of the other parts, and two parts
never share draws by accident.

>>> a = stream(0, "forecasting", "arma", "lstm")
>>> b = stream(0, "forecasting", "arma", "lstm")
>>> float(a.random()) == float(b.random())
True
"""

from __future__ import annotations

import hashlib

import numpy as np


def _key(name: str) -> int:
    # A stable hash: Python's hash() of a string changes between processes.
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")


def seed_sequence(seed: int, *names: str) -> np.random.SeedSequence:
    """The :class:`~numpy.random.SeedSequence` of the unit of work called ``names``."""
    if not names:
        raise ValueError("name the unit of work, e.g. stream(seed, 'bootstrap')")
    return np.random.SeedSequence([int(seed), *(_key(str(n)) for n in names)])


def stream(seed: int, *names: str) -> np.random.Generator:
    """A generator for the unit of work ``names`` (e.g. ``"arma", "lstm"``), independent of
    every other name under the same seed."""
    return np.random.default_rng(seed_sequence(seed, *names))


def stream_seed(seed: int, *names: str) -> int:
    """An integer seed in ``[0, 2**31)`` for libraries that take one (scikit-learn, torch,
    openTSNE), derived like :func:`stream`."""
    return int(seed_sequence(seed, *names).generate_state(1, dtype=np.uint32)[0] >> 1)
