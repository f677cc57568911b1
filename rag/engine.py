"""The answering chain: validate, condense, retrieve, select evidence, synthesize, refuse."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from functools import cached_property

from rag.answering.condense import condense
from rag.errors import InvalidQuestion, LLMUnavailable
from rag.settings import Settings
from rag.types import Answer

REFUSAL = "The sources do not say. I found nothing in them that answers this question."


def validate_question(question: str, settings: Settings) -> str:
    """The question cleaned of control characters; InvalidQuestion when nothing is left to ask."""
    if not isinstance(question, str):
        raise InvalidQuestion("The question must be text.")
    if len(question) > settings.max_question_chars:
        raise InvalidQuestion(
            f"The question is {len(question):,} characters long; "
            f"the limit is {settings.max_question_chars:,}."
        )
    cleaned = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in question)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise InvalidQuestion("The question is empty; type a question about the documents.")
    if not any(ch.isalnum() for ch in cleaned):
        raise InvalidQuestion("The question has no words to search for.")
    return cleaned


class Chatbot:
    """Answers questions from the store; one instance serves many questions and chats."""

    def __init__(self, settings: Settings, store=None):
        self.settings = settings
        self._store = store

    @cached_property
    def store(self):
        """The passage store (opened on first use)."""
        from rag.library.store import PassageStore  # noqa: PLC0415

        return self._store or PassageStore(self.settings)

    @cached_property
    def retriever(self):
        """The hybrid retriever over the store."""
        from rag.answering.retrieve import HybridRetriever  # noqa: PLC0415

        return HybridRetriever(self.store, self.settings)

    @cached_property
    def embedder(self):
        """The embedding model with its sentence cache."""
        from rag.library.embedding import Embedder  # noqa: PLC0415

        return Embedder(self.settings)

    def warm_up(self) -> None:
        """Load the model and indexes now, so the first question pays nothing extra."""
        self.retriever.is_empty()
        self.embedder.query("warm up")
        self.embedder.evidence_query("warm up")

    def answer(
        self,
        question: str,
        history: list[str] | None = None,
        mode: str | None = None,
        on_token: Callable[[str], None] | None = None,
        scope: frozenset[str] = frozenset(),
    ) -> Answer:
        """Answer one question (a follow-up when `history` holds the earlier questions),
        from the documents whose ids are in `scope`, or from all when it is empty.

        In llm mode the draft streams to `on_token` before it is verified.
        """
        question = validate_question(question, self.settings)
        if (mode or self.settings.mode) == "llm":
            return self.written(question, list(history or []), on_token, scope)
        return self.extractive(question, list(history or []), scope=scope)

    @cached_property
    def scorer(self):
        """The fitted evidence and answerability models (rag/answering/scorer.json)."""
        from rag.answering.evidence import load_scorer  # noqa: PLC0415

        return load_scorer()

    def retrieve(self, question: str, vector, scope: frozenset[str] = frozenset()):
        """What the library holds for a question: one immutable RetrievalResult."""
        evidence = self.embedder.evidence_query(question)
        return self.retriever.retrieve(question, vector, scope, evidence)

    def analyse(self, found):
        """The question of a retrieval result, analysed against its library's statistics."""
        from rag.answering.features import analyse  # noqa: PLC0415

        return analyse(found.question, found.question_vector, found.idf)

    def score(self, found) -> list:
        """The sentences of the retrieved passages scored as evidence, best first."""
        from rag.answering.evidence import score_sentences  # noqa: PLC0415

        return score_sentences(
            self.analyse(found),
            list(found.candidates),
            self.embedder.texts,
            self.scorer,
            self.embedder.evidence_texts,
        )

    def extractive(
        self,
        question: str,
        history: list[str],
        scope: frozenset[str] = frozenset(),
    ) -> Answer:
        """The offline answer: the best source sentences, each with its marker, or a refusal."""
        clock = time.perf_counter()
        standalone = condense(question, history)
        found = self.retrieve(standalone, self.embedder.query(standalone), scope)
        timings = {"retrieve_ms": _ms_since(clock)}
        scored = self.score(found)
        timings["score_ms"] = _ms_since(clock) - timings["retrieve_ms"]
        answer = self.quote(question, found, scored)
        timings["total_ms"] = _ms_since(clock)
        return replace(answer, timings={**timings, **answer.timings})

    def quote(self, question: str, found, scored: list) -> Answer:
        """The extractive answer from sentences already scored (or a refusal)."""
        from rag.answering.extractive import compose, select_evidence  # noqa: PLC0415

        clock = time.perf_counter()
        evidence = select_evidence(
            self.analyse(found),
            scored,
            self.scorer,
            self.settings.max_evidence_sentences,
            self.settings.min_answerable,
        )
        common = dict(
            question=question,
            mode="extractive",
            passages=found.passages,
            standalone_question=found.question,
            timings={"select_ms": _ms_since(clock)},
        )
        if not evidence:
            return Answer(text=REFUSAL, refused=True, **common)
        text, citations = compose(evidence)
        return Answer(text=text, citations=citations, **common)

    def written(
        self,
        question: str,
        history: list[str],
        on_token: Callable[[str], None] | None = None,
        scope: frozenset[str] = frozenset(),
    ) -> Answer:
        """An LLM answer with every kept sentence verified; the extractive answer if that fails."""
        from rag.llm.backends import make_llm  # noqa: PLC0415
        from rag.llm.draft import UNVERIFIED, condense_with_llm, write_draft  # noqa: PLC0415

        started = time.perf_counter()
        try:
            llm = make_llm(self.settings)
            standalone = condense_with_llm(llm, question, history)
            found = self.retrieve(standalone, self.embedder.query(standalone), scope)
            draft = write_draft(llm, standalone, list(found.passages), on_token)
        except LLMUnavailable as error:
            fallback = self.extractive(question, history, scope=scope)
            return replace(fallback, notice=f"{error}. This answer quotes the sources instead.")
        scored = self.score(found)
        verified = self.check_draft(draft, found, scored)
        if not verified.citations:
            # The passages are retrieved and scored already: quote from them, do not search again.
            fallback = self.quote(question, found, scored)
            return replace(
                fallback,
                notice=f"{UNVERIFIED}; this answer quotes them instead.",
                removed=verified.removed,
                draft=draft,
            )
        return Answer(
            question=question,
            text=verified.text,
            citations=verified.citations,
            mode="llm",
            passages=found.passages,
            timings={"total_ms": _ms_since(started)},
            standalone_question=standalone,
            removed=verified.removed,
            draft=draft,
        )

    def check_draft(self, draft: str, found, scored: list):
        """A draft verified as llm mode does it: each sentence against the passage it cites,
        and the sentence it rests on against the question (via the scored evidence)."""
        from rag.llm.draft import relevance_check  # noqa: PLC0415
        from rag.llm.verify import verify  # noqa: PLC0415

        relevance, floor = relevance_check(
            self.analyse(found), scored, self.scorer, self.settings.min_answerable
        )
        return verify(
            draft,
            list(found.passages),
            self.embedder.texts,
            self.settings.verify_min_support,
            relevance=relevance,
            min_relevance=floor,
            mark_unsupported=self.settings.llm_unsupported == "mark",
        )


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
