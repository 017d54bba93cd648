# Two entry points: `make run` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench screenshots clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "ConvLens needs Python 3.10 or newer."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,ray]'
	touch $(STAMP)

# convlens checks for a screen and Qt's X11 libraries first and says what to install.
run: $(STAMP)
	$(VENV)/bin/convlens

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(PY) bench/run_all.py

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) docs/make_screenshots.py
	QT_QPA_PLATFORM=offscreen $(PY) docs/make_training_screenshot.py
	QT_QPA_PLATFORM=offscreen $(PY) docs/make_explain_screenshots.py
	QT_QPA_PLATFORM=offscreen $(PY) docs/make_runtime_screenshot.py
	QT_QPA_PLATFORM=offscreen $(PY) docs/make_layout_screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
