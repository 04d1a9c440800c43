# The workshop's commands. Each creates .venv (and reinstalls when pyproject.toml or the lock
# changes) with the versions the tests passed with, pinned in requirements.lock.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
TOOLS := .tools
# uv installs in seconds what pip takes a minute or two for. Without uv on the PATH, pip
# fetches it into .tools; if that fails too, pip installs the workshop, exactly the lock
# (--no-deps: resolving would add back what pyproject.toml's [tool.uv] leaves out). Bytecode
# is compiled at install (as pip does): every kernel, agent and backend imports boto3, moto
# and strands.
FIND_UV = uv=$$(command -v uv || echo $(TOOLS)/bin/uv); [ -x "$$uv" ] || \
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
	--target $(TOOLS) uv >/dev/null 2>&1

# Python writes bytecode (in git-ignored __pycache__ folders, never in the agent's zip), as it
# does by default, even where the environment says not to (some containers and CI machines):
# every kernel, backend, runner and test worker would compile the workshop's code again.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test lab bench lock clean

$(INSTALLED): pyproject.toml requirements.lock
	@echo "Installing the workshop into $(VENV) (versions from requirements.lock)..."
	@$(FIND_UV); if [ -x "$$uv" ]; then \
		$$uv venv --quiet --seed --allow-existing --python $(PYTHON) $(VENV) && \
		$$uv pip install --quiet --compile-bytecode --python $(BIN)/python \
			-r requirements.lock -e . ; \
	else \
		echo "(uv is not available: installing with pip, which takes a minute or two)" && \
		$(PYTHON) -m venv $(VENV) && \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
			-r requirements.lock -e . ; \
	fi
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
## what recording the AWS calls costs, and the whole workshop's wall time (goal: under 40 s):
## one table, and the same as JSON in runs/bench-<timestamp>.json (a few minutes)
bench: $(INSTALLED)
	$(BIN)/python -m benchmarks

## lock: pin the newest versions pyproject.toml allows (then pin agent/requirements.txt to the
## same versions and run make test before committing)
lock:
	@$(FIND_UV); $$uv pip compile --quiet --universal --python-version 3.11 --extra dev \
		-o requirements.lock pyproject.toml

## clean: stop a background local backend, remove the venv and run outputs (keeps state)
clean:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m helpers.backend stop; fi
	rm -rf $(VENV) $(TOOLS) runs .pytest_cache .ruff_cache *.egg-info
