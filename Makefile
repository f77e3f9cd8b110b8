# The workflow: make report-all builds every report; make test runs the test suite.
# Every target creates the virtual environment .venv first when it is missing.
# Options pass through variables:  make report-calibration DATA=my.csv ARGS="--target is_fraud"

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
OUT    ?= reports
SEED   ?= 0
DATA   ?=
ARGS   ?=
PYTEST_ARGS ?=
# Real customers (CoIL 2000 Caravan) and real time-ordered series (NYSE, Bikeshare) ship in ISLP.
# Its data loader needs only pandas; its full dependency list would pull in several GB, so no deps.
ISLP   := ISLP==0.6.0

RUN = $(PY) -m casestudies
DATA_OPT = $(if $(DATA),--data "$(DATA)")

.PHONY: help venv report-clustering report-calibration report-forecasting report-iid-checks \
        report-all index test test-hostile test-fast bench lint clean

help:
	@echo "make report-all          build every report on its default data into $(OUT)/"
	@echo "make report-STUDY        one report: clustering, calibration, forecasting, iid-checks"
	@echo "                         (DATA=path ARGS='--target col' SEED=0 OUT=reports)"
	@echo "make test                the whole test suite (browser tests run when chromium is installed)"
	@echo "make test-fast           the suite without the slow end-to-end tests"
	@echo "make test-hostile        many generated hostile tables through every study"
	@echo "make bench               benchmarks under bench/, printing ratios against baselines"
	@echo "make lint                ruff"
	@echo "make clean               remove generated reports and caches (keeps .venv)"

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,forecasting]"
	$(PY) -m pip install --quiet --no-deps $(ISLP)
	touch $(STAMP)

report-clustering: $(STAMP)
	$(RUN) clustering $(DATA_OPT) --out "$(OUT)" --seed $(SEED) $(ARGS)

report-calibration: $(STAMP)
	$(RUN) calibration $(DATA_OPT) --out "$(OUT)" --seed $(SEED) $(ARGS)

report-forecasting: $(STAMP)
	$(RUN) forecasting $(DATA_OPT) --out "$(OUT)" --seed $(SEED) $(ARGS)

report-iid-checks: $(STAMP)
	$(RUN) iid_checks $(DATA_OPT) --out "$(OUT)" --seed $(SEED) $(ARGS)

report-all: $(STAMP)
	$(RUN) all --out "$(OUT)" --seed $(SEED) $(ARGS)

index: $(STAMP)
	$(RUN) index --out "$(OUT)"

# Two test workers on two cores: one math-library thread each, so that they do not oversubscribe.
TEST_ENV = OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

test: $(STAMP)
	$(TEST_ENV) $(PY) -m pytest -n 2 $(PYTEST_ARGS)

test-hostile: $(STAMP)
	HOSTILE_EXAMPLES=25 $(TEST_ENV) $(PY) -m pytest -n 2 -m hostile $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(TEST_ENV) $(PY) -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

lint: $(STAMP)
	$(PY) -m ruff check casestudies tests bench

clean:
	rm -rf "$(OUT)"/*.html "$(OUT)"/*.json .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
