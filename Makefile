# The workshop's commands. Each creates .venv (and reinstalls when pyproject.toml changes).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lab bench clean

$(INSTALLED): pyproject.toml
	@echo "Installing the workshop into .venv (the first time: 1-2 minutes)..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

## run: the whole workshop, headless, on the local backend (executed notebooks in runs/)
run: $(INSTALLED)
	$(BIN)/python -m helpers.cli.runner

## test: lint, format check and the test suite
test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

## lab: JupyterLab on notebooks/ with a local backend beside it
lab: $(INSTALLED)
	$(BIN)/python -m helpers.cli.lab

## bench: speed of the local backend (create to READY, runtime overhead, consent round trip),
## what recording the AWS calls costs, and the whole workshop's wall time (goal: under 40 s)
bench: $(INSTALLED)
	$(BIN)/python -m benchmarks.runtime
	$(BIN)/python -m benchmarks.consent
	$(BIN)/python -m benchmarks.calls
	$(BIN)/python -m benchmarks.workshop

## clean: stop a background local backend, remove the venv and run outputs (keeps state)
clean:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m helpers.backend stop; fi
	rm -rf $(VENV) runs .pytest_cache .ruff_cache *.egg-info
