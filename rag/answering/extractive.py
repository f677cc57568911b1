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
    """The fewest sentences that answer the question, the best one first; [] when none does.

    One sentence, unless another states a further part of the answer: one scored within the
    fitted margin of the best, the best on each name of a question about several, a sentence
    for the second part of a two-part question. A sentence that leans on the one before it
    ("He ...") brings that one along, just before it. Never more than `most` in all.
    """
    scored = answering_evidence(question, scored, scorer, min_answerable)
    if not scored:
        return []
    best = scored[0]
    further = [e for e in scored[1:] if e.score >= best.score - scorer.extra_margin]
    if len(further) + 1 < question.parts:
        further = scored[1 : question.parts]
    further += [e for e in _one_per_name(question, scored, [best]) if e not in further]
    chosen: list[Evidence] = []
    for e in [best, *further]:
        group = [*_lead_in(scored, e, chosen), e]
        if e in chosen:
            continue
        if len(chosen) + len(group) <= max(1, most):
            chosen += group
        elif not chosen:
            chosen = [e]  # the best alone, when it and its lead-in are more than allowed
    first = chosen[: chosen.index(best) + 1]
    rest = sorted(chosen[len(first) :], key=lambda e: (e.passage.document_id, e.start))
    return first + rest


def _one_per_name(question: Question, scored, chosen) -> list[Evidence]:
    """For a question about several names ("compare X and Y"), the best sentence on each
    name the chosen ones do not mention."""
    if len(question.names) < 2:
        return []
    extra = []
    for group in question.names:
        if any(_mentions(e, group) for e in chosen + extra):
            continue
        best = next((e for e in scored if _mentions(e, group)), None)
        if best is not None and best.score >= scored[0].score / 4:
            extra.append(best)
    return extra


def _mentions(e: Evidence, group: frozenset[str]) -> bool:
    return bool({stem(w) for w in words(e.text)} & group)


def _lead_in(scored, e: Evidence, chosen) -> list[Evidence]:
    """The sentence a "He ..."/"It ..." sentence leans on, so the answer names its subject
    (none when it is chosen already or was not a candidate)."""
    if not LEANS_BACK.match(e.text):
        return []
    before = [
        s
        for s in scored
        if s.passage.document_id == e.passage.document_id
        and e.context_start <= s.start < e.start
        and s not in chosen
    ]
    return [max(before, key=lambda s: s.end)] if before else []


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
