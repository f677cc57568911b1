"""The engine at scale: opening a library, adding one document, first and later questions.

    python bench/engine.py [--sizes 10000 50000 100000] [--repeat 5]   # bench/out/engine.json

Each figure comes with a baseline measured in the same run:

- open: a fresh process's retriever on a library of N passages (warm disk), against rebuilding
  the keyword index from every stored passage (what every process did at start before it was
  persisted);
- add one document to the largest library: the ingest, and the keyword index catching up,
  against the same full rebuild;
- on a library ingested for real (the article and 100 pydoc pages): the first question on a
  newly added document against a later question on it (its sentences and their embeddings
  were stored at ingest, so the first pays nothing extra), and a warm answer's p50 against
  one query embedding (the floor of any question).

The large libraries hold real text (the standard library's pydoc pages, cut into passages)
with random unit vectors for their embeddings: opening and keyword search never look at the
vectors, and embedding 100,000 passages for real would take this machine most of an hour.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from bench.corpus import build  # noqa: E402
from ingest.chunking import split_passages  # noqa: E402
from ingest.pipeline import document_id, ingest  # noqa: E402
from rag.language.sentences import sentence_table  # noqa: E402
from rag.library.keywords import KeywordIndex  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.types import Document  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "engine.json"
NEW_DOCUMENT = (
    "The Kestrel Bay observatory opened in 1958 on a granite ridge above the fishing town. "
    "Its first director, Ilse Marren, chose the site for its dry winter air and dark skies. "
    "A 40-inch reflecting telescope was installed in 1961, paid for by a local shipping firm. "
    "The observatory closed to visitors in 1994 after light from the new harbour dimmed the sky."
)
FIRST, LATER = (
    "Who was the first director of Kestrel Bay observatory?",
    ("When was the telescope at Kestrel Bay installed?"),
)


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def fill(settings: Settings, passages: int, rng: np.random.Generator) -> None:
    """A library of `passages` passages of real text with random unit vectors, written to
    Chroma in large batches (the pages' copies differ by name, as copies of a manual would)."""
    from rag.library.store import PassageStore

    store, pages = PassageStore(settings), build(2000)
    parsed = {}
    ids, texts, metas, sources = [], [], [], []
    copy = written = 0
    while written < passages:
        for page in pages:
            if page not in parsed:
                text = page.read_text(encoding="utf-8")
                parsed[page] = (text, sentence_table(text))
            text, sentences = parsed[page]
            name = f"copy{copy}/{page.name}"
            doc = document_id(Path(name))
            spans = [(s, e) for _, _, s, e in sentences]
            chunks = split_passages(name, text, 500, 1, doc, spans)[: passages - written]
            for c in chunks:
                ids.append(c.id)
                texts.append(c.text)
                metas.append(
                    {
                        "source": name,
                        "document": doc,
                        "root": "bench",
                        "start": c.start,
                        "end": c.end,
                    }
                )
            document = Document(doc, name, name, len(chunks), len(text), "2026-12-01T00:00:00")
            flat = json.dumps([v for span in sentences for v in span])
            sources.append((doc, text, {**document.__dict__, "root": "bench", "sha": doc}, flat))
            written += len(chunks)
            if written >= passages:
                break
        copy += 1
    block = rng.standard_normal((len(ids), 384)).astype(np.float32)
    block /= np.linalg.norm(block, axis=1, keepdims=True)
    for i in range(0, len(ids), 5000):
        store.passages.add(
            ids=ids[i : i + 5000],
            embeddings=block[i : i + 5000],
            documents=texts[i : i + 5000],
            metadatas=metas[i : i + 5000],
        )
    for i in range(0, len(sources), 2000):
        chunk = sources[i : i + 2000]
        store.sources.upsert(
            ids=[d for d, _, _, _ in chunk],
            documents=[t for _, t, _, _ in chunk],
            embeddings=[[0.0]] * len(chunk),
            metadatas=[m for _, _, m, _ in chunk],
        )
        store.tables.upsert(
            ids=[d for d, _, _, _ in chunk],
            documents=[f for _, _, _, f in chunk],
            embeddings=[[0.0]] * len(chunk),
            metadatas=[{"sha": d} for d, _, _, _ in chunk],
        )
    store.touch()


def open_library(settings: Settings) -> float:
    """Seconds until a fresh retriever of this library can answer (store opened, keyword
    index checked against the store)."""
    from rag.answering.retrieve import HybridRetriever
    from rag.library.store import PassageStore

    started = time.perf_counter()
    retriever = HybridRetriever(PassageStore(settings), settings)
    retriever.is_empty()
    return time.perf_counter() - started


def rebuild(settings: Settings, folder: Path) -> float:
    """Seconds to build the keyword index from every stored passage (the old way to open)."""
    from rag.library.store import PassageStore

    store = PassageStore(settings)
    index = KeywordIndex(folder / f"rebuild-{time.monotonic_ns()}.sqlite")
    seconds, _ = timed(index.sync, store.generation(), store.all_hashes(), store.passages_of)
    index.close()
    return seconds


def bench_sizes(tmp: Path, sizes: list[int], repeat: int) -> tuple[dict, Settings]:
    rng = np.random.default_rng(0)
    results, settings = {}, None
    for size in sizes:
        settings = Settings(home=tmp / f"lib{size}")
        fill_s, _ = timed(fill, settings, size, rng)
        open_library(settings)  # the first open builds the derived index once
        opens = [open_library(settings) for _ in range(repeat)]
        rebuilds = [rebuild(settings, tmp) for _ in range(max(1, repeat // 2))]
        results[size] = {
            "fill_s": round(fill_s, 1),
            "open_s_median": round(statistics.median(opens), 3),
            "full_rebuild_s_median": round(statistics.median(rebuilds), 2),
            "open_vs_rebuild": round(statistics.median(opens) / statistics.median(rebuilds), 4),
        }
        print(size, results[size], flush=True)
    return results, settings


def bench_add_one(settings: Settings, tmp: Path) -> dict:
    """One new document into the largest library: the ingest and the keyword index catching
    up with it, against rebuilding that index."""
    from rag.engine import Chatbot

    bot = Chatbot(settings)
    bot.warm_up()
    folder = tmp / "new"
    folder.mkdir()
    (folder / "kestrel.txt").write_text(NEW_DOCUMENT)
    ingest_s, _ = timed(ingest, [folder], settings, progress=False, store=bot.store)
    sync_s, _ = timed(bot.retriever.refresh)
    return {
        "ingest_one_document_s": round(ingest_s, 2),
        "keyword_index_catch_up_s": round(sync_s, 3),
        "full_rebuild_s": round(rebuild(settings, tmp), 2),
    }


def bench_questions(tmp: Path, pages: int) -> dict:
    """On a library ingested for real (the article and `pages` pydoc pages, every sentence
    embedded at ingest): the first question on a newly added document against a later one,
    and a warm answer against one query embedding."""
    from rag.engine import Chatbot

    settings = Settings(home=tmp / "real")
    folder = tmp / "pages"
    folder.mkdir()
    for page in build(pages)[:pages]:
        (folder / page.name).write_bytes(page.read_bytes())
    ingest([folder, settings.seeds_dir], settings, progress=False)
    bot = Chatbot(settings)
    bot.warm_up()
    bot.answer("Why did Liu Jun return to China?")
    added = tmp / "added"
    added.mkdir()
    (added / "kestrel.txt").write_text(NEW_DOCUMENT)
    ingest([added], settings, progress=False, store=bot.store)
    first_s, first = timed(bot.answer, FIRST)
    later_s, later = timed(bot.answer, LATER)
    again = [timed(bot.answer, FIRST)[0] for _ in range(7)]
    floor = [timed(bot.embedder.query, q)[0] for q in (FIRST, LATER) * 7]
    return {
        "passages": bot.store.count(),
        "first_question_s": round(first_s, 3),
        "later_question_s": round(later_s, 3),
        "first_vs_later": round(first_s / later_s, 2),
        "first_cites": sorted({c.source for c in first.citations}),
        "later_cites": sorted({c.source for c in later.citations}),
        "warm_answer_p50_s": round(statistics.median(again), 3),
        "query_embedding_p50_s": round(statistics.median(floor), 4),
        "warm_answer_vs_embedding": round(statistics.median(again) / statistics.median(floor), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pages", type=int, default=100, help="pydoc pages ingested for real")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        sizes, largest = bench_sizes(tmp, args.sizes, args.repeat)
        added = bench_add_one(largest, tmp)
        questions = bench_questions(tmp, args.pages)
    result = {"open": sizes, "add_one_to_largest": added, "questions": questions}
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
