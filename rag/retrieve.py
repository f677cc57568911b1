"""Hybrid retrieval: dense (Chroma) and BM25 (LlamaIndex retrievers), fused by reciprocal rank."""

from __future__ import annotations

import copy
import math
from collections import Counter

import numpy as np

from rag.settings import Settings
from rag.store import PassageStore
from rag.text import content_terms
from rag.types import Passage

RRF_K = 60  # the constant from Cormack et al.; damps the weight of the very first ranks


class HybridRetriever:
    """Retrieves passages for a question; rebuilds its keyword index when the library changes."""

    def __init__(self, store: PassageStore, settings: Settings):
        self.store = store
        self.settings = settings
        self._count = -1
        self._version: tuple[int, str] | None = None
        self._sources: dict[str, str | None] = {}

    def refresh(self) -> None:
        """Reload the keyword index and the stored texts from the store (after an ingest)."""
        from llama_index.core import VectorStoreIndex  # noqa: PLC0415
        from llama_index.core.schema import TextNode  # noqa: PLC0415
        from llama_index.retrievers.bm25 import BM25Retriever  # noqa: PLC0415

        from rag.embedding import embed_model  # noqa: PLC0415

        # Read the version first: a change made while this runs triggers the next refresh.
        version = (self.store.count(), self.store.generation())
        passages = self.store.all_passages()
        self.by_id = {p.id: p for p in passages}
        self._document_frequency = Counter(t for p in passages for t in set(content_terms(p.text)))
        self._sources = {}
        depth = self._depth()
        self.bm25 = None
        if passages:
            nodes = [TextNode(id_=p.id, text=p.text) for p in passages]
            # bm25s cannot return more passages than it holds (and warns when asked to).
            top_k = min(depth, len(nodes))
            self.bm25 = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=top_k)
        index = VectorStoreIndex.from_vector_store(
            self.store.vector_store, embed_model=embed_model(self.settings)
        )
        self.index = index
        self.dense = index.as_retriever(similarity_top_k=depth)
        self._count = len(passages)
        self._version = version

    def is_empty(self) -> bool:
        """True when nothing has been ingested."""
        self._refresh_if_changed()
        return self._count == 0

    def retrieve(
        self, question: str, question_vector: np.ndarray, scope: frozenset[str] = frozenset()
    ) -> list[Passage]:
        """The `top_k` passages for a question, best first, with their fused scores; only
        from the documents whose ids are in `scope`, when it is given."""
        passages = []
        for pid, score in reciprocal_rank_fusion(self.rankings(question, question_vector, scope)):
            passage = self.by_id.get(pid)
            if passage is not None and self._is_current(passage):
                passages.append(Passage(**{**passage.__dict__, "score": round(score, 6)}))
            if len(passages) == self.settings.top_k:
                break
        return passages

    def rankings(
        self, question: str, question_vector: np.ndarray, scope: frozenset[str] = frozenset()
    ) -> list[list[str]]:
        """Passage ids best first by meaning (Chroma) and, when the question has content
        words, by keywords (BM25); each searched only within `scope`, when it is given."""
        from llama_index.core.schema import QueryBundle  # noqa: PLC0415

        self._refresh_if_changed()
        if not self._count:
            return []
        bundle = QueryBundle(query_str=question, embedding=question_vector.tolist())
        found = [self._dense(scope).retrieve(bundle)]
        if self.bm25 is not None and content_terms(question):
            found.append(self._keyword(scope).retrieve(bundle))
        return [
            [
                hit.node.node_id
                for hit in hits
                if not scope or self._in_scope(hit.node.node_id, scope)
            ]
            for hits in found
        ]

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term over passages (unseen terms weigh most)."""
        n = max(self._count, 1)
        return math.log((n + 1) / (self._document_frequency.get(term, 0) + 0.5))

    def source_text(self, document_id: str) -> str | None:
        """The stored text of a document (cached until the next refresh)."""
        if document_id not in self._sources:
            self._sources[document_id] = self.store.source_text(document_id)
        return self._sources[document_id]

    def _dense(self, scope: frozenset[str]):
        """The dense retriever, filtered in Chroma to the documents in scope."""
        if not scope:
            return self.dense
        from llama_index.core.vector_stores import (  # noqa: PLC0415
            FilterOperator,
            MetadataFilter,
            MetadataFilters,
        )

        only = MetadataFilter(key="document", value=sorted(scope), operator=FilterOperator.IN)
        return self.index.as_retriever(
            similarity_top_k=self._depth(), filters=MetadataFilters(filters=[only])
        )

    def _keyword(self, scope: frozenset[str]):
        """The BM25 retriever, masked to the documents in scope (the index is shared)."""
        if not scope:
            return self.bm25
        scoped = copy.copy(self.bm25)
        mask = [int(self.by_id[c["node_id"]].document_id in scope) for c in self.bm25.corpus]
        # bm25s fills its top k with masked-out passages when few match; rankings() drops them.
        scoped.corpus_weight_mask = mask if any(mask) else None
        return scoped

    def _in_scope(self, passage_id: str, scope: frozenset[str]) -> bool:
        passage = self.by_id.get(passage_id)
        return passage is not None and passage.document_id in scope

    def _is_current(self, passage: Passage) -> bool:
        # A passage whose offsets no longer match the stored text (an ingest cut short)
        # is never shown: every citation must be exact.
        text = self.source_text(passage.document_id)
        return text is not None and text[passage.start : passage.end] == passage.text

    def _depth(self) -> int:
        return max(2 * self.settings.top_k, 10)

    def _refresh_if_changed(self) -> None:
        # The passage count alone misses an edit that keeps it; the library's generation
        # changes with every ingest and removal, from any process.
        if self._version != (self.store.count(), self.store.generation()):
            self.refresh()


def reciprocal_rank_fusion(rankings: list[list[str]]) -> list[tuple[str, float]]:
    """Fuse ranked id lists: score(id) = sum of 1 / (RRF_K + rank)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, pid in enumerate(ranking, start=1):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(scores.items(), key=lambda item: -item[1])
