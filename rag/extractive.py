"""The offline synthesizer: an answer made of the best source sentences, each with its marker."""

from __future__ import annotations

from rag.evidence import Evidence, fits_answer_type
from rag.types import Citation

# A sentence joins the best one when its score is this close to it.
SCORE_MARGIN = 0.01


def select_evidence(
    question: str,
    scored: list[Evidence],
    min_support: float,
    most: int,
    margin: float = SCORE_MARGIN,
) -> list[Evidence]:
    """The few sentences that answer the question, in document order; [] when none does."""
    usable = [e for e in scored if e.score >= min_support and fits_answer_type(question, e.text)]
    if not usable:
        return []
    chosen = [e for e in usable if e.score >= usable[0].score - margin][:most]
    return sorted(chosen, key=lambda e: (e.passage.source, e.start))


def compose(evidence: list[Evidence]) -> tuple[str, tuple[Citation, ...]]:
    """Answer text "sentence [1] sentence [2]" and its citations numbered in order."""
    citations = tuple(
        Citation(n, e.passage.id, e.passage.source, e.start, e.end, e.text)
        for n, e in enumerate(evidence, start=1)
    )
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    return text, citations
