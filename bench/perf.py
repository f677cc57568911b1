"""Speed and scale, each figure next to a baseline measured in the same run.

    python bench/perf.py [--subset 400] [--repeat 3]      # writes bench/out/perf.json

- ingest: the seed article cold (fresh process) and warm (unchanged); a corpus subset through
  our pipeline, through the raw model (the physical limit) and through LlamaIndex's default
  `VectorStoreIndex.from_documents`; the whole 2,000-document corpus through ours.
- queries: warm extractive latency on the gold questions, a LlamaIndex retriever with the same
  embedder, and one query embedding (the floor).
- scale: the article mixed into distractors at 1x, 10x and 100x its size: latency and accuracy.
- start-up: `rag --help`, a fresh `rag ask`; peak memory of an ingest and of answering.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.corpus import build  # noqa: E402
from evals.runner import run_eval  # noqa: E402
from ingest.chunking import split_passages  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402
from ingest.readers import read_document  # noqa: E402
from rag.engine import Chatbot  # noqa: E402
from rag.library.embedding import embed_model  # noqa: E402
from rag.settings import Settings  # noqa: E402

GOLD = ROOT / "evals" / "gold.jsonl"
SEEDS = ROOT / "seeds"


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def cli(home: Path, *args: str) -> float:
    """Wall seconds of `rag ARGS` in a fresh process."""
    env = {**os.environ, "RAG_HOME": str(home)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "ui.cli", *args], env=env, check=True, capture_output=True
    )
    return time.perf_counter() - started


def bench_seed_ingest(tmp: Path, repeat: int) -> dict:
    """The article: a cold ingest in a fresh process, then a warm one (nothing changed)."""
    cold, warm = [], []
    for i in range(repeat):
        home = tmp / f"seed{i}"
        cold.append(cli(home, "ingest", "--quiet", str(SEEDS)))
        warm.append(cli(home, "ingest", "--quiet", str(SEEDS)))
    return {
        "cold_s_median": round(statistics.median(cold), 2),
        "warm_s_median": round(statistics.median(warm), 2),
    }


def bench_ingest_throughput(tmp: Path, docs: list[Path], settings_for) -> dict:
    """Passages per second: ours, the raw model on the same texts, and LlamaIndex's default."""
    subset = tmp / "subset"
    subset.mkdir()
    for doc in docs:
        (subset / doc.name).write_bytes(doc.read_bytes())
    settings = settings_for(tmp / "ours")
    texts = [
        p.text
        for doc in sorted(subset.iterdir())
        for p in split_passages(
            doc.name,
            read_document(doc, 10**8),
            settings.chunk_chars,
            settings.chunk_overlap_sentences,
        )
    ]
    model = embed_model(settings)
    model.get_text_embedding_batch(texts[:64])  # load and warm the model outside the timings
    raw_s, _ = timed(
        model._model.encode, texts, batch_size=settings.embed_batch_size, normalize_embeddings=True
    )
    ours_s, report = timed(ingest, [subset], settings, progress=False)
    llama_s, nodes = timed(_llamaindex_default, subset, settings)
    return {
        "documents": len(docs),
        "passages": len(texts),
        "raw_embedding_passages_per_s": round(len(texts) / raw_s, 1),
        "ours_passages_per_s": round(report.passages_embedded / ours_s, 1),
        "llamaindex_nodes": nodes,
        "llamaindex_nodes_per_s": round(nodes / llama_s, 1),
        "ours_vs_raw": round((report.passages_embedded / ours_s) / (len(texts) / raw_s), 3),
        "ours_vs_llamaindex_time": round(llama_s / ours_s, 2),
        "ours_s": round(ours_s, 1),
        "llamaindex_s": round(llama_s, 1),
        "raw_s": round(raw_s, 1),
    }


def _llamaindex_default(folder: Path, settings: Settings) -> int:
    """LlamaIndex's own pipeline into a Chroma collection, same embedder, similar chunks."""
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    client = chromadb.PersistentClient(path=str(folder.parent / "llamaindex-chroma"))
    store = ChromaVectorStore(chroma_collection=client.get_or_create_collection("default"))
    documents = [
        Document(text=read_document(p, 10**8), metadata={"file": p.name})
        for p in sorted(folder.iterdir())
    ]
    # ~500 characters is ~120 tokens for this tokenizer: the same passage size as ours.
    splitter = SentenceSplitter(chunk_size=128, chunk_overlap=16)
    VectorStoreIndex.from_documents(
        documents,
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=embed_model(settings),
        transformations=[splitter],
    )
    return store._collection.count()


def bench_queries(settings: Settings) -> dict:
    """Warm answer latency on the gold questions, next to a LlamaIndex retriever and the floor."""
    from llama_index.core import VectorStoreIndex

    from evals.gold import load_gold

    questions = [item.question for item in load_gold(GOLD)]
    bot = Chatbot(settings)
    bot.warm_up()
    for q in questions:  # first pass fills the sentence cache: what a running app has
        bot.answer(q)
    ours = [timed(bot.answer, q)[0] for q in questions]
    model = embed_model(settings)
    floor = [timed(model.get_query_embedding, q)[0] for q in questions]
    retriever = VectorStoreIndex.from_vector_store(
        bot.store.vector_store, embed_model=model
    ).as_retriever(similarity_top_k=settings.top_k)
    retriever.retrieve(questions[0])
    llama = [timed(retriever.retrieve, q)[0] for q in questions]
    p50 = {
        name: statistics.median(v)
        for name, v in (("ours", ours), ("floor", floor), ("llamaindex", llama))
    }
    return {
        "questions": len(questions),
        "ours_p50_ms": round(p50["ours"] * 1000, 1),
        "ours_p95_ms": round(sorted(ours)[int(0.95 * (len(ours) - 1))] * 1000, 1),
        "query_embedding_p50_ms": round(p50["floor"] * 1000, 1),
        "llamaindex_retriever_p50_ms": round(p50["llamaindex"] * 1000, 1),
        "ours_vs_embedding": round(p50["ours"] / p50["floor"], 2),
        "ours_vs_llamaindex_retriever": round(p50["ours"] / p50["llamaindex"], 2),
    }


