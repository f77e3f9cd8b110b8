"""What every study's result object offers besides its fields: ``summary()`` and ``tables()``.

A result is plain data (a dataclass of numbers, arrays, DataFrames and
:class:`~casestudies.verdicts.Verdict` records) that serialises to ``STUDY.json``. Like a
statsmodels results object, it carries everything its report needs, so that a notebook user can
read the answer without building HTML::

    result = casestudies.run("calibration", quick=True)
    print(result.summary())
    result.tables()["metrics"]
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any, ClassVar

import pandas as pd

from casestudies.verdicts import Verdict


class StudyResult:
    """Mixin of the four result dataclasses.

    Subclasses set :attr:`study` and hold a ``verdicts`` field (a dict of name to
    :class:`Verdict`). The short answer is written by the study's report layer
    (``casestudies.STUDY.report.short_answer``), never by the pipeline.
    """

    study: ClassVar[str] = ""
    # Attached by casestudies.run: where the data came from, the seed and the timings, which the
    # report's reproducibility section shows.
    provenance: Any = None

    @property
    def short_answer(self) -> str:
        """The one-sentence answer, worded from the verdicts by the report layer."""
        report = importlib.import_module(f"casestudies.{self.study}.report")
        return report.short_answer(self)

    def verdict_list(self) -> list[Verdict]:
        """The verdicts in the order the study defines them."""
        return list(getattr(self, "verdicts", {}).values())

    def summary(self) -> str:
        """The short answer and every verdict, as plain text."""
        lines = [self.short_answer, "", "Verdicts:"]
        lines += [f"  {verdict.describe()}" for verdict in self.verdict_list()]
        tables = ", ".join(self.tables())
        if tables:
            lines += ["", f"Tables (result.tables()): {tables}"]
        return "\n".join(lines)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The result's tables as DataFrames, by field name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if isinstance(getattr(self, f.name), pd.DataFrame)}

    def verdict_frame(self) -> pd.DataFrame:
        """The verdicts as one table (name, holds, estimate, interval, threshold, rule, unit)."""
        rows = [dataclasses.asdict(v) for v in self.verdict_list()]
        columns = [f.name for f in dataclasses.fields(Verdict)]
        return pd.DataFrame(rows, columns=columns)
