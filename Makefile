# `make run` chats on the bundled article; `make test` is what CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1

.PHONY: run test lint unit eval train fit bench chroma clean

# The app needs the base install; tests also need the llm extra (llama-cpp builds once, ~8 min).
# pip says what it installs as it goes: the first run takes a few minutes.
$(BIN)/.app: pyproject.toml
	@echo "Installing rag-cite and its dependencies into $(VENV) (the first time takes a few minutes)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install --progress-bar off -e .
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

# The eval gate runs every set on fresh stores, so it measures exactly what is committed;
# only held-out sets are gated (evals/suite.py), the sets anything was fitted on are reported.
test: lint
	$(BIN)/pytest -q -ra
	rm -rf $(ARTIFACTS)/eval-home
	RAG_HOME=$(ARTIFACTS)/eval-home $(BIN)/rag eval --quiet --report $(ARTIFACTS)/eval

unit: $(BIN)/.dev
	$(BIN)/pytest -q -m "not integration and not e2e and not llm"

# Refresh the committed reports of every eval set (evals/reports/<set>/, summary.md/png).
eval: $(BIN)/.dev
	rm -rf .rag/evals
	$(BIN)/rag eval --quiet --no-gate --report evals/reports

# Train the evidence encoder (rag/library/evidence_encoder.*; ~30 min on 2 cores), then refit.
train: $(BIN)/.dev
	$(BIN)/python bench/train_evidence.py
	$(BIN)/python bench/fit_scorer.py

# Refit the evidence scorer and answerability model (rag/answering/scorer.json) on SQuAD train articles.
fit: $(BIN)/.dev
	$(BIN)/python bench/fit_scorer.py

bench: $(BIN)/.dev
	$(BIN)/python bench/run_all.py

# A Chroma server for RAG_CHROMA_URL=http://127.0.0.1:8000 (data under .rag/chroma-server).
chroma: $(BIN)/.app
	$(BIN)/chroma run --path .rag/chroma-server --host 127.0.0.1 --port 8000

clean:
	rm -rf $(VENV) .rag .pytest_cache .ruff_cache
