"""Published coverage of forecasting intervals, quoted beside this run's numbers.

These figures are citations, typed from the papers named (not computed by this run); the report
marks them as such. They are kept here, in one place, so that the result carries them into its
JSON like every other number the report shows.
"""

from __future__ import annotations

PUBLISHED_COVERAGE = [
    {"source": "Makridakis, Spiliotis & Assimakopoulos (2020), the M4 competition",
     "reference": "makridakis2020",
     "claim": "ARIMA's nominal 95% prediction intervals covered about this share of the "
              "hold-out values over the 100,000 series",
     "nominal": 0.95, "coverage_low": 0.86, "coverage_high": None},
    {"source": "Hyndman, Koehler, Snyder & Grose (2002), exponential smoothing on the M3 data",
     "reference": "hyndman2002",
     "claim": "nominal 95% intervals of exponential smoothing state-space models covered "
              "between these shares of the hold-out values, depending on the data set",
     "nominal": 0.95, "coverage_low": 0.71, "coverage_high": 0.87},
]
