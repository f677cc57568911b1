"""Hybrid retrieval: dense (Chroma) and BM25 (LlamaIndex retrievers), fused by reciprocal rank."""

from __future__ import annotations

import copy
import math
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.settings import Settings
from rag.store import PassageStore
from rag.text import content_terms
from rag.types import Passage

RRF_K = 60  # the constant from Cormack et al.; damps the weight of the very first ranks


@dataclass(frozen=True)
class _Snapshot:
    """One consistent view of the library, swapped whole when it changes, so a question
    running in another thread never sees half of an old index and half of a new one."""

    version: tuple[int, str]
    by_id: dict[str, Passage]
    document_frequency: Counter
    bm25: Any  # a LlamaIndex BM25Retriever, or None for an empty library
    index: Any  # the LlamaIndex VectorStoreIndex over Chroma
    dense: Any
    sources: dict[str, str | None] = field(default_factory=dict)  # texts read so far


class HybridRetriever:
    """Retrieves passages for a question; rebuilds its keyword index when the library changes."""

    def __init__(self, store: PassageStore, settings: Settings):
        self.store = store
        self.settings = settings
        self._snapshot: _Snapshot | None = None
        self._rebuilding = threading.Lock()

    def refresh(self) -> None:
        """Reload the keyword index and the stored texts from the store (after an ingest)."""
        with self._rebuilding:
            self._snapshot = self._build()

    def _build(self) -> _Snapshot:
        from llama_index.core import VectorStoreIndex  # noqa: PLC0415
        from llama_index.core.schema import TextNode  # noqa: PLC0415
        from llama_index.retrievers.bm25 import BM25Retriever  # noqa: PLC0415

        from rag.embedding import embed_model  # noqa: PLC0415

        # Read the version first: a change made while this runs triggers the next refresh.
        version = self._store_version()
        passages = self.store.all_passages()
        bm25 = None
        if passages:
            nodes = [TextNode(id_=p.id, text=p.text) for p in passages]
            # bm25s cannot return more passages than it holds (and warns when asked to).
            top_k = min(self._depth(), len(nodes))
            bm25 = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=top_k)
        index = VectorStoreIndex.from_vector_store(
            self.store.vector_store, embed_model=embed_model(self.settings)
        )
        return _Snapshot(
            version,
            {p.id: p for p in passages},
            Counter(t for p in passages for t in set(content_terms(p.text))),
            bm25,
            index,
            index.as_retriever(similarity_top_k=self._depth()),
        )

    def is_empty(self) -> bool:
        """True when nothing has been ingested."""
        return not self._current().by_id

    def retrieve(
        self, question: str, question_vector: np.ndarray, scope: frozenset[str] = frozenset()
    ) -> list[Passage]:
        """The `top_k` passages for a question, best first, with their fused scores; only
        from the documents whose ids are in `scope`, when it is given."""
        snapshot = self._current()
        passages = []
        for pid, score in reciprocal_rank_fusion(
            self._rankings(snapshot, question, question_vector, scope)
        ):
            passage = snapshot.by_id.get(pid)
            if passage is not None and self._is_current(snapshot, passage):
                passages.append(Passage(**{**passage.__dict__, "score": round(score, 6)}))
            if len(passages) == self.settings.top_k:
                break
        return passages

    def rankings(
        self, question: str, question_vector: np.ndarray, scope: frozenset[str] = frozenset()
    ) -> list[list[str]]:
        """Passage ids best first by meaning (Chroma) and, when the question has content
        words, by keywords (BM25); each searched only within `scope`, when it is given."""
        return self._rankings(self._current(), question, question_vector, scope)

    def _rankings(
        self, snapshot: _Snapshot, question: str, vector: np.ndarray, scope: frozenset[str]
    ) -> list[list[str]]:
        from llama_index.core.schema import QueryBundle  # noqa: PLC0415

        if not snapshot.by_id:
            return []
        bundle = QueryBundle(query_str=question, embedding=vector.tolist())
        found = [self._dense(snapshot, scope).retrieve(bundle)]
        if snapshot.bm25 is not None and content_terms(question):
            found.append(self._keyword(snapshot, scope).retrieve(bundle))

        def wanted(pid: str) -> bool:
            passage = snapshot.by_id.get(pid)
            return not scope or (passage is not None and passage.document_id in scope)

        return [[hit.node.node_id for hit in hits if wanted(hit.node.node_id)] for hits in found]

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term over passages (unseen terms weigh most)."""
        snapshot = self._latest()
        n = max(len(snapshot.by_id), 1)
        return math.log((n + 1) / (snapshot.document_frequency.get(term, 0) + 0.5))

    def source_text(self, document_id: str) -> str | None:
        """The stored text of a document (cached until the library changes)."""
        return self._source_text(self._latest(), document_id)

    def _source_text(self, snapshot: _Snapshot, document_id: str) -> str | None:
        if document_id not in snapshot.sources:
            snapshot.sources[document_id] = self.store.source_text(document_id)
        return snapshot.sources[document_id]

    def _dense(self, snapshot: _Snapshot, scope: frozenset[str]):
        """The dense retriever, filtered in Chroma to the documents in scope."""
        if not scope:
            return snapshot.dense
        from llama_index.core.vector_stores import (  # noqa: PLC0415
            FilterOperator,
            MetadataFilter,
            MetadataFilters,
        )

        only = MetadataFilter(key="document", value=sorted(scope), operator=FilterOperator.IN)
        return snapshot.index.as_retriever(
            similarity_top_k=self._depth(), filters=MetadataFilters(filters=[only])
        )

    def _keyword(self, snapshot: _Snapshot, scope: frozenset[str]):
        """The BM25 retriever, masked to the documents in scope (the index is shared)."""
        if not scope:
            return snapshot.bm25
        scoped = copy.copy(snapshot.bm25)
        corpus = snapshot.bm25.corpus
        mask = [int(snapshot.by_id[c["node_id"]].document_id in scope) for c in corpus]
        # bm25s fills its top k with masked-out passages when few match; rankings drop them.
        scoped.corpus_weight_mask = mask if any(mask) else None
        return scoped

    def _is_current(self, snapshot: _Snapshot, passage: Passage) -> bool:
        # A passage whose offsets no longer match the stored text (an ingest cut short)
        # is never shown: every citation must be exact.
        text = self._source_text(snapshot, passage.document_id)
        return text is not None and text[passage.start : passage.end] == passage.text

    def _depth(self) -> int:
        return max(2 * self.settings.top_k, 10)

    def _store_version(self) -> tuple[int, str]:
        # The passage count alone misses an edit that keeps it; the library's generation
        # changes with every ingest and removal, from any process.
        return (self.store.count(), self.store.generation())

    def _latest(self) -> _Snapshot:
        """The snapshot the last question was answered against: scoring a question's sentences
        (many idf and text lookups) must not ask the store for its version each time."""
        return self._snapshot or self._current()

    def passage_ids(self) -> set[str]:
        """Ids of the passages the keyword index holds (after catching up with the store)."""
        return set(self._current().by_id)

    def _current(self) -> _Snapshot:
        """The snapshot, rebuilt first when the library changed (one rebuild at a time)."""
        snapshot = self._snapshot
        if snapshot is not None and snapshot.version == self._store_version():
            return snapshot
        with self._rebuilding:
            if self._snapshot is None or self._snapshot.version != self._store_version():
                self._snapshot = self._build()
            return self._snapshot


def reciprocal_rank_fusion(rankings: list[list[str]]) -> list[tuple[str, float]]:
    """Fuse ranked id lists: score(id) = sum of 1 / (RRF_K + rank)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, pid in enumerate(ranking, start=1):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(scores.items(), key=lambda item: -item[1])
