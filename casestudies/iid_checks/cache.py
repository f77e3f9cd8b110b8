"""A cache for the parts of the report that do not depend on the user's data: the known-truth
gallery and the size-and-power simulation.

They take most of a default run and are the same for every dataset audited with the same
settings. Each is stored once per configuration, keyed by the settings it reads, the package
version and a digest of the package's source code (so that a changed check, or a changed
helper it calls, never reads a stale result), as a pickle in the user's cache directory:

* ``$CASESTUDIES_CACHE_DIR`` when set (an empty value turns the cache off), else
* ``$XDG_CACHE_HOME/casestudies``, else ``~/.cache/casestudies``.

Entries written by another version of the source can never be read again, so writing an entry
removes them, and keeps at most :data:`MAX_ENTRIES_PER_PART` of one part (the newest).

A cached object is the object computed, pickled: a report built from it is identical to one
built without the cache (only the stage timings of the provenance differ).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import casestudies

# Options that describe the user's data, not the gallery or the simulation.
DATA_OPTIONS = {"data", "target", "time", "time_format", "group", "split", "columns", "burn_in",
                "feature_window", "label_delay", "gap", "max_columns", "n_customers",
                "n_terminals", "n_days", "quick", "drop", "categorical", "positive", "missing",
                "sep", "encoding", "recorded_at"}
MAX_ENTRIES_PER_PART = 16
"""Entries of one part kept for the current source (one per configuration used): enough for a
handful of settings in use, small on disk (an entry is well under a megabyte)."""


def cache_dir() -> Path | None:
    """Where cached results live, or ``None`` when the cache is turned off."""
    explicit = os.environ.get("CASESTUDIES_CACHE_DIR")
    if explicit is not None:
        return Path(explicit) if explicit.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "casestudies"


def _source_digest() -> str:
    """Digest of the package's Python modules: a change to a check, or to a shared helper such
    as the bootstrap it calls, invalidates the cache."""
    package = Path(casestudies.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(part: str, config: Any) -> str:
    """Key of ``part`` under ``config``: its settings other than :data:`DATA_OPTIONS`, the
    package version and the source digest."""
    settings = {f.name: getattr(config, f.name) for f in fields(config)
                if f.name not in DATA_OPTIONS}
    text = json.dumps({"part": part, "settings": settings, "version": casestudies.__version__,
                       "source": _source_digest()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _entry(part: str, config: Any) -> tuple[Path, str, str] | None:
    """Path of the entry of ``part`` under ``config``, its part prefix and source digest;
    ``None`` when the cache is turned off."""
    directory = cache_dir()
    if directory is None:
        return None
    prefix = part.replace(" ", "_")
    source = _source_digest()
    return directory / "iid_checks" / f"{prefix}-{source}-{cache_key(part, config)}.pkl", \
        prefix, source


def has_entry(part: str, config: Any) -> bool:
    """Whether an entry of ``part`` under ``config`` is stored (without reading it)."""
    entry = _entry(part, config)
    return entry is not None and entry[0].is_file()


def stored(part: str, config: Any) -> tuple[Any, bool]:
    """The stored result of ``part`` under ``config`` and ``True``, or ``(None, False)`` when
    there is none (or the cache is off or unreadable)."""
    entry = _entry(part, config)
    if entry is None:
        return None, False
    try:
        with entry[0].open("rb") as handle:
            return pickle.load(handle), True
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None, False


def cached(part: str, config: Any, compute: Callable[[], Any]) -> tuple[Any, bool]:
    """``compute()``, or its stored result for this ``part`` and ``config``; and whether it
    came from the cache. A cache that cannot be read or written is ignored."""
    value, hit = stored(part, config)
    if hit:
        return value, True
    value = compute()
    entry = _entry(part, config)
    if entry is None:
        return value, False
    path, prefix, source = entry
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(path)
        _prune(path, prefix, source)
    except OSError:
        pass
    return value, False


def _prune(written: Path, prefix: str, source: str) -> None:
    """Remove the entries of part ``prefix`` written by other source versions, and all but the
    newest :data:`MAX_ENTRIES_PER_PART` of the current one (``written``, just stored, stays)."""
    entries = []
    for path in written.parent.glob(f"{prefix}-*.pkl"):
        if path == written:
            continue
        parts = path.stem[len(prefix) + 1:].split("-")
        if len(parts) != 2 or parts[0] != source:  # older code (or the older one-key name)
            path.unlink(missing_ok=True)
        else:
            entries.append((path.stat().st_mtime, path))
    for _, path in sorted(entries, reverse=True)[MAX_ENTRIES_PER_PART - 1:]:
        path.unlink(missing_ok=True)
