"""ARIMA vs LSTM: why ARIMA has intervals many steps ahead (100 by default) and an LSTM does not,
and what it takes to give an LSTM honest ones.

Imports stay light here (no torch, no statsmodels): the pipeline and the report are imported
when the study runs.
"""

from __future__ import annotations

from casestudies.forecasting.config import ForecastingConfig
from casestudies.study import Study, lazy


def title_for(horizon: int) -> str:
    """The report title for a forecast horizon of ``horizon`` steps."""
    return f"Intervals {horizon} steps ahead: ARIMA versus LSTM"


def question_for(horizon: int) -> str:
    """The study's question for a forecast horizon of ``horizon`` steps."""
    return (f"Why can ARIMA give confidence intervals {horizon} time points ahead but an LSTM "
            "cannot, and what does it take to give an LSTM intervals that cover?")


STUDY = Study(
    name="forecasting",
    title=title_for(ForecastingConfig.horizon),
    question=question_for(ForecastingConfig.horizon),
    config=ForecastingConfig,
    load_data=lazy("casestudies.forecasting.data", "load_data"),
    run=lazy("casestudies.forecasting.pipeline", "run"),
    build_report=lazy("casestudies.forecasting.report", "build"),
    requires={"torch": "forecasting"},
)
