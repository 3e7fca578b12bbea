# trainlab: `make demo` trains the default model, `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: install demo test lint bench docs clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,math,sweep]"
	touch $@

demo: install
	$(BIN)/trainlab run configs/digits.yaml --name digits-demo --overwrite

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests benchmarks

bench: install
	$(BIN)/python benchmarks/engine_overhead.py

docs: install
	$(BIN)/typer trainlab.cli utils docs --name trainlab --title "trainlab command line" --output docs/cli.md
	printf '\n## Config options\n\nEvery key of a config file or a `key=value` override, with its default.\n\n' >> docs/cli.md
	$(BIN)/trainlab config --options --markdown >> docs/cli.md

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