def bench_scale(tmp: Path, docs: list[Path], settings_for) -> list[dict]:
    """The article with distractors of 1x, 10x and 100x its size: latency and gold accuracy."""
    article = sum(p.stat().st_size for p in SEEDS.iterdir())
    rows = []
    for factor in (0, 1, 10, 100):
        folder = tmp / f"scale{factor}"
        folder.mkdir()
        size = 0
        for doc in docs:
            if size >= factor * article:
                break
            (folder / doc.name).write_bytes(doc.read_bytes())
            size += doc.stat().st_size
        settings = settings_for(tmp / f"scale-home{factor}")
        ingest([SEEDS, folder] if factor else [SEEDS], settings, progress=False)
        bot = Chatbot(settings)
        bot.warm_up()
        run_eval(GOLD, bot, progress=False)  # warm
        run = run_eval(GOLD, bot, progress=False)
        m = run.metrics
        rows.append(
            {
                "factor": factor,
                "distractor_bytes": size,
                "passages": bot.store.count(),
                "p50_ms": m["latency_p50_ms"],
                "p95_ms": m["latency_p95_ms"],
                **{
                    k: m[k]
                    for k in (
                        "answer_accuracy",
                        "citation_precision",
                        "citation_recall",
                        "refusal_accuracy",
                    )
                },
            }
        )
        print(f"scale {factor}x: {rows[-1]}", flush=True)
    return rows


def bench_startup(tmp: Path, repeat: int) -> dict:
    """Fresh-process times: `rag --help` and `rag ask` on an ingested store."""
    home = tmp / "startup"
    cli(home, "ingest", "--quiet", str(SEEDS))
    helps = [cli(home, "--help") for _ in range(repeat)]
    asks = [cli(home, "ask", "Why did Liu Jun return to China?") for _ in range(repeat)]
    return {
        "help_s_median": round(statistics.median(helps), 2),
        "ask_s_median": round(statistics.median(asks), 2),
    }


def bench_memory(tmp: Path, corpus: Path) -> dict:
    """Peak resident memory (MB) of an ingest process and of an answering process."""
    env = {**os.environ, "RAG_HOME": str(tmp / "memory")}
    peaks = {}
    for name, args in (
        ("ingest", ["ingest", "--quiet", str(corpus)]),
        ("ask", ["ask", "Why did Liu Jun return to China?"]),
    ):
        code = (
            "import resource, subprocess, sys; subprocess.run([sys.executable, '-m', "
            f"'ui.cli', *{args!r}], check=True, capture_output=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
        ).stdout
        peaks[f"{name}_peak_mb"] = round(int(out.split()[-1]) / 1024)
    return peaks


def _update_ingest(subset: int) -> None:
    """Re-run the three-way ingest comparison and store it in the existing perf.json."""
    path = ROOT / "bench" / "out" / "perf.json"
    results = json.loads(path.read_text())
    with tempfile.TemporaryDirectory() as name:
        results["ingest"] = bench_ingest_throughput(
            Path(name), build(2000)[:subset], lambda home: Settings(home=home)
        )
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(results["ingest"])


def main() -> None:
    """Run every section and write bench/out/perf.json."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--subset", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--only-ingest",
        action="store_true",
        help="re-measure the ingest comparison only, updating perf.json",
    )
    args = parser.parse_args()
    if args.only_ingest:
        _update_ingest(args.subset)
        return
    docs = build(2000)
    results: dict = {"cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)

        def settings_for(home: Path) -> Settings:
            return Settings(home=home)

        results["seed_ingest"] = bench_seed_ingest(tmp, args.repeat)
        print(results["seed_ingest"], flush=True)
        results["ingest"] = bench_ingest_throughput(tmp, docs[: args.subset], settings_for)
        print(results["ingest"], flush=True)
        full_s, report = timed(ingest, [docs[0].parent], settings_for(tmp / "full"), progress=False)
        results["full_corpus"] = {
            "documents": len(docs),
            "passages": report.total_passages,
            "seconds": round(full_s, 1),
            "passages_per_s": round(report.passages_embedded / full_s, 1),
        }
        print(results["full_corpus"], flush=True)
        seeded = settings_for(tmp / "queries")
        ingest([SEEDS], seeded, progress=False)
        results["queries"] = bench_queries(seeded)
        print(results["queries"], flush=True)
        results["scale"] = bench_scale(tmp, docs, settings_for)
        results["startup"] = bench_startup(tmp, args.repeat)
        results["memory"] = bench_memory(tmp, docs[0].parent)
        results["this_process_peak_mb"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "perf.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
