# Every target bootstraps .venv itself: a fresh clone needs only python3 (>= 3.11).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= demo-out

.PHONY: demo test bench lint fmt clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m ksz_reports.demo --out $(DEMO)

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m bench.run

lint: $(STAMP)
	$(BIN)/ruff check ksz_reports tests bench
	$(BIN)/ruff format --check ksz_reports tests bench

fmt: $(STAMP)
	$(BIN)/ruff format ksz_reports tests bench
	$(BIN)/ruff check --fix ksz_reports tests bench

clean:
	rm -rf $(VENV) $(DEMO) build *.egg-info .pytest_cache
