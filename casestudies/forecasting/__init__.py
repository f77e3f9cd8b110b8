"""ARIMA vs LSTM: why ARIMA has 100-step-ahead intervals and an LSTM does not, and what it takes
to give an LSTM honest ones.

Imports stay light here (no torch, no statsmodels): the pipeline and the report are imported
when the study runs.
"""

from __future__ import annotations

from casestudies.forecasting.config import add_arguments, make_config
from casestudies.study import Study, lazy

STUDY = Study(
    name="forecasting",
    title="Intervals 100 steps ahead: ARIMA versus LSTM",
    question="Why can ARIMA give confidence intervals 100 time points ahead but an LSTM "
             "cannot, and what does it take to give an LSTM intervals that cover?",
    add_arguments=add_arguments,
    make_config=make_config,
    load_data=lazy("casestudies.forecasting.data", "load_data"),
    run=lazy("casestudies.forecasting.pipeline", "run"),
    build_report=lazy("casestudies.forecasting.report", "build"),
)
