# isogrip developer commands. Each target creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint install screenshots clean system-deps wheel-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## demo: a full simulated session (the GUI where a display exists, else the terminal view)
demo: $(STAMP)
	$(BIN)/isogrip demo

## system-deps: the Debian packages the tests use (X server, validators, session bus)
system-deps:
	tools/system-deps

## test: the whole test suite
test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q

## bench: benchmarks that print their figures
bench: $(STAMP)
	$(BIN)/python -m bench

## screenshots: render every screen of the desktop app to docs/screenshots (off-screen)
screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python tools/screenshots.py docs/screenshots

## wheel-check: build the sdist and wheel, install it with its dependencies in a new venv, run it
wheel-check: $(STAMP)
	tools/wheel-check

## lint: ruff and mypy
lint: $(STAMP)
	$(BIN)/ruff check isogrip tests bench tools
	$(BIN)/mypy isogrip

clean:
	rm -rf $(VENV) build *.egg-info
