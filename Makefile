# Two commands on a fresh machine: `make plan STACK=prod` and `make test`.
# Both create .venv and install the project (with its dev tools) when needed.
PYTHON ?= python3
VENV   ?= .venv
STACK  ?= prod
BIN    := $(VENV)/bin

.PHONY: plan test lint bench clean
.DEFAULT_GOAL := test

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

plan: $(VENV)/.installed
	$(BIN)/aidc plan $(STACK)

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/plan.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
