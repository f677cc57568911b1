"""The offline synthesizer: an answer made of the best source sentences, each with its marker."""

from __future__ import annotations

import re

from rag.answering.evidence import LEANS_BACK, Evidence, Scorer, answering_evidence
from rag.answering.features import Question
from rag.language.words import stem, words
from rag.types import Citation

# Bracketed reference numbers in source text ("[3]", "[12, 14]") would read as our markers.
_FOOTNOTE = re.compile(r"\s*\[\d+(?:\s*[,–-]\s*\d+)*\]")


def select_evidence(
    question: Question,
    scored: list[Evidence],
    scorer: Scorer,
    most: int,
    min_answerable: float | None = None,
) -> list[Evidence]:
    """The few sentences that answer the question, in document order; [] when none does."""
    scored = answering_evidence(question, scored, scorer, min_answerable)
    if not scored:
        return []
    best = scored[0]
    chosen = [best] + [e for e in scored[1:] if e.score >= best.score - scorer.extra_margin]
    # A question in two parts ("Can I ..., and what ...?") needs a sentence for each.
    chosen = chosen[: max(1, most)] if len(chosen) >= question.parts else scored[: question.parts]
    chosen += _one_per_name(question, scored, chosen, most)
    chosen += _leads_in(scored, chosen)
    return sorted(set(chosen), key=lambda e: (e.passage.source, e.passage.document_id, e.start))


def _one_per_name(question: Question, scored, chosen, most: int) -> list[Evidence]:
    """For a question about several names ("compare X and Y"), the best sentence on each."""
    if len(question.names) < 2:
        return []
    extra = []
    for group in question.names:
        if any(_mentions(e, group) for e in chosen + extra):
            continue
        best = next((e for e in scored if _mentions(e, group)), None)
        if best is not None and best.score >= scored[0].score / 4 and len(chosen + extra) < most:
            extra.append(best)
    return extra


def _mentions(e: Evidence, group: frozenset[str]) -> bool:
    return bool({stem(w) for w in words(e.text)} & group)


def _leads_in(scored, chosen) -> list[Evidence]:
    """The sentence a chosen "He ..."/"It ..." leans on, so the answer names its subject."""
    extra = []
    for e in chosen:
        if not LEANS_BACK.match(e.text):
            continue
        before = [
            s
            for s in scored
            if s.passage.document_id == e.passage.document_id
            and e.context_start <= s.start < e.start
        ]
        if before:
            extra.append(max(before, key=lambda s: s.end))
    return extra


def compose(evidence: list[Evidence]) -> tuple[str, tuple[Citation, ...]]:
    """Answer text "sentence [1] sentence [2]" and its citations numbered in order."""
    citations = tuple(
        Citation(n, e.passage.id, e.passage.source, e.start, e.end, e.text, e.passage.document_id)
        for n, e in enumerate(evidence, start=1)
    )
    text = " ".join(f"{shown_quote(c.quote)} [{c.n}]" for c in citations)
    return text, citations


def shown_quote(quote: str) -> str:
    """A quote as it reads in an answer: one line, its own reference numbers left out."""
    return " ".join(_FOOTNOTE.sub("", quote).split())
