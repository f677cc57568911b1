"""The persisted keyword index: synced per document, identical to a full rebuild."""

from __future__ import annotations

import hashlib
import random

from ingest.chunking import split_passages
from rag.library.keywords import KeywordIndex, match_query

WORDS = [
    "harbor",
    "lighthouse",
    "keeper",
    "storm",
    "ferry",
    "tide",
    "granite",
    "quarry",
    "bridge",
    "river",
    "mill",
    "weaver",
    "archive",
    "ledger",
    "cathedral",
    "bell",
    "pilgrim",
    "orchard",
    "cider",
    "frost",
    "glacier",
    "valley",
    "shepherd",
]


def _document(rng: random.Random, name: str) -> tuple[str, list]:
    sentences = [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 12))).capitalize() + "."
        for _ in range(rng.randint(4, 20))
    ]
    text = " ".join(sentences)
    return text, split_passages(name, text, 200, 1, name)


class Library:
    """Documents as a store holds them: text hashes and passages (no model needed)."""

    def __init__(self):
        self.texts: dict[str, str] = {}
        self.passages: dict[str, list] = {}

    def put(self, name: str, text: str, passages: list) -> None:
        self.texts[name], self.passages[name] = text, passages

    def hashes(self) -> dict[str, str]:
        return {d: hashlib.sha256(t.encode()).hexdigest() for d, t in self.texts.items()}

    def passages_of(self, ids: list[str]) -> dict[str, list]:
        return {d: self.passages[d] for d in ids if d in self.passages}


def _state(index: KeywordIndex) -> tuple:
    queries = ["harbor storm", "granite quarry bridge", "cider orchard frost", "bell", "nothing"]
    found = [[(p.id, p.score) for p in index.search(q, 50)] for q in queries]
    return found, index.passage_count(), index.document_frequency(["harbor", "storm", "bell"])


def test_updates_per_document_give_what_a_full_rebuild_gives(tmp_path):
    rng, library = random.Random(7), Library()
    incremental = KeywordIndex(tmp_path / "incremental.sqlite")
    calls: list[list[str]] = []

    def passages_of(ids):
        calls.append(ids)
        return library.passages_of(ids)

    for step in range(12):
        name = f"doc{rng.randint(0, 5)}.txt"
        if step % 4 == 3 and library.texts:
            gone = rng.choice(sorted(library.texts))
            del library.texts[gone], library.passages[gone]
        else:
            library.put(name, *_document(rng, name))
        calls.clear()
        incremental.sync(f"g{step}", library.hashes(), passages_of)
        # Only the document that changed is read again, never the whole library.
        assert all(len(ids) <= 1 for ids in calls)
    rebuilt = KeywordIndex(tmp_path / "rebuilt.sqlite")
    rebuilt.sync("final", library.hashes(), library.passages_of)
    assert _state(incremental) == _state(rebuilt)
    assert incremental.passage_count() == sum(len(p) for p in library.passages.values())


def test_an_unchanged_generation_reads_nothing(tmp_path):
    rng, library = random.Random(3), Library()
    library.put("a.txt", *_document(rng, "a.txt"))
    index = KeywordIndex(tmp_path / "k.sqlite")
    index.sync("g1", library.hashes(), library.passages_of)
    reopened = KeywordIndex(tmp_path / "k.sqlite")
    assert reopened.generation == "g1"
    assert reopened.sync("g1", library.hashes(), lambda ids: {}) == (0, 0)
    assert _state(reopened) == _state(index)


def test_scope_and_query_syntax(tmp_path):
    library = Library()
    library.put(
        "a.txt",
        "The harbor bell rang at dawn.",
        split_passages("a", "The harbor bell rang at dawn.", 200, 1, "a.txt"),
    )
    library.put(
        "b.txt",
        "A harbor ferry crossed the river.",
        split_passages("b", "A harbor ferry crossed the river.", 200, 1, "b.txt"),
    )
    index = KeywordIndex(tmp_path / "k.sqlite")
    index.sync("g", library.hashes(), library.passages_of)
    assert {p.document_id for p in index.search("harbor", 10)} == {"a.txt", "b.txt"}
    assert {p.document_id for p in index.search("harbor", 10, {"b.txt"})} == {"b.txt"}
    # Words FTS5 would read as syntax are plain words here.
    assert match_query('NOT "harbor" NEAR(bell)') == '"harbor" OR "near" OR "bell"'
    assert index.search("NOT harbor", 10)
    assert index.search("the of and", 10) == []
