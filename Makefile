# latsim: two commands on a fresh machine — `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test venv native lint bench import-graph mutate screenshots clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[all]'
	$(MAKE) -s native
	touch $(STAMP)

venv: $(STAMP)

# the engine's hot modules compiled by mypyc into the venv (latsim/native.py); used only while they
# match their sources: after an edit latsim runs them as pure Python until this runs again. Without
# a C compiler it says so and latsim stays pure Python.
native: $(BIN)/python
	$(BIN)/python -m latsim.native_build build --if-stale || echo "latsim: no compiled build; the engine runs as pure Python"

demo: $(STAMP)
	$(BIN)/latsim run scenarios/quickstart.yaml

test: $(STAMP) native
	$(BIN)/ruff check latsim tests benchmarks scripts tools
	$(BIN)/mypy latsim
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup tests
	LATSIM_NATIVE=0 $(BIN)/python -m pytest -q -n 2 --dist loadgroup tests  # the pure-Python engine too

lint: $(STAMP)
	$(BIN)/ruff check latsim tests benchmarks scripts tools
	$(BIN)/mypy latsim

bench: $(STAMP) native
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/callgraph_bench.py

import-graph: $(STAMP)
	$(BIN)/python tools/import_graph.py --docs

# targeted mutation testing of the decision and engine modules (not part of `make test`; ~1 h on
# two cores with the default sample of 20 mutants per module; see README, Development)
mutate: $(STAMP)
	$(BIN)/python scripts/mutate.py

screenshots: $(STAMP)   # the report at desktop and narrow widths (needs chromium)
	$(BIN)/python docs/screenshots/make_screenshots.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
