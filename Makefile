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

test: lint
	$(BIN)/pytest -q -ra

unit: $(BIN)/.dev
	$(BIN)/pytest -q -m "not integration and not e2e and not llm"

eval: $(BIN)/.dev
	$(BIN)/rag eval --quiet --report evals/reports/latest

bench: $(BIN)/.dev
	$(BIN)/python bench/run_all.py

# A Chroma server for RAG_CHROMA_URL=http://127.0.0.1:8000 (data under .rag/chroma-server).
chroma: $(BIN)/.app
	$(BIN)/chroma run --path .rag/chroma-server --host 127.0.0.1 --port 8000

clean:
	rm -rf $(VENV) .rag .pytest_cache .ruff_cache
