# Two set-up commands on a fresh clone: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export OMP_NUM_THREADS ?= 1
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: install demo test lint bench figures clean

install: $(STAMP)

# Reinstalls only when the project's metadata changes; torch is pinned in the same command so pip takes the
# local CPU wheel instead of a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,llm,train,serve,ray,report,hub]'
	touch $(STAMP)

DEMO := runs/demo

# The bundled quickstart config, offline (`acecoder run quickstart`): execute the bundled real sample, pairs,
# hard subset, Table 1, a tiny reward model trained on half of the questions, rm_score on every sample, best-of-N
# on HumanEval+ for the other half, RL rewards of the hard subset, and runs/demo/report.html (the LLM stage is
# skipped, saying how to enable it). A rerun redoes nothing.
demo: install
	$(BIN)/acecoder run quickstart --run-dir $(DEMO)
	$(BIN)/acecoder status $(DEMO)

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/lint-imports --no-cache

bench: install
	$(BIN)/python benchmarks/execution.py

# Re-runs the cheap figures of README.md and benchmarks/RESULTS.md (benchmarks/figures.yaml: the RL demo's seeds,
# the reward, execution and real-sample benchmarks, the evaluation agreement counts) and prints each beside its
# documented value; exit 1 when one is stale. Not part of `make test` (~30 min on 2 cores). FIGURES_ARGS='--all'
# adds the slow ones, '--only rewards,execution' picks runs, '--reuse' re-compares the last outputs.
figures: install
	$(BIN)/python scripts/check_figures.py $(FIGURES_ARGS)

clean:
	rm -rf $(VENV) runs .pytest_cache
