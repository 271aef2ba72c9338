# latsim: two commands on a fresh machine — `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test venv lint bench import-graph mutate screenshots clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[all]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/latsim run scenarios/quickstart.yaml

test: $(STAMP)
	$(BIN)/ruff check latsim tests benchmarks scripts tools
	$(BIN)/mypy latsim
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup tests

lint: $(STAMP)
	$(BIN)/ruff check latsim tests benchmarks scripts tools
	$(BIN)/mypy latsim

bench: $(STAMP)
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
