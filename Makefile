# Two set-up commands on a fresh clone: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export OMP_NUM_THREADS ?= 1
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: install demo test lint bench clean

install: $(STAMP)

# Reinstalls only when the project's metadata changes; torch is pinned in the same command so pip takes the
# local CPU wheel instead of a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,llm,train,serve]'
	touch $(STAMP)

DEMO := runs/demo

# The pipeline after sampling, on the bundled real sample: execute every program against every test, build
# preference pairs, select the hard subset, print Table-1-style statistics.
demo: install
	$(BIN)/acecoder execute data/samples/acecode_sample.jsonl $(DEMO)/executed.jsonl
	$(BIN)/acecoder pairs $(DEMO)/executed.jsonl $(DEMO)/pairs.jsonl
	$(BIN)/acecoder pairs $(DEMO)/executed.jsonl $(DEMO)/pairs_acecodepair.jsonl --format acecodepair
	$(BIN)/acecoder hard $(DEMO)/executed.jsonl $(DEMO)/hard.jsonl
	$(BIN)/acecoder stats $(DEMO)/executed.jsonl

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: install
	$(BIN)/python benchmarks/execution.py

clean:
	rm -rf $(VENV) runs .pytest_cache
