# Every target bootstraps its own virtual environment, so a fresh clone needs
# nothing but Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP_RUN  := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: run test soak bench lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(VENV)/bin/daemonctl serve

test: $(STAMP_TEST)
	$(PY) -m pytest -q -m "not soak" -p no:cacheprovider

soak: $(STAMP_TEST)
	REVERIE_SOAK=1 $(PY) -m pytest -q -p no:cacheprovider

bench: $(STAMP_TEST)
	$(PY) -m bench

lint: $(STAMP_TEST)
	$(PY) -m ruff check .
	$(PY) -m mypy

clean:
	rm -rf $(VENV) build *.egg-info
