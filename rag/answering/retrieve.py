"""Hybrid retrieval: dense (Chroma) and keyword (SQLite FTS5) LlamaIndex retrievers, fused by
reciprocal rank, returned as one immutable `RetrievalResult`.

Nothing is rebuilt when a library opens: the keyword index is persisted and synced per document
by hash when the library's generation changes (rag/library/keywords.py), and the sentences of
each document, with their embeddings, were stored at ingest.
"""

from __future__ import annotations

import threading
from functools import cached_property

import numpy as np
from llama_index.core import VectorStoreIndex
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

from rag.answering.evidence import candidate_sentences
from rag.language.words import stem, words
from rag.library.keywords import KeywordIndex
from rag.library.store import PassageStore, passage_of, sentence_id
from rag.settings import Settings
from rag.types import DocumentText, Passage, RetrievalResult

RRF_K = 60  # the constant from Cormack et al.; damps the weight of the very first ranks


class HybridRetriever:
    """Retrieves passages for a question, with everything later stages need to answer it."""

    def __init__(
        self, store: PassageStore, settings: Settings, keywords: KeywordIndex | None = None
    ):
        self.store = store
        self.settings = settings
        self.keywords = keywords or KeywordIndex(settings.keyword_index_path)
        self._lock = threading.Lock()  # one sync at a time; guards the text cache
        self._texts: dict[str, DocumentText] = {}
        self._texts_generation = ""

    def sync(self) -> str:
        """Bring the keyword index in line with the store; the generation it now reflects."""
        generation = self.store.generation()
        if generation == self.keywords.generation:
            return generation
        with self._lock:
            if generation != self.keywords.generation:
                self.keywords.sync(generation, self.store.all_hashes(), self.store.passages_of)
            return generation

    def passage_ids(self) -> set[str]:
        """Ids of the passages the keyword index holds (after catching up with the store)."""
        self.sync()
        return self.keywords.passage_ids()

    def refresh(self) -> None:
        """Catch up with the store now (after an ingest or a removal)."""
        self.sync()

    def is_empty(self) -> bool:
        """True when nothing has been ingested."""
        self.sync()
        return self.keywords.passage_count() == 0

    def retrieve(
        self,
        question: str,
        question_vector: np.ndarray,
        scope: frozenset[str] = frozenset(),
        evidence_vector: np.ndarray | None = None,
    ) -> RetrievalResult:
        """The `top_k` passages for a question, best first with their fused scores, only from
        the documents whose ids are in `scope` when it is given, and what answering them needs.
        `evidence_vector`: the question by the evidence encoder, which scores its sentences
        (default: `question_vector`)."""
        generation = self.sync()
        dense, keyword = self._rankings(question, question_vector, scope)
        # One version of the library: the keyword index's, as of the last completed ingest.
        # Chroma shows an ingest's passages while it runs; a question in between would fuse
        # two libraries (and answer differently from before and after it).
        synced = self.keywords.indexed(p.id for p in dense)
        dense = [p for p in dense if p.id in synced]
        by_id = {p.id: p for p in keyword + dense}
        fused = reciprocal_rank_fusion([[p.id for p in dense], [p.id for p in keyword]])
        documents = self._documents({by_id[pid].document_id for pid, _ in fused}, generation)
        passages = []
        for pid, score in fused:
            passage = by_id[pid]
            text = documents.get(passage.document_id)
            # A passage whose offsets no longer match the stored text (an ingest cut short)
            # is never shown: every citation must be exact.
            if text is None or text.text[passage.start : passage.end] != passage.text:
                continue
            passages.append(Passage(**{**passage.__dict__, "score": round(score, 6)}))
            if len(passages) == self.settings.top_k:
                break
        kept = {p.document_id: documents[p.document_id] for p in passages}
        candidates = candidate_sentences(passages, kept)
        vectors = self.store.sentence_vectors(
            [sentence_id(c.passage.document_id, c.start, c.end) for c in candidates]
        )
        terms = {stem(w) for w in words(question)}
        return RetrievalResult(
            question=question,
            question_vector=question_vector if evidence_vector is None else evidence_vector,
            passages=tuple(passages),
            generation=generation,
            documents=kept,
            candidates=tuple(
                c.with_vector(vectors.get(sentence_id(c.passage.document_id, c.start, c.end)))
                for c in candidates
            ),
            passage_total=self.keywords.passage_count(),
            term_passages=self.keywords.document_frequency(terms),
        )

    def rankings(
        self, question: str, question_vector: np.ndarray, scope: frozenset[str] = frozenset()
    ) -> list[list[str]]:
        """Passage ids best first by meaning (Chroma) and by keywords (FTS5 BM25), each
        searched only within `scope`, when it is given."""
        self.sync()
        return [[p.id for p in found] for found in self._rankings(question, question_vector, scope)]

    def _rankings(
        self, question: str, vector: np.ndarray, scope: frozenset[str]
    ) -> tuple[list[Passage], list[Passage]]:
        bundle = QueryBundle(query_str=question, embedding=vector.tolist())
        dense = [
            passage_of(hit.node.node_id, hit.node.metadata, hit.node.get_content(), hit.score or 0)
            for hit in self._dense(scope).retrieve(bundle)
        ]
        keyword = [
            passage_of(hit.node.node_id, hit.node.metadata, hit.node.get_content(), hit.score or 0)
            for hit in KeywordRetriever(self.keywords, self._depth(), scope).retrieve(bundle)
        ]
        return dense, keyword

    @cached_property
    def _index(self):
        from rag.library.embedding import embed_model  # noqa: PLC0415

        return VectorStoreIndex.from_vector_store(
            self.store.vector_store, embed_model=embed_model(self.settings)
        )

    def _dense(self, scope: frozenset[str]):
        """The dense retriever, filtered in Chroma to the documents in scope."""
        if not scope:
            return self._index.as_retriever(similarity_top_k=self._depth())
        only = MetadataFilter(key="document", value=sorted(scope), operator=FilterOperator.IN)
        return self._index.as_retriever(
            similarity_top_k=self._depth(), filters=MetadataFilters(filters=[only])
        )

    def _documents(self, ids: set[str], generation: str) -> dict[str, DocumentText]:
        """The stored texts of these documents, read once per generation of the library."""
        with self._lock:
            if generation != self._texts_generation:
                self._texts, self._texts_generation = {}, generation
            missing = sorted(ids - set(self._texts))
            if missing:
                self._texts.update(self.store.document_texts(missing))
            return {d: self._texts[d] for d in ids if d in self._texts}

    def source_text(self, document_id: str) -> str | None:
        """The stored text of a document, or None (read once per generation of the library)."""
        found = self._documents({document_id}, self.sync())
        return found[document_id].text if document_id in found else None

    def _depth(self) -> int:
        return max(2 * self.settings.top_k, 10)


class KeywordRetriever(BaseRetriever):
    """A LlamaIndex retriever over the persisted keyword index: passages by BM25 over their
    words, only from the documents in `scope` when it is given."""

    def __init__(self, index: KeywordIndex, top_k: int, scope: frozenset[str] = frozenset()):
        super().__init__()
        self._keyword_index, self._top_k, self._scope = index, top_k, scope

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        found = self._keyword_index.search(query_bundle.query_str, self._top_k, self._scope)
        return [NodeWithScore(node=_node(p), score=p.score) for p in found]


def _node(p: Passage) -> TextNode:
    metadata = {"source": p.source, "document": p.document_id, "start": p.start, "end": p.end}
    return TextNode(id_=p.id, text=p.text, metadata=metadata)


def reciprocal_rank_fusion(rankings: list[list[str]]) -> list[tuple[str, float]]:
    """Fuse ranked id lists: score(id) = sum of 1 / (RRF_K + rank)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, pid in enumerate(ranking, start=1):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(scores.items(), key=lambda item: -item[1])
