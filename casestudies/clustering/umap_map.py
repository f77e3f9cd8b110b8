"""UMAP (McInnes, Healy & Melville 2018) as the third map, through umap-learn.

umap-learn compiles its numba functions on first use in every process (tens of seconds), and
only a few of them ask numba to keep the compiled code. :func:`enable_compilation_cache` turns
numba's on-disk cache on for the rest, so that the compiled code lands in the package's
``__pycache__`` and only the first run on a machine pays for the compilation.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

from casestudies.clustering.tsne import Embedding

N_NEIGHBOURS = 15  # umap-learn's default
MIN_DIST = 0.1  # umap-learn's default
_CACHED = False


def enable_compilation_cache() -> int:
    """Ask numba to cache every compiled function of umap-learn and pynndescent on disk.

    Returns the number of functions whose caching was switched on (0 when done before)."""
    global _CACHED
    if _CACHED:
        return 0
    import umap  # noqa: F401  (loads the modules whose functions are cached)
    from numba.core.registry import CPUDispatcher

    switched = 0
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(("umap", "pynndescent")):
            continue
        for value in vars(module).values():
            if isinstance(value, CPUDispatcher) and type(value._cache).__name__ == "NullCache":
                value.enable_caching()
                switched += 1
    _CACHED = True
    return switched


def umap_embedding(X: np.ndarray, random_state: int, n_neighbors: int = N_NEIGHBOURS,
                   name: str | None = None) -> Embedding:
    """A UMAP map of ``X`` with umap-learn's defaults (15 neighbours, ``min_dist`` 0.1, spectral
    initialisation), seeded and therefore single-threaded (umap-learn's rule)."""
    enable_compilation_cache()
    import umap

    started = time.perf_counter()
    model = umap.UMAP(n_neighbors=n_neighbors, min_dist=MIN_DIST, random_state=random_state,
                      n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "n_jobs overridden by random_state": intended
        coordinates = model.fit_transform(np.asarray(X, dtype=float))
    return Embedding(name=name or "UMAP", method=f"umap-learn {umap.__version__}",
                     coordinates=np.asarray(coordinates, dtype=float),
                     seconds=time.perf_counter() - started, seed=random_state)
