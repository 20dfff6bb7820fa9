# Two commands for a fresh machine: `make demo` (the main job) and `make test`.
# Both create or reuse .venv, installing the CPU build of PyTorch first so that
# pip does not pull a multi-GB CUDA build for the open `torch>=2.2` range.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_CPU ?= torch==2.13.0
# Two cores: one torch thread per process keeps tests from fighting each other.
export OMP_NUM_THREADS ?= 2

.PHONY: venv demo test lint clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH_CPU) || $(BIN)/pip install --quiet torch --index-url https://download.pytorch.org/whl/cpu
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

venv: $(BIN)/.installed

demo: venv
	$(BIN)/python -m sklearn_ganomaly.benchmark --quick --out reports/quick

test: venv
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
