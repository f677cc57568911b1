# `make run` chats on the bundled article; `make test` is what CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1

.PHONY: run test lint unit eval bench chroma clean

# The app needs the base install; tests also need the llm extra (llama-cpp builds once, ~8 min).
$(BIN)/.app: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

# llama.cpp is built from source for a portable x86-64 baseline (AVX2/FMA/F16C, no AVX-512/AMX):
# a native build dies with "Illegal instruction" on VMs whose CPUs advertise more than they run.
# --no-cache-dir keeps pip from reusing a wheel built elsewhere with other flags.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF

$(BIN)/.dev: $(BIN)/.app
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install -q --no-cache-dir --no-binary llama-cpp-python \
		'llama-cpp-python[server]>=0.3.16'
	$(BIN)/pip install -q -e '.[dev,llm]'
	touch $@

run: $(BIN)/.app
	$(BIN)/rag ingest
	$(BIN)/rag ui

lint: $(BIN)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

ARTIFACTS ?= $(or $(RAG_ARTIFACTS),artifacts)

# The eval gate runs on a fresh store so that it measures exactly what is committed.
test: lint
	$(BIN)/pytest -q -ra
	rm -rf $(ARTIFACTS)/eval-home
	RAG_HOME=$(ARTIFACTS)/eval-home $(BIN)/rag eval --quiet --report $(ARTIFACTS)/eval

unit: $(BIN)/.dev
	$(BIN)/pytest -q -m "not integration and not e2e and not llm"

# Refresh the committed reports: the gated development set and the held-out set.
eval: $(BIN)/.dev
	$(BIN)/rag eval --quiet --report evals/reports/extractive
	$(BIN)/rag eval --quiet --no-gate --gold evals/heldout.jsonl --report evals/reports/extractive-heldout

bench: $(BIN)/.dev
	$(BIN)/python bench/run_all.py

# A Chroma server for RAG_CHROMA_URL=http://127.0.0.1:8000 (data under .rag/chroma-server).
chroma: $(BIN)/.app
	$(BIN)/chroma run --path .rag/chroma-server --host 127.0.0.1 --port 8000

clean:
	rm -rf $(VENV) .rag .pytest_cache .ruff_cache
