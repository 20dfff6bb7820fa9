# Two commands for a fresh machine: `make demo` (the main job) and `make test`.
# Both create or reuse .venv, installing the CPU build of PyTorch first so that
# pip does not pull a multi-GB CUDA build for the open `torch>=2.13` range.
# `make test` runs the suite twice: in .venv with the newest dependencies, and
# in .venv-oldest with the minimums of pyproject.toml (requirements-oldest.txt).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
VENV_OLDEST ?= .venv-oldest
BIN_OLDEST := $(VENV_OLDEST)/bin
TORCH_CPU ?= torch==2.13.0
# Two cores: one torch thread per process keeps tests from fighting each other.
export OMP_NUM_THREADS ?= 2

.PHONY: venv venv-oldest demo test test-latest test-oldest lint docs clean

# $(call install,VENV_DIR,TORCH,PIP_OPTIONS): a virtual environment with
# torch's CPU build, then the package and its test extras.
define install
	$(PYTHON) -m venv $(1)
	$(1)/bin/pip install --quiet --upgrade pip
	$(1)/bin/pip install --quiet $(3) $(2) || $(1)/bin/pip install --quiet $(3) torch --index-url https://download.pytorch.org/whl/cpu
	$(1)/bin/pip install --quiet $(3) -e ".[test]"
	touch $(1)/bin/.installed
endef

$(BIN)/.installed: pyproject.toml
	$(call install,$(VENV),$(TORCH_CPU),)

# The test extras stay unpinned: pip picks the newest that fit the old core.
$(BIN_OLDEST)/.installed: pyproject.toml requirements-oldest.txt
	$(call install,$(VENV_OLDEST),torch,-c requirements-oldest.txt)

venv: $(BIN)/.installed

venv-oldest: $(BIN_OLDEST)/.installed

demo: venv
	$(BIN)/python -m sklearn_ganomaly.benchmark --quick --out reports/quick

test: test-latest test-oldest

test-latest: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy sklearn_ganomaly
	$(BIN)/python -m pytest

test-oldest: venv-oldest
	$(BIN_OLDEST)/python -m pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The documentation site, offline and with warnings as errors, into
# docs/_build/html; it runs every example of the gallery (2-3 minutes). One
# torch thread: the examples' networks are small, and on a busy machine two
# threads per process made them several times slower, not faster. Then every
# link and anchor of the built pages must resolve, and no page may load
# anything from the network (Sphinx checks only the references it resolves).
# The HTML is built afresh, so that no page left from an earlier build is
# checked; the gallery keeps its own cache and reruns only changed examples.
$(BIN)/.docs-installed: pyproject.toml $(BIN)/.installed
	$(BIN)/pip install --quiet -e ".[docs]"
	touch $@

docs: $(BIN)/.docs-installed
	rm -rf docs/_build/html
	OMP_NUM_THREADS=1 MPLBACKEND=Agg $(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html
	$(BIN)/python docs/_sphinxext/check_html_links.py docs/_build/html

clean:
	rm -rf $(VENV) $(VENV_OLDEST) build *.egg-info .pytest_cache
	rm -rf docs/_build docs/generated docs/auto_examples docs/sg_execution_times.rst
