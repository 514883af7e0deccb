# isogrip developer commands. Each target creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The runtime alone (what `pip install isogrip` brings): enough for the demo.
RUNTIME_STAMP := $(VENV)/.installed-runtime

.PHONY: demo test bench lint install screenshots clean system-deps wheel-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME_STAMP)

# '.[test]' holds the runtime too, so it stands for both stamps.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP) $(RUNTIME_STAMP)

install: $(STAMP)

## demo: a full simulated session (the GUI where a display exists, else the terminal view);
## installs the runtime only (no test tools, no research or clinic extras)
demo: $(RUNTIME_STAMP)
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

## bundle: the desktop program as one folder, dist/isogrip/, with PyInstaller (packaging/isogrip.spec);
## a clean rebuild each time, from its own venv (build/bundle-venv: '.[bundle]', no test tools)
.PHONY: bundle bundle-check
BUNDLE_VENV := build/bundle-venv
BUNDLE_STAMP := $(BUNDLE_VENV)/.installed
$(BUNDLE_STAMP): pyproject.toml
	rm -rf $(BUNDLE_VENV)
	$(PYTHON) -m venv $(BUNDLE_VENV)
	$(BUNDLE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BUNDLE_VENV)/bin/python -m pip install --quiet -e '.[bundle]'
	touch $@
bundle: $(BUNDLE_STAMP)
	rm -rf dist/isogrip dist/isogrip.app build/pyinstaller
	@start=$$(date +%s); \
	$(BUNDLE_VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN \
		--distpath dist --workpath build/pyinstaller packaging/isogrip.spec || exit 1; \
	echo $$(( $$(date +%s) - start )) > build/bundle-build-seconds; \
	echo "dist/isogrip: $$(du -sh dist/isogrip | cut -f1), built in $$(cat build/bundle-build-seconds) s"

## bundle-check: run dist/isogrip (built first if missing) with no Python on PATH: --version,
## a headless simulated session, the desktop app under Xvfb on its Device screen (slow: not in `make test`)
bundle-check: system-deps
	test -x dist/isogrip/isogrip || $(MAKE) bundle
	$(PYTHON) tools/check_bundle.py

## desktop-install: a menu entry for isogrip (the .desktop file, icons, AppStream metainfo)
## in $XDG_DATA_HOME (default ~/.local/share); ISOGRIP_EXEC=/path/to/isogrip if the menu
## does not find `isogrip` on its PATH
.PHONY: desktop-install
APP_ID := io.github.isogrip.isogrip
DATA_HOME = $(or $(XDG_DATA_HOME),$(HOME)/.local/share)
ISOGRIP_EXEC ?= isogrip
desktop-install:
	install -d "$(DATA_HOME)/applications" "$(DATA_HOME)/metainfo"
	sed 's|^Exec=isogrip$$|Exec=$(ISOGRIP_EXEC)|' packaging/linux/$(APP_ID).desktop \
		> "$(DATA_HOME)/applications/$(APP_ID).desktop"
	chmod 644 "$(DATA_HOME)/applications/$(APP_ID).desktop"
	install -m 644 packaging/linux/$(APP_ID).metainfo.xml "$(DATA_HOME)/metainfo/"
	for size in 16 32 48 64 128 256; do \
		install -D -m 644 isogrip/resources/icons/isogrip-$$size.png \
			"$(DATA_HOME)/icons/hicolor/$${size}x$$size/apps/$(APP_ID).png" || exit 1; \
	done
	install -D -m 644 isogrip/resources/icons/isogrip.svg \
		"$(DATA_HOME)/icons/hicolor/scalable/apps/$(APP_ID).svg"
	-command -v update-desktop-database >/dev/null && \
		update-desktop-database -q "$(DATA_HOME)/applications"
	@echo "isogrip's menu entry: $(DATA_HOME)/applications/$(APP_ID).desktop"

## lint: ruff and mypy
lint: $(STAMP)
	$(BIN)/ruff check isogrip tests bench tools
	$(BIN)/mypy isogrip

clean:
	rm -rf $(VENV) build *.egg-info
