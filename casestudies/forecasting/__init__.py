"""ARIMA vs LSTM: why ARIMA has 100-step-ahead intervals and an LSTM does not, and what it takes
to give an LSTM honest ones.

Imports stay light here (no torch, no statsmodels): the pipeline and the report are imported
when the study runs.
"""

from __future__ import annotations

from casestudies.forecasting.config import ForecastingConfig, add_arguments, make_config
from casestudies.study import Study


def _load_data(config: ForecastingConfig):
    from casestudies.forecasting.data import load_data

    return load_data(config)


def _run(config: ForecastingConfig, data):
    from casestudies.forecasting.pipeline import run

    return run(config, data)


def _build_report(result):
    from casestudies.forecasting.report import build

    return build(result)


STUDY = Study(
    name="forecasting",
    title="Intervals 100 steps ahead: ARIMA versus LSTM",
    question="Why can ARIMA give confidence intervals 100 time points ahead but an LSTM "
             "cannot, and what does it take to give an LSTM intervals that cover?",
    add_arguments=add_arguments,
    make_config=make_config,
    load_data=_load_data,
    run=_run,
    build_report=_build_report,
)
