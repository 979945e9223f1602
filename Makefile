# Two commands on a fresh machine: `make reproduce` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,dask]"
	touch $(STAMP)

# the documentation's extra dependencies (Sphinx, myst-nb, ...), on top of the test set-up
$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,dask,docs]"
	touch $(DOCS_STAMP)

.PHONY: venv reproduce test lint docs bench clean
venv: $(STAMP)

reproduce: $(STAMP)
	$(BIN)/crknee reproduce --out results

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

# ruff (configured in pyproject.toml): lint and formatting, both reported; nothing is changed
lint: $(STAMP)
	$(BIN)/ruff check . ; status=$$?; $(BIN)/ruff format --check . && exit $$status

# the Sphinx site into docs/_build/html; warnings are errors; tutorials executed
# (CRKNEE_REDUCED=1: at a reduced size, as in CI); docs/contributing.md
docs: $(DOCS_STAMP)
	rm -rf docs/api/generated
	$(BIN)/sphinx-build -b html -W --keep-going docs docs/_build/html

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) results build *.egg-info src/*.egg-info docs/_build docs/api/generated
