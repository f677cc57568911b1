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

$(BIN)/.dev: $(BIN)/.app
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
