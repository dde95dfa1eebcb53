# The two commands of the README:
#   make demo   set up a virtualenv, run the demo on SQLite with the local outbox, then serve
#               its web app on http://127.0.0.1:5000 until Ctrl-C
#   make test   set up a virtualenv, check style, architecture contracts and types, and run
#               the tests (SQLite; PostgreSQL too when reachable)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint setup clean messages

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

# The web app's message catalogue (docs/web.md#translations): extract every string, then
# update and compile the shipped translations.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --sort-by-file \
		-o nurture/web/translations/messages.pot .
	if ls nurture/web/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel update -i nurture/web/translations/messages.pot -d nurture/web/translations; \
		$(BIN)/pybabel compile -d nurture/web/translations; \
	fi

clean:
	rm -rf $(VENV) instance
