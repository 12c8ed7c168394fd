# Every target works on a fresh clone with only Python 3.11 and make: the virtualenv is a stamp
# file that depends on pyproject.toml, so it is built once and re-used until the dependencies change.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp
HOST ?= 127.0.0.1
PORT ?= 8080
PYTEST_ARGS ?= -n auto

.PHONY: serve test lint fmt bench clean venv bytecode

venv: $(STAMP)

# Byte-compiled once, so that a start does not compile every module again (pip does the same
# for installed packages; PYTHONDONTWRITEBYTECODE, set on some machines, stops Python doing it).
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q mockair bench

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

serve: bytecode
	$(BIN)/mockair serve --host $(HOST) --port $(PORT)

test: bytecode
	$(BIN)/ruff check mockair tests bench
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check mockair tests bench
	$(BIN)/ruff format --check mockair tests bench

fmt: $(STAMP)
	$(BIN)/ruff check --fix mockair tests bench
	$(BIN)/ruff format mockair tests bench

bench: bytecode
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist *.egg-info
