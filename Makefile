# The two commands of the README:
#   make demo   set up a virtualenv, run the demo on SQLite with the local outbox, then serve
#               its web app on http://127.0.0.1:5000 until Ctrl-C
#   make test   set up a virtualenv, check style, architecture contracts and types, and run
#               the tests (SQLite; PostgreSQL too when reachable)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint setup clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# compat mode puts the project folder on sys.path, so campaigns/, templates/ and
	# tracking/ are used in place.
	$(BIN)/pip install --quiet -e ".[test]" --config-settings editable_mode=compat
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/nurture demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	bash scripts/test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

clean:
	rm -rf $(VENV) instance
