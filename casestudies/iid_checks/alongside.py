"""The known-truth gallery and the size-and-power simulation in a second Python process.

With an empty cache they take about half of a default run, read nothing of the audited table
and draw from their own named streams, so a second core can compute the same objects while the
first audits the table. The second process is a fresh interpreter started as
``python -m casestudies.iid_checks.alongside``: unlike ``multiprocessing``'s ``spawn``, it never
imports the caller's main module (a script without an ``if __name__ == "__main__"`` guard, code
typed at a prompt or piped in), and unlike ``fork`` it copies no locks or thread pools held
mid-use. The settings go to it as a pickle file, the parts come back as one.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import casestudies


class Alongside:
    """:func:`~casestudies.iid_checks.pipeline.data_independent_parts` of ``config`` running
    in a second process; :meth:`result` waits for it, :meth:`close` ends it (also when the
    audit fails) and removes its files."""

    def __init__(self, config: Any) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="casestudies-"))
        (self._folder / "config.pkl").write_bytes(pickle.dumps(config))
        environment = dict(os.environ)
        # The same package as this process, wherever it was imported from.
        root = str(Path(casestudies.__file__).resolve().parent.parent)
        environment["PYTHONPATH"] = os.pathsep.join(
            [root, *filter(None, [environment.get("PYTHONPATH")])])
        with (self._folder / "stderr.txt").open("wb") as errors:
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(self._folder)], env=environment,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors)

    def result(self) -> tuple:
        """The gallery entries, the simulation (or ``None``) and the seconds of each; an error
        in the second process is raised here with its last line."""
        code = self._process.wait()
        output = self._folder / "parts.pkl"
        if code != 0 or not output.is_file():
            lines = (self._folder / "stderr.txt").read_text(errors="replace").strip()
            last = lines.splitlines()[-1] if lines else f"exit status {code}"
            raise RuntimeError(f"the gallery and simulation process failed: {last}")
        return pickle.loads(output.read_bytes())

    def close(self) -> None:
        """End the second process, finished or not, and remove its files."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        shutil.rmtree(self._folder, ignore_errors=True)


def can_start() -> bool:
    """Whether a second interpreter can be started (not in an embedded Python without one)."""
    return bool(sys.executable)


def _main(folder: str) -> None:
    from casestudies import progress
    from casestudies.iid_checks.pipeline import data_independent_parts

    progress.set_quiet(True)  # its bars would write over those of the audit
    path = Path(folder)
    config = pickle.loads((path / "config.pkl").read_bytes())
    parts = data_independent_parts(config)
    temporary = path / "parts.pkl.tmp"
    temporary.write_bytes(pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL))
    temporary.replace(path / "parts.pkl")


if __name__ == "__main__":
    _main(sys.argv[1])
